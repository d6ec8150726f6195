// Golden packet tests for DR: a frame in, the verdict and the frame out compared byte for
// byte, the counters checked, and for chains (SYN, ACK, data, FIN, RST) the connection's
// state and the real server's active/inactive counts checked between packets.
//
// The expected output is built independently with the PacketBuilder (same packet, new
// MACs), never by running the code under test. The case table is plain data so the XDP
// fast path can later be run over exactly the same cases (BPF_PROG_TEST_RUN).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;

// Client-side frames arrive from the router at the director's MAC.
PacketBuilder fromClient4(bool vlan = false) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  b.ipv4("10.0.1.2", "10.0.2.100");
  return b;
}
PacketBuilder fromClient6(bool vlan = false) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  b.ipv6("2001:db8:1::2", "2001:db8:2::100");
  return b;
}
// The same packet as the real server must receive it: only the MACs differ.
PacketBuilder toServer4(const net::MacAddr& rs, bool vlan = false) {
  PacketBuilder b;
  b.eth(kDirectorMac, rs);
  if (vlan) b.vlan(100);
  b.ipv4("10.0.1.2", "10.0.2.100");
  return b;
}
PacketBuilder toServer6(const net::MacAddr& rs, bool vlan = false) {
  PacketBuilder b;
  b.eth(kDirectorMac, rs);
  if (vlan) b.vlan(100);
  b.ipv6("2001:db8:1::2", "2001:db8:2::100");
  return b;
}

struct Step {
  const char* what;
  Bytes in;
  Action action;
  Bytes out;                 // expected frame for kTx
  Counter counter;           // the counter this packet must bump (drop reason or kTxPackets)
  const char* state;         // connection state after the packet (nullptr: not checked)
  // Active/inactive as Linux >= 4.x counts them: SYN_RECV/SYN_SENT/SYNACK and
  // ESTABLISHED are active (tcp_state_active_table), every other state inactive.
  uint32_t active, inactive; // the chosen real server's counts after the packet
};

class DrGolden : public DrFixture {
 protected:
  void runChain(const std::vector<Step>& steps, const sl_conn_key& key) {
    for (const Step& s : steps) {
      SCOPED_TRACE(s.what);
      dp::Counters before = dp_.counters();
      Bytes frame = s.in;
      dp::Verdict v = dp_.process(frame, *table_.snapshot(), clock_.now());
      EXPECT_EQ(int(v.action), int(s.action));
      if (s.action == Action::kTx) {
        EXPECT_EQ(v.ifindex, kIfindex);
        EXPECT_TRUE(framesEqual(s.out, frame)) << frameDiff(s.out, frame);
      } else if (s.action == Action::kDrop) {
        EXPECT_EQ(v.reason, s.counter);
      }
      EXPECT_EQ(dp_.counters()[s.counter], before[s.counter] + 1)
          << "counter " << dp::counterName(s.counter);
      if (s.state) {
        sl_conn* c = conns_.lookup(key, clock_.now());
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(conn::stateName(c->state), s.state);
      }
      auto counts = countsOf(rs1_id());
      EXPECT_EQ(counts.active, s.active);
      EXPECT_EQ(counts.inactive, s.inactive);
      clock_.advance(kSecond / 100);
    }
  }
};

TEST_F(DrGolden, TcpChainIpv4) {
  addRr4();
  auto pkt = [](uint8_t flags, const char* payload = "") {
    return fromClient4().tcp(40000, 80, flags).seq(100).payload(payload).build();
  };
  auto exp = [](uint8_t flags, const char* payload = "") {
    return toServer4(kRs1Mac).tcp(40000, 80, flags).seq(100).payload(payload).build();
  };
  runChain(
      {
          {"SYN", pkt(net::kTcpSyn), Action::kTx, exp(net::kTcpSyn), Counter::kTxPackets, "SYN_RECV", 1, 0},
          {"ACK", pkt(net::kTcpAck), Action::kTx, exp(net::kTcpAck), Counter::kTxPackets, "ESTABLISHED", 1, 0},
          {"data", pkt(net::kTcpAck | net::kTcpPsh, "GET / HTTP/1.0\r\n\r\n"), Action::kTx,
           exp(net::kTcpAck | net::kTcpPsh, "GET / HTTP/1.0\r\n\r\n"), Counter::kTxPackets, "ESTABLISHED", 1, 0},
          {"FIN", pkt(net::kTcpFin | net::kTcpAck), Action::kTx, exp(net::kTcpFin | net::kTcpAck),
           Counter::kTxPackets, "FIN_WAIT", 0, 1},
          {"RST", pkt(net::kTcpRst), Action::kTx, exp(net::kTcpRst), Counter::kTxPackets, "CLOSE", 0, 1},
      },
      key4(40000, 80, net::kProtoTcp));
}

