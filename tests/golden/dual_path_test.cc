// One behaviour, two paths. Every frame sequence runs through two directors built from
// the same configuration:
//   A: the C++ path alone (dp::Datapath over heap tables);
//   B: the XDP program (BPF_PROG_TEST_RUN) over mmap'ed BPF maps, and for every frame the
//      program hands to the slow path, the C++ path over those same maps.
// After every frame the two must agree: verdict, output frame byte for byte, drop reason,
// every counter (B's slow + fast), the connection's state, the real servers' active and
// inactive counts and their packet statistics. A change to either path that the other
// does not mirror fails here. Needs root (BPF); skipped otherwise.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <gtest/gtest.h>

#include <memory>

#include "common/clock.h"
#include "dp/fastpath_config.h"
#include "io/xdp_loader.h"
#include "support/dr_fixture.h"
#include "unit/io/netns_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;

constexpr uint32_t kCap = 4096;
constexpr size_t kRoom = 256;

// A director's tables and step over some memory, configured like DrFixture's.
// One setup: the daemon's own assembly (daemon::Plane) over the given storage.
struct Side {
  Side(const Clock& clock, std::span<sl_conn> conns, std::span<sl_dest> dests,
       std::span<sl_dest_counts> counts, std::span<sl_conn_ext> ext = {})
      : plane(clock, daemon::PlaneLimits{64, kMaxDests},
              daemon::PlaneStorage{conns, dests, counts, ext}) {}

  daemon::Plane plane;
  conn::DestAccounting& accounting = plane.accounting();
  svc::Stats& stats = plane.stats();
  svc::ServiceTable& table = plane.services();
  dp::DestTable& dest_table = plane.dests();
  conn::ConnTable& conns = plane.conns();
  dp::Datapath& dp = plane.datapath();
};

