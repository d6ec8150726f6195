// Golden packet tests for NAT (ipvsadm -m): requests rewritten to the real server's address
// and port, replies rewritten back to the service's and handed to the kernel to route, the
// connection's state following both directions (IPVS's INPUT and OUTPUT tables), ICMP
// errors translated both ways, and the reply twin that leads a reply to its connection
// living exactly as long as that connection.
//
// Expected frames are built independently with the PacketBuilder (full checksums over the
// new addresses), so they also check that the step's incremental checksum updates are right.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "dp/nat_reply.h"
#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;

class NatGolden : public DrFixture {
 protected:
  // A NAT service whose real servers listen on `rport` (0: the virtual port).
  void addNat(const svc::ServiceConfig& s, uint16_t rport) {
    ASSERT_TRUE(table_.addService(s));
    const bool v6 = s.key.addr.isV6();
    for (const char* rs : {"12", "11"}) {  // RS 1 at the head of the list, as DrFixture
      svc::DestConfig d;
      std::string a = v6 ? std::string("[2001:db8:2::") + rs + "]" : std::string("10.0.2.") + rs;
      d.ep = *net::Endpoint::parse(a + ":" + std::to_string(rport));
      d.fwd = svc::FwdMethod::kNat;
      d.weight = 1;
      ASSERT_TRUE(table_.addDest(s.key, d));
    }
    resolveAll();
  }
  void nat4(uint16_t rport = 8080, svc::Proto p = svc::Proto::kTcp, uint16_t vport = 80) {
    addNat(svcCfg4("rr", vport, p), rport);
  }
  void nat6(uint16_t rport = 8080) {
    svc::ServiceConfig s;
    s.key = svcKey6();
    s.scheduler = "rr";
    addNat(s, rport);
  }
  // The table's own way from twin to connection and back (daemon::Plane sets one up).
  dp::NatReplyKeys reply_keys_{dests_};
  dp::Verdict run(Bytes& f) { return dp_.process(f, *table_.snapshot(), clock_.now()); }
  std::string stateOf(const sl_conn_key& k) {
    sl_conn* c = conns_.lookup(k, clock_.now());
    return c ? std::string(conn::stateName(c->state)) : "gone";
  }
  // Runs `in`, expects `action` and the frame `out` (unless empty).
  void expectStep(const char* what, Bytes in, Action action, const Bytes& out) {
    SCOPED_TRACE(what);
    dp::Verdict v = run(in);
    EXPECT_EQ(int(v.action), int(action));
    if (action == Action::kTx) {
      EXPECT_EQ(v.ifindex, kIfindex);
    }
    if (!out.empty()) {
      EXPECT_TRUE(framesEqual(out, in)) << frameDiff(out, in);
    }
  }
};

// Client -> VIP, as it arrives; server -> client, as the real server sends it.
PacketBuilder req4(bool vlan = false) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  b.ipv4("10.0.1.2", "10.0.2.100");
  return b;
}
PacketBuilder toRs4(bool vlan = false) {
  PacketBuilder b;
  b.eth(kDirectorMac, kRs1Mac);
  if (vlan) b.vlan(100);
  b.ipv4("10.0.1.2", "10.0.2.11");
  return b;
}
PacketBuilder fromRs4(const char* src = "10.0.2.11") {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv4(src, "10.0.1.2");
  return b;
}
PacketBuilder req6() {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  b.ipv6("2001:db8:1::2", "2001:db8:2::100");
  return b;
}
PacketBuilder toRs6() {
  PacketBuilder b;
  b.eth(kDirectorMac, kRs1Mac);
  b.ipv6("2001:db8:1::2", "2001:db8:2::11");
  return b;
}
PacketBuilder fromRs6(const char* src = "2001:db8:2::11") {
  PacketBuilder b;
  b.eth(kRs1Mac, kDirectorMac);
  b.ipv6(src, "2001:db8:1::2");
  return b;
}

