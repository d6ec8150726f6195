// The connection-event hook (dp/conn_events.h): the step tells the sink about every
// connection it creates, once, with copies of the entry and its template as they stand
// after the first packet, and about each step of a TCP connection into a closing state.
#include <gtest/gtest.h>

#include <vector>

#include "conn/tcp_state.h"
#include "dp/conn_events.h"
#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;

struct Recorded {
  sl_conn conn;
  bool has_tmpl;
  sl_conn tmpl;
};

class RecordingSink final : public dp::ConnEventSink {
 public:
  void connCreated(const sl_conn& conn, const sl_conn* tmpl, const sl_conn_ext&) noexcept override {
    calls.push_back({conn, tmpl != nullptr, tmpl ? *tmpl : sl_conn{}});
  }
  void connStateChanged(const sl_conn& conn, const sl_conn_ext&) noexcept override {
    ended.push_back(conn);
  }
  std::vector<Recorded> calls;
  std::vector<sl_conn> ended;
};

PacketBuilder client4(uint16_t sport, uint8_t flags, const char* client = "10.0.1.2") {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac).ipv4(client, "10.0.2.100").tcp(sport, 80, flags);
  return b;
}

class ConnEvents : public DrFixture {
 protected:
  ConnEvents() { dp_.setConnEventSink(&sink_); }
  dp::Verdict run(Bytes f) { return dp_.process(f, *table_.snapshot(), clock_.now()); }
  RecordingSink sink_;
};

