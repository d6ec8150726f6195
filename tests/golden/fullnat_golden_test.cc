// Golden packet tests for FULLNAT (ipvsadm -b): a request leaves from a local address and
// port of the service's (LIP:lport) to the real server, its reply to that local end goes
// back to the client from the service's address, TOA carries the client's end in the
// client's segments until the real server has answered one, and the real server's SYN-ACK
// advertises an MSS lowered by TOA's size. Local ports are held while their connection
// lives, and a service whose ports are all taken refuses new connections cleanly.
//
// Expected frames are built independently with the PacketBuilder (full checksums over the
// new addresses and options), so they also check the incremental checksum updates.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;
using net::kTcpAck, net::kTcpSyn, net::kTcpFin, net::kTcpPsh;

constexpr const char* kLip4 = "10.0.3.1";
constexpr const char* kLip6 = "2001:db8:3::1";

class FullNatGolden : public DrFixture {
 protected:
  void addFnat(const svc::ServiceConfig& s, uint16_t rport, std::vector<const char*> laddrs) {
    ASSERT_TRUE(table_.addService(s));
    const bool v6 = s.key.addr.isV6();
    for (const char* rs : {"12", "11"}) {
      svc::DestConfig d;
      std::string a = v6 ? std::string("[2001:db8:2::") + rs + "]" : std::string("10.0.2.") + rs;
      d.ep = *net::Endpoint::parse(a + ":" + std::to_string(rport));
      d.fwd = svc::FwdMethod::kFullNat;
      ASSERT_TRUE(table_.addDest(s.key, d));
    }
    for (const char* l : laddrs) ASSERT_TRUE(table_.addLaddr(s.key, svc::LocalAddress{ip(l), ""}));
    resolveAll();
  }
  void fnat4(svc::ClientAddr ca = svc::ClientAddr::kToa, svc::Proto p = svc::Proto::kTcp,
             uint16_t vport = 80) {
    svc::ServiceConfig s = svcCfg4("rr", vport, p);
    s.client_addr = ca;
    addFnat(s, 8080, {kLip4});
  }
  void fnat6() {
    svc::ServiceConfig s;
    s.key = svcKey6();
    s.scheduler = "rr";
    addFnat(s, 8080, {kLip6});
  }
  // Runs `f` with room to grow (TOA), and leaves it at the verdict's length.
  dp::Verdict run(Bytes& f) {
    const size_t n = f.size();
    f.resize(n + 64);
    dp::Verdict v = dp_.process(std::span<uint8_t>(f.data(), n), *table_.snapshot(),
                                clock_.now(), 64);
    f.resize(v.len ? v.len : n);
    return v;
  }
  void expectStep(const char* what, Bytes in, Action action, const Bytes& out) {
    SCOPED_TRACE(what);
    dp::Verdict v = run(in);
    EXPECT_EQ(int(v.action), int(action));
    if (action == Action::kTx) EXPECT_EQ(v.ifindex, kIfindex);
    if (!out.empty()) EXPECT_TRUE(framesEqual(out, in)) << frameDiff(out, in);
  }
  uint64_t count(Counter c) { return dp_.counters()[c]; }
  std::string stateOf(const sl_conn_key& k) {
    sl_conn* c = conns_.lookup(k, clock_.now());
    return c ? std::string(conn::stateName(c->state)) : "gone";
  }
};

PacketBuilder req4() {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  b.ipv4("10.0.1.2", "10.0.2.100");
  return b;
}
// LIP -> RIP (RS 1, which rr picks first).
PacketBuilder toRs4() {
  PacketBuilder b;
  b.eth(kDirectorMac, kRs1Mac);
  b.ipv4(kLip4, "10.0.2.11");
  return b;
}
PacketBuilder fromRs4() {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv4("10.0.2.11", kLip4);
  return b;
}
// What the kernel gets to route to the client (the Ethernet header untouched).
PacketBuilder toClient4() {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv4("10.0.2.100", "10.0.1.2");
  return b;
}
Bytes mssOpt(uint16_t mss) { return Bytes{2, 4, uint8_t(mss >> 8), uint8_t(mss)}; }
Bytes toa4(uint16_t port, const char* addr) {
  Bytes o{254, 8, uint8_t(port >> 8), uint8_t(port)};
  const net::IpAddr a = ip(addr);
  o.insert(o.end(), a.bytes.begin(), a.bytes.begin() + 4);
  return o;
}
Bytes toa6(uint16_t port, const char* addr) {
  Bytes o{254, 20, uint8_t(port >> 8), uint8_t(port)};
  const net::IpAddr a = ip(addr);
  o.insert(o.end(), a.bytes.begin(), a.bytes.end());
  return o;
}
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
const Bytes kTs = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};  // NOP NOP timestamps

