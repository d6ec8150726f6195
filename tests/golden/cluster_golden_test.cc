// Golden tests for a director in an active-active cluster (issue 8), slow path alone:
//  - adopting a flow mid-stream (Datapath::setAdoptMidflow): the segment is forwarded to
//    the real server a SYN of that flow would get, byte for byte, and its connection starts
//    in the state sloppy_tcp gives it; a RST is never adopted; off, nothing changes;
//  - frames from a peer director's MAC to a VIP (Datapath::setPeerMacs) go to the local
//    stack untouched, whatever connection their tuple has.
// tests/golden/dual_path_test.cc holds the XDP program to the same verdicts and counters.
#include <gtest/gtest.h>

#include <string>

#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;

const net::MacAddr kPeerMac = mac("02:00:00:00:02:20");

PacketBuilder from(const net::MacAddr& src, const std::string& client = "10.0.1.2") {
  PacketBuilder b;
  b.eth(src, kDirectorMac);
  b.ipv4(client, "10.0.2.100");
  return b;
}
PacketBuilder toServer(const net::MacAddr& rs, const std::string& client = "10.0.1.2") {
  PacketBuilder b;
  b.eth(kDirectorMac, rs);
  b.ipv4(client, "10.0.2.100");
  return b;
}

class ClusterGolden : public DrFixture {
 protected:
  dp::Verdict run(Bytes& f) { return dp_.process(f, *table_.snapshot(), clock_.now()); }
  const char* stateOf(const sl_conn_key& k) {
    sl_conn* c = conns_.lookup(k, clock_.now());
    return c ? conn::stateName(c->state).data() : "(none)";
  }
  static sl_conn_key keyOf(const std::string& client, uint16_t sport) {
    return makeKey(ip(client), ip("10.0.2.100"), sport, 80, net::kProtoTcp);
  }
};

// With mh every director of the cluster picks the same real server for a flow, so the one
// that inherits it mid-stream must pick what a SYN of that flow would have picked here.
TEST_F(ClusterGolden, AdoptedAckGoesWhereItsSynWouldGo) {
  addService(svcCfg4("mh"));
  dp_.setAdoptMidflow(true);
  int to_rs1 = 0, to_rs2 = 0;
  for (int i = 2; i < 40; ++i) {
    const std::string client = "10.0.1." + std::to_string(i);
    SCOPED_TRACE(client);
    const sl_conn_key key = keyOf(client, 40000);
    Bytes syn = from(kRouterMac, client).tcp(40000, 80, net::kTcpSyn).build();
    ASSERT_EQ(int(run(syn).action), int(Action::kTx));
    const net::MacAddr chosen = dstMac(syn);
    ASSERT_TRUE(conns_.erase(key));  // as if this director had never seen the flow

    const dp::Counters before = dp_.counters();
    Bytes ack = from(kRouterMac, client).tcp(40000, 80, net::kTcpAck).seq(1000).payload("data").build();
    dp::Verdict v = run(ack);
    ASSERT_EQ(int(v.action), int(Action::kTx));
    EXPECT_EQ(v.ifindex, kIfindex);
    const Bytes want = toServer(chosen, client).tcp(40000, 80, net::kTcpAck).seq(1000).payload("data").build();
    EXPECT_TRUE(framesEqual(want, ack)) << frameDiff(want, ack);
    EXPECT_STREQ(stateOf(key), "ESTABLISHED");
    EXPECT_EQ(dp_.counters()[Counter::kAdoptedMidflow], before[Counter::kAdoptedMidflow] + 1);
    EXPECT_EQ(dp_.counters()[Counter::kConnNew], before[Counter::kConnNew] + 1);
    EXPECT_EQ(dp_.counters()[Counter::kNoConnNotSyn], 0u);
    (chosen == kRs1Mac ? to_rs1 : to_rs2) += 1;
    ASSERT_TRUE(conns_.erase(key));
  }
  // Both real servers were chosen: the comparison above can tell them apart.
  EXPECT_GT(to_rs1, 0);
  EXPECT_GT(to_rs2, 0);
  // Only adoptions counted; SYNs are ordinary new connections.
  EXPECT_EQ(dp_.counters()[Counter::kAdoptedMidflow], 38u);
}

