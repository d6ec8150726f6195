#include "conn/conn_ops.h"

#include <gtest/gtest.h>

#include <vector>

#include "unit/conn/keys.h"

namespace sluice::conn {
namespace {

using testing::indexedKey;
using testing::makeKey;

constexpr Nanos kT0 = 1000 * kSecond;

struct ConnOps : ::testing::Test {
  std::vector<sl_dest_counts> counts = std::vector<sl_dest_counts>(4);
  std::vector<DestLimits> limits = std::vector<DestLimits>(4);
  DestAccounting dests{counts, limits};
  ConnTable table{4096, &dests};
  TimeoutTable timeouts;
  Binding dr{1, 0, SL_FWD_DR};
  Binding nat{1, 0, SL_FWD_NAT};

  const sl_dest_counts& d0() const { return counts[0]; }
  void expectCounts(uint32_t active, uint32_t inactive, uint32_t persist, int line) {
    EXPECT_EQ(counts[0].active, active) << "line " << line;
    EXPECT_EQ(counts[0].inactive, inactive) << "line " << line;
    EXPECT_EQ(counts[0].persist, persist) << "line " << line;
  }
};

TEST_F(ConnOps, NewTcpConnIsInactiveInStateNone) {
  auto k = makeKey("10.0.0.1", 40000, "192.168.10.100", 80);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, SL_TCP_NONE);
  EXPECT_EQ(c->timeout_s, 2u);
  EXPECT_EQ(c->svc_id, 1u);
  EXPECT_EQ(c->fwd, SL_FWD_DR);
  EXPECT_TRUE(c->flags & SL_CONN_F_INACTIVE);
  expectCounts(0, 1, 0, __LINE__);
}

// DR: the director sees SYN, ACK, data, FIN, ACK from the client only.
TEST_F(ConnOps, InputOnlyLifecycleMovesCounts) {
  auto k = makeKey("10.0.0.1", 40000, "192.168.10.100", 80);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0);
  EXPECT_EQ(c->state, SL_TCP_SYN_RECV);
  EXPECT_EQ(c->timeout_s, 60u);
  expectCounts(1, 0, 0, __LINE__);  // pre-established counts as active (Linux >= 4.8)
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, kT0 + kSecond);
  EXPECT_EQ(c->state, SL_TCP_ESTABLISHED);
  EXPECT_EQ(c->timeout_s, 900u);
  EXPECT_EQ(c->last_seen_ns, kT0 + kSecond);
  EXPECT_FALSE(c->flags & SL_CONN_F_INACTIVE);
  expectCounts(1, 0, 0, __LINE__);
  updateConn(table, *c, Direction::kInput, kTcpAck | 0x08, timeouts, kT0 + 2 * kSecond);
  expectCounts(1, 0, 0, __LINE__);
  updateConn(table, *c, Direction::kInput, kTcpFin | kTcpAck, timeouts, kT0 + 3 * kSecond);
  EXPECT_EQ(c->state, SL_TCP_FIN_WAIT);
  EXPECT_EQ(c->timeout_s, 120u);
  EXPECT_TRUE(c->flags & SL_CONN_F_INACTIVE);
  expectCounts(0, 1, 0, __LINE__);
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, kT0 + 4 * kSecond);
  EXPECT_EQ(c->state, SL_TCP_FIN_WAIT);
  expectCounts(0, 1, 0, __LINE__);
  // A new SYN on the same tuple (port reuse) goes back to SYN_RECV: active again.
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0 + 5 * kSecond);
  EXPECT_EQ(c->state, SL_TCP_SYN_RECV);
  expectCounts(1, 0, 0, __LINE__);
  // Expiry gives the count back.
  EXPECT_EQ(table.lookup(k, kT0 + 5 * kSecond + 61 * kSecond), nullptr);
  expectCounts(0, 0, 0, __LINE__);
}