TEST_F(NatGolden, TcpBothDirectionsIpv4WithPortMapping) {
  nat4();
  const sl_conn_key k = key4(40000, 80, net::kProtoTcp);
  using net::kTcpAck, net::kTcpSyn, net::kTcpFin, net::kTcpPsh;
  expectStep("SYN", req4().tcp(40000, 80, kTcpSyn).seq(100).build(), Action::kTx,
             toRs4().tcp(40000, 8080, kTcpSyn).seq(100).build());
  EXPECT_EQ(stateOf(k), "SYN_RECV");
  EXPECT_EQ(conns_.size(), 2u) << "the connection and its reply twin";
  EXPECT_EQ(countsOf(rs1_id()).active + countsOf(rs1_id()).inactive, 1u)
      << "the twin is not a connection";

  expectStep("SYN-ACK", fromRs4().tcp(8080, 40000, kTcpSyn | kTcpAck).seq(900).ackNum(101).build(),
             Action::kRoute,
             fromRs4("10.0.2.100").tcp(80, 40000, kTcpSyn | kTcpAck).seq(900).ackNum(101).build());
  EXPECT_EQ(stateOf(k), "SYN_RECV");
  expectStep("ACK", req4().tcp(40000, 80, kTcpAck).seq(101).build(), Action::kTx,
             toRs4().tcp(40000, 8080, kTcpAck).seq(101).build());
  EXPECT_EQ(stateOf(k), "ESTABLISHED");
  expectStep("data", req4().tcp(40000, 80, kTcpAck | kTcpPsh).payload("GET / HTTP/1.0\r\n\r\n").build(),
             Action::kTx, toRs4().tcp(40000, 8080, kTcpAck | kTcpPsh).payload("GET / HTTP/1.0\r\n\r\n").build());
  expectStep("reply data", fromRs4().tcp(8080, 40000, kTcpAck | kTcpPsh).payloadFill(1200, 0x5a).build(),
             Action::kRoute, fromRs4("10.0.2.100").tcp(80, 40000, kTcpAck | kTcpPsh).payloadFill(1200, 0x5a).build());
  EXPECT_EQ(stateOf(k), "ESTABLISHED");
  // The client closes first: INPUT fin ES -> CLOSE_WAIT, then the server's FIN (OUTPUT)
  // -> TIME_WAIT, as IPVS's tables have it for a connection that sees both directions.
  expectStep("client FIN", req4().tcp(40000, 80, kTcpFin | kTcpAck).build(), Action::kTx,
             toRs4().tcp(40000, 8080, kTcpFin | kTcpAck).build());
  EXPECT_EQ(stateOf(k), "CLOSE_WAIT");
  expectStep("server FIN", fromRs4().tcp(8080, 40000, kTcpFin | kTcpAck).build(), Action::kRoute,
             fromRs4("10.0.2.100").tcp(80, 40000, kTcpFin | kTcpAck).build());
  EXPECT_EQ(stateOf(k), "TIME_WAIT");

  const sl_stats st = stats_.dest(rs1_id());
  EXPECT_EQ(st.outpkts, 3u);
  EXPECT_EQ(st.inpkts, 4u);
  EXPECT_EQ(dp_.counters()[Counter::kNatReplies], 3u);
}

TEST_F(NatGolden, Ipv6AndVlanAndUdp) {
  nat6();
  expectStep("v6 SYN", req6().tcp(40001, 80, net::kTcpSyn).payload("x").build(), Action::kTx,
             toRs6().tcp(40001, 8080, net::kTcpSyn).payload("x").build());
  expectStep("v6 SYN-ACK", fromRs6().tcp(8080, 40001, net::kTcpSyn | net::kTcpAck).build(),
             Action::kRoute, fromRs6("2001:db8:2::100").tcp(80, 40001, net::kTcpSyn | net::kTcpAck).build());
}

TEST_F(NatGolden, VlanTaggedRequest) {
  nat4();
  expectStep("SYN in VLAN 100", req4(true).tcp(40002, 80, net::kTcpSyn).build(), Action::kTx,
             toRs4(true).tcp(40002, 8080, net::kTcpSyn).build());
}

TEST_F(NatGolden, UdpKeepsANoChecksumDatagramWithout) {
  nat4(5353, svc::Proto::kUdp, 53);
  expectStep("query", req4().udp(5000, 53).payload("q").build(), Action::kTx,
             toRs4().udp(5000, 5353).payload("q").build());
  // UDP over IPv4 with checksum 0 ("none"): stays 0 after the rewrite.
  auto zeroed = [](Bytes b) {
    b[14 + 20 + 6] = b[14 + 20 + 7] = 0;
    return b;
  };
  expectStep("answer without checksum", zeroed(fromRs4().udp(5353, 5000).payload("a").build()),
             Action::kRoute, zeroed(fromRs4("10.0.2.100").udp(53, 5000).payload("a").build()));
}

