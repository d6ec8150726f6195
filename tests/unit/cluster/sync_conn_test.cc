#include "cluster/sync_conn.h"

#include <gtest/gtest.h>

#include <cstring>

#include "conn/conn_ops.h"
#include "unit/cluster/entries.h"
#include "unit/conn/keys.h"

namespace sluice::cluster {
namespace {

using testing::ep;

bool sameKey(const sl_conn_key& a, const sl_conn_key& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

sl_conn connOf(const sl_conn_key& k, Nanos last_seen, uint32_t timeout_s) {
  sl_conn c{};
  c.key = k;
  c.last_seen_ns = last_seen;
  c.timeout_s = timeout_s;
  c.state = SL_TCP_ESTABLISHED;
  c.fwd = SL_FWD_DR;
  c.flags = SL_CONN_F_INACTIVE | SL_CONN_F_CONTROLLED;
  c.dest_id = 3;  // local ids never travel
  c.svc_id = 9;
  return c;
}

TEST(SyncConn, AControlledConnectionTravelsAndComesBackAsItsKeys) {
  sl_conn_key k = conn::testing::makeKey("198.51.100.77", 40000, "192.0.2.1", 80);
  sl_conn_key t = conn::templateKey(k, 24, /*any_port=*/false);
  Nanos now = 5000 * kSecond;
  sl_conn c = connOf(k, now - 100 * kSecond - kSecond / 2, 900);
  ConnContext ctx{ep("10.0.0.10", 8080), 0, 80, &t, {}};
  SyncEntry e = entryFromConn(c, ctx, now);
  ASSERT_TRUE(validateEntry(e).ok()) << validateEntry(e).error().message;
  EXPECT_EQ(e.timeout_s, 800u);  // 799.5 s left, rounded up
  EXPECT_EQ(e.flags, SL_CONN_F_CONTROLLED);  // the sender's accounting bit stays home
  EXPECT_EQ(e.client, ep("198.51.100.77", 40000));
  EXPECT_EQ(e.dest, ep("10.0.0.10", 8080));
  EXPECT_EQ(e.tmpl_caddr, *net::IpAddr::parse("198.51.100.0"));
  EXPECT_TRUE(sameKey(connKeyOf(e), k));
  auto tk = templateKeyOf(e);
  ASSERT_TRUE(tk.has_value());
  EXPECT_TRUE(sameKey(*tk, t));
}

TEST(SyncConn, TemplatesOfPortZeroServicesAndExpiringEntries) {
  sl_conn_key k = conn::testing::makeKey("2001:db8:1::5", 1234, "2001:db8::80", 443);
  sl_conn_key t = conn::templateKey(k, 64, /*any_port=*/true);
  Nanos now = 5000 * kSecond;
  sl_conn tc = connOf(t, now - 400 * kSecond, 300);  // past its deadline
  tc.state = SL_TCP_NONE;
  tc.flags = SL_CONN_F_TEMPLATE | SL_CONN_F_ASSURED;
  SyncEntry e = entryFromConn(tc, ConnContext{ep("2001:db8:2::1", 443), 0, 0, nullptr, {}}, now);
  EXPECT_EQ(e.timeout_s, 1u);
  ASSERT_TRUE(validateEntry(e).ok()) << validateEntry(e).error().message;
  EXPECT_TRUE(sameKey(connKeyOf(e), t));
  EXPECT_FALSE(templateKeyOf(e).has_value());
}

}  // namespace
}  // namespace sluice::cluster