class DualPath : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::testing::netnsAvailable()) GTEST_SKIP() << "needs root (BPF, namespaces)";
    ns_ = std::make_unique<io::testing::Netns>("dual");
    ASSERT_TRUE(ns_->ok());
    ASSERT_TRUE(ns_->exec("ip link add io-d0 type veth peer name io-d1"));
    ASSERT_TRUE(ns_->exec("ip link set io-d0 up"));
    ASSERT_TRUE(ns_->exec("ip link set io-d1 up"));
    enter_ = std::make_unique<io::testing::EnterNetns>(*ns_);
    ASSERT_TRUE(enter_->ok());
    ifindex_ = if_nametoindex("io-d0");
    ASSERT_NE(ifindex_, 0u);

    auto p = io::SteerProgram::load({}, io::SteerProgram::Sizes{kCap, kMaxDests});
    ASSERT_TRUE(p) << p.error().message;
    prog_ = std::move(*p);

    a_conns_.resize(kCap);
    a_dests_.resize(kMaxDests);
    a_counts_.resize(kMaxDests);
    a_ = std::make_unique<Side>(clock_, a_conns_, a_dests_, a_counts_);
    b_ = std::make_unique<Side>(clock_, prog_->conns(), prog_->dests(), prog_->destCounts(),
                                prog_->connExt());
    dp::fillFastPathConfig(*prog_->config(), b_->conns.seed(), kCap / 4, kMaxDests,
                           prog_->statSlots(), conn::TimeoutTable{});
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    prog_.reset();
    enter_.reset();
    ns_.reset();
  }

  // The same service on both sides (same operations, so the same ids), next hops
  // resolved out of io-d0, and the VIP in the program's maps.
  void addService(const svc::ServiceConfig& s, std::vector<std::pair<std::string, int32_t>> rs,
                  svc::FwdMethod fwd = svc::FwdMethod::kDr) {
    for (Side* side : {a_.get(), b_.get()}) {
      ASSERT_TRUE(side->table.addService(s));
      for (auto& [ep, w] : rs) {
        svc::DestConfig d;
        d.ep = *net::Endpoint::parse(ep);
        d.weight = w;
        d.fwd = fwd;
        ASSERT_TRUE(side->table.addDest(s.key, d));
      }
      auto snap = side->table.snapshot();
      for (const auto& svc : snap->services())
        for (const auto& d : svc->dest_rt) {
          const net::MacAddr& m = d.cfg.ep.addr.str().ends_with("11") ? kRs1Mac : kRs2Mac;
          sl_dest e = dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), &kDirectorMac, &m, ifindex_);
          dp::setServiceOf(e, svc->cfg.key.addr, svc->cfg.key.port);
          side->dest_table.write(d.dest_id, e);
        }
    }
    // As daemon::Director does once a NAT or FULLNAT real server exists.
    if (fwd == svc::FwdMethod::kNat || fwd == svc::FwdMethod::kFullNat)
      prog_->config()->nat_replies = 1;
    ASSERT_TRUE(prog_->addService(s.key.addr, uint8_t(s.key.proto), s.key.port));
    ASSERT_TRUE(prog_->addVip(s.key.addr));
  }
  // A service whose real servers are all TUN (ipvsadm -i) with the given tunnel, outer
  // source and egress MTU.
  void addTunService(const svc::ServiceConfig& s, std::vector<std::string> rs, const char* laddr,
                     uint16_t mtu = 1500, uint8_t type = SL_TUN_IPIP, uint8_t flags = 0,
                     uint16_t port = 6080) {
    for (Side* side : {a_.get(), b_.get()}) {
      ASSERT_TRUE(side->table.addService(s));
      for (auto& ep : rs) {
        svc::DestConfig d;
        d.ep = *net::Endpoint::parse(ep);
        d.fwd = svc::FwdMethod::kTun;
        d.tun_type = type;
        d.tun_flags = flags;
        d.tun_port = type == SL_TUN_GUE ? port : 0;
        ASSERT_TRUE(side->table.addDest(s.key, d));
      }
      auto snap = side->table.snapshot();
      for (const auto& sv : snap->services()) {
        if (!(sv->cfg.key == s.key)) continue;
        for (const auto& d : sv->dest_rt) {
          const net::MacAddr& m = d.cfg.ep.addr.str().ends_with("11") ? kRs1Mac : kRs2Mac;
          sl_dest e = dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), &kDirectorMac, &m, ifindex_);
          dp::setTunnel(e, d.cfg.tun_type, d.cfg.tun_port, d.cfg.tun_flags,
                        *net::IpAddr::parse(laddr), mtu);
          side->dest_table.write(d.dest_id, e);
        }
      }
    }
    ASSERT_TRUE(prog_->addService(s.key.addr, uint8_t(s.key.proto), s.key.port));
    ASSERT_TRUE(prog_->addVip(s.key.addr));
  }

  // The clients reachable from the director's namespace (a connected route and a resolved
  // neighbour on io-d0, forwarding on), so the program can send NAT replies itself; without
  // this it hands them to the slow path.
  void routeClients() {
    for (const char* cmd :
         {"sysctl -qw net.ipv4.conf.all.forwarding=1", "sysctl -qw net.ipv4.conf.io-d0.forwarding=1",
          "sysctl -qw net.ipv6.conf.all.forwarding=1", "ip addr add 10.0.1.1/24 dev io-d0",
          "ip addr add 2001:db8:1::1/64 dev io-d0 nodad",
          "ip neigh replace 10.0.1.2 lladdr 02:00:00:00:02:01 dev io-d0 nud permanent",
          "ip neigh replace 2001:db8:1::2 lladdr 02:00:00:00:02:01 dev io-d0 nud permanent"})
      ASSERT_TRUE(ns_->exec(cmd)) << cmd;
  }
  static svc::ServiceConfig svc(const char* vip, uint16_t port, svc::Proto proto = svc::Proto::kTcp) {
    svc::ServiceConfig s;
    s.key = svc::ServiceKey{proto, *net::IpAddr::parse(vip), port};
    s.scheduler = "rr";
    return s;
  }
  void rr4() { addService(svc("10.0.2.100", 80), {{"10.0.2.11:80", 1}, {"10.0.2.12:80", 1}}); }
  void rr6() {
    addService(svc("2001:db8:2::100", 80), {{"[2001:db8:2::11]:80", 1}, {"[2001:db8:2::12]:80", 1}});
  }
  void udp4() {
    addService(svc("10.0.2.100", 53, svc::Proto::kUdp), {{"10.0.2.11:53", 1}, {"10.0.2.12:53", 1}});
  }

  uint64_t steerStat(int idx) {
    auto s = prog_->stats();
    EXPECT_TRUE(s);
    return s ? s->v[idx] : 0;
  }

  // Runs `frame` through both sides and checks they agree; returns whether B finished it
  // in the fast path.
  bool both(const Bytes& frame, const std::string& what) {
    SCOPED_TRACE(what);
    // Both C++ runs get the room an AF_XDP frame has after its end (TUN grows the frame,
    // an ICMP answer may be longer than the packet it answers).
    Bytes fa = frame;
    fa.resize(frame.size() + kRoom);
    dp::Verdict va = a_->dp.process(std::span<uint8_t>(fa.data(), frame.size()),
                                    *a_->table.snapshot(), clock_.now(), kRoom);
    fa.resize(va.len ? va.len : frame.size());

    // B: the XDP program first.
    uint64_t punts_before = steerStat(SL_STEER_PASS_NO_SOCKET) + steerStat(SL_STEER_STEERED);
    auto fast_before = prog_->counters();
    xdp_md ctx{};
    ctx.data_end = uint32_t(frame.size());
    ctx.ingress_ifindex = ifindex_;
    Bytes fb = frame;
    Bytes out(frame.size() + 256);
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = fb.data();
    opts.data_size_in = uint32_t(fb.size());
    opts.data_out = out.data();
    opts.data_size_out = uint32_t(out.size());
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
    opts.repeat = 1;
    int err = bpf_prog_test_run_opts(prog_->programFd(), &opts);
    EXPECT_EQ(err, 0) << strerror(-err);
    out.resize(opts.data_size_out);
    bool punted = steerStat(SL_STEER_PASS_NO_SOCKET) + steerStat(SL_STEER_STEERED) > punts_before;

    dp::Verdict vb;
    if (punted) {
      fb.resize(frame.size() + kRoom);
      vb = b_->dp.process(std::span<uint8_t>(fb.data(), frame.size()), *b_->table.snapshot(),
                          clock_.now(), kRoom);
      fb.resize(vb.len ? vb.len : frame.size());
    } else {
      fb = out;
      switch (opts.retval) {
        case XDP_TX:
        case XDP_REDIRECT: {
          // A NAT reply the program sent itself (its FIB lookup found the client's next
          // hop): the slow path's kRoute, which leaves that step to the kernel.
          auto after = prog_->counters();
          const size_t nat = size_t(Counter::kNatReplies);
          const size_t fnat = size_t(Counter::kFnatReplies);
          if (after->v[nat] > fast_before->v[nat] || after->v[fnat] > fast_before->v[fnat])
            vb = dp::Verdict{Action::kRoute};
          else
            vb = dp::Verdict{Action::kTx, ifindex_};
          break;
        }
        case XDP_PASS: {
          // Passed as a local real server's packet (kLocal), as a rewritten NAT reply for
          // the kernel to route (kRoute), or as not ours (kPass): the counter the program
          // bumped tells which. The test's namespace has no route to the clients, so the
          // program's FIB lookup fails and a NAT reply is always passed, as the slow path's
          // kRoute is: the bytes compare exactly, MACs included.
          auto after = prog_->counters();
          const size_t local = size_t(Counter::kLocalDelivered);
          const size_t nat = size_t(Counter::kNatReplies);
          const size_t fnat = size_t(Counter::kFnatReplies);
          vb = dp::Verdict{after->v[local] > fast_before->v[local] ? Action::kLocal
                           : after->v[nat] > fast_before->v[nat] ||
                                   after->v[fnat] > fast_before->v[fnat]
                               ? Action::kRoute
                               : Action::kPass};
          break;
        }
        case XDP_DROP: {
          vb = dp::Verdict{Action::kDrop};
          auto after = prog_->counters();
          for (size_t i = 0; i < dp::kNumCounters; ++i)
            if (dp::kCounterIsDrop[i] && after->v[i] > fast_before->v[i]) vb.reason = Counter(i);
          break;
        }
        default:
          ADD_FAILURE() << "unexpected XDP verdict " << opts.retval;
      }
    }
    EXPECT_EQ(int(va.action), int(vb.action)) << (punted ? "slow path" : "fast path");
    if (va.action == Action::kTx) {
      EXPECT_EQ(va.ifindex, vb.ifindex);
      EXPECT_TRUE(framesEqual(fa, fb)) << frameDiff(fa, fb);
    }
    if (va.action == Action::kRoute) {
      // Rewritten for the client. The slow path leaves the Ethernet header to the kernel,
      // which routes the packet; the fast path addresses the frame to the next hop its FIB
      // lookup found (NatReplyWithAKnownRouteLeavesFromTheFastPath checks those MACs): from
      // the EtherType on, the bytes must be the same.
      EXPECT_EQ(fa.size(), fb.size());
      if (fa.size() >= 12 && fb.size() >= 12) {
        Bytes ia(fa.begin() + 12, fa.end()), ib(fb.begin() + 12, fb.end());
        EXPECT_TRUE(framesEqual(ia, ib)) << frameDiff(ia, ib);
      }
    }
    if (va.action == Action::kPass) {  // the kernel's, as it came
      EXPECT_TRUE(framesEqual(frame, fa)) << frameDiff(frame, fa);
      EXPECT_TRUE(framesEqual(frame, fb)) << frameDiff(frame, fb);
    }
    if (va.action == Action::kLocal) {  // up the stack as it came
      EXPECT_TRUE(framesEqual(frame, fa)) << frameDiff(frame, fa);
      EXPECT_TRUE(framesEqual(frame, fb)) << frameDiff(frame, fb);
    }
    if (va.action == Action::kDrop) {
      EXPECT_EQ(va.reason, vb.reason) << dp::counterName(va.reason) << " vs " << dp::counterName(vb.reason);
    }
    expectSameState();
    return !punted;
  }

  void expectSameState() {
    auto fast = prog_->counters();
    ASSERT_TRUE(fast);
    for (size_t i = 0; i < dp::kNumCounters; ++i)
      EXPECT_EQ(a_->dp.counters().v[i], b_->dp.counters().v[i] + fast->v[i])
          << "counter " << dp::kCounterNames[i];
    for (uint32_t id = 0; id < 8; ++id) {
      sl_dest_counts ca = a_->accounting.read(id), cb = b_->accounting.read(id);
      EXPECT_EQ(ca.active, cb.active) << "dest " << id;
      EXPECT_EQ(ca.inactive, cb.inactive) << "dest " << id;
      EXPECT_EQ(ca.persist, cb.persist) << "dest " << id;
      sl_stats sa = a_->stats.dest(id), sb = b_->stats.dest(id);
      sl_stats fs{};
      for (uint32_t cpu = 0; cpu < prog_->statSlots(); ++cpu) {
        fs.inpkts += prog_->destStats()[id * prog_->statSlots() + cpu].inpkts;
        fs.inbytes += prog_->destStats()[id * prog_->statSlots() + cpu].inbytes;
        fs.outpkts += prog_->destStats()[id * prog_->statSlots() + cpu].outpkts;
        fs.outbytes += prog_->destStats()[id * prog_->statSlots() + cpu].outbytes;
      }
      EXPECT_EQ(sa.outpkts, sb.outpkts + fs.outpkts) << "dest " << id;
      EXPECT_EQ(sa.outbytes, sb.outbytes + fs.outbytes) << "dest " << id;
      EXPECT_EQ(sa.inpkts, sb.inpkts + fs.inpkts) << "dest " << id;
      EXPECT_EQ(sa.inbytes, sb.inbytes + fs.inbytes) << "dest " << id;
      EXPECT_EQ(sa.conns, sb.conns) << "dest " << id;
    }
    // Every connection (and reply twin) A knows, B knows in the same state.
    a_->conns.forEach(clock_.now(), [&](const sl_conn& c) {
      sl_conn* other = b_->conns.lookup(c.key, clock_.now());
      ASSERT_NE(other, nullptr);
      EXPECT_EQ(conn::stateName(c.state), conn::stateName(other->state));
      EXPECT_EQ(c.flags & ~SL_CONN_F_ONE_PACKET, other->flags & ~SL_CONN_F_ONE_PACKET);
      EXPECT_EQ(c.dest_id, other->dest_id);
      EXPECT_EQ(c.timeout_s, other->timeout_s);
      // The extension records (FULLNAT's ends) too: the program reads B's.
      EXPECT_EQ(std::memcmp(&a_->conns.ext(c), &b_->conns.ext(*other), sizeof(sl_conn_ext)), 0);
    });
    EXPECT_EQ(a_->conns.size(), b_->conns.size());
  }

  MonotonicClock clock_;  // the program reads bpf_ktime_get_ns(): the same clock
  std::unique_ptr<io::testing::Netns> ns_;
  std::unique_ptr<io::testing::EnterNetns> enter_;
  uint32_t ifindex_ = 0;
  std::unique_ptr<io::SteerProgram> prog_;
  std::vector<sl_conn> a_conns_;
  std::vector<sl_dest> a_dests_;
  std::vector<sl_dest_counts> a_counts_;
  std::unique_ptr<Side> a_, b_;
};