TEST_F(ConnOps, RstClosesAndExpiryFreesInTenSeconds) {
  auto k = makeKey("10.0.0.2", 40000, "192.168.10.100", 80);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, kT0);
  expectCounts(1, 0, 0, __LINE__);
  updateConn(table, *c, Direction::kInput, kTcpRst | kTcpAck, timeouts, kT0 + kSecond);
  EXPECT_EQ(c->state, SL_TCP_CLOSE);
  EXPECT_EQ(c->timeout_s, 10u);
  expectCounts(0, 1, 0, __LINE__);
  EXPECT_NE(table.lookup(k, kT0 + 11 * kSecond), nullptr);
  EXPECT_EQ(table.expireSome(kT0 + 12 * kSecond, table.capacity()), 1u);
  expectCounts(0, 0, 0, __LINE__);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ConnOps, NatUsesInputAndOutputRows) {
  auto k = makeKey("10.0.0.3", 40000, "192.168.10.100", 80);
  sl_conn* c = createConn(table, k, nat, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0);
  updateConn(table, *c, Direction::kOutput, kTcpSyn | kTcpAck, timeouts, kT0);
  EXPECT_EQ(c->state, SL_TCP_SYN_RECV);
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, kT0);
  EXPECT_EQ(c->state, SL_TCP_ESTABLISHED);
  // Client closes first: INPUT FIN -> CLOSE_WAIT (input-only would say FIN_WAIT).
  updateConn(table, *c, Direction::kInput, kTcpFin | kTcpAck, timeouts, kT0);
  EXPECT_EQ(c->state, SL_TCP_CLOSE_WAIT);
  updateConn(table, *c, Direction::kOutput, kTcpFin | kTcpAck, timeouts, kT0);
  EXPECT_EQ(c->state, SL_TCP_TIME_WAIT);
  expectCounts(0, 1, 0, __LINE__);
}

TEST_F(ConnOps, UdpIsAlwaysInactiveAndFollowsSetUdp) {
  auto k = makeKey("10.0.0.4", 5353, "192.168.10.100", 53, IPPROTO_UDP);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, SL_STATE_UDP);
  EXPECT_EQ(c->timeout_s, 300u);
  updateConn(table, *c, Direction::kInput, 0, timeouts, kT0 + kSecond);
  EXPECT_EQ(c->state, SL_STATE_UDP);
  expectCounts(0, 1, 0, __LINE__);
  timeouts.applySet(0, 0, 30);  // ipvsadm --set 0 0 30: next packet picks it up
  updateConn(table, *c, Direction::kInput, 0, timeouts, kT0 + 2 * kSecond);
  EXPECT_EQ(c->timeout_s, 30u);
  EXPECT_EQ(table.lookup(k, kT0 + 33 * kSecond), nullptr);
  expectCounts(0, 0, 0, __LINE__);
}

TEST_F(ConnOps, SetTcpTimeoutAppliesToEstablished) {
  timeouts.applySet(7200, 15, 0);
  auto k = makeKey("10.0.0.5", 40000, "192.168.10.100", 80);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0);
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, kT0);
  EXPECT_EQ(c->timeout_s, 7200u);
  updateConn(table, *c, Direction::kInput, kTcpFin, timeouts, kT0);
  EXPECT_EQ(c->timeout_s, 15u);
}

TEST_F(ConnOps, TemplateKeyMasksClientAndPort) {
  auto k = makeKey("10.20.30.40", 40000, "192.168.10.100", 443);
  auto t = templateKey(k, 24, false);
  EXPECT_EQ(t.kind, SL_KEY_TEMPLATE);
  EXPECT_EQ(t.caddr[0], 10);
  EXPECT_EQ(t.caddr[2], 30);
  EXPECT_EQ(t.caddr[3], 0);
  EXPECT_EQ(t.cport, 0);
  EXPECT_EQ(t.vport, k.vport);
  EXPECT_EQ(templateKey(k, 24, true).vport, 0);
  auto k6 = makeKey("2001:db8:1:f2ff:3:4:5:6", 1, "2001:db8::100", 443);
  auto t6 = templateKey(k6, 52, false);
  EXPECT_EQ(t6.caddr[5], 0x01);
  EXPECT_EQ(t6.caddr[6], 0xf0);  // 52 bits end in the middle of this byte
  EXPECT_EQ(t6.caddr[7], 0x00);
  EXPECT_EQ(t6.caddr[15], 0x00);
  EXPECT_EQ(templateKey(k6, 128, false).caddr[15], 0x06);
  // Two clients in the same /24 share a template key; the conn keys differ.
  auto k2 = makeKey("10.20.30.99", 1234, "192.168.10.100", 443);
  auto t2 = templateKey(k2, 24, false);
  EXPECT_EQ(std::memcmp(&t, &t2, sizeof(t)), 0);
}