TEST_F(DrGolden, TcpChainIpv6) {
  addRr6();
  auto pkt = [](uint8_t flags) { return fromClient6().tcp(40001, 80, flags).seq(7).payload("x").build(); };
  auto exp = [](uint8_t flags) { return toServer6(kRs1Mac).tcp(40001, 80, flags).seq(7).payload("x").build(); };
  runChain(
      {
          {"SYN", pkt(net::kTcpSyn), Action::kTx, exp(net::kTcpSyn), Counter::kTxPackets, "SYN_RECV", 1, 0},
          {"ACK", pkt(net::kTcpAck), Action::kTx, exp(net::kTcpAck), Counter::kTxPackets, "ESTABLISHED", 1, 0},
          {"FIN", pkt(net::kTcpFin | net::kTcpAck), Action::kTx, exp(net::kTcpFin | net::kTcpAck),
           Counter::kTxPackets, "FIN_WAIT", 0, 1},
      },
      key6(40001, 80, net::kProtoTcp));
}

TEST_F(DrGolden, TcpChainWithVlanTag) {
  addRr4();
  auto pkt = [](uint8_t flags) { return fromClient4(true).tcp(40002, 80, flags).build(); };
  auto exp = [](uint8_t flags) { return toServer4(kRs1Mac, true).tcp(40002, 80, flags).build(); };
  runChain(
      {
          {"SYN", pkt(net::kTcpSyn), Action::kTx, exp(net::kTcpSyn), Counter::kTxPackets, "SYN_RECV", 1, 0},
          {"ACK", pkt(net::kTcpAck), Action::kTx, exp(net::kTcpAck), Counter::kTxPackets, "ESTABLISHED", 1, 0},
      },
      key4(40002, 80, net::kProtoTcp));
}

TEST_F(DrGolden, UdpBothFamilies) {
  addUdp4();
  addUdp6();
  Bytes in4 = fromClient4().udp(5353, 53).payload("query").build();
  Bytes in6 = fromClient6().udp(5353, 53).payload("query").build();
  runChain({{"UDP v4", in4, Action::kTx, toServer4(kRs1Mac).udp(5353, 53).payload("query").build(),
             Counter::kTxPackets, "UDP", 0, 1}},
           key4(5353, 53, net::kProtoUdp));
  Bytes f = in6;
  dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
  ASSERT_EQ(int(v.action), int(Action::kTx));
  Bytes e6 = toServer6(kRs1Mac).udp(5353, 53).payload("query").build();
  EXPECT_TRUE(framesEqual(e6, f)) << frameDiff(e6, f);
}

TEST_F(DrGolden, RoundRobinAlternatesAndFlowsStick) {
  addRr4();
  for (int i = 0; i < 4; ++i) {
    Bytes f = fromClient4().tcp(uint16_t(41000 + i), 80, net::kTcpSyn).build();
    dp_.process(f, *table_.snapshot(), clock_.now());
    EXPECT_EQ(dstMac(f), i % 2 == 0 ? kRs1Mac : kRs2Mac) << "connection " << i;
  }
  // Later packets of the first connection still go to RS 1, whatever rr's cursor says.
  Bytes f = fromClient4().tcp(41000, 80, net::kTcpAck).build();
  dp_.process(f, *table_.snapshot(), clock_.now());
  EXPECT_EQ(dstMac(f), kRs1Mac);
}