TEST_F(NatGolden, DestPortZeroKeepsTheVirtualPort) {
  nat4(0);
  expectStep("SYN", req4().tcp(40003, 80, net::kTcpSyn).build(), Action::kTx,
             toRs4().tcp(40003, 80, net::kTcpSyn).build());
  expectStep("SYN-ACK", fromRs4().tcp(80, 40003, net::kTcpSyn | net::kTcpAck).build(), Action::kRoute,
             fromRs4("10.0.2.100").tcp(80, 40003, net::kTcpSyn | net::kTcpAck).build());
}

TEST_F(NatGolden, TrafficThatIsNoReplyPassesUntouched) {
  nat4();
  // The real server's own traffic (no connection, no twin) is the kernel's, as it came.
  const Bytes own = fromRs4().tcp(8080, 40099, net::kTcpSyn | net::kTcpAck).build();
  expectStep("no twin", own, Action::kPass, own);
  expectStep("SYN", req4().tcp(40004, 80, net::kTcpSyn).build(), Action::kTx, {});
  const Bytes other = fromRs4().tcp(8081, 40004, net::kTcpAck).build();
  expectStep("other port of the real server", other, Action::kPass, other);
  EXPECT_EQ(dp_.counters()[Counter::kNatReplies], 0u);
}

TEST_F(NatGolden, TwinGoesWithItsConnection) {
  nat4();
  Bytes syn = req4().tcp(40005, 80, net::kTcpSyn).build();
  run(syn);
  ASSERT_EQ(conns_.size(), 2u);
  EXPECT_EQ(conns_.replyTwins(), 1u);
  // Expiry: SYN_RECV lasts 60 s; the sweep takes the connection, and its twin with it.
  clock_.advance(61 * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(conns_.size(), 0u);
  EXPECT_EQ(conns_.replyTwins(), 0u);
  const Bytes late = fromRs4().tcp(8080, 40005, net::kTcpAck).build();
  expectStep("reply after expiry", late, Action::kPass, late);

  // Erase (as -C or a reused tuple does): the twin goes too.
  syn = req4().tcp(40006, 80, net::kTcpSyn).build();
  run(syn);
  ASSERT_EQ(conns_.replyTwins(), 1u);
  EXPECT_TRUE(conns_.erase(key4(40006, 80, net::kProtoTcp)));
  EXPECT_EQ(conns_.size(), 0u);

  // A SYN reusing a tuple in TIME_WAIT/CLOSE makes a new connection with a new twin.
  syn = req4().tcp(40007, 80, net::kTcpSyn).build();
  run(syn);
  Bytes rst = req4().tcp(40007, 80, net::kTcpRst).build();
  run(rst);
  syn = req4().tcp(40007, 80, net::kTcpSyn).build();
  expectStep("SYN reusing the tuple", syn, Action::kTx, {});
  EXPECT_EQ(conns_.replyTwins(), 1u);
  EXPECT_EQ(conns_.size(), 2u);

  // A flush that names only connections (as ipvsadm -C's erase does) takes the twins too.
  EXPECT_EQ(conns_.eraseIf([](const sl_conn& c) { return c.key.kind == SL_KEY_CONN; }), 1u);
  EXPECT_EQ(conns_.size(), 0u);
}

TEST_F(NatGolden, StaleTwinIsErasedWhenMet) {
  nat4();
  Bytes syn = req4().tcp(40008, 80, net::kTcpSyn).build();
  run(syn);
  // A twin whose connection is gone (as if its record had been missing when the connection
  // went): met by a reply, it is erased and the frame is the kernel's.
  conns_.setReplyKeys(nullptr);
  EXPECT_TRUE(conns_.erase(key4(40008, 80, net::kProtoTcp)));
  ASSERT_EQ(conns_.replyTwins(), 1u);
  conns_.setReplyKeys(&reply_keys_);
  const Bytes reply = fromRs4().tcp(8080, 40008, net::kTcpAck).build();
  expectStep("reply to a stale twin", reply, Action::kPass, reply);
  EXPECT_EQ(conns_.replyTwins(), 0u);
  EXPECT_EQ(dp_.counters()[Counter::kNatTwinStale], 1u);
  // And the sweep finds one no reply meets.
  syn = req4().tcp(40009, 80, net::kTcpSyn).build();
  run(syn);
  conns_.setReplyKeys(nullptr);
  EXPECT_TRUE(conns_.erase(key4(40009, 80, net::kProtoTcp)));
  conns_.setReplyKeys(&reply_keys_);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(conns_.replyTwins(), 0u);
}

TEST_F(NatGolden, IcmpErrorFromTheInternetGoesToTheRealServer) {
  nat4();
  Bytes syn = req4().tcp(40010, 80, net::kTcpSyn).build();
  run(syn);
  // A router on the way to the client says "fragmentation needed" about the reply the client
  // was sent (VIP:80 -> client); the real server must hear it about RIP:8080.
  auto quoteOf = [](const char* src, uint16_t sport) {
    return firstBytes(PacketBuilder().ipv4(src, "10.0.1.2").df().tcp(sport, 40010, net::kTcpAck)
                          .payloadFill(1400, 0x5a).build(), 28 + 20);
  };
  Bytes in = PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.9.1", "10.0.2.100")
                 .icmp(3, 4, 1400).payload(quoteOf("10.0.2.100", 80)).build();
  Bytes out = PacketBuilder().eth(kDirectorMac, kRs1Mac).ipv4("10.0.9.1", "10.0.2.11")
                  .icmp(3, 4, 1400).payload(quoteOf("10.0.2.11", 8080)).build();
  expectStep("frag needed", in, Action::kTx, out);
  EXPECT_EQ(dp_.counters()[Counter::kIcmpForwarded], 1u);
}

TEST_F(NatGolden, IcmpErrorFromTheRealServerGoesToTheClient) {
  nat4(8080, svc::Proto::kUdp, 53);
  Bytes q = req4().udp(5001, 53).payload("q").build();
  run(q);
  // The real server answers the request CIP:5001 -> RIP:8080 with "port unreachable": the
  // client must see it from the VIP about CIP:5001 -> VIP:53.
  auto quoteOf = [](const char* dst, uint16_t dport) {
    return PacketBuilder().ipv4("10.0.1.2", dst).udp(5001, dport).payload("q").build();
  };
  Bytes in = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv4("10.0.2.11", "10.0.1.2")
                 .icmp(3, 3).payload(quoteOf("10.0.2.11", 8080)).build();
  Bytes out = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv4("10.0.2.100", "10.0.1.2")
                  .icmp(3, 3).payload(quoteOf("10.0.2.100", 53)).build();
  expectStep("port unreachable", in, Action::kRoute, out);
  // From a router between (not the real server): only the quote changes.
  in = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv4("10.0.2.1", "10.0.1.2")
           .icmp(11, 0).payload(quoteOf("10.0.2.11", 8080)).build();
  out = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv4("10.0.2.1", "10.0.1.2")
            .icmp(11, 0).payload(quoteOf("10.0.2.100", 53)).build();
  expectStep("time exceeded", in, Action::kRoute, out);
  EXPECT_EQ(dp_.counters()[Counter::kNatIcmpReplies], 2u);
  // About no connection of ours: the host's business.
  in = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv4("10.0.2.11", "10.0.1.2")
           .icmp(3, 3).payload(PacketBuilder().ipv4("10.0.1.2", "10.0.2.11").udp(5002, 8080).build()).build();
  expectStep("unrelated error", in, Action::kPass, in);
}

TEST_F(NatGolden, Icmpv6ErrorsBothWays) {
  nat6();
  Bytes syn = req6().tcp(40011, 80, net::kTcpSyn).build();
  run(syn);
  auto quote = [](const char* a, const char* b, uint16_t sp, uint16_t dp) {
    return PacketBuilder().ipv6(a, b).tcp(sp, dp, net::kTcpAck).payload("x").build();
  };
  Bytes in = PacketBuilder().eth(kRouterMac, kDirectorMac).ipv6("2001:db8:9::1", "2001:db8:2::100")
                 .icmp(2, 0, 1280).payload(quote("2001:db8:2::100", "2001:db8:1::2", 80, 40011)).build();
  Bytes out = PacketBuilder().eth(kDirectorMac, kRs1Mac).ipv6("2001:db8:9::1", "2001:db8:2::11")
                  .icmp(2, 0, 1280).payload(quote("2001:db8:2::11", "2001:db8:1::2", 8080, 40011)).build();
  expectStep("packet too big", in, Action::kTx, out);
  in = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv6("2001:db8:2::11", "2001:db8:1::2")
           .icmp(1, 4).payload(quote("2001:db8:1::2", "2001:db8:2::11", 40011, 8080)).build();
  out = PacketBuilder().eth(kRs1Mac, kDirectorMac).ipv6("2001:db8:2::100", "2001:db8:1::2")
            .icmp(1, 4).payload(quote("2001:db8:1::2", "2001:db8:2::100", 40011, 80)).build();
  expectStep("port unreachable from the real server", in, Action::kRoute, out);
}

}  // namespace
}  // namespace sluice::testing