TEST_F(ConnOps, TemplatesCountAsPersistAndOutliveTheirConnections) {
  auto k = makeKey("10.20.30.40", 40000, "192.168.10.100", 443);
  auto tk = templateKey(k, 32, false);
  ASSERT_EQ(findTemplate(table, tk, kT0), nullptr);
  Binding b{1, 2, SL_FWD_DR};
  sl_conn* tmpl = createTemplate(table, tk, b, 300, kT0);
  ASSERT_NE(tmpl, nullptr);
  EXPECT_EQ(tmpl->state, SL_TCP_NONE);
  EXPECT_EQ(tmpl->timeout_s, 300u);
  EXPECT_TRUE(tmpl->flags & SL_CONN_F_TEMPLATE);
  EXPECT_EQ(counts[2].persist, 1u);
  EXPECT_EQ(counts[2].inactive, 0u);

  // A connection through the template 100 s later refreshes it.
  Nanos t1 = kT0 + 100 * kSecond;
  EXPECT_EQ(findTemplate(table, tk, t1), tmpl);
  sl_conn* c = createConn(table, k, {1, tmpl->dest_id, SL_FWD_DR}, timeouts, t1, tmpl);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(tmpl->last_seen_ns, t1);
  EXPECT_EQ(table.controlled(*tmpl), 1u);
  EXPECT_EQ(table.templateOf(*c), tmpl);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, t1);
  updateConn(table, *c, Direction::kInput, kTcpAck, timeouts, t1);  // 900 s from t1
  EXPECT_EQ(counts[2].active, 1u);

  // At t1 + 400 s the template is past its 300 s but still controls c: re-armed 60 s.
  Nanos t2 = t1 + 400 * kSecond;
  EXPECT_EQ(findTemplate(table, tk, t2), tmpl);
  EXPECT_EQ(tmpl->timeout_s, ConnTable::kTemplateRearmSeconds);
  EXPECT_EQ(tmpl->last_seen_ns, t2);
  EXPECT_EQ(table.stats().rearmed, 1u);
  // The sweep does not reap it either, and -Lnc still lists it.
  EXPECT_EQ(table.expireSome(t2 + 61 * kSecond, table.capacity()), 0u);
  size_t listed = 0;
  table.forEach(t2 + 61 * kSecond, [&](const sl_conn& e) { listed += e.key.kind == SL_KEY_TEMPLATE; });
  EXPECT_EQ(listed, 1u);

  // The connection goes: the template is free to expire.
  table.erase(c);
  EXPECT_EQ(table.controlled(*tmpl), 0u);
  EXPECT_EQ(counts[2].active, 0u);
  Nanos t3 = t2 + 200 * kSecond;
  EXPECT_EQ(findTemplate(table, tk, t3), nullptr);
  EXPECT_EQ(counts[2].persist, 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ConnOps, ExpiredConnReleasesTemplateControl) {
  auto k = makeKey("10.1.1.1", 1000, "192.168.10.100", 80, IPPROTO_UDP);
  sl_conn* tmpl = createTemplate(table, templateKey(k, 32, false), dr, 10, kT0);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0, tmpl);  // UDP: 300 s
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(table.controlled(*tmpl), 1u);
  Nanos later = kT0 + 301 * kSecond;
  // One sweep pass: the connection is reaped; the template is either re-armed (if visited
  // first) or reaped (if visited after); a second pass later finishes it in any case.
  table.expireSome(later, table.capacity());
  EXPECT_EQ(table.lookup(k, later), nullptr);
  table.expireSome(later + 61 * kSecond, table.capacity());
  EXPECT_EQ(table.size(), 0u);
  expectCounts(0, 0, 0, __LINE__);
}

