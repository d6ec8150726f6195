#include "conn/tcp_state.h"

#include <gtest/gtest.h>

namespace sluice::conn {
namespace {

TEST(TcpState, EventPriorityIsRstSynFinAck) {
  EXPECT_EQ(tcpEventIndex(kTcpSyn), 0);
  EXPECT_EQ(tcpEventIndex(kTcpFin | kTcpAck), 1);
  EXPECT_EQ(tcpEventIndex(kTcpAck), 2);
  EXPECT_EQ(tcpEventIndex(kTcpRst | kTcpSyn | kTcpFin | kTcpAck), 3);
  EXPECT_EQ(tcpEventIndex(kTcpSyn | kTcpAck), 0);
  EXPECT_EQ(tcpEventIndex(0x08 /* PSH alone */), -1);
}

TEST(TcpState, InputOnlyHandshakeAndClose) {
  auto in = Direction::kInputOnly;
  uint8_t s = SL_TCP_NONE;
  s = nextTcpState(s, in, kTcpSyn);
  EXPECT_EQ(s, SL_TCP_SYN_RECV);
  s = nextTcpState(s, in, kTcpAck);
  EXPECT_EQ(s, SL_TCP_ESTABLISHED);
  s = nextTcpState(s, in, kTcpAck | 0x08);
  EXPECT_EQ(s, SL_TCP_ESTABLISHED);
  s = nextTcpState(s, in, kTcpFin | kTcpAck);
  EXPECT_EQ(s, SL_TCP_FIN_WAIT);  // INPUT would say CLOSE_WAIT
  s = nextTcpState(s, in, kTcpAck);
  EXPECT_EQ(s, SL_TCP_FIN_WAIT);
  s = nextTcpState(s, in, kTcpRst);
  EXPECT_EQ(s, SL_TCP_CLOSE);
}

TEST(TcpState, DirectionsDifferWhereIpvsDiffers) {
  EXPECT_EQ(nextTcpState(SL_TCP_ESTABLISHED, Direction::kInput, kTcpFin), SL_TCP_CLOSE_WAIT);
  EXPECT_EQ(nextTcpState(SL_TCP_ESTABLISHED, Direction::kInputOnly, kTcpFin), SL_TCP_FIN_WAIT);
  EXPECT_EQ(nextTcpState(SL_TCP_ESTABLISHED, Direction::kOutput, kTcpFin), SL_TCP_FIN_WAIT);
  // SYN seen from the server side first (active FTP data): SYN_SENT.
  EXPECT_EQ(nextTcpState(SL_TCP_NONE, Direction::kOutput, kTcpSyn), SL_TCP_SYN_SENT);
  // RST after SYNACK: INPUT goes back to SYN_RECV, INPUT_ONLY closes.
  EXPECT_EQ(nextTcpState(SL_TCP_SYNACK, Direction::kInput, kTcpRst), SL_TCP_SYN_RECV);
  EXPECT_EQ(nextTcpState(SL_TCP_SYNACK, Direction::kInputOnly, kTcpRst), SL_TCP_CLOSE);
  // RST in TIME_WAIT: OUTPUT keeps it, INPUT closes.
  EXPECT_EQ(nextTcpState(SL_TCP_TIME_WAIT, Direction::kOutput, kTcpRst), SL_TCP_TIME_WAIT);
  EXPECT_EQ(nextTcpState(SL_TCP_TIME_WAIT, Direction::kInput, kTcpRst), SL_TCP_CLOSE);
  // NAT: server ACK of a FIN in CLOSE_WAIT ... LAST_ACK then client ACK closes.
  EXPECT_EQ(nextTcpState(SL_TCP_CLOSE_WAIT, Direction::kOutput, kTcpFin), SL_TCP_TIME_WAIT);
  EXPECT_EQ(nextTcpState(SL_TCP_LAST_ACK, Direction::kInput, kTcpAck), SL_TCP_CLOSE);
  EXPECT_EQ(nextTcpState(SL_TCP_LAST_ACK, Direction::kOutput, kTcpAck), SL_TCP_LAST_ACK);
}

TEST(TcpState, NoFlagsMeansCloseAndNonTcpStatesStay) {
  EXPECT_EQ(nextTcpState(SL_TCP_ESTABLISHED, Direction::kInputOnly, 0), SL_TCP_CLOSE);
  EXPECT_EQ(nextTcpState(SL_STATE_UDP, Direction::kInput, kTcpSyn), SL_STATE_UDP);
  EXPECT_EQ(nextTcpState(200, Direction::kInput, kTcpSyn), 200);
}

TEST(TcpState, ActiveStatesAreThePreEstablishedOnes) {
  int active = 0;
  for (uint8_t s = 0; s < SL_STATE_COUNT; ++s) active += isActiveState(s);
  EXPECT_EQ(active, 4);
  EXPECT_TRUE(isActiveState(SL_TCP_ESTABLISHED));
  EXPECT_TRUE(isActiveState(SL_TCP_SYN_RECV));
  EXPECT_FALSE(isActiveState(SL_TCP_FIN_WAIT));
  EXPECT_FALSE(isActiveState(SL_STATE_UDP));
}

TEST(TcpState, NamesAsIpvsadmPrintsThem) {
  EXPECT_EQ(stateName(SL_TCP_NONE), "NONE");
  EXPECT_EQ(stateName(SL_TCP_ESTABLISHED), "ESTABLISHED");
  EXPECT_EQ(stateName(SL_TCP_SYN_SENT), "SYN_SENT");
  EXPECT_EQ(stateName(SL_TCP_SYN_RECV), "SYN_RECV");
  EXPECT_EQ(stateName(SL_TCP_FIN_WAIT), "FIN_WAIT");
  EXPECT_EQ(stateName(SL_TCP_TIME_WAIT), "TIME_WAIT");
  EXPECT_EQ(stateName(SL_TCP_CLOSE), "CLOSE");
  EXPECT_EQ(stateName(SL_TCP_CLOSE_WAIT), "CLOSE_WAIT");
  EXPECT_EQ(stateName(SL_TCP_LAST_ACK), "LAST_ACK");
  EXPECT_EQ(stateName(SL_TCP_LISTEN), "LISTEN");
  EXPECT_EQ(stateName(SL_TCP_SYNACK), "SYNACK");
  EXPECT_EQ(stateName(SL_STATE_UDP), "UDP");
  EXPECT_EQ(stateName(SL_STATE_ICMP), "ICMP");
  EXPECT_EQ(stateName(SL_STATE_COUNT), "ERR!");
}

TEST(TimeoutTable, IpvsDefaults) {
  TimeoutTable t;
  const uint32_t want[SL_STATE_COUNT] = {2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 300, 60};
  for (uint8_t s = 0; s < SL_STATE_COUNT; ++s) EXPECT_EQ(t.seconds(s), want[s]) << int(s);
  EXPECT_EQ(t.tcp(), 900u);
  EXPECT_EQ(t.tcpFin(), 120u);
  EXPECT_EQ(t.udp(), 300u);
}

TEST(TimeoutTable, SetChangesThreeAndZeroKeeps) {
  TimeoutTable t;
  t.applySet(0, 0, 0);
  EXPECT_EQ(t, TimeoutTable());
  t.applySet(3600, 0, 45);
  EXPECT_EQ(t.seconds(SL_TCP_ESTABLISHED), 3600u);
  EXPECT_EQ(t.seconds(SL_TCP_FIN_WAIT), 120u);
  EXPECT_EQ(t.seconds(SL_STATE_UDP), 45u);
  t.applySet(0, 30, 0);
  EXPECT_EQ(t.tcp(), 3600u);
  EXPECT_EQ(t.tcpFin(), 30u);
  EXPECT_EQ(t.udp(), 45u);
  // Nothing else moved.
  EXPECT_EQ(t.seconds(SL_TCP_TIME_WAIT), 120u);
  EXPECT_EQ(t.seconds(SL_TCP_CLOSE), 10u);
}

}  // namespace
}  // namespace sluice::conn