TEST_F(DrGolden, NotOursPassesUntouched) {
  addRr4();
  struct Case {
    const char* what;
    Bytes in;
  } cases[] = {
      {"other port", fromClient4().tcp(40000, 22, net::kTcpSyn).build()},
      {"other address", PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10").tcp(40000, 80, net::kTcpSyn).build()},
      {"ICMP echo to the VIP", fromClient4().icmpEcho(1, 1).build()},
      {"ARP", PacketBuilder().eth(kRouterMac, kDirectorMac).ethertype(net::kEthP_ARP).payload(std::string(28, '\0')).build()},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    Bytes f = c.in;
    auto before = dp_.counters()[Counter::kPassPackets];
    dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
    EXPECT_EQ(int(v.action), int(Action::kPass));
    EXPECT_EQ(f, c.in);
    EXPECT_EQ(dp_.counters()[Counter::kPassPackets], before + 1);
  }
}

TEST_F(DrGolden, PolicyDropsAreNamed) {
  addRr4();
  {
    // tcp_conn_schedule: the kernel gets it and answers with a reset.
    SCOPED_TRACE("ACK without a connection");
    Bytes f = fromClient4().tcp(40000, 80, net::kTcpAck).build();
    const Bytes in = f;
    EXPECT_EQ(int(dp_.process(f, *table_.snapshot(), clock_.now()).action), int(Action::kPass));
    EXPECT_EQ(f, in);
    EXPECT_EQ(dp_.counters()[Counter::kNoConnNotSyn], 1u);
    EXPECT_EQ(conns_.size(), 0u);
  }
  {
    SCOPED_TRACE("real server MAC unknown");
    unresolve(rs1_id());
    Bytes f = fromClient4().tcp(40003, 80, net::kTcpSyn).build();
    EXPECT_EQ(dp_.process(f, *table_.snapshot(), clock_.now()).reason, Counter::kNoNeighbour);
    EXPECT_EQ(resolve_requests_, 1);
  }
  {
    // Without room to answer in place, the SYN is dropped and counted.
    SCOPED_TRACE("no real server available, no room for an ICMP error");
    ASSERT_TRUE(table_.editDest(svcKey4(), destCfg("10.0.2.11:80", 0)));
    ASSERT_TRUE(table_.editDest(svcKey4(), destCfg("10.0.2.12:80", 0)));
    Bytes f = fromClient4().tcp(40004, 80, net::kTcpSyn).build();
    EXPECT_EQ(dp_.process(f, *table_.snapshot(), clock_.now()).reason, Counter::kIcmpNoRoom);
    EXPECT_EQ(dp_.counters()[Counter::kNoRealServer], 1u);
  }
}

// ip_vs_leave: no real server can take the connection, so the client gets an ICMP port
// unreachable from the VIP (quoting its packet) instead of retrying into silence.
TEST_F(DrGolden, NoRealServerAnswersPortUnreachable) {
  addRr4();
  addRr6();
  for (const char* rs : {"10.0.2.11:80", "10.0.2.12:80"})
    ASSERT_TRUE(table_.editDest(svcKey4(), destCfg(rs, 0)));
  for (const char* rs : {"[2001:db8:2::11]:80", "[2001:db8:2::12]:80"})
    ASSERT_TRUE(table_.editDest(svcKey6(), destCfg(rs, 0)));
  for (const bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    const Bytes in = (v6 ? fromClient6() : fromClient4()).tcp(40005, 80, net::kTcpSyn).build();
    const Bytes ip_packet(in.begin() + 14, in.end());
    PacketBuilder want;
    want.eth(kDirectorMac, kRouterMac);
    if (v6) want.ipv6("2001:db8:2::100", "2001:db8:1::2").icmp(1, 4);
    else want.ipv4("10.0.2.100", "10.0.1.2").tos(0xc0).ipId(0).icmp(3, 3);
    const Bytes expected = want.ttl(64).payload(ip_packet).build();
    Bytes buf = in;
    buf.resize(in.size() + 256);
    dp::Verdict v = dp_.process(std::span(buf.data(), in.size()), *table_.snapshot(), clock_.now(), 256);
    ASSERT_EQ(int(v.action), int(Action::kTx));
    EXPECT_EQ(v.ifindex, 0u) << "back out of the receiving interface";
    buf.resize(v.len);
    EXPECT_TRUE(framesEqual(expected, buf)) << frameDiff(expected, buf);
  }
  EXPECT_EQ(dp_.counters()[Counter::kIcmpUnreachSent], 2u);
  // At most kIcmpBurst answers at once; the rest are counted and dropped.
  for (uint32_t i = 0; i < dp::Datapath::kIcmpBurst + 10; ++i) {
    Bytes buf = fromClient4().tcp(uint16_t(41000 + i), 80, net::kTcpSyn).build();
    const size_t n = buf.size();
    buf.resize(n + 256);
    dp_.process(std::span(buf.data(), n), *table_.snapshot(), clock_.now(), 256);
  }
  EXPECT_EQ(dp_.counters()[Counter::kIcmpUnreachSent], uint64_t(dp::Datapath::kIcmpBurst));
  EXPECT_EQ(dp_.counters()[Counter::kIcmpRateLimited], 12u);
  // A second later the bucket has refilled.
  clock_.advance(kSecond);
  Bytes buf = fromClient4().tcp(42000, 80, net::kTcpSyn).build();
  const size_t n = buf.size();
  buf.resize(n + 256);
  EXPECT_EQ(int(dp_.process(std::span(buf.data(), n), *table_.snapshot(), clock_.now(), 256).action),
            int(Action::kTx));
}

// A sender with checksum offload leaves the checksum half-done; what leaves the director
// must carry the full one, or the real server drops it.
TEST_F(DrGolden, HalfDoneChecksumIsFinished) {
  addRr4();
  addUdp6();
  Bytes syn = fromClient4().tcp(40006, 80, net::kTcpSyn).payload("x").partialL4Checksum().build();
  const Bytes want = toServer4(kRs1Mac).tcp(40006, 80, net::kTcpSyn).payload("x").build();
  ASSERT_EQ(int(dp_.process(syn, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
  EXPECT_TRUE(framesEqual(want, syn)) << frameDiff(want, syn);
  Bytes udp = fromClient6().udp(5353, 53).payload("query").partialL4Checksum().build();
  const Bytes want6 = toServer6(kRs1Mac).udp(5353, 53).payload("query").build();
  ASSERT_EQ(int(dp_.process(udp, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
  EXPECT_TRUE(framesEqual(want6, udp)) << frameDiff(want6, udp);
  EXPECT_EQ(dp_.counters()[Counter::kCsumFinished], 2u);
}

// Port reuse as conn_reuse_mode=1: a SYN reschedules only a connection in TIME_WAIT or
// CLOSE; in any other state it stays with its real server.
TEST_F(DrGolden, PortReuseReschedulesOnlyFinishedConnections) {
  addRr4();
  auto send = [&](uint16_t port, uint8_t flags) {
    Bytes f = fromClient4().tcp(port, 80, flags).build();
    EXPECT_EQ(int(dp_.process(f, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
    return dstMac(f);
  };
  const net::MacAddr first = send(45000, net::kTcpSyn);
  send(45000, net::kTcpAck);
  send(45000, net::kTcpFin | net::kTcpAck);  // FIN_WAIT
  EXPECT_EQ(send(45000, net::kTcpSyn), first) << "FIN_WAIT: same server";
  EXPECT_EQ(dp_.counters()[Counter::kConnReused], 0u);
  const net::MacAddr second = send(45001, net::kTcpSyn);
  ASSERT_NE(second, first);
  send(45001, net::kTcpAck);
  send(45001, net::kTcpRst);  // CLOSE
  EXPECT_EQ(send(45001, net::kTcpSyn), first) << "CLOSE: scheduled afresh (rr moves on)";
  EXPECT_EQ(dp_.counters()[Counter::kConnReused], 1u);
}

TEST_F(DrGolden, PersistentConnectionIsNotRescheduledOnReuse) {
  svc::ServiceConfig s = svcCfg4("rr");
  s.persistent = true;
  s.persistence_timeout = 300;
  addService(s);
  auto send = [&](uint8_t flags) {
    Bytes f = fromClient4().tcp(45100, 80, flags).build();
    dp_.process(f, *table_.snapshot(), clock_.now());
  };
  send(net::kTcpSyn);
  send(net::kTcpRst);  // CLOSE, but a template controls it
  send(net::kTcpSyn);
  EXPECT_EQ(dp_.counters()[Counter::kConnReused], 0u);
}

// A deleted real server's connections are not forwarded to it any more; with
// expire_nodest_conn the entry goes at once.
TEST_F(DrGolden, DeletedRealServerGetsNothing) {
  addRr4();
  for (const bool expire : {false, true}) {
    SCOPED_TRACE(expire ? "expire_nodest_conn" : "default");
    dp_.setExpireNodestConn(expire);
    const uint16_t port = expire ? 46001 : 46000;
    Bytes syn = fromClient4().tcp(port, 80, net::kTcpSyn).build();
    dp_.process(syn, *table_.snapshot(), clock_.now());
    const uint32_t id = dstMac(syn) == kRs1Mac ? rs1_id() : rs2_id();
    sl_dest e = *dests_.read(id);
    e.flags &= ~SL_DEST_F_AVAILABLE;
    dests_.write(id, e);
    Bytes ack = fromClient4().tcp(port, 80, net::kTcpAck).build();
    dp::Verdict v = dp_.process(ack, *table_.snapshot(), clock_.now());
    if (expire) {
      // The entry went, and the ACK, now without a connection, is the kernel's (a reset).
      EXPECT_EQ(int(v.action), int(Action::kPass));
      EXPECT_EQ(dp_.counters()[Counter::kNodestExpired], 1u);
    } else {
      EXPECT_EQ(int(v.action), int(Action::kDrop));
      EXPECT_EQ(v.reason, Counter::kDestGone);
    }
    EXPECT_EQ(conns_.lookup(key4(port, 80, net::kProtoTcp), clock_.now()) != nullptr, !expire);
    e.flags |= SL_DEST_F_AVAILABLE;
    dests_.write(id, e);
  }
}

// A client reusing the ports of a connection whose real server was deleted starts a new
// connection: its SYN is scheduled afresh (to a live server), with or without
// expire_nodest_conn, while the old flow's other segments stay dropped.
TEST_F(DrGolden, SynOnADeletedServersConnectionIsScheduledAfresh) {
  addRr4();
  dp_.setExpireNodestConn(false);
  const uint16_t port = 46100;
  Bytes syn = fromClient4().tcp(port, 80, net::kTcpSyn).build();
  dp_.process(syn, *table_.snapshot(), clock_.now());
  Bytes ack = fromClient4().tcp(port, 80, net::kTcpAck).build();
  dp_.process(ack, *table_.snapshot(), clock_.now());  // ESTABLISHED
  const bool on1 = dstMac(syn) == kRs1Mac;
  const uint32_t gone = on1 ? rs1_id() : rs2_id();
  sl_dest e = *dests_.read(gone);
  e.flags &= ~SL_DEST_F_AVAILABLE;
  dests_.write(gone, e);
  Bytes ack2 = fromClient4().tcp(port, 80, net::kTcpAck).build();
  dp::Verdict v = dp_.process(ack2, *table_.snapshot(), clock_.now());
  EXPECT_EQ(int(v.action), int(Action::kDrop));
  EXPECT_EQ(v.reason, Counter::kDestGone);
  Bytes syn2 = fromClient4().tcp(port, 80, net::kTcpSyn).build();
  v = dp_.process(syn2, *table_.snapshot(), clock_.now());
  EXPECT_EQ(int(v.action), int(Action::kTx));
  EXPECT_EQ(dstMac(syn2), on1 ? kRs2Mac : kRs1Mac) << "to the server that is left";
  EXPECT_EQ(dp_.counters()[Counter::kNodestExpired], 1u);
  const sl_conn* c = conns_.lookup(key4(port, 80, net::kProtoTcp), clock_.now());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dest_id, on1 ? rs2_id() : rs1_id());
  e.flags |= SL_DEST_F_AVAILABLE;
  dests_.write(gone, e);
}

// Every header boundary of a few frames, and the length fields lying: each frame is
// dropped, its named counter moves, and nothing is created.
TEST_F(DrGolden, MalformedFramesDropWithNamedCounters) {
  addRr4();
  addRr6();
  struct Cut {
    const char* what;
    Bytes frame;
    size_t l3;        // offset of the IP header
    size_t ip_hdr;    // IP header length
    bool v6;
    Counter l2_short; // counter for a frame cut inside the L2 header(s)
  };
  Cut frames[] = {
      {"v4 SYN", fromClient4().tcp(40010, 80, net::kTcpSyn).build(), 14, 20, false, Counter::kEthTruncated},
      {"v4 SYN vlan", fromClient4(true).tcp(40011, 80, net::kTcpSyn).build(), 18, 20, false, Counter::kVlanTruncated},
      {"v6 SYN", fromClient6().tcp(40012, 80, net::kTcpSyn).build(), 14, 40, true, Counter::kEthTruncated},
      {"v4 UDP", fromClient4().udp(40013, 80).payload("abc").build(), 14, 20, false, Counter::kEthTruncated},
  };
  for (const Cut& c : frames) {
    for (size_t len : {size_t(0), size_t(13), c.l3 - 1, c.l3, c.l3 + c.ip_hdr - 1, c.l3 + c.ip_hdr,
                       c.frame.size() - 1}) {
      SCOPED_TRACE(std::string(c.what) + " cut at " + std::to_string(len));
      Counter want;
      if (len < 14) want = Counter::kEthTruncated;
      else if (len < c.l3) want = c.l2_short;
      else if (len < c.l3 + c.ip_hdr) want = c.v6 ? Counter::kIpv6Truncated : Counter::kIpv4Truncated;
      else want = c.v6 ? Counter::kIpv6BadPayloadLen : Counter::kIpv4BadTotalLen;
      Bytes f(c.frame.begin(), c.frame.begin() + long(len));
      auto before = dp_.counters()[want];
      dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
      EXPECT_EQ(int(v.action), int(Action::kDrop));
      EXPECT_EQ(v.reason, want) << dp::counterName(v.reason);
      EXPECT_EQ(dp_.counters()[want], before + 1);
    }
  }
  struct Bad {
    const char* what;
    Bytes frame;
    Counter want;
  };
  Bytes ihl = fromClient4().tcp(40020, 80, net::kTcpSyn).build();
  ihl[14] = 0x44;  // IHL 4
  Bytes tot = fromClient4().tcp(40021, 80, net::kTcpSyn).build();
  put16(tot, 16, uint16_t(tot.size()));  // claims more than is there
  Bytes doff = fromClient4().tcp(40022, 80, net::kTcpSyn).build();
  doff[14 + 20 + 12] = 0x40;  // data offset 4
  Bytes ulen = fromClient4().udp(40023, 80).payload("abc").build();
  put16(ulen, 14 + 20 + 4, 7);
  Bytes plen = fromClient6().tcp(40024, 80, net::kTcpSyn).build();
  put16(plen, 14 + 4, 200);
  Bad bad[] = {{"IHL 4", ihl, Counter::kIpv4BadIhl},
               {"total length too long", tot, Counter::kIpv4BadTotalLen},
               {"TCP data offset 4", doff, Counter::kTcpBadDoff},
               {"UDP length 7", ulen, Counter::kUdpBadLen},
               {"IPv6 payload length too long", plen, Counter::kIpv6BadPayloadLen}};
  for (auto& b : bad) {
    SCOPED_TRACE(b.what);
    Bytes f = b.frame;
    dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
    EXPECT_EQ(int(v.action), int(Action::kDrop));
    EXPECT_EQ(v.reason, b.want) << dp::counterName(v.reason);
  }
  EXPECT_EQ(conns_.size(), 0u);
}

TEST_F(DrGolden, QuiescentServerKeepsItsConnection) {
  addRr4();
  Bytes syn = fromClient4().tcp(42000, 80, net::kTcpSyn).build();
  dp_.process(syn, *table_.snapshot(), clock_.now());
  ASSERT_EQ(dstMac(syn), kRs1Mac);
  ASSERT_TRUE(table_.editDest(svcKey4(), destCfg("10.0.2.11:80", 0)));
  // The established flow continues to RS 1 ...
  Bytes ack = fromClient4().tcp(42000, 80, net::kTcpAck).build();
  dp_.process(ack, *table_.snapshot(), clock_.now());
  EXPECT_EQ(dstMac(ack), kRs1Mac);
  // ... while every new one goes to RS 2.
  for (int i = 1; i <= 4; ++i) {
    Bytes f = fromClient4().tcp(uint16_t(42000 + i), 80, net::kTcpSyn).build();
    dp_.process(f, *table_.snapshot(), clock_.now());
    EXPECT_EQ(dstMac(f), kRs2Mac);
  }
}

TEST_F(DrGolden, PersistenceTemplatePinsClient) {
  svc::ServiceConfig s = svcCfg4("rr");
  s.persistent = true;
  s.persistence_timeout = 300;
  s.persistence_prefix = 24;
  addService(s);
  net::MacAddr first{};
  for (int i = 0; i < 6; ++i) {
    Bytes f = fromClient4().tcp(uint16_t(43000 + i), 80, net::kTcpSyn).build();
    ASSERT_EQ(int(dp_.process(f, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
    if (i == 0) first = dstMac(f);
    EXPECT_EQ(dstMac(f), first) << "connection " << i;
  }
  EXPECT_EQ(countsOf(first == kRs1Mac ? rs1_id() : rs2_id()).persist, 1u);
  // Once the connections and then the template have timed out, the pin is gone.
  // (A template still controlling connections when it times out is re-armed, as IPVS
  // does, so the sweep may need a second pass after the connections went.)
  clock_.advance(301 * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  clock_.advance(61 * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(countsOf(rs1_id()).persist + countsOf(rs2_id()).persist, 0u);
  EXPECT_EQ(conns_.size(), 0u);
}

TEST_F(DrGolden, ConnectionsExpireAndCountsFollow) {
  addRr4();
  Bytes syn = fromClient4().tcp(44000, 80, net::kTcpSyn).build();
  dp_.process(syn, *table_.snapshot(), clock_.now());
  Bytes ack = fromClient4().tcp(44000, 80, net::kTcpAck).build();
  dp_.process(ack, *table_.snapshot(), clock_.now());
  EXPECT_EQ(countsOf(rs1_id()).active, 1u);
  clock_.advance(899 * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(countsOf(rs1_id()).active, 1u) << "ESTABLISHED lives 900 s";
  clock_.advance(2 * kSecond);
  conns_.expireSome(clock_.now(), conns_.capacity());
  EXPECT_EQ(countsOf(rs1_id()).active, 0u);
  EXPECT_EQ(conns_.size(), 0u);
}

// ICMP errors about a connection, as a router on the real server's way back sends them to
// the VIP (the real server replied with the VIP as source): forwarded to that connection's
// real server with only the MACs changed, as ip_vs_in_icmp does for DR.
class DrIcmpGolden : public DrGolden {
 protected:
  // Opens a connection from the client's port (SYN, ACK) and returns its key.
  sl_conn_key open4(uint16_t cport, bool vlan = false) {
    for (uint8_t fl : {net::kTcpSyn, net::kTcpAck}) {
      Bytes f = fromClient4(vlan).tcp(cport, 80, fl).build();
      EXPECT_EQ(int(dp_.process(f, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
    }
    return key4(cport, 80, net::kProtoTcp);
  }
  sl_conn_key open6(uint16_t cport) {
    for (uint8_t fl : {net::kTcpSyn, net::kTcpAck}) {
      Bytes f = fromClient6().tcp(cport, 80, fl).build();
      EXPECT_EQ(int(dp_.process(f, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
    }
    return key6(cport, 80, net::kProtoTcp);
  }

  // `in` must leave as `out`; icmp_forwarded and tx_packets move, the connection stays as
  // it was (an error is not the client speaking) and the packet counts in --stats.
  void expectForwarded(const Bytes& in, const Bytes& out, const sl_conn_key& key) {
    sl_conn* c = conns_.lookup(key, clock_.now());
    ASSERT_NE(c, nullptr);
    const uint8_t state = c->state;
    const uint64_t pkts = stats_.dest(c->dest_id).inpkts;
    dp::Counters before = dp_.counters();
    Bytes f = in;
    dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
    ASSERT_EQ(int(v.action), int(Action::kTx));
    EXPECT_EQ(v.ifindex, kIfindex);
    EXPECT_TRUE(framesEqual(out, f)) << frameDiff(out, f);
    EXPECT_EQ(dp_.counters()[Counter::kIcmpForwarded], before[Counter::kIcmpForwarded] + 1);
    EXPECT_EQ(dp_.counters()[Counter::kTxPackets], before[Counter::kTxPackets] + 1);
    EXPECT_EQ(c->state, state);
    EXPECT_EQ(stats_.dest(c->dest_id).inpkts, pkts + 1);
  }
  void expectVerdict(const Bytes& in, Action want, Counter counter) {
    dp::Counters before = dp_.counters();
    Bytes f = in;
    dp::Verdict v = dp_.process(f, *table_.snapshot(), clock_.now());
    EXPECT_EQ(int(v.action), int(want));
    if (want == Action::kDrop) {
      EXPECT_EQ(v.reason, counter) << dp::counterName(v.reason);
    }
    if (want == Action::kPass) {
      EXPECT_EQ(f, in) << "a passed frame is untouched";
    }
    EXPECT_EQ(dp_.counters()[counter], before[counter] + 1) << dp::counterName(counter);
    EXPECT_EQ(dp_.counters()[Counter::kIcmpForwarded], before[Counter::kIcmpForwarded]);
  }
};

TEST_F(DrIcmpGolden, FragmentationNeededIpv4EightByteAndFullQuote) {
  addRr4();
  const sl_conn_key key = open4(45000);
  // RFC 792's minimum (IP header + 8 bytes) and what Linux quotes (up to 576 in all).
  for (size_t len : {size_t(28), size_t(548)}) {
    SCOPED_TRACE(len);
    Bytes q = firstBytes(reply4(45000), len);
    expectForwarded(error4(kRouterMac, kDirectorMac, q), error4(kDirectorMac, kRs1Mac, q), key);
  }
}

TEST_F(DrIcmpGolden, OtherIpv4ErrorsAndVlanAndUdp) {
  addRr4();
  addUdp4();
  const sl_conn_key key = open4(45001);
  Bytes q = firstBytes(reply4(45001), 28);
  for (auto [type, code] : {std::pair<uint8_t, uint8_t>{3, 1}, {3, 3}, {11, 0}, {12, 0}}) {
    SCOPED_TRACE(std::to_string(type) + "/" + std::to_string(code));
    expectForwarded(error4(kRouterMac, kDirectorMac, q, type, code),
                    error4(kDirectorMac, kRs1Mac, q, type, code), key);
  }
  {
    SCOPED_TRACE("VLAN-tagged");
    const sl_conn_key vk = open4(45002, true);
    Bytes vq = firstBytes(reply4(45002), 28);
    // rr: the second connection went to RS 2.
    expectForwarded(error4(kRouterMac, kDirectorMac, vq, 3, 4, true),
                    error4(kDirectorMac, kRs2Mac, vq, 3, 4, true), vk);
  }
  {
    SCOPED_TRACE("UDP");
    Bytes dns = fromClient4().udp(45003, 53).payload("q").build();
    ASSERT_EQ(int(dp_.process(dns, *table_.snapshot(), clock_.now()).action), int(Action::kTx));
    const net::MacAddr rs = dstMac(dns);
    Bytes uq = firstBytes(reply4(45003, net::kProtoUdp), 28);
    expectForwarded(error4(kRouterMac, kDirectorMac, uq, 3, 3), error4(kDirectorMac, rs, uq, 3, 3),
                    key4(45003, 53, net::kProtoUdp));
  }
}

TEST_F(DrIcmpGolden, PacketTooBigIpv6AndOtherErrors) {
  addRr6();
  const sl_conn_key key = open6(45010);
  // 8 bytes, and the full 1280-byte error Linux sends.
  for (size_t len : {size_t(48), size_t(1232)}) {
    SCOPED_TRACE(len);
    Bytes q = firstBytes(reply6(45010), len);
    expectForwarded(error6(kRouterMac, kDirectorMac, q), error6(kDirectorMac, kRs1Mac, q), key);
  }
  Bytes q = firstBytes(reply6(45010), 48);
  for (uint8_t type : {1, 3, 4}) {
    SCOPED_TRACE(int(type));
    expectForwarded(error6(kRouterMac, kDirectorMac, q, type), error6(kDirectorMac, kRs1Mac, q, type), key);
  }
  SCOPED_TRACE("VLAN-tagged");
  expectForwarded(error6(kRouterMac, kDirectorMac, q, 2, true), error6(kDirectorMac, kRs1Mac, q, 2, true), key);
}

TEST_F(DrIcmpGolden, MalformedQuotesDropWithNamedCounters) {
  addRr4();
  addRr6();
  open4(45020);
  open6(45020);
  const Bytes r4 = reply4(45020), r6 = reply6(45020);
  auto from4 = [](const Bytes& q) { return error4(kRouterMac, kDirectorMac, q); };
  auto from6 = [](const Bytes& q) { return error6(kRouterMac, kDirectorMac, q); };
  Bytes ver = firstBytes(r4, 28);
  ver[0] = 0x55;
  Bytes ihl = firstBytes(r4, 28);
  ihl[0] = 0x44;
  Bytes tot = firstBytes(r4, 28);
  put16(tot, 2, 30);
  Bytes doff = firstBytes(r4, 48);
  doff[20 + 12] = 0x30;
  Bytes ver6 = firstBytes(r6, 48);
  ver6[0] = 0x40;
  Bytes plen = firstBytes(r6, 48);
  put16(plen, 4, 4);
  struct Bad {
    const char* what;
    Bytes frame;
    Counter want;
  } bad[] = {
      {"v4 quote of 0 bytes", from4({}), Counter::kIcmpQuoteTruncated},
      {"v4 inner header cut", from4(firstBytes(r4, 19)), Counter::kIcmpQuoteTruncated},
      {"v4 IP header + 7", from4(firstBytes(r4, 27)), Counter::kIcmpQuoteTruncated},
      {"v4 inner version 5", from4(ver), Counter::kIcmpQuoteBadHeader},
      {"v4 inner IHL 4", from4(ihl), Counter::kIcmpQuoteBadHeader},
      {"v4 inner total length 30 for TCP", from4(tot), Counter::kIcmpQuoteBadLen},
      {"v4 inner TCP data offset 3", from4(doff), Counter::kIcmpQuoteBadLen},
      {"v6 inner header cut", from6(firstBytes(r6, 39)), Counter::kIcmpQuoteTruncated},
      {"v6 IP header + 7", from6(firstBytes(r6, 47)), Counter::kIcmpQuoteTruncated},
      {"v6 inner version 4", from6(ver6), Counter::kIcmpQuoteBadHeader},
      {"v6 inner payload length 4", from6(plen), Counter::kIcmpQuoteBadLen},
      {"v4 error too short for its own header", [] {
         Bytes f = error4(kRouterMac, kDirectorMac, {});
         f.resize(f.size() - 1);
         put16(f, 16, uint16_t(f.size() - 14));
         return f;
       }(), Counter::kIcmpTruncated},
  };
  for (auto& b : bad) {
    SCOPED_TRACE(b.what);
    expectVerdict(b.frame, Action::kDrop, b.want);
  }
}

TEST_F(DrIcmpGolden, WhatNoConnectionOwnsGoesToTheKernel) {
  addRr4();
  addRr6();
  open4(45030);
  Bytes q = firstBytes(reply4(45030), 28);
  // Our connection's own direction (client -> VIP) quoted: not what a router returns to the VIP.
  Bytes fwd = firstBytes(fromClient4().tcp(45030, 80, net::kTcpAck).build(), 14 + 28);
  fwd.erase(fwd.begin(), fwd.begin() + 14);
  Bytes echo = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").icmpEcho(7, 1, true).build();
  Bytes later = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").fragment(1480, false)
                    .rawL4(net::kProtoTcp).payloadFill(40).build();
  Bytes malformed = firstBytes(reply4(45030), 27);
  struct Case {
    const char* what;
    Bytes frame;
  } cases[] = {
      {"no connection (other client port)", error4(kRouterMac, kDirectorMac, firstBytes(reply4(45031), 28))},
      {"no connection (v6)", error6(kRouterMac, kDirectorMac, firstBytes(reply6(45030), 48))},
      {"the connection's key not reversed", error4(kRouterMac, kDirectorMac, fwd)},
      {"quote of the host's own echo reply", error4(kRouterMac, kDirectorMac, echo)},
      {"quote of a later fragment", error4(kRouterMac, kDirectorMac, later)},
      {"echo request to the VIP", fromClient4().icmpEcho(1, 1).build()},
      {"echo request to the VIP (v6)", fromClient6().icmp6Echo(1, 1).build()},
      {"source quench (RFC 6633)", error4(kRouterMac, kDirectorMac, q, 4, 0)},
      {"error to the director's own address",
       PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.2.1", "10.0.2.10").icmp(3, 4, 1400).payload(q).build()},
      {"malformed quote to the director's own address",
       PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.2.1", "10.0.2.10").icmp(3, 4, 1400).payload(malformed).build()},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    expectVerdict(c.frame, Action::kPass, Counter::kPassPackets);
  }
}

}  // namespace
}  // namespace sluice::testing