TEST_F(ConnOps, TemplatesStayPutAndLinksSurviveMovesAtHighLoad) {
  ConnTable small(256, &dests);
  auto base = makeKey("10.7.7.7", 1, "192.168.10.100", 80);
  auto tk = templateKey(base, 32, true);
  sl_conn* tmpl = createTemplate(small, tk, dr, 300, kT0);
  ASSERT_NE(tmpl, nullptr);
  std::vector<sl_conn_key> controlled_keys;
  for (uint16_t p = 1; p <= 40; ++p) {
    auto k = makeKey("10.7.7.7", p, "192.168.10.100", 80);
    ASSERT_NE(createConn(small, k, dr, timeouts, kT0, tmpl), nullptr);
    controlled_keys.push_back(k);
  }
  // Fill until refused, forcing entries to move between their two buckets.
  for (uint32_t i = 0; i < 400; ++i) createConn(small, indexedKey(i), dr, timeouts, kT0);
  ASSERT_GT(small.stats().moved, 0u);
  ASSERT_GT(small.stats().full, 0u);
  EXPECT_EQ(findTemplate(small, tk, kT0), tmpl);  // same slot as at creation
  EXPECT_EQ(small.controlled(*tmpl), 40u);
  for (const auto& k : controlled_keys) {
    sl_conn* c = small.lookup(k, kT0);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(small.templateOf(*c), tmpl);
  }
  EXPECT_EQ(counts[0].inactive, small.size() - 1);
  EXPECT_EQ(counts[0].persist, 1u);
}

TEST_F(ConnOps, ErasingAControllingTemplateDetachesItsConnections) {
  auto k = makeKey("10.1.1.2", 1000, "192.168.10.100", 80);
  sl_conn* tmpl = createTemplate(table, templateKey(k, 32, false), dr, 300, kT0);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0, tmpl);
  table.erase(tmpl);
  EXPECT_EQ(table.templateOf(*c), nullptr);
  // The freed slot may be reused by another template: c must not decrement it.
  sl_conn* t2 = createTemplate(table, templateKey(makeKey("10.9.9.9", 1, "192.168.10.100", 80), 32, false),
                               dr, 300, kT0);
  sl_conn* c2 = createConn(table, makeKey("10.9.9.9", 1, "192.168.10.100", 80), dr, timeouts, kT0, t2);
  ASSERT_NE(c2, nullptr);
  table.erase(c);
  EXPECT_EQ(table.controlled(*t2), 1u);
}

TEST_F(ConnOps, InvalidatedTemplateIsNotFoundButLingers) {
  auto k = makeKey("10.1.1.3", 1000, "192.168.10.100", 80);
  auto tk = templateKey(k, 32, false);
  sl_conn* tmpl = createTemplate(table, tk, dr, 300, kT0);
  sl_conn* c = createConn(table, k, dr, timeouts, kT0, tmpl);
  ASSERT_NE(c, nullptr);
  invalidateTemplate(*tmpl);
  EXPECT_EQ(findTemplate(table, tk, kT0), nullptr);
  EXPECT_EQ(ntohs(tmpl->key.vport), 65535);
  EXPECT_EQ(table.controlled(*tmpl), 1u);
  Binding other{1, 3, SL_FWD_DR};
  sl_conn* fresh = createTemplate(table, tk, other, 300, kT0);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(findTemplate(table, tk, kT0), fresh);
  EXPECT_EQ(counts[0].persist, 1u);
  EXPECT_EQ(counts[3].persist, 1u);
}