TEST_F(ClusterGolden, AdoptedFlowCountsAndStatesAsSloppyTcp) {
  addRr4();
  dp_.setAdoptMidflow(true);
  Bytes ack = from(kRouterMac).tcp(40001, 80, net::kTcpAck).build();
  ASSERT_EQ(int(run(ack).action), int(Action::kTx));
  EXPECT_EQ(dstMac(ack), kRs1Mac);
  EXPECT_STREQ(stateOf(key4(40001, 80, net::kProtoTcp)), "ESTABLISHED");
  EXPECT_EQ(countsOf(rs1_id()).active, 1u);
  EXPECT_EQ(countsOf(rs1_id()).inactive, 0u);
  // Its next packet is an ordinary established one.
  Bytes data = from(kRouterMac).tcp(40001, 80, net::kTcpAck | net::kTcpPsh).payload("x").build();
  ASSERT_EQ(int(run(data).action), int(Action::kTx));
  EXPECT_EQ(dstMac(data), kRs1Mac);
  EXPECT_EQ(dp_.counters()[Counter::kAdoptedMidflow], 1u);

  // A FIN of an unseen flow: NONE + fin in the input-only table, a closing state.
  Bytes fin = from(kRouterMac).tcp(40002, 80, net::kTcpFin | net::kTcpAck).build();
  ASSERT_EQ(int(run(fin).action), int(Action::kTx));
  EXPECT_STREQ(stateOf(key4(40002, 80, net::kProtoTcp)), "CLOSE");
  EXPECT_EQ(countsOf(rs2_id()).active, 0u);
  EXPECT_EQ(countsOf(rs2_id()).inactive, 1u);
  EXPECT_EQ(dp_.counters()[Counter::kAdoptedMidflow], 2u);
}

TEST_F(ClusterGolden, RstIsNeverAdoptedAndOffChangesNothing) {
  addRr4();
  for (bool adopt : {false, true}) {
    SCOPED_TRACE(adopt ? "adopt on" : "adopt off");
    dp_.setAdoptMidflow(adopt);
    for (uint8_t fl : {net::kTcpRst, uint8_t(net::kTcpRst | net::kTcpAck), uint8_t(net::kTcpSyn | net::kTcpRst)}) {
      const dp::Counters before = dp_.counters();
      const Bytes in = from(kRouterMac).tcp(40010, 80, fl).build();
      Bytes f = in;
      EXPECT_EQ(int(run(f).action), int(Action::kPass));
      EXPECT_EQ(f, in);
      EXPECT_EQ(dp_.counters()[Counter::kNoConnNotSyn], before[Counter::kNoConnNotSyn] + 1);
    }
  }
  dp_.setAdoptMidflow(false);
  const Bytes in = from(kRouterMac).tcp(40011, 80, net::kTcpAck).build();
  Bytes f = in;
  EXPECT_EQ(int(run(f).action), int(Action::kPass));
  EXPECT_EQ(f, in);
  EXPECT_EQ(conns_.size(), 0u);
  EXPECT_EQ(dp_.counters()[Counter::kAdoptedMidflow], 0u);
  EXPECT_EQ(dp_.counters()[Counter::kNoConnNotSyn], 7u);
}

// Persistence is honoured as for a SYN: the adopted segment creates (or follows) the
// client's template, and becoming ESTABLISHED at once assures it.
TEST_F(ClusterGolden, AdoptionHonoursPersistence) {
  svc::ServiceConfig s = svcCfg4("rr");
  s.persistent = true;
  s.persistence_timeout = 300;
  addService(s);
  dp_.setAdoptMidflow(true);
  Bytes ack = from(kRouterMac).tcp(40020, 80, net::kTcpAck).build();
  ASSERT_EQ(int(run(ack).action), int(Action::kTx));
  const net::MacAddr first = dstMac(ack);
  EXPECT_EQ(dp_.counters()[Counter::kTemplateNew], 1u);
  for (uint16_t port : {40021, 40022}) {
    Bytes f = from(kRouterMac).tcp(port, 80, port == 40021 ? net::kTcpSyn : net::kTcpAck).build();
    ASSERT_EQ(int(run(f).action), int(Action::kTx));
    EXPECT_EQ(dstMac(f), first) << "port " << port;
  }
  int templates = 0;
  conns_.forEach(clock_.now(), [&](const sl_conn& c) {
    if (!(c.flags & SL_CONN_F_TEMPLATE)) return;
    ++templates;
    EXPECT_TRUE(c.flags & SL_CONN_F_ASSURED);
  });
  EXPECT_EQ(templates, 1);
  EXPECT_EQ(dp_.counters()[Counter::kTemplateNew], 1u);
}