sl_conn_key connKey(uint16_t cport) {
  PacketBuilder b;
  Bytes f = b.eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.100").tcp(cport, 80, 0).build();
  return dp::connKeyOf(net::parseFrame(f).pkt);
}

PacketBuilder c4(bool vlan = false) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  b.ipv4("10.0.1.2", "10.0.2.100");
  return b;
}
PacketBuilder c6() {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  b.ipv6("2001:db8:1::2", "2001:db8:2::100");
  return b;
}

TEST_F(DualPath, TcpConnectionsIpv4AndVlan) {
  rr4();
  for (bool vlan : {false, true}) {
    uint16_t port = vlan ? 40001 : 40000;
    EXPECT_FALSE(both(c4(vlan).tcp(port, 80, net::kTcpSyn).build(), "SYN")) << "new flows are the daemon's";
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpAck).build(), "ACK"));
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpAck | net::kTcpPsh).payload("GET / HTTP/1.0\r\n\r\n").build(), "data"));
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpFin | net::kTcpAck).build(), "FIN"));
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpAck).build(), "last ACK"));
    // A SYN on a connection in FIN_WAIT stays with it (conn_reuse_mode=1): the fast path's.
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpSyn).build(), "SYN in FIN_WAIT"));
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpAck).build(), "ACK"));
    EXPECT_TRUE(both(c4(vlan).tcp(port, 80, net::kTcpRst).build(), "RST"));
    // In CLOSE a SYN opens a new connection: the daemon's work again.
    EXPECT_FALSE(both(c4(vlan).tcp(port, 80, net::kTcpSyn).build(), "SYN reusing the tuple"));
  }
}