TEST_F(ConnOps, OverloadWithUpperThresholdOnly) {
  dests.setLimits(0, {4, 0});
  std::vector<sl_conn*> cs;
  for (uint32_t i = 0; i < 4; ++i) {
    cs.push_back(createConn(table, indexedKey(i), dr, timeouts, kT0));
    EXPECT_EQ(dests.overloaded(0), i == 3) << i;  // at 4 = -x
  }
  // Templates do not count toward the threshold.
  table.erase(cs.back());
  cs.pop_back();
  EXPECT_TRUE(dests.overloaded(0));  // 3 * 4 = 12, not < 4 * 3
  createTemplate(table, templateKey(indexedKey(50), 32, false), dr, 300, kT0);
  EXPECT_TRUE(dests.overloaded(0));
  table.erase(cs.back());
  cs.pop_back();
  EXPECT_FALSE(dests.overloaded(0));  // 2 * 4 < 12: under 3/4 of -x
  cs.push_back(createConn(table, indexedKey(10), dr, timeouts, kT0));
  EXPECT_FALSE(dests.overloaded(0));  // 3 < 4
}

TEST_F(ConnOps, OverloadWithUpperAndLowerThresholds) {
  dests.setLimits(0, {4, 2});
  std::vector<sl_conn*> cs;
  for (uint32_t i = 0; i < 4; ++i) cs.push_back(createConn(table, indexedKey(i), dr, timeouts, kT0));
  EXPECT_TRUE(dests.overloaded(0));
  table.erase(cs[3]);
  EXPECT_TRUE(dests.overloaded(0));  // 3
  table.erase(cs[2]);
  EXPECT_TRUE(dests.overloaded(0));  // 2, not < 2
  table.erase(cs[1]);
  EXPECT_FALSE(dests.overloaded(0));  // 1 < 2
}

TEST_F(ConnOps, OverloadClearsThroughExpiryToo) {
  dests.setLimits(0, {2, 1});
  createConn(table, indexedKey(1), dr, timeouts, kT0);
  createConn(table, indexedKey(2), dr, timeouts, kT0);
  EXPECT_TRUE(dests.overloaded(0));
  // NONE state: 2 s timeout. The sweep frees both and the flag follows.
  table.expireSome(kT0 + 3 * kSecond, table.capacity());
  EXPECT_FALSE(dests.overloaded(0));
  expectCounts(0, 0, 0, __LINE__);
}

TEST_F(ConnOps, RaisingOrRemovingThresholdClearsOverload) {
  dests.setLimits(0, {1, 0});
  createConn(table, indexedKey(1), dr, timeouts, kT0);
  EXPECT_TRUE(dests.overloaded(0));
  dests.setLimits(0, {1, 0});  // unchanged: stays
  EXPECT_TRUE(dests.overloaded(0));
  dests.setLimits(0, {5, 0});
  EXPECT_FALSE(dests.overloaded(0));
  dests.setLimits(0, {1, 0});  // lowered: takes effect at the next bind
  EXPECT_FALSE(dests.overloaded(0));
  createConn(table, indexedKey(2), dr, timeouts, kT0);
  EXPECT_TRUE(dests.overloaded(0));
  dests.setLimits(0, {0, 0});
  EXPECT_FALSE(dests.overloaded(0));
}

TEST_F(ConnOps, DestIdsOutsideTheArraysAreNotCounted) {
  Binding far{1, 99, SL_FWD_DR};
  sl_conn* c = createConn(table, indexedKey(1), far, timeouts, kT0);
  ASSERT_NE(c, nullptr);
  updateConn(table, *c, Direction::kInput, kTcpSyn, timeouts, kT0);
  EXPECT_FALSE(c->flags & SL_CONN_F_INACTIVE);  // the flag still tracks the state
  table.erase(c);
  for (auto& d : counts) EXPECT_EQ(d.active + d.inactive + d.persist, 0u);
}

}  // namespace
}  // namespace sluice::conn