// Directors that are also real servers: what a peer balanced to us is the local stack's.
TEST_F(ClusterGolden, FramesFromPeerDirectorsAreNeverBalancedAgain) {
  addRr4();
  addUdp4();
  dp_.setAdoptMidflow(true);
  const std::vector<net::MacAddr> peers = {mac("02:00:00:00:02:30"), kPeerMac};
  dp_.setPeerMacs(peers);
  Bytes syn = from(kRouterMac).tcp(40030, 80, net::kTcpSyn).build();
  ASSERT_EQ(int(run(syn).action), int(Action::kTx));

  struct Case {
    const char* what;
    Bytes in;
  } cases[] = {
      {"ACK of a connection this director has", from(kPeerMac).tcp(40030, 80, net::kTcpAck).build()},
      {"SYN of a new flow", from(kPeerMac).tcp(40031, 80, net::kTcpSyn).build()},
      {"ACK of an unseen flow (adopt on)", from(kPeerMac).tcp(40032, 80, net::kTcpAck).build()},
      {"UDP", from(kPeerMac).udp(5000, 53).payload("q").build()},
      {"first fragment", from(kPeerMac).fragment(0, true).udp(5001, 53).payload("frag").build()},
      {"another port of the VIP", from(kPeerMac).tcp(40033, 22, net::kTcpSyn).build()},
  };
  uint64_t peer_balanced = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Bytes f = c.in;
    EXPECT_EQ(int(run(f).action), int(Action::kPass));
    EXPECT_EQ(f, c.in);
    EXPECT_EQ(dp_.counters()[Counter::kPeerBalanced], ++peer_balanced);
  }
  EXPECT_EQ(conns_.size(), 1u) << "nothing created for a peer's frames";
  EXPECT_STREQ(stateOf(key4(40030, 80, net::kProtoTcp)), "SYN_RECV") << "and nothing advanced";

  // Not for a VIP: the host's anyway, and not counted as a peer's.
  const Bytes other = PacketBuilder().eth(kPeerMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10")
                          .tcp(1, 80, net::kTcpSyn).build();
  Bytes f = other;
  EXPECT_EQ(int(run(f).action), int(Action::kPass));
  EXPECT_EQ(dp_.counters()[Counter::kPeerBalanced], peer_balanced);

  // The same frame from the router: balanced.
  Bytes ack = from(kRouterMac).tcp(40030, 80, net::kTcpAck).build();
  ASSERT_EQ(int(run(ack).action), int(Action::kTx));
  EXPECT_TRUE(framesEqual(toServer(kRs1Mac).tcp(40030, 80, net::kTcpAck).build(), ack));
  EXPECT_STREQ(stateOf(key4(40030, 80, net::kProtoTcp)), "ESTABLISHED");

  // The peer leaves the cluster: its frames are balanced like anyone's.
  dp_.setPeerMacs({});
  Bytes again = from(kPeerMac).tcp(40030, 80, net::kTcpAck).build();
  ASSERT_EQ(int(run(again).action), int(Action::kTx));
  EXPECT_EQ(dp_.counters()[Counter::kPeerBalanced], peer_balanced);
}

// The article's cluster, from one director: it is RS 1 itself (its own address among the
// real servers, IPVS's local node). What the router sends and rr gives to RS 1 goes up the
// local stack untouched, RS 2's share is forwarded, and what the peer director balanced to
// this host goes up the stack as the peer's, whatever this director would have chosen: no
// frame is sent to our own MAC, and none back to the peer.
TEST_F(ClusterGolden, DirectorThatIsItsOwnRealServer) {
  addRr4();
  sl_dest e = *dests_.read(rs1_id());
  e = dp::makeDestRecord(*net::Endpoint::parse("10.0.2.11:80"), e.fwd);
  e.flags |= SL_DEST_F_LOCAL;
  dests_.write(rs1_id(), e);
  dp_.setPeerMacs(std::vector<net::MacAddr>{kPeerMac});

  const Bytes syn1 = from(kRouterMac).tcp(40040, 80, net::kTcpSyn).build();
  Bytes f = syn1;
  EXPECT_EQ(int(run(f).action), int(Action::kLocal)) << "rr: RS 1, this host";
  EXPECT_EQ(f, syn1);
  Bytes syn2 = from(kRouterMac).tcp(40041, 80, net::kTcpSyn).build();
  ASSERT_EQ(int(run(syn2).action), int(Action::kTx)) << "rr: RS 2, forwarded";
  EXPECT_EQ(dstMac(syn2), kRs2Mac);
  const Bytes ack1 = from(kRouterMac).tcp(40040, 80, net::kTcpAck).payload("GET /").build();
  f = ack1;
  EXPECT_EQ(int(run(f).action), int(Action::kLocal));
  EXPECT_EQ(f, ack1);
  EXPECT_STREQ(stateOf(keyOf("10.0.1.2", 40040)), "ESTABLISHED");
  EXPECT_EQ(countsOf(rs1_id()).active, 1u);

  const Bytes peer = from(kPeerMac, "10.0.1.3").tcp(40042, 80, net::kTcpSyn).build();
  f = peer;
  EXPECT_EQ(int(run(f).action), int(Action::kPass));
  EXPECT_EQ(f, peer);
  EXPECT_EQ(dp_.counters()[Counter::kLocalDelivered], 2u);
  EXPECT_EQ(dp_.counters()[Counter::kPeerBalanced], 1u);
  EXPECT_EQ(dp_.counters()[Counter::kTxPackets], 1u);
  EXPECT_EQ(dp_.counters()[Counter::kNoNeighbour], 0u);
}

}  // namespace
}  // namespace sluice::testing