TEST_F(FullNatGolden, TcpIpv4BothEndsRewrittenWithToa) {
  fnat4();
  const sl_conn_key k = key4(40000, 80, net::kProtoTcp);
  const uint16_t lport = 1024;  // the first port of the one worker's slice
  expectStep("SYN", req4().tcp(40000, 80, kTcpSyn).seq(100).tcpOptions(mssOpt(1460)).build(),
             Action::kTx, toRs4().tcp(lport, 8080, kTcpSyn).seq(100).tcpOptions(mssOpt(1460)).build());
  EXPECT_EQ(stateOf(k), "SYN_RECV");
  EXPECT_EQ(conns_.size(), 2u) << "the connection and its reply twin";
  EXPECT_EQ(plane_.localPorts().inUse(ip(kLip4)), 1u);

  expectStep("SYN-ACK: MSS lowered by TOA's 8 bytes",
             fromRs4().tcp(8080, lport, kTcpSyn | kTcpAck).seq(900).ackNum(101).tcpOptions(mssOpt(1460)).build(),
             Action::kRoute,
             toClient4().tcp(80, 40000, kTcpSyn | kTcpAck).seq(900).ackNum(101).tcpOptions(mssOpt(1452)).build());
  EXPECT_EQ(count(Counter::kMssAdjusted), 1u);
  expectStep("handshake ACK carries TOA", req4().tcp(40000, 80, kTcpAck).seq(101).ackNum(901).build(),
             Action::kTx, toRs4().tcp(lport, 8080, kTcpAck).seq(101).ackNum(901).tcpOptions(toa4(40000, "10.0.1.2")).build());
  EXPECT_EQ(stateOf(k), "ESTABLISHED");
  expectStep("data before the server answered: TOA again, after the timestamps",
             req4().tcp(40000, 80, kTcpAck | kTcpPsh).seq(101).ackNum(901).tcpOptions(kTs).payload("GET / HTTP/1.0\r\n\r\n").build(),
             Action::kTx,
             toRs4().tcp(lport, 8080, kTcpAck | kTcpPsh).seq(101).ackNum(901).tcpOptions(cat(kTs, toa4(40000, "10.0.1.2"))).payload("GET / HTTP/1.0\r\n\r\n").build());
  EXPECT_EQ(count(Counter::kToaInserted), 2u);
  expectStep("reply data", fromRs4().tcp(8080, lport, kTcpAck | kTcpPsh).seq(901).payloadFill(1200, 0x5a).build(),
             Action::kRoute, toClient4().tcp(80, 40000, kTcpAck | kTcpPsh).seq(901).payloadFill(1200, 0x5a).build());
  expectStep("after the server answered: no more TOA", req4().tcp(40000, 80, kTcpAck).seq(119).build(),
             Action::kTx, toRs4().tcp(lport, 8080, kTcpAck).seq(119).build());
  EXPECT_EQ(count(Counter::kToaInserted), 2u);
  EXPECT_EQ(count(Counter::kFnatReplies), 2u);

  expectStep("client FIN", req4().tcp(40000, 80, kTcpFin | kTcpAck).build(), Action::kTx,
             toRs4().tcp(lport, 8080, kTcpFin | kTcpAck).build());
  expectStep("server FIN", fromRs4().tcp(8080, lport, kTcpFin | kTcpAck).build(), Action::kRoute,
             toClient4().tcp(80, 40000, kTcpFin | kTcpAck).build());
  EXPECT_EQ(stateOf(k), "TIME_WAIT");
  // The connection goes (expiry), its twin with it, and its port back to the pool.
  clock_.advance(Nanos(3600) * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(conns_.size(), 0u);
  EXPECT_EQ(plane_.localPorts().inUse(ip(kLip4)), 0u);
}

TEST_F(FullNatGolden, TcpIpv6ToaIsTwentyBytes) {
  fnat6();
  PacketBuilder req;
  req.eth(kRouterMac, kDirectorMac).ipv6("2001:db8:1::2", "2001:db8:2::100");
  PacketBuilder to;
  to.eth(kDirectorMac, kRs1Mac).ipv6(kLip6, "2001:db8:2::11");
  PacketBuilder from;
  from.eth(kRs1Mac, kDirectorMac).ipv6("2001:db8:2::11", kLip6);
  PacketBuilder back;
  back.eth(kRs1Mac, kDirectorMac).ipv6("2001:db8:2::100", "2001:db8:1::2");
  expectStep("SYN", PacketBuilder(req).tcp(40000, 80, kTcpSyn).build(), Action::kTx,
             PacketBuilder(to).tcp(1024, 8080, kTcpSyn).build());
  expectStep("SYN-ACK", PacketBuilder(from).tcp(8080, 1024, kTcpSyn | kTcpAck).tcpOptions(mssOpt(1440)).build(),
             Action::kRoute, PacketBuilder(back).tcp(80, 40000, kTcpSyn | kTcpAck).tcpOptions(mssOpt(1420)).build());
  expectStep("ACK", PacketBuilder(req).tcp(40000, 80, kTcpAck).build(), Action::kTx,
             PacketBuilder(to).tcp(1024, 8080, kTcpAck).tcpOptions(toa6(40000, "2001:db8:1::2")).build());
}

TEST_F(FullNatGolden, ClientAddrNoneLeavesOptionsAlone) {
  fnat4(svc::ClientAddr::kNone);
  expectStep("SYN", req4().tcp(40000, 80, kTcpSyn).build(), Action::kTx,
             toRs4().tcp(1024, 8080, kTcpSyn).build());
  expectStep("SYN-ACK", fromRs4().tcp(8080, 1024, kTcpSyn | kTcpAck).tcpOptions(mssOpt(1460)).build(),
             Action::kRoute, toClient4().tcp(80, 40000, kTcpSyn | kTcpAck).tcpOptions(mssOpt(1460)).build());
  expectStep("ACK", req4().tcp(40000, 80, kTcpAck).build(), Action::kTx,
             toRs4().tcp(1024, 8080, kTcpAck).build());
  EXPECT_EQ(count(Counter::kToaInserted), 0u);
}

TEST_F(FullNatGolden, UdpBothWays) {
  fnat4(svc::ClientAddr::kToa, svc::Proto::kUdp, 53);
  expectStep("query", req4().udp(40000, 53).payload("q").build(), Action::kTx,
             toRs4().udp(1024, 8080).payload("q").build());
  expectStep("answer", fromRs4().udp(8080, 1024).payload("a").build(), Action::kRoute,
             toClient4().udp(53, 40000).payload("a").build());
  EXPECT_EQ(count(Counter::kToaInserted), 0u) << "TOA is TCP's";
}

TEST_F(FullNatGolden, FullOptionsAreCountedAndTheSegmentStillGoes) {
  fnat4();
  expectStep("SYN", req4().tcp(40000, 80, kTcpSyn).build(), Action::kTx, {});
  // 36 bytes of options: no room for 8 more (40 at most).
  Bytes opts(36, 1);
  expectStep("ACK with full options", req4().tcp(40000, 80, kTcpAck).tcpOptions(opts).build(),
             Action::kTx, toRs4().tcp(1024, 8080, kTcpAck).tcpOptions(opts).build());
  EXPECT_EQ(count(Counter::kToaNoRoom), 1u);
  EXPECT_EQ(count(Counter::kToaInserted), 0u);
}

TEST_F(FullNatGolden, ExhaustedPortsRefuseNewConnectionsUntilOneIsFree) {
  fnat4();
  // Every port of the range but one taken by others.
  sl_conn_ext e{};
  std::memcpy(e.addr, ip(kLip4).bytes.data(), 16);
  for (uint32_t port = 1025; port <= 32767; ++port) {
    e.port = htons(uint16_t(port));
    ASSERT_TRUE(plane_.localPorts().take(SL_AF_V4, e));
  }
  expectStep("the last port", req4().tcp(40000, 80, kTcpSyn).build(), Action::kTx,
             toRs4().tcp(1024, 8080, kTcpSyn).build());
  Bytes syn = req4().tcp(40001, 80, kTcpSyn).build();
  EXPECT_EQ(int(run(syn).action), int(Action::kDrop));
  EXPECT_EQ(count(Counter::kFnatPortsExhausted), 1u);
  EXPECT_EQ(stateOf(key4(40001, 80, net::kProtoTcp)), "gone");
  // The first connection goes: its port serves the next one.
  ASSERT_TRUE(conns_.erase(key4(40000, 80, net::kProtoTcp)));
  expectStep("a port again", req4().tcp(40001, 80, kTcpSyn).build(), Action::kTx,
             toRs4().tcp(1024, 8080, kTcpSyn).build());
}

TEST_F(FullNatGolden, NoLocalAddressIsCounted) {
  svc::ServiceConfig s = svcCfg4("rr");
  addFnat(s, 8080, {});
  Bytes syn = req4().tcp(40000, 80, kTcpSyn).build();
  EXPECT_EQ(int(run(syn).action), int(Action::kDrop));
  EXPECT_EQ(count(Counter::kFnatNoLaddr), 1u);
  EXPECT_EQ(conns_.size(), 0u);
}

}  // namespace
}  // namespace sluice::testing