bool sameKey(const sl_conn_key& a, const sl_conn_key& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST_F(ConnEvents, OncePerNewConnectionNotForItsPackets) {
  addRr4();
  addUdp4();
  ASSERT_EQ(int(run(client4(40000, net::kTcpSyn).build()).action), int(Action::kTx));
  ASSERT_EQ(sink_.calls.size(), 1u);
  const Recorded& r = sink_.calls[0];
  EXPECT_TRUE(sameKey(r.conn.key, key4(40000, 80, net::kProtoTcp)));
  EXPECT_EQ(r.conn.dest_id, rs1_id());
  EXPECT_EQ(r.conn.state, SL_TCP_SYN_RECV) << "the state its first packet gave it";
  EXPECT_EQ(r.conn.fwd, SL_FWD_DR);
  EXPECT_EQ(r.conn.lock, 0) << "copied without the lock it was taken under";
  EXPECT_FALSE(r.has_tmpl);

  for (uint8_t fl : {net::kTcpAck, uint8_t(net::kTcpAck | net::kTcpPsh), uint8_t(net::kTcpFin | net::kTcpAck)})
    run(client4(40000, fl).build());
  EXPECT_EQ(sink_.calls.size(), 1u) << "an established flow's packets are no news";

  PacketBuilder udp;
  udp.eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.100").udp(5000, 53).payload("q");
  run(udp.build());
  run(udp.build());
  ASSERT_EQ(sink_.calls.size(), 2u);
  EXPECT_TRUE(sameKey(sink_.calls[1].conn.key, key4(5000, 53, net::kProtoUdp)));
  EXPECT_EQ(sink_.calls[1].conn.state, SL_STATE_UDP);

  // Not ours, or refused: nothing.
  run(client4(40001, net::kTcpAck).build());  // adopt off: to the kernel
  run(PacketBuilder().eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.10").tcp(1, 80, net::kTcpSyn).build());
  EXPECT_EQ(sink_.calls.size(), 2u);

  // A port reused after CLOSE is a new connection.
  run(client4(40000, net::kTcpRst).build());
  run(client4(40000, net::kTcpSyn).build());
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(sink_.calls[2].conn.dest_id, rs2_id());
}

// Peers must hear of a connection's end, or their ESTABLISHED copies would send the next
// connection on the same ports to this one's real server.
TEST_F(ConnEvents, EachStepIntoAClosingStateIsNewsOnlyThose) {
  addRr4();
  run(client4(40040, net::kTcpSyn).build());
  run(client4(40040, net::kTcpAck).build());
  run(client4(40040, uint8_t(net::kTcpAck | net::kTcpPsh)).build());
  EXPECT_TRUE(sink_.ended.empty()) << "the handshake and data are no news";
  run(client4(40040, uint8_t(net::kTcpFin | net::kTcpAck)).build());
  ASSERT_EQ(sink_.ended.size(), 1u);
  EXPECT_TRUE(sameKey(sink_.ended[0].key, key4(40040, 80, net::kProtoTcp)));
  EXPECT_FALSE(conn::isActiveState(sink_.ended[0].state));
  EXPECT_EQ(sink_.ended[0].dest_id, rs1_id());
  EXPECT_EQ(sink_.ended[0].lock, 0);
  const uint8_t after_fin = sink_.ended[0].state;
  run(client4(40040, uint8_t(net::kTcpFin | net::kTcpAck)).build());  // a retransmission
  EXPECT_EQ(sink_.ended.size(), 1u) << "no change of state, no news";
  run(client4(40040, net::kTcpRst).build());
  if (after_fin != SL_TCP_CLOSE) {
    ASSERT_EQ(sink_.ended.size(), 2u);
    EXPECT_EQ(sink_.ended[1].state, SL_TCP_CLOSE);
  }
  // UDP has no end to tell.
  PacketBuilder udp;
  udp.eth(kRouterMac, kDirectorMac).ipv4("10.0.1.2", "10.0.2.100").udp(5001, 53).payload("q");
  addUdp4();
  run(udp.build());
  EXPECT_EQ(sink_.ended.size(), after_fin != SL_TCP_CLOSE ? 2u : 1u);
}

// DR sees only the client's side: its FIN leaves the entry in FIN_WAIT, where a SYN on the
// same ports follows the old entry (IPVS reuses only TIME_WAIT and CLOSE). That reopened
// connection is news to the peers as much as a new one.
TEST_F(ConnEvents, ASynReopeningAClosingEntryIsNews) {
  addRr4();
  run(client4(40050, net::kTcpSyn).build());
  run(client4(40050, net::kTcpAck).build());
  run(client4(40050, uint8_t(net::kTcpFin | net::kTcpAck)).build());
  ASSERT_EQ(sink_.ended.size(), 1u);
  ASSERT_EQ(sink_.ended[0].state, SL_TCP_FIN_WAIT);
  run(client4(40050, net::kTcpSyn).build());
  ASSERT_EQ(sink_.calls.size(), 1u) << "not a new entry";
  ASSERT_EQ(sink_.ended.size(), 2u);
  EXPECT_EQ(sink_.ended[1].state, SL_TCP_SYN_RECV);
  EXPECT_EQ(sink_.ended[1].dest_id, sink_.ended[0].dest_id);
}

TEST_F(ConnEvents, AdoptedConnectionArrivesEstablished) {
  addRr4();
  dp_.setAdoptMidflow(true);
  run(client4(40010, net::kTcpAck).build());
  ASSERT_EQ(sink_.calls.size(), 1u);
  EXPECT_EQ(sink_.calls[0].conn.state, SL_TCP_ESTABLISHED);
  EXPECT_EQ(sink_.calls[0].conn.dest_id, rs1_id());
  EXPECT_FALSE(sink_.calls[0].conn.flags & SL_CONN_F_INACTIVE);
}

TEST_F(ConnEvents, TemplateComesWithTheConnectionsItControls) {
  svc::ServiceConfig s = svcCfg4("rr");
  s.persistent = true;
  s.persistence_timeout = 300;
  addService(s);
  run(client4(40020, net::kTcpSyn).build());
  run(client4(40021, net::kTcpSyn).build());
  ASSERT_EQ(sink_.calls.size(), 2u);
  for (const Recorded& r : sink_.calls) {
    ASSERT_TRUE(r.has_tmpl);
    EXPECT_TRUE(r.tmpl.flags & SL_CONN_F_TEMPLATE);
    EXPECT_EQ(r.tmpl.key.kind, SL_KEY_TEMPLATE);
    EXPECT_EQ(r.tmpl.key.cport, 0);
    EXPECT_EQ(r.tmpl.dest_id, r.conn.dest_id);
    EXPECT_EQ(r.tmpl.lock, 0);
  }
  EXPECT_EQ(sink_.calls[0].conn.dest_id, sink_.calls[1].conn.dest_id);
}

TEST_F(ConnEvents, DetachedSinkHearsNothing) {
  addRr4();
  dp_.setConnEventSink(nullptr);
  EXPECT_EQ(int(run(client4(40030, net::kTcpSyn).build()).action), int(Action::kTx));
  EXPECT_TRUE(sink_.calls.empty());
}

}  // namespace
}  // namespace sluice::testing