TEST_F(DualPath, TcpConnectionIpv6) {
  rr6();
  EXPECT_FALSE(both(c6().tcp(40002, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_TRUE(both(c6().tcp(40002, 80, net::kTcpAck).payload("x").build(), "ACK"));
  EXPECT_TRUE(both(c6().tcp(40002, 80, net::kTcpFin | net::kTcpAck).build(), "FIN"));
}

TEST_F(DualPath, UdpFlowsAndManyConnections) {
  udp4();
  rr4();
  for (uint16_t i = 0; i < 20; ++i) {
    EXPECT_FALSE(both(c4().udp(uint16_t(5000 + i), 53).payload("q").build(), "first datagram"));
    EXPECT_TRUE(both(c4().udp(uint16_t(5000 + i), 53).payload("qq").build(), "second datagram"));
    EXPECT_FALSE(both(c4().tcp(uint16_t(30000 + i), 80, net::kTcpSyn).build(), "SYN"));
    EXPECT_TRUE(both(c4().tcp(uint16_t(30000 + i), 80, net::kTcpAck).build(), "ACK"));
  }
}

TEST_F(DualPath, NotOursAndPolicy) {
  rr4();
  both(c4().tcp(40000, 22, net::kTcpSyn).build(), "other port");
  both(PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10").tcp(1, 80, net::kTcpSyn).build(),
       "other address");
  both(c4().icmpEcho(1, 1).build(), "ICMP to the VIP");
  both(PacketBuilder().eth(kRouterMac, kDirectorMac).ethertype(net::kEthP_ARP).payload(std::string(28, '\0')).build(),
       "ARP");
  both(c4().tcp(40010, 80, net::kTcpAck).build(), "ACK without a connection");
  both(c4().fragment(0, true).udp(1, 53).payload("frag").build(), "first fragment to the VIP");
  both(PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10").fragment(8, false).rawL4(17).payload("x").build(),
       "later fragment to another host");
  // The real server's MAC goes away: established packets fall back to the daemon, which
  // drops them with no_neighbour (and asks for resolution), in both setups.
  both(c4().tcp(40011, 80, net::kTcpSyn).build(), "SYN");
  EXPECT_TRUE(both(c4().tcp(40011, 80, net::kTcpAck).build(), "ACK"));
  for (Side* side : {a_.get(), b_.get()})
    for (uint32_t id = 0; id < 2; ++id) {
      auto e = side->dest_table.read(id);
      if (!e) continue;
      e->flags &= ~SL_DEST_F_RESOLVED;
      side->dest_table.write(id, *e);
    }
  EXPECT_FALSE(both(c4().tcp(40011, 80, net::kTcpAck).build(), "ACK, MAC unknown"));
}

// Senders with checksum offload (veth, virtio) leave TCP/UDP checksums half-done. In native
// mode on such a link (csum_check) the program hands those frames to the slow path, which
// finishes them, so both setups send the same, correct bytes. (In generic mode, csum_check
// off, the kernel keeps the socket buffer's CHECKSUM_PARTIAL mark and finishes it on
// transmit: the program forwards the frame as it came.)
TEST_F(DualPath, HalfDoneChecksumsAreFinished) {
  rr4();
  udp4();
  prog_->config()->csum_check = 1;
  EXPECT_FALSE(both(c4().tcp(40030, 80, net::kTcpSyn).partialL4Checksum().build(), "SYN, half-done"));
  EXPECT_FALSE(both(c4().tcp(40030, 80, net::kTcpAck).payload("GET /").partialL4Checksum().build(),
                    "ACK, half-done: the slow path's"));
  EXPECT_TRUE(both(c4().tcp(40030, 80, net::kTcpAck).payload("GET /").build(), "ACK, complete"));
  EXPECT_FALSE(both(c4().udp(5300, 53).payload("q").partialL4Checksum().build(), "UDP, half-done"));
  EXPECT_FALSE(both(c4().udp(5300, 53).payload("qq").partialL4Checksum().build(), "UDP again, half-done"));
  EXPECT_TRUE(both(c4().udp(5300, 53).payload("qq").build(), "UDP, complete"));
  EXPECT_GT(a_->dp.counters()[Counter::kCsumFinished], 0u);
}

// tcp_conn_schedule: SYN+ACK may open a connection, a SYN with RST may not; a segment that
// cannot open one goes to the kernel (which resets it) from either path.
TEST_F(DualPath, WhatOpensAConnection) {
  rr4();
  EXPECT_FALSE(both(c4().tcp(40040, 80, net::kTcpSyn | net::kTcpAck).build(), "SYN+ACK"));
  EXPECT_TRUE(both(c4().tcp(40040, 80, net::kTcpAck).build(), "ACK after it"));
  both(c4().tcp(40041, 80, net::kTcpSyn | net::kTcpRst).build(), "SYN+RST");
  both(c4().tcp(40042, 80, net::kTcpFin | net::kTcpAck).build(), "FIN without a connection");
  EXPECT_EQ(a_->dp.counters()[Counter::kNoConnNotSyn], 2u);
}

// A deleted real server (no longer available) gets nothing: its connection's packets are
// dropped by both paths.
TEST_F(DualPath, DeletedRealServerGetsNothing) {
  rr4();
  EXPECT_FALSE(both(c4().tcp(40050, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_TRUE(both(c4().tcp(40050, 80, net::kTcpAck).build(), "ACK"));
  for (Side* side : {a_.get(), b_.get()})
    for (uint32_t id = 0; id < 2; ++id) {
      auto e = side->dest_table.read(id);
      if (!e) continue;
      e->flags &= ~SL_DEST_F_AVAILABLE;
      side->dest_table.write(id, *e);
    }
  EXPECT_FALSE(both(c4().tcp(40050, 80, net::kTcpAck).build(), "ACK to a deleted server"));
  EXPECT_EQ(a_->dp.counters()[Counter::kDestGone], 1u);
}

// A persistence template is assured (IPVS's ASSURED, shown by -Lnc) by the first
// connection it controls that reaches ESTABLISHED: that one step is the slow path's, which
// alone can reach the template; once assured, later connections run in the fast path.
TEST_F(DualPath, FirstEstablishedConnectionAssuresItsTemplate) {
  svc::ServiceConfig s = svc("10.0.2.100", 80);
  s.persistent = true;
  s.persistence_timeout = 300;
  addService(s, {{"10.0.2.11:80", 1}, {"10.0.2.12:80", 1}});
  EXPECT_FALSE(both(c4().tcp(40060, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_FALSE(both(c4().tcp(40060, 80, net::kTcpAck).build(), "ACK: establishes, assures"));
  EXPECT_TRUE(both(c4().tcp(40060, 80, net::kTcpAck).payload("x").build(), "data"));
  EXPECT_FALSE(both(c4().tcp(40061, 80, net::kTcpSyn).build(), "second connection's SYN"));
  EXPECT_TRUE(both(c4().tcp(40061, 80, net::kTcpAck).build(), "its ACK: the template is assured"));
  int templates = 0;
  b_->conns.forEach(clock_.now(), [&](const sl_conn& c) {
    if (!(c.flags & SL_CONN_F_TEMPLATE)) return;
    ++templates;
    EXPECT_TRUE(c.flags & SL_CONN_F_ASSURED);
  });
  EXPECT_EQ(templates, 1);
}

TEST_F(DualPath, MalformedFramesSameCounters) {
  rr4();
  rr6();
  std::vector<std::pair<std::string, Bytes>> frames = {
      {"v4 SYN", c4().tcp(40020, 80, net::kTcpSyn).build()},
      {"v4 vlan", c4(true).tcp(40021, 80, net::kTcpSyn).build()},
      {"v6 SYN", c6().tcp(40022, 80, net::kTcpSyn).build()},
      {"v4 UDP", c4().udp(40023, 80).payload("abc").build()},
      {"v6 ext", PacketBuilder().eth(kRouterMac, kDirectorMac).ipv6("2001:db8:1::2", "2001:db8:2::100")
                     .hopByHop().destOpts().tcp(40024, 80, net::kTcpSyn).build()},
  };
  // From 14 bytes up: the kernel refuses to run XDP on anything shorter than an Ethernet
  // header (no NIC delivers one); the C++ path's own golden tests cover those.
  for (auto& [name, f] : frames)
    for (size_t len = 14; len < f.size(); ++len)
      both(Bytes(f.begin(), f.begin() + long(len)), name + " cut at " + std::to_string(len));
  Bytes ihl = c4().tcp(1, 80, net::kTcpSyn).build();
  ihl[14] = 0x44;
  both(ihl, "IHL 4");
  Bytes ver = c4().tcp(1, 80, net::kTcpSyn).build();
  ver[14] = 0x55;
  both(ver, "IPv4 version 5");
  Bytes doff = c4().tcp(1, 80, net::kTcpSyn).build();
  doff[14 + 20 + 12] = 0x40;
  both(doff, "TCP data offset 4");
  Bytes ulen = c4().udp(1, 80).payload("abc").build();
  put16(ulen, 14 + 20 + 4, 7);
  both(ulen, "UDP length 7");
  Bytes three = PacketBuilder().eth(kRouterMac, kDirectorMac).vlan(1).vlan(2).vlan(3).ipv4("10.0.1.2", "10.0.2.100")
                    .tcp(1, 80, net::kTcpSyn).build();
  both(three, "three VLAN tags");
}

// ICMP errors to a VIP: the program finds the quoted connection itself, hands the error to
// the daemon only when there is one (which forwards it to that connection's real server),
// drops a malformed quote with the C++ path's counter and passes everything else to the
// kernel, which is the only place such a frame can still reach the host's stack.
TEST_F(DualPath, IcmpErrorsToTheVip) {
  rr4();
  rr6();
  udp4();
  for (uint8_t fl : {net::kTcpSyn, net::kTcpAck}) {
    both(c4().tcp(46000, 80, fl).build(), "v4 connection");
    both(c4(true).tcp(46001, 80, fl).build(), "v4 connection, VLAN");
    both(c6().tcp(46002, 80, fl).build(), "v6 connection");
  }
  both(c4().udp(46003, 53).payload("q").build(), "UDP flow");

  const Bytes r4 = reply4(46000), r6 = reply6(46002);
  auto from4 = [](const Bytes& q, uint8_t type = 3, uint8_t code = 4, bool vlan = false) {
    return error4(kRouterMac, kDirectorMac, q, type, code, vlan);
  };
  auto from6 = [](const Bytes& q, uint8_t type = 2) { return error6(kRouterMac, kDirectorMac, q, type); };
  for (size_t len : {size_t(28), size_t(548)})
    EXPECT_FALSE(both(from4(firstBytes(r4, len)), "frag needed, quote " + std::to_string(len)));
  for (auto [type, code] : {std::pair<uint8_t, uint8_t>{3, 1}, {11, 0}, {12, 0}})
    EXPECT_FALSE(both(from4(firstBytes(r4, 28), type, code), "v4 error type " + std::to_string(type)));
  EXPECT_FALSE(both(from4(firstBytes(reply4(46001), 28), 3, 4, true), "frag needed, VLAN"));
  EXPECT_FALSE(both(from4(firstBytes(reply4(46003, net::kProtoUdp), 28), 3, 3), "port unreachable, UDP"));
  for (size_t len : {size_t(48), size_t(1232)})
    EXPECT_FALSE(both(from6(firstBytes(r6, len)), "packet too big, quote " + std::to_string(len)));
  for (uint8_t type : {1, 3, 4})
    EXPECT_FALSE(both(from6(firstBytes(r6, 48), type), "v6 error type " + std::to_string(type)));

  EXPECT_TRUE(both(from4(firstBytes(reply4(46010), 28)), "no connection"));
  EXPECT_TRUE(both(from6(firstBytes(reply6(46010), 48)), "no connection (v6)"));
  EXPECT_TRUE(both(from4(PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").icmpEcho(1, 1, true).build()),
                   "quote of the host's echo reply"));
  EXPECT_TRUE(both(from4(firstBytes(r4, 28), 4, 0), "source quench"));
  EXPECT_TRUE(both(c6().icmp6Echo(1, 1).build(), "echo request (v6)"));

  // Every length of quote, and headers that lie: the same verdict and counter either way.
  for (size_t len = 0; len <= 48; ++len) both(from4(firstBytes(r4, len)), "v4 quote of " + std::to_string(len));
  for (size_t len = 0; len <= 68; ++len) both(from6(firstBytes(r6, len)), "v6 quote of " + std::to_string(len));
  Bytes ihl = firstBytes(r4, 28);
  ihl[0] = 0x44;
  both(from4(ihl), "inner IHL 4");
  Bytes ver = firstBytes(r6, 48);
  ver[0] = 0x45;
  both(from6(ver), "inner version 4 in v6");
  Bytes tot = firstBytes(r4, 28);
  put16(tot, 2, 30);
  both(from4(tot), "inner total length 30");
  Bytes doff = firstBytes(r4, 48);
  doff[32] = 0x30;
  both(from4(doff), "inner data offset 3");
  Bytes ulen = firstBytes(reply4(46003, net::kProtoUdp), 28);
  put16(ulen, 24, 7);
  both(from4(ulen, 3, 3), "inner UDP length 7");
  Bytes plen = firstBytes(r6, 48);
  put16(plen, 4, 4);
  both(from6(plen), "inner payload length 4");
  Bytes ext = PacketBuilder().ipv6("2001:db8:2::100", "2001:db8:1::2").destOpts(Bytes(10, 0))
                  .fragment(0, false).tcp(80, 46002, net::kTcpAck).build();
  for (size_t len = 40; len <= ext.size(); len += 4) both(from6(firstBytes(ext, len)), "v6 ext quote of " + std::to_string(len));
  EXPECT_GT(a_->dp.counters()[Counter::kIcmpForwarded], 0u);
}

// Cluster mode (issue 8): a segment of a flow another director used to carry (no
// connection here, no SYN) is the slow path's to adopt, into the connection state IPVS's
// sloppy_tcp gives it; its next packets are the fast path's. A RST is never adopted.
TEST_F(DualPath, AdoptMidflowInClusterMode) {
  svc::ServiceConfig s = svc("10.0.2.100", 80);
  s.scheduler = "mh";
  addService(s, {{"10.0.2.11:80", 1}, {"10.0.2.12:80", 1}});
  EXPECT_TRUE(both(c4().tcp(40100, 80, net::kTcpAck).build(), "ACK, adopt off: the kernel's"));
  EXPECT_EQ(a_->dp.counters()[Counter::kNoConnNotSyn], 1u);

  a_->dp.setAdoptMidflow(true);
  b_->dp.setAdoptMidflow(true);
  prog_->config()->adopt_midflow = 1;
  EXPECT_FALSE(both(c4().tcp(40101, 80, net::kTcpAck).payload("mid-stream").build(), "ACK: adopted"));
  sl_conn* c = a_->conns.lookup(connKey(40101), clock_.now());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(conn::stateName(c->state), "ESTABLISHED");
  EXPECT_TRUE(both(c4().tcp(40101, 80, net::kTcpAck | net::kTcpPsh).payload("more").build(),
                   "next segment: the fast path's"));
  // A step into a closing state or out of one is the slow path's in a cluster: it tells
  // the peers (ConnEventSink::connStateChanged). Between them, the fast path's again.
  EXPECT_FALSE(both(c4().tcp(40101, 80, net::kTcpFin | net::kTcpAck).build(), "its FIN"));
  EXPECT_EQ(conn::stateName(a_->conns.lookup(connKey(40101), clock_.now())->state), "FIN_WAIT");
  EXPECT_TRUE(both(c4().tcp(40101, 80, net::kTcpAck).build(), "an ACK in FIN_WAIT"));
  EXPECT_FALSE(both(c4().tcp(40101, 80, net::kTcpSyn).build(), "a SYN reopening it"));
  EXPECT_TRUE(both(c4().tcp(40101, 80, net::kTcpAck).build(), "its handshake's ACK"));
  EXPECT_TRUE(both(c4().tcp(40102, 80, net::kTcpRst).build(), "RST: the kernel's"));
  EXPECT_TRUE(both(c4().tcp(40102, 80, net::kTcpRst | net::kTcpAck).build(), "RST+ACK: the kernel's"));
  EXPECT_FALSE(both(c4().tcp(40103, 80, net::kTcpFin | net::kTcpAck).build(), "FIN: adopted"));
  EXPECT_FALSE(both(c4().tcp(40104, 80, net::kTcpSyn).build(), "SYN: as ever"));
  EXPECT_EQ(a_->dp.counters()[Counter::kAdoptedMidflow], 2u);
  EXPECT_EQ(a_->dp.counters()[Counter::kNoConnNotSyn], 3u);
}

// Directors that are also real servers: a frame a peer director balanced to this host (its
// source MAC is the peer's) goes to the local stack from either path, before any lookup.
TEST_F(DualPath, FramesFromPeerDirectorsGoToTheStack) {
  rr4();
  udp4();
  const net::MacAddr peer = mac("02:00:00:00:02:20");
  const std::vector<net::MacAddr> peers = {mac("02:00:00:00:02:30"), peer};
  auto setPeers = [&](std::span<const net::MacAddr> m) {
    a_->dp.setPeerMacs(m);
    b_->dp.setPeerMacs(m);
    ASSERT_TRUE(prog_->setPeerMacs(m));
  };
  auto fromPeer = [&] {
    PacketBuilder b;
    b.eth(peer, kDirectorMac).ipv4("10.0.1.2", "10.0.2.100");
    return b;
  };
  a_->dp.setAdoptMidflow(true);
  b_->dp.setAdoptMidflow(true);
  prog_->config()->adopt_midflow = 1;
  setPeers(peers);
  EXPECT_EQ(prog_->config()->peer_macs, 2u);
  EXPECT_FALSE(both(c4().tcp(40110, 80, net::kTcpSyn).build(), "SYN from the router"));
  EXPECT_TRUE(both(c4().tcp(40110, 80, net::kTcpAck).build(), "ACK from the router"));
  EXPECT_TRUE(both(fromPeer().tcp(40110, 80, net::kTcpAck).payload("x").build(),
                   "from the peer, its tuple has a connection"));
  EXPECT_TRUE(both(fromPeer().tcp(40111, 80, net::kTcpSyn).build(), "SYN from the peer"));
  EXPECT_TRUE(both(fromPeer().tcp(40112, 80, net::kTcpAck).build(), "ACK from the peer, adopt on"));
  EXPECT_TRUE(both(fromPeer().udp(5400, 53).payload("q").build(), "UDP from the peer"));
  EXPECT_TRUE(both(fromPeer().fragment(0, true).udp(5401, 53).payload("frag").build(),
                   "fragment from the peer"));
  EXPECT_TRUE(both(PacketBuilder().eth(peer, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10")
                       .tcp(1, 80, net::kTcpSyn).build(),
                   "from the peer, not to a VIP"));
  EXPECT_EQ(a_->dp.counters()[Counter::kPeerBalanced], 5u);
  EXPECT_TRUE(both(c4().tcp(40110, 80, net::kTcpAck).payload("y").build(), "the router again"));

  // The peer leaves: its frames are balanced like anyone's again.
  setPeers({});
  EXPECT_EQ(prog_->config()->peer_macs, 0u);
  EXPECT_TRUE(both(fromPeer().tcp(40110, 80, net::kTcpAck).payload("z").build(), "former peer"));
  EXPECT_EQ(a_->dp.counters()[Counter::kPeerBalanced], 5u);
  // A set replaced by a smaller one keeps only the new MACs in the kernel's map.
  setPeers(std::vector<net::MacAddr>{mac("02:00:00:00:02:30")});
  EXPECT_EQ(prog_->config()->peer_macs, 1u);
  EXPECT_TRUE(both(fromPeer().tcp(40110, 80, net::kTcpAck).payload("w").build(), "not a peer now"));
  EXPECT_EQ(a_->dp.counters()[Counter::kPeerBalanced], 5u);
  // More than the map holds is refused whole.
  std::vector<net::MacAddr> many;
  for (int i = 0; i <= SL_MAX_PEER_MACS; ++i) many.push_back(net::MacAddr{2, 0, 0, 1, 0, uint8_t(i)});
  EXPECT_FALSE(prog_->setPeerMacs(many));
  EXPECT_EQ(prog_->config()->peer_macs, 1u);
}


// NAT: requests and replies both in the fast path once the connection exists, with the
// state following both directions (IPVS's INPUT and OUTPUT tables), and the replies'
// bytes, counts and statistics the same as the slow path's.
PacketBuilder rs4(const char* rs = "10.0.2.11") {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv4(rs, "10.0.1.2");
  return b;
}
PacketBuilder rs6() {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv6("2001:db8:2::11", "2001:db8:1::2");
  return b;
}

TEST_F(DualPath, NatTcpBothDirectionsIpv4AndVlan) {
  addService(svc("10.0.2.100", 80), {{"10.0.2.11:8080", 1}}, svc::FwdMethod::kNat);
  routeClients();
  using net::kTcpAck, net::kTcpFin, net::kTcpPsh, net::kTcpSyn;
  for (bool vlan : {false, true}) {
    const uint16_t p = vlan ? 41001 : 41000;
    EXPECT_FALSE(both(c4(vlan).tcp(p, 80, kTcpSyn).build(), "SYN"));
    EXPECT_TRUE(both(rs4().tcp(8080, p, kTcpSyn | kTcpAck).build(), "SYN-ACK (reply)"));
    EXPECT_TRUE(both(c4(vlan).tcp(p, 80, kTcpAck).build(), "ACK"));
    EXPECT_TRUE(both(c4(vlan).tcp(p, 80, kTcpAck | kTcpPsh).payload("GET / HTTP/1.0\r\n\r\n").build(), "data"));
    EXPECT_TRUE(both(rs4().tcp(8080, p, kTcpAck | kTcpPsh).payloadFill(900, 0x33).build(), "reply data"));
    EXPECT_TRUE(both(c4(vlan).tcp(p, 80, kTcpFin | kTcpAck).build(), "client FIN"));
    EXPECT_TRUE(both(rs4().tcp(8080, p, kTcpFin | kTcpAck).build(), "server FIN (reply)"));
    EXPECT_TRUE(both(c4(vlan).tcp(p, 80, kTcpAck).build(), "last ACK"));
    sl_conn* c = a_->conns.lookup(connKey(p), clock_.now());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(conn::stateName(c->state), "TIME_WAIT");
  }
  EXPECT_EQ(a_->conns.replyTwins(), 2u);
  // A reply in a VLAN: the slow path's (the program does not send to VLAN devices).
  PacketBuilder tagged;
  tagged.eth(kRs1Mac, kDirectorMac).vlan(100).ipv4("10.0.2.11", "10.0.1.2");
  EXPECT_FALSE(both(tagged.tcp(8080, 41001, kTcpAck).build(), "reply in VLAN 100"));
  // An ICMP error from the Internet about what the client was sent (VIP:80 -> client): the
  // slow path translates it for the real server.
  Bytes quote = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").tcp(80, 41001, kTcpAck).payload("x").build();
  EXPECT_FALSE(both(PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.9.1", "10.0.2.100")
                        .icmp(3, 4, 1400).payload(quote).build(), "frag needed from the Internet"));
}

// Where the kernel knows the way to the client (a route and a neighbour on one of the
// daemon's interfaces, forwarding on), the program sends the rewritten reply itself: the
// same IP packet as the slow path hands to the kernel, in a frame to the neighbour's MAC
// from the interface's, out of the interface the FIB lookup named (XDP_TX here: the same).
TEST_F(DualPath, NatReplyWithAKnownRouteLeavesFromTheFastPath) {
  addService(svc("10.0.2.100", 80), {{"10.0.2.11:8080", 1}}, svc::FwdMethod::kNat);
  routeClients();
  EXPECT_FALSE(both(c4().tcp(41010, 80, net::kTcpSyn).build(), "SYN"));

  const Bytes reply = rs4().tcp(8080, 41010, net::kTcpSyn | net::kTcpAck).payload("hi").build();
  Bytes fa = reply;
  dp::Verdict va = a_->dp.process(fa, *a_->table.snapshot(), clock_.now());
  ASSERT_EQ(int(va.action), int(Action::kRoute));

  xdp_md ctx{};
  ctx.data_end = uint32_t(reply.size());
  ctx.ingress_ifindex = ifindex_;
  Bytes in = reply, out(reply.size() + 256);
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = in.data();
  opts.data_size_in = uint32_t(in.size());
  opts.data_out = out.data();
  opts.data_size_out = uint32_t(out.size());
  opts.ctx_in = &ctx;
  opts.ctx_size_in = sizeof(ctx);
  opts.repeat = 1;
  ASSERT_EQ(bpf_prog_test_run_opts(prog_->programFd(), &opts), 0);
  out.resize(opts.data_size_out);
  EXPECT_EQ(opts.retval, uint32_t(XDP_TX));
  ASSERT_EQ(out.size(), fa.size());
  // From the interface's MAC to the neighbour's; the IP packet as the slow path made it.
  Bytes want = fa;
  std::memcpy(want.data(), kRouterMac.data(), 6);
  const std::string mac = ns_->out("cat /sys/class/net/io-d0/address");
  std::memcpy(want.data() + 6, sluice::testing::mac(mac.substr(0, 17)).data(), 6);
  EXPECT_TRUE(framesEqual(want, out)) << frameDiff(want, out);
  auto fast = prog_->counters();
  EXPECT_EQ(fast->v[size_t(Counter::kNatReplies)], 1u);
}

// NAT rewrites checksums incrementally, which is wrong on a half-done one: with csum_check
// the program hands such requests and replies to the slow path, which finishes them first.
TEST_F(DualPath, NatHalfDoneChecksumsAreFinishedBeforeTheRewrite) {
  addService(svc("10.0.2.100", 80), {{"10.0.2.11:8080", 1}}, svc::FwdMethod::kNat);
  routeClients();
  prog_->config()->csum_check = 1;
  using net::kTcpAck, net::kTcpSyn;
  EXPECT_FALSE(both(c4().tcp(41020, 80, kTcpSyn).partialL4Checksum().build(), "SYN, half-done"));
  EXPECT_FALSE(both(rs4().tcp(8080, 41020, kTcpSyn | kTcpAck).partialL4Checksum().build(),
                    "SYN-ACK, half-done: the slow path's"));
  EXPECT_TRUE(both(rs4().tcp(8080, 41020, kTcpAck).payload("x").build(), "reply, complete"));
  EXPECT_FALSE(both(c4().tcp(41020, 80, kTcpAck).payload("GET /").partialL4Checksum().build(),
                    "ACK, half-done"));
  EXPECT_TRUE(both(c4().tcp(41020, 80, kTcpAck).payload("GET /").build(), "ACK, complete"));
  EXPECT_EQ(a_->dp.counters()[Counter::kCsumFinished], 3u);
}

// A port-0 (all ports) persistent NAT service: each connection keeps the client's port on
// the real server, its replies find it, and connections made through the template get
// their twins too.
TEST_F(DualPath, NatPortZeroPersistentService) {
  svc::ServiceConfig s = svc("10.0.2.100", 0);
  s.persistent = true;
  s.persistence_timeout = 300;
  addService(s, {{"10.0.2.11:0", 1}}, svc::FwdMethod::kNat);
  routeClients();
  using net::kTcpAck, net::kTcpSyn;
  for (uint16_t vport : {443, 8443}) {
    const std::string v = std::to_string(vport);
    EXPECT_FALSE(both(c4().tcp(41030, vport, kTcpSyn).build(), "SYN to " + v));
    EXPECT_TRUE(both(rs4().tcp(vport, 41030, kTcpSyn | kTcpAck).build(), "SYN-ACK from " + v));
    // The first ACK assures the template: the slow path's step (SL_CONN_F_CONTROLLED).
    both(c4().tcp(41030, vport, kTcpAck).build(), "ACK to " + v);
    EXPECT_TRUE(both(c4().tcp(41030, vport, kTcpAck).payload("data").build(), "data to " + v));
    EXPECT_TRUE(both(rs4().tcp(vport, 41030, kTcpAck).payload("answer").build(), "answer from " + v));
  }
  EXPECT_EQ(a_->conns.replyTwins(), 2u);
}

// No way to the client from here (no route, or no neighbour yet): the program leaves the
// reply untouched to the slow path, which hands the rewritten packet to the kernel as
// locally sent (a rewritten packet passed up would be dropped: its source is ours).
TEST_F(DualPath, NatReplyWithoutARouteIsTheSlowPaths) {
  addService(svc("10.0.2.100", 80), {{"10.0.2.11:8080", 1}}, svc::FwdMethod::kNat);
  EXPECT_FALSE(both(c4().tcp(41040, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_FALSE(both(rs4().tcp(8080, 41040, net::kTcpSyn | net::kTcpAck).build(), "SYN-ACK"));
  EXPECT_TRUE(both(c4().tcp(41040, 80, net::kTcpAck).build(), "ACK"));
  EXPECT_FALSE(both(rs4().tcp(8080, 41040, net::kTcpAck).payload("x").build(), "data"));
  EXPECT_EQ(a_->dp.counters()[Counter::kNatReplies], 2u);
}

TEST_F(DualPath, NatServerClosesFirstIpv6) {
  addService(svc("2001:db8:2::100", 80), {{"[2001:db8:2::11]:8080", 1}}, svc::FwdMethod::kNat);
  routeClients();
  using net::kTcpAck, net::kTcpFin, net::kTcpSyn;
  EXPECT_FALSE(both(c6().tcp(41002, 80, kTcpSyn).build(), "SYN"));
  EXPECT_TRUE(both(rs6().tcp(8080, 41002, kTcpSyn | kTcpAck).build(), "SYN-ACK"));
  EXPECT_TRUE(both(c6().tcp(41002, 80, kTcpAck).payload("x").build(), "ACK"));
  EXPECT_TRUE(both(rs6().tcp(8080, 41002, kTcpFin | kTcpAck).build(), "server FIN"));
  EXPECT_TRUE(both(c6().tcp(41002, 80, kTcpFin | kTcpAck).build(), "client FIN"));
  EXPECT_TRUE(both(rs6().tcp(8080, 41002, kTcpAck).build(), "server ACK"));
}

TEST_F(DualPath, NatUdpAndWhatIsNoReply) {
  addService(svc("10.0.2.100", 53, svc::Proto::kUdp), {{"10.0.2.11:5353", 1}}, svc::FwdMethod::kNat);
  routeClients();
  EXPECT_FALSE(both(c4().udp(6000, 53).payload("q").build(), "query"));
  EXPECT_TRUE(both(rs4().udp(5353, 6000).payload("answer").build(), "answer"));
  EXPECT_TRUE(both(c4().udp(6000, 53).payload("q2").build(), "second query"));
  // The real server's own traffic, and a packet from another host to the client: the
  // kernel's, untouched.
  both(rs4().udp(5353, 6001).payload("x").build(), "no twin");
  both(rs4("10.0.2.12").udp(5353, 6000).payload("x").build(), "another host");
  // An ICMP error from the real server about the client's query: the slow path translates
  // it for the client.
  Bytes quote = PacketBuilder().ipv4("10.0.1.2", "10.0.2.11").udp(6000, 5353).payload("q").build();
  EXPECT_FALSE(both(rs4().icmp(3, 3).payload(quote).build(), "port unreachable from the real server"));
  Bytes other = PacketBuilder().ipv4("10.0.1.2", "10.0.2.11").udp(6009, 5353).payload("q").build();
  both(rs4().icmp(3, 3).payload(other).build(), "error about no connection");
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// A real server whose address is this director's own (IPVS's LOCALNODE): its connections'
// packets go to the local stack untouched from either path, after the same state, count and
// stats updates as a forwarded packet; the first one from the slow path, the rest from the
// fast path. The other real server is forwarded to as usual.
TEST_F(DualPath, LocalRealServerGetsItsPacketsThroughTheStack) {
  rr4();
  for (Side* side : {a_.get(), b_.get()}) {
    sl_dest e = *side->dest_table.read(0);
    ASSERT_EQ(e.addr[3], 11) << "dest 0 is 10.0.2.11";
    e = dp::makeDestRecord(*net::Endpoint::parse("10.0.2.11:80"), e.fwd);
    e.flags |= SL_DEST_F_LOCAL;  // as the dest writer marks a local address: no next hop
    side->dest_table.write(0, e);
  }
  // rr: two connections each; every packet of the local one's goes to the stack.
  for (uint16_t port = 40200; port < 40204; ++port) {
    const std::string p = std::to_string(port);
    EXPECT_FALSE(both(c4().tcp(port, 80, net::kTcpSyn).build(), "SYN " + p));
    EXPECT_TRUE(both(c4().tcp(port, 80, net::kTcpAck).build(), "ACK " + p));
    EXPECT_TRUE(both(c4().tcp(port, 80, net::kTcpAck).payload("GET /").build(), "data " + p));
    EXPECT_TRUE(both(c4().tcp(port, 80, net::kTcpFin | net::kTcpAck).build(), "FIN " + p));
  }
  EXPECT_EQ(a_->dp.counters()[Counter::kLocalDelivered], 8u);
  EXPECT_EQ(a_->dp.counters()[Counter::kTxPackets], 8u);
  EXPECT_EQ(a_->dp.counters()[Counter::kNoNeighbour], 0u);
  EXPECT_EQ(a_->stats.dest(0).inpkts, 8u);
  EXPECT_EQ(a_->stats.dest(0).conns, 2u);
}


}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// TUN (ipvsadm -i): the first packet of a flow is encapsulated by the slow path, the rest
// by the program (lib/xmit_tun.h), into the same bytes; every family pair the kernel
// carries, VLAN tags, TOS/TTL/DF from the inner packet.
TEST_F(DualPath, TunnelledConnections) {
  addTunService(svc("10.0.2.100", 80), {"10.0.3.11:80", "10.0.3.12:80"}, "10.0.2.1");
  addTunService(svc("2001:db8:2::100", 80), {"[2001:db8:3::11]:80", "[2001:db8:3::12]:80"},
                "2001:db8:2::1");
  addTunService(svc("10.0.2.100", 443), {"[2001:db8:3::11]:443"}, "2001:db8:2::1");
  addTunService(svc("2001:db8:2::100", 443), {"10.0.3.11:443"}, "10.0.2.1");
  for (bool vlan : {false, true}) {
    for (uint16_t port = 41000; port < 41004; ++port) {
      const uint16_t cp = uint16_t(port + (vlan ? 10 : 0));
      const std::string p = std::to_string(cp);
      EXPECT_FALSE(both(c4(vlan).tcp(cp, 80, net::kTcpSyn).build(), "v4 SYN " + p));
      EXPECT_TRUE(both(c4(vlan).tcp(cp, 80, net::kTcpAck).build(), "v4 ACK " + p));
      EXPECT_TRUE(both(c4(vlan).df().tos(0xbb).ttl(33).ipId(4242).tcp(cp, 80, net::kTcpAck)
                           .payload("GET / HTTP/1.0\r\n\r\n").build(), "v4 data, DF, CE " + p));
      EXPECT_TRUE(both(c4(vlan).ipId(99).tcp(cp, 80, net::kTcpFin | net::kTcpAck).build(), "v4 FIN " + p));
    }
  }
  for (uint16_t port = 41100; port < 41104; ++port) {
    const std::string p = std::to_string(port);
    EXPECT_FALSE(both(c6().tcp(port, 80, net::kTcpSyn).build(), "v6 SYN " + p));
    EXPECT_TRUE(both(c6().tos(0x2b).ttl(7).tcp(port, 80, net::kTcpAck).payload("x").build(), "v6 ACK " + p));
    EXPECT_FALSE(both(c4().tcp(port, 443, net::kTcpSyn).build(), "v4 in v6 SYN " + p));
    EXPECT_TRUE(both(c4().df().tcp(port, 443, net::kTcpAck).payload("y").build(), "v4 in v6 ACK " + p));
    EXPECT_FALSE(both(c6().tcp(port, 443, net::kTcpSyn).build(), "v6 in v4 SYN " + p));
    EXPECT_TRUE(both(c6().tcp(port, 443, net::kTcpAck).payload("z").build(), "v6 in v4 ACK " + p));
  }
  EXPECT_GT(a_->dp.counters()[Counter::kTxPackets], 40u);
}

// GUE over IPv4 without checksum is the program's; GUE whose UDP checksum must be computed
// (IPv6 outside, or --tun-csum) stays with the slow path, whose bytes are then the only ones.
TEST_F(DualPath, GueTunnels) {
  addTunService(svc("10.0.2.100", 80), {"10.0.3.11:80"}, "10.0.2.1", 1500, SL_TUN_GUE);
  addTunService(svc("2001:db8:2::100", 80), {"[2001:db8:3::11]:80"}, "2001:db8:2::1", 1500, SL_TUN_GUE);
  addTunService(svc("10.0.2.100", 443), {"10.0.3.11:443"}, "10.0.2.1", 1500, SL_TUN_GUE, SL_TUN_F_CSUM);
  for (uint16_t port = 42000; port < 42004; ++port) {
    EXPECT_FALSE(both(c4().tcp(port, 80, net::kTcpSyn).build(), "GUE v4 SYN"));
    EXPECT_TRUE(both(c4().tcp(port, 80, net::kTcpAck).payload("a").build(), "GUE v4 ACK"));
    EXPECT_FALSE(both(c6().tcp(port, 80, net::kTcpSyn).build(), "GUE v6 SYN"));
    EXPECT_FALSE(both(c6().tcp(port, 80, net::kTcpAck).payload("b").build(), "GUE v6 ACK: slow path"));
    EXPECT_FALSE(both(c4().tcp(port, 443, net::kTcpSyn).build(), "GUE csum SYN"));
    EXPECT_FALSE(both(c4().tcp(port, 443, net::kTcpAck).payload("c").build(), "GUE csum ACK: slow path"));
  }
}

// Too big for the tunnel: the program leaves it to the slow path, which answers "fragmentation
// needed" / "packet too big" (DF, IPv6) or drops it (no DF); what fits stays in the kernel.
TEST_F(DualPath, TunnelPathMtu) {
  addTunService(svc("10.0.2.100", 80), {"10.0.3.11:80"}, "10.0.2.1", 1400);
  addTunService(svc("2001:db8:2::100", 80), {"[2001:db8:3::11]:80"}, "2001:db8:2::1", 1400);
  EXPECT_FALSE(both(c4().tcp(43000, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_TRUE(both(c4().df().tcp(43000, 80, net::kTcpAck).payloadFill(1380 - 40).build(), "fits"));
  EXPECT_FALSE(both(c4().df().tcp(43000, 80, net::kTcpAck).payloadFill(1381 - 40).build(), "DF, too big"));
  EXPECT_FALSE(both(c4().tcp(43000, 80, net::kTcpAck).payloadFill(1381 - 40).build(), "no DF, too big"));
  EXPECT_FALSE(both(c6().tcp(43001, 80, net::kTcpSyn).build(), "v6 SYN"));
  EXPECT_TRUE(both(c6().tcp(43001, 80, net::kTcpAck).payloadFill(1360 - 60).build(), "v6 fits"));
  EXPECT_FALSE(both(c6().tcp(43001, 80, net::kTcpAck).payloadFill(1361 - 60).build(), "v6 too big"));
  EXPECT_EQ(a_->dp.counters()[Counter::kIcmpFragNeededSent], 2u);
  EXPECT_EQ(a_->dp.counters()[Counter::kTunTooBig], 1u);
}

// A dest without an outer source yet is the slow path's to drop, counted.
TEST_F(DualPath, TunnelWithoutSource) {
  addTunService(svc("10.0.2.100", 80), {"10.0.3.11:80"}, "0.0.0.0");
  EXPECT_FALSE(both(c4().tcp(44000, 80, net::kTcpSyn).build(), "SYN"));
  EXPECT_FALSE(both(c4().tcp(44000, 80, net::kTcpAck).build(), "ACK"));
  EXPECT_EQ(a_->dp.counters()[Counter::kTunNoSource], 2u);
}

// FULLNAT: requests from the local end, replies through their twin's client end, in both
// paths byte for byte. While TOA is pending (until the real server has answered a segment
// of the client's) both directions are the slow path's; afterwards the program forwards
// both, with the extension records (the ends) the same on both sides.
namespace fnat {
PacketBuilder fromRs4() {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv4("10.0.2.11", "10.0.3.1");
  return b;
}
PacketBuilder fromRs6() {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv6("2001:db8:2::11", "2001:db8:3::1");
  return b;
}
}  // namespace fnat

class DualPathFullNat : public DualPath {
 protected:
  void addFnat(svc::ServiceConfig s, const char* rs, const char* laddr, svc::ClientAddr ca) {
    s.client_addr = ca;
    addService(s, {{rs, 1}}, svc::FwdMethod::kFullNat);
    for (Side* side : {a_.get(), b_.get()})
      ASSERT_TRUE(side->table.addLaddr(s.key, svc::LocalAddress{*net::IpAddr::parse(laddr), ""}));
  }
};

TEST_F(DualPathFullNat, TcpWithToaIpv4AndIpv6) {
  using net::kTcpAck, net::kTcpFin, net::kTcpPsh, net::kTcpSyn;
  addFnat(svc("10.0.2.100", 80), "10.0.2.11:8080", "10.0.3.1", svc::ClientAddr::kToa);
  addFnat(svc("2001:db8:2::100", 80), "[2001:db8:2::11]:8080", "2001:db8:3::1",
          svc::ClientAddr::kToa);
  routeClients();
  const Bytes mss = {2, 4, 0x05, 0xb4};
  // IPv4: the first connection takes local port 1024.
  EXPECT_FALSE(both(c4().tcp(42000, 80, kTcpSyn).tcpOptions(mss).build(), "SYN"));
  EXPECT_FALSE(both(fnat::fromRs4().tcp(8080, 1024, kTcpSyn | kTcpAck).tcpOptions(mss).build(),
                    "SYN-ACK: MSS for TOA, the slow path's"));
  EXPECT_FALSE(both(c4().tcp(42000, 80, kTcpAck).build(), "ACK: TOA, the slow path's"));
  EXPECT_FALSE(both(fnat::fromRs4().tcp(8080, 1024, kTcpAck).build(),
                    "the server's first ACK ends TOA, in the slow path"));
  EXPECT_TRUE(both(c4().tcp(42000, 80, kTcpAck | kTcpPsh).payload("GET / HTTP/1.0\r\n\r\n").build(),
                   "data"));
  EXPECT_TRUE(both(fnat::fromRs4().tcp(8080, 1024, kTcpAck | kTcpPsh).payloadFill(900, 0x33).build(),
                   "reply data"));
  EXPECT_TRUE(both(c4().tcp(42000, 80, kTcpFin | kTcpAck).build(), "client FIN"));
  EXPECT_TRUE(both(fnat::fromRs4().tcp(8080, 1024, kTcpFin | kTcpAck).build(), "server FIN"));
  EXPECT_GE(a_->dp.counters()[Counter::kToaInserted], 1u);
  // IPv6 (its own address, so port 1024 again).
  EXPECT_FALSE(both(c6().tcp(42001, 80, kTcpSyn).build(), "SYN v6"));
  EXPECT_FALSE(both(fnat::fromRs6().tcp(8080, 1024, kTcpSyn | kTcpAck).tcpOptions(mss).build(),
                    "SYN-ACK v6"));
  EXPECT_FALSE(both(c6().tcp(42001, 80, kTcpAck).build(), "ACK v6"));
  EXPECT_FALSE(both(fnat::fromRs6().tcp(8080, 1024, kTcpAck).build(), "server ACK v6"));
  EXPECT_TRUE(both(c6().tcp(42001, 80, kTcpAck).payload("x").build(), "data v6"));
  EXPECT_TRUE(both(fnat::fromRs6().tcp(8080, 1024, kTcpAck).payload("y").build(), "reply v6"));
  EXPECT_EQ(a_->conns.replyTwins(), 2u);
}

TEST_F(DualPathFullNat, WithoutToaEverythingAfterTheSynIsFast) {
  using net::kTcpAck, net::kTcpSyn;
  addFnat(svc("10.0.2.100", 80), "10.0.2.11:8080", "10.0.3.1", svc::ClientAddr::kNone);
  routeClients();
  EXPECT_FALSE(both(c4().tcp(42010, 80, kTcpSyn).build(), "SYN"));
  EXPECT_TRUE(both(fnat::fromRs4().tcp(8080, 1024, kTcpSyn | kTcpAck).build(), "SYN-ACK"));
  EXPECT_TRUE(both(c4().tcp(42010, 80, kTcpAck).build(), "ACK"));
  EXPECT_TRUE(both(c4().tcp(42010, 80, kTcpAck).payload("x").build(), "data"));
  // A reply to a local port no connection holds: not ours.
  EXPECT_TRUE(both(fnat::fromRs4().tcp(8080, 1999, kTcpAck).build(), "reply to no connection"));
}

TEST_F(DualPathFullNat, UdpBothWays) {
  addFnat(svc("10.0.2.100", 53, svc::Proto::kUdp), "10.0.2.11:5353", "10.0.3.1",
          svc::ClientAddr::kToa);
  routeClients();
  EXPECT_FALSE(both(c4().udp(42020, 53).payload("q").build(), "query"));
  EXPECT_TRUE(both(fnat::fromRs4().udp(5353, 1024).payload("a").build(), "answer"));
  EXPECT_TRUE(both(c4().udp(42020, 53).payload("q2").build(), "second query"));
}

}  // namespace
}  // namespace sluice::testing
