// sluice-decap's XDP program run on frames through BPF_PROG_TEST_RUN: an encapsulated frame
// for one of its VIPs comes out as the inner frame (same MACs, the inner family's
// ethertype) with XDP_PASS; anything else comes out untouched. The encapsulated inputs are
// built with the PacketBuilder, independently of the director's encapsulation code.
#include "decap/decap_program.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "support/packet_builder.h"
#include "unit/io/netns_fixture.h"

namespace sluice::testing {
namespace {

const net::MacAddr kDirMac = mac("02:00:00:00:02:10");
const net::MacAddr kRsMac = mac("02:00:00:00:02:11");
constexpr uint16_t kGuePort = 6080;

class Decap : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::testing::netnsAvailable()) GTEST_SKIP() << "needs root (BPF)";
    auto p = decap::DecapProgram::load();
    ASSERT_TRUE(p) << p.error().message;
    prog_ = std::move(*p);
    ASSERT_TRUE(prog_->addVip(ip("10.0.2.100")));
    ASSERT_TRUE(prog_->addVip(ip("2001:db8:2::100")));
    ASSERT_TRUE(prog_->setGuePort(kGuePort));
  }

  struct Out {
    uint32_t verdict;
    Bytes frame;
  };
  Out run(const Bytes& in) { return runProgram(prog_->programFd(), in); }
  Out runProgram(int fd, const Bytes& in) {
    Bytes data = in;
    Bytes out(in.size() + 64);
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = data.data();
    opts.data_size_in = uint32_t(data.size());
    opts.data_out = out.data();
    opts.data_size_out = uint32_t(out.size());
    opts.repeat = 1;
    int err = bpf_prog_test_run_opts(fd, &opts);
    EXPECT_EQ(err, 0) << strerror(-err);
    out.resize(opts.data_size_out);
    return {opts.retval, out};
  }

  std::unique_ptr<decap::DecapProgram> prog_;
};

Bytes inner4(const char* dst = "10.0.2.100") {
  return PacketBuilder().ipv4("10.0.1.2", dst).df().tcp(40000, 80, net::kTcpSyn).payload("hi").build();
}
Bytes inner6(const char* dst = "2001:db8:2::100") {
  return PacketBuilder().ipv6("2001:db8:1::2", dst).tcp(40000, 80, net::kTcpSyn).build();
}
// The inner packet as the stack must get it: the tunnel frame's MACs, the inner ethertype.
Bytes delivered(const Bytes& inner) {
  return PacketBuilder().eth(kDirMac, kRsMac)
      .ethertype((inner[0] >> 4) == 6 ? net::kEthP_IPv6 : net::kEthP_IPv4).payload(inner).build();
}
Bytes tunnel(PacketBuilder outer, uint8_t proto, const Bytes& payload) {
  outer.eth(kDirMac, kRsMac);
  return outer.rawL4(proto).payload(payload).build();
}
Bytes guePayload(const Bytes& inner) {
  Bytes g(4 + inner.size(), 0);
  g[1] = uint8_t((inner[0] >> 4) == 6 ? 41 : 4);
  std::copy(inner.begin(), inner.end(), g.begin() + 4);
  return g;
}

TEST_F(Decap, IpipFamiliesAreDecapsulated) {
  const std::pair<const char*, Bytes> cases[] = {
      {"IPIP", tunnel(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner4())},
      {"ip6ip6", tunnel(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11"), 41, inner6())},
      {"v4 in v6", tunnel(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11"), 4, inner4())},
      {"v6 in v4", tunnel(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11").df(), 41, inner6())},
  };
  for (const auto& [what, frame] : cases) {
    SCOPED_TRACE(what);
    Out o = run(frame);
    EXPECT_EQ(o.verdict, uint32_t(XDP_PASS));
    const bool v6 = std::string(what) == "ip6ip6" || std::string(what) == "v6 in v4";
    const Bytes want = delivered(v6 ? inner6() : inner4());
    EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  }
  auto c = prog_->counters();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->decapsulated, 4u);
}

TEST_F(Decap, GueIsDecapsulated) {
  Bytes frame = PacketBuilder().eth(kDirMac, kRsMac).ipv4("10.0.2.1", "10.0.3.11")
                    .udp(0xc123, kGuePort).payload(guePayload(inner4())).build();
  Out o = run(frame);
  EXPECT_EQ(o.verdict, uint32_t(XDP_PASS));
  EXPECT_TRUE(framesEqual(delivered(inner4()), o.frame)) << frameDiff(delivered(inner4()), o.frame);
  frame = PacketBuilder().eth(kDirMac, kRsMac).ipv6("2001:db8:2::1", "2001:db8:3::11")
              .udp(0xc123, kGuePort).payload(guePayload(inner6())).build();
  o = run(frame);
  EXPECT_TRUE(framesEqual(delivered(inner6()), o.frame)) << frameDiff(delivered(inner6()), o.frame);
}

TEST_F(Decap, EverythingElsePassesUntouched) {
  Bytes gue_bad = guePayload(inner4());
  gue_bad[0] = 0x20;  // a control message
  const std::pair<const char*, Bytes> cases[] = {
      {"inner to another address", tunnel(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner4("10.0.2.200"))},
      {"v6 inner to another", tunnel(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11"), 41, inner6("2001:db8:2::200"))},
      {"plain TCP to the VIP", PacketBuilder().eth(kDirMac, kRsMac).ipv4("10.0.1.2", "10.0.2.100")
                                   .tcp(1, 80, net::kTcpSyn).build()},
      {"UDP to another port", PacketBuilder().eth(kDirMac, kRsMac).ipv4("10.0.2.1", "10.0.3.11")
                                  .udp(0xc123, 53).payload(guePayload(inner4())).build()},
      {"GUE with a control message", PacketBuilder().eth(kDirMac, kRsMac).ipv4("10.0.2.1", "10.0.3.11")
                                         .udp(0xc123, kGuePort).payload(gue_bad).build()},
      {"IPIP cut short", [] {
         Bytes f = tunnel(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner4());
         f.resize(14 + 20 + 10);
         put16(f, 16, 30);
         return f;
       }()},
      {"ARP", PacketBuilder().eth(kDirMac, kRsMac).ethertype(net::kEthP_ARP).payload(std::string(28, '\0')).build()},
  };
  for (const auto& [what, frame] : cases) {
    SCOPED_TRACE(what);
    Out o = run(frame);
    EXPECT_EQ(o.verdict, uint32_t(XDP_PASS));
    EXPECT_TRUE(framesEqual(frame, o.frame)) << frameDiff(frame, o.frame);
  }
  auto c = prog_->counters();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->decapsulated, 0u);
  EXPECT_EQ(c->not_ours, 2u);
  EXPECT_EQ(c->malformed, 2u);
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// Through a real stack: a host (namespace A) sends an IPIP-encapsulated echo request for
// the VIP to a real server (namespace B, VIP on lo, no tunnel device); with the program
// attached to B's interface, B's stack answers from the VIP; once detached, nothing does.
TEST(DecapAttached, RealServerStackAnswersTheVip) {
  if (!io::testing::netnsAvailable()) GTEST_SKIP() << "needs root (BPF, namespaces)";
  io::testing::Netns a("deca"), b("decb");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.exec("ip link add a0 type veth peer name b0 netns " + b.name()));
  ASSERT_TRUE(a.exec("ip addr add 10.99.0.1/24 dev a0") && a.exec("ip link set a0 up"));
  ASSERT_TRUE(a.exec("ip route add 192.0.2.0/24 dev a0"));
  ASSERT_TRUE(b.exec("ip addr add 10.99.0.2/24 dev b0") && b.exec("ip link set b0 up"));
  ASSERT_TRUE(b.exec("ip link set lo up") && b.exec("ip addr add 192.0.2.100/32 dev lo"));
  const net::MacAddr amac = mac(a.out("cat /sys/class/net/a0/address"));
  const net::MacAddr bmac = mac(b.out("cat /sys/class/net/b0/address"));

  std::unique_ptr<decap::DecapProgram> prog;
  {
    io::testing::EnterNetns in(b);
    ASSERT_TRUE(in.ok());
    auto p = decap::DecapProgram::load();
    ASSERT_TRUE(p) << p.error().message;
    prog = std::move(*p);
    ASSERT_TRUE(prog->addVip(ip("192.0.2.100")));
    ASSERT_TRUE(prog->attach(if_nametoindex("b0"), io::XdpMode::kNativeOrGeneric));
  }
  int tx = -1, rx = -1;
  {
    io::testing::EnterNetns in(a);
    ASSERT_TRUE(in.ok());
    tx = socket(AF_PACKET, SOCK_RAW, 0);
    rx = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    ASSERT_GE(tx, 0);
    ASSERT_GE(rx, 0);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = int(if_nametoindex("a0"));
    ASSERT_EQ(bind(tx, reinterpret_cast<sockaddr*>(&ll), sizeof ll), 0);
  }
  auto echoAnswered = [&](uint16_t seq) {
    const Bytes inner = PacketBuilder().ipv4("10.99.0.1", "192.0.2.100").icmpEcho(0x5e, seq).build();
    const Bytes frame = PacketBuilder().eth(amac, bmac).ipv4("10.99.0.1", "10.99.0.2").df()
                            .rawL4(4).payload(inner).build();
    EXPECT_EQ(send(tx, frame.data(), frame.size(), 0), ssize_t(frame.size()));
    for (int i = 0; i < 20; ++i) {  // bounded: 2 s
      pollfd pfd{rx, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      uint8_t buf[2048];
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(rx, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      // An echo reply (type 0) with our sequence number, from the VIP.
      if (n >= 28 && buf[20] == 0 && get16(std::span<const uint8_t>(buf, size_t(n)), 26) == seq &&
          from.sin_addr.s_addr == htonl(0xc0000264))
        return true;
    }
    return false;
  };
  EXPECT_TRUE(echoAnswered(1)) << "decapsulated for the VIP";
  auto c = prog->counters();
  ASSERT_TRUE(c);
  EXPECT_GE(c->decapsulated, 1u);
  prog->detach();
  EXPECT_FALSE(echoAnswered(2)) << "detached: no tunnel device takes it";
  close(tx);
  close(rx);
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// The MSS clamp (tc egress) run on frames through BPF_PROG_TEST_RUN. Every expected frame
// is built by the PacketBuilder with the lowered MSS already in its options, so its TCP
// checksum is a full computation, independent of the program's incremental update.
constexpr uint8_t kSynAck = net::kTcpSyn | net::kTcpAck;
constexpr uint16_t kClamp = 1400;

Bytes mssOption(uint16_t mss) { return {2, 4, uint8_t(mss >> 8), uint8_t(mss & 0xff)}; }
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
// NOP, NOP, timestamps: how Linux starts a SYN-ACK's options when the MSS is not first.
const Bytes kNopNopTimestamps = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

// A SYN-ACK (or `flags`) from `src` port 80 with these options, as the real server sends it.
Bytes reply(const char* src, const char* dst, const Bytes& options, uint8_t flags = kSynAck,
            bool tagged = false) {
  PacketBuilder b;
  b.eth(kRsMac, kDirMac);
  if (tagged) b.vlan(7);
  b.ip(ip(src), ip(dst)).tcp(80, 40000, flags).seq(1000).ackNum(2000);
  if (!options.empty()) b.tcpOptions(options);
  return b.build();
}

class DecapMss : public Decap {
 protected:
  Bytes runTc(const Bytes& in) {
    Out o = runProgram(prog_->mssProgramFd(), in);
    EXPECT_EQ(o.verdict, 0u) << "TC_ACT_OK, always";
    return o.frame;
  }
  uint64_t clamped() {
    auto c = prog_->counters();
    EXPECT_TRUE(c);
    return c ? c->mss_clamped : 0;
  }
};

TEST_F(DecapMss, SynAckFromAVipIsClamped) {
  ASSERT_TRUE(prog_->setMssClamp(kClamp));
  struct Case {
    const char* what;
    Bytes in, want;
  };
  const Case cases[] = {
      {"IPv4", reply("10.0.2.100", "10.0.1.2", mssOption(1460)),
       reply("10.0.2.100", "10.0.1.2", mssOption(kClamp))},
      {"IPv6", reply("2001:db8:2::100", "2001:db8:1::2", mssOption(1440)),
       reply("2001:db8:2::100", "2001:db8:1::2", mssOption(kClamp))},
      {"after NOP, NOP, timestamps",
       reply("10.0.2.100", "10.0.1.2", cat(kNopNopTimestamps, mssOption(1460))),
       reply("10.0.2.100", "10.0.1.2", cat(kNopNopTimestamps, mssOption(kClamp)))},
      // The value at an odd offset: the checksum update cannot be one aligned word.
      {"after one NOP", reply("2001:db8:2::100", "2001:db8:1::2", cat({1}, mssOption(8960))),
       reply("2001:db8:2::100", "2001:db8:1::2", cat({1}, mssOption(kClamp)))},
      {"802.1Q tag", reply("10.0.2.100", "10.0.1.2", mssOption(1460), kSynAck, true),
       reply("10.0.2.100", "10.0.1.2", mssOption(kClamp), kSynAck, true)},
      {"MSS 65535", reply("10.0.2.100", "10.0.1.2", cat(mssOption(65535), {1, 3, 3, 7})),
       reply("10.0.2.100", "10.0.1.2", cat(mssOption(kClamp), {1, 3, 3, 7}))},
  };
  uint64_t n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_NE(c.in, c.want);
    const Bytes out = runTc(c.in);
    EXPECT_TRUE(framesEqual(c.want, out)) << frameDiff(c.want, out);
    EXPECT_EQ(clamped(), ++n) << "counted";
  }
}

TEST_F(DecapMss, EverythingElseLeavesUntouched) {
  ASSERT_TRUE(prog_->setMssClamp(kClamp));
  const char* vip = "10.0.2.100";
  const char* client = "10.0.1.2";
  Bytes cut = reply(vip, client, cat(kNopNopTimestamps, mssOption(1460)));
  cut.resize(cut.size() - 4);  // the header says 32 bytes, the frame ends in the MSS option
  const std::pair<const char*, Bytes> cases[] = {
      {"MSS below the clamp", reply(vip, client, mssOption(1300))},
      {"MSS equal to the clamp", reply(vip, client, mssOption(kClamp))},
      {"from another address", reply("10.0.2.200", client, mssOption(1460))},
      {"IPv6 from another address", reply("2001:db8:2::200", "2001:db8:1::2", mssOption(1460))},
      {"plain ACK", reply(vip, client, mssOption(1460), net::kTcpAck)},
      {"plain SYN", reply(vip, client, mssOption(1460), net::kTcpSyn)},
      {"no options", reply(vip, client, {})},
      {"no MSS option", reply(vip, client, kNopNopTimestamps)},
      {"MSS after End of Option List", reply(vip, client, cat({0, 0, 0, 0}, mssOption(1460)))},
      {"option length 0 before the MSS", reply(vip, client, cat({8, 0, 0, 0}, mssOption(1460)))},
      {"option length 1 before the MSS", reply(vip, client, cat({8, 1, 1, 1}, mssOption(1460)))},
      {"option running past the header", reply(vip, client, cat(mssOption(1300), {8, 30, 0, 0}))},
      {"MSS option running past the header", reply(vip, client, {1, 1, 1, 1, 1, 2, 4, 0xff})},
      {"MSS option with length 6", reply(vip, client, {2, 6, 5, 0xb4, 0, 0})},
      {"options cut short by the frame's end", cut},
      {"UDP from the VIP", PacketBuilder().eth(kRsMac, kDirMac).ipv4(vip, client)
                               .udp(53, 40000).payload(mssOption(1460)).build()},
      {"ARP", PacketBuilder().eth(kRsMac, kDirMac).ethertype(net::kEthP_ARP)
                  .payload(std::string(28, '\0')).build()},
  };
  for (const auto& [what, frame] : cases) {
    SCOPED_TRACE(what);
    const Bytes out = runTc(frame);
    EXPECT_TRUE(framesEqual(frame, out)) << frameDiff(frame, out);
  }
  EXPECT_EQ(clamped(), 0u);
}

TEST_F(DecapMss, ClampZeroLeavesSynAcksAlone) {
  ASSERT_TRUE(prog_->setMssClamp(kClamp));
  ASSERT_TRUE(prog_->setMssClamp(0));
  const Bytes frame = reply("10.0.2.100", "10.0.1.2", mssOption(1460));
  const Bytes out = runTc(frame);
  EXPECT_TRUE(framesEqual(frame, out)) << frameDiff(frame, out);
  EXPECT_EQ(clamped(), 0u);
}

TEST_F(DecapMss, GuePortAndClampDoNotResetEachOther) {
  ASSERT_TRUE(prog_->setMssClamp(kClamp));
  ASSERT_TRUE(prog_->setGuePort(kGuePort));  // after the clamp: the clamp must stay
  const Bytes out = runTc(reply("10.0.2.100", "10.0.1.2", mssOption(1460)));
  const Bytes want = reply("10.0.2.100", "10.0.1.2", mssOption(kClamp));
  EXPECT_TRUE(framesEqual(want, out)) << frameDiff(want, out);
}

// The tc filter is attached with the clamp only, and detach() removes it and the clsact
// qdisc this process created; a clsact that was there before stays.
TEST(DecapAttached, MssClampFilterComesAndGoes) {
  if (!io::testing::netnsAvailable()) GTEST_SKIP() << "needs root (BPF, namespaces)";
  io::testing::Netns a("decma"), b("decmb");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.exec("ip link add a0 type veth peer name b0 netns " + b.name()));
  ASSERT_TRUE(b.exec("ip link set b0 up"));
  io::testing::EnterNetns in(b);
  ASSERT_TRUE(in.ok());
  auto load = [] {
    auto p = decap::DecapProgram::load();
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  };
  auto filters = [&] { return b.out("tc filter show dev b0 egress 2>&1"); };
  auto qdiscs = [&] { return b.out("tc qdisc show dev b0 2>&1"); };
  const uint32_t ifindex = if_nametoindex("b0");
  const char* kTcName = "sluice_decap_ms";  // the kernel keeps 15 characters of the name

  auto plain = load();
  ASSERT_TRUE(plain);
  ASSERT_TRUE(plain->addVip(ip("192.0.2.100")));
  ASSERT_TRUE(plain->attach(ifindex, io::XdpMode::kGeneric));
  EXPECT_FALSE(plain->clampingMss());
  EXPECT_EQ(qdiscs().find("clsact"), std::string::npos) << "no clamp: no tc";
  plain.reset();

  auto prog = load();
  ASSERT_TRUE(prog);
  ASSERT_TRUE(prog->addVip(ip("192.0.2.100")));
  ASSERT_TRUE(prog->setMssClamp(1400));
  ASSERT_TRUE(prog->attach(ifindex, io::XdpMode::kGeneric));
  EXPECT_TRUE(prog->clampingMss());
  EXPECT_NE(filters().find(kTcName), std::string::npos) << filters();
  prog->detach();
  EXPECT_EQ(filters().find(kTcName), std::string::npos) << filters();
  EXPECT_EQ(qdiscs().find("clsact"), std::string::npos) << "ours: destroyed. " << qdiscs();

  ASSERT_TRUE(b.exec("tc qdisc add dev b0 clsact"));
  ASSERT_TRUE(prog->attach(ifindex, io::XdpMode::kGeneric));
  EXPECT_NE(filters().find(kTcName), std::string::npos) << filters();
  prog->detach();
  EXPECT_EQ(filters().find(kTcName), std::string::npos) << filters();
  EXPECT_NE(qdiscs().find("clsact"), std::string::npos) << "not ours: kept. " << qdiscs();
}

}  // namespace
}  // namespace sluice::testing
