#include "conn/conn_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "unit/conn/keys.h"

namespace sluice::conn {
namespace {

using testing::indexedKey;
using testing::makeKey;

constexpr Nanos kT0 = 1000 * kSecond;

// As conn_ops does: insert (handed back locked), fill, unlock.
sl_conn* put(ConnTable& t, const sl_conn_key& k, Nanos now, uint32_t timeout_s = 60) {
  sl_conn* c = t.insert(k, now);
  if (c) {
    c->timeout_s = timeout_s;
    ConnTable::unlockEntry(*c);
  }
  return c;
}

TEST(ConnTable, InsertLookupEraseBothFamilies) {
  ConnTable t(1024);
  auto k4 = makeKey("10.0.0.1", 40000, "192.168.10.100", 80);
  auto k6 = makeKey("2001:db8::1", 40000, "2001:db8::100", 80);
  EXPECT_EQ(t.lookup(k4, kT0), nullptr);
  sl_conn* c4 = put(t, k4, kT0);
  sl_conn* c6 = put(t, k6, kT0);
  ASSERT_NE(c4, nullptr);
  ASSERT_NE(c6, nullptr);
  EXPECT_NE(c4, c6);
  EXPECT_EQ(t.size(), 2u);
  // insert() hands back a zeroed record with only the key and last_seen set.
  EXPECT_EQ(c4->dest_id, 0u);
  EXPECT_EQ(c4->state, 0);
  EXPECT_EQ(c4->last_seen_ns, kT0);
  c4->dest_id = 7;
  EXPECT_EQ(t.lookup(k4, kT0 + kSecond), c4);
  EXPECT_EQ(t.lookup(k6, kT0 + kSecond), c6);
  EXPECT_EQ(t.lookup(k4, kT0)->dest_id, 7u);
  // A key differing in any one field misses.
  auto other_port = makeKey("10.0.0.1", 40001, "192.168.10.100", 80);
  auto other_proto = makeKey("10.0.0.1", 40000, "192.168.10.100", 80, IPPROTO_UDP);
  auto other_vip = makeKey("10.0.0.1", 40000, "192.168.10.101", 80);
  EXPECT_EQ(t.lookup(other_port, kT0), nullptr);
  EXPECT_EQ(t.lookup(other_proto, kT0), nullptr);
  EXPECT_EQ(t.lookup(other_vip, kT0), nullptr);
  t.erase(c4);
  EXPECT_EQ(t.lookup(k4, kT0), nullptr);
  EXPECT_EQ(t.lookup(k6, kT0), c6);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.stats().expired, 0u);  // an erase is not an expiry
}

TEST(ConnTable, RejectsEmptyFamilyKeys) {
  ConnTable t(64);
  sl_conn_key k{};
  EXPECT_EQ(t.insert(k, kT0), nullptr);
  EXPECT_EQ(t.lookup(k, kT0), nullptr);  // must not "find" an empty slot
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, CallerProvidedStorageIsUsedInWholeBuckets) {
  std::vector<sl_conn> storage(10);  // 2 buckets + 2 unused slots
  ConnTable t(std::span<sl_conn>(storage), nullptr);
  EXPECT_EQ(t.capacity(), 8u);
  sl_conn* c = put(t, indexedKey(1), kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_GE(c, storage.data());
  EXPECT_LT(c, storage.data() + 8);
}

TEST(ConnTable, SeedChangesPlacementButHashIsDeterministic) {
  ConnTable a(1024, nullptr, 1), b(1024, nullptr, 1), c(1024, nullptr, 2);
  auto k = indexedKey(42);
  EXPECT_EQ(a.hash(k), b.hash(k));
  EXPECT_NE(a.hash(k), c.hash(k));
  // The hash depends on every byte of the key.
  for (size_t byte = 0; byte < sizeof(sl_conn_key); ++byte) {
    auto k2 = k;
    reinterpret_cast<uint8_t*>(&k2)[byte] ^= 1;
    EXPECT_NE(a.hash(k), a.hash(k2)) << byte;
  }
}

TEST(ConnTable, ExpiredHitIsReapedLazily) {
  ConnTable t(256);
  auto k = indexedKey(5);
  put(t, k, kT0, 10);
  EXPECT_NE(t.lookup(k, kT0 + 10 * kSecond), nullptr);  // exactly at the deadline: alive
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(k, kT0 + 10 * kSecond + 1), nullptr);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.stats().expired, 1u);
  // A clock behind last_seen never expires anything.
  put(t, k, kT0, 0);
  EXPECT_NE(t.lookup(k, kT0 - kSecond), nullptr);
}

TEST(ConnTable, RemainingTime) {
  sl_conn c{};
  c.last_seen_ns = kT0;
  c.timeout_s = 90;
  EXPECT_EQ(ConnTable::remaining(c, kT0 + 30 * kSecond), 60 * kSecond);
  EXPECT_EQ(ConnTable::remaining(c, kT0 + 100 * kSecond), 0u);
}

TEST(ConnTable, SweepReapsOnlyExpiredAndWraps) {
  ConnTable t(4096);
  for (uint32_t i = 0; i < 1000; ++i) put(t, indexedKey(i), kT0, i % 2 ? 10 : 100);
  ASSERT_EQ(t.size(), 1000u);
  Nanos later = kT0 + 50 * kSecond;
  // In bounded steps: each call looks at most at max_slots slots.
  size_t reaped = 0, calls = 0;
  while (calls * 512 < t.capacity()) {
    size_t n = t.expireSome(later, 512);
    EXPECT_LE(n, 512u);
    reaped += n;
    ++calls;
  }
  EXPECT_EQ(reaped, 500u);
  EXPECT_EQ(t.size(), 500u);
  EXPECT_EQ(t.stats().expired, 500u);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(t.lookup(indexedKey(i), later) != nullptr, i % 2 == 0);
  // The cursor wraps: another full pass later reaps the rest.
  Nanos much_later = kT0 + 200 * kSecond;
  reaped = 0;
  for (size_t n = 0; n < t.capacity(); n += 1000) reaped += t.expireSome(much_later, 1000);
  EXPECT_EQ(reaped, 500u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, ForEachSkipsExpiredAndEraseIfCounts) {
  ConnTable t(256);
  for (uint32_t i = 0; i < 20; ++i) put(t, indexedKey(i), kT0, i < 5 ? 1 : 100);
  std::set<uint16_t> seen;
  t.forEach(kT0 + 10 * kSecond, [&](const sl_conn& c) { seen.insert(ntohs(c.key.cport)); });
  EXPECT_EQ(seen.size(), 15u);
  EXPECT_FALSE(seen.count(3));
  EXPECT_TRUE(seen.count(7));
  size_t n = t.eraseIf([](const sl_conn& c) { return ntohs(c.key.cport) % 2 == 0; });
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(t.size(), 10u);
}

TEST(ConnTable, FullBucketsRefuseThenRecoverAfterExpiry) {
  // Two buckets only: every key maps to buckets {0, 1}, 8 slots in all.
  ConnTable t(8);
  ASSERT_EQ(t.capacity(), 8u);
  for (uint32_t i = 0; i < 8; ++i) ASSERT_NE(put(t, indexedKey(i), kT0, 10), nullptr) << i;
  EXPECT_EQ(t.insert(indexedKey(100), kT0 + kSecond), nullptr);
  EXPECT_EQ(t.stats().full, 1u);
  EXPECT_EQ(t.size(), 8u);
  // Live entries are never evicted.
  for (uint32_t i = 0; i < 8; ++i) EXPECT_NE(t.lookup(indexedKey(i), kT0 + kSecond), nullptr);
  // Once they expire, insert reaps them in place (no sweep needed).
  Nanos later = kT0 + 11 * kSecond;
  sl_conn* c = put(t, indexedKey(100), later);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(t.lookup(indexedKey(100), later), c);
  EXPECT_GE(t.stats().expired, 1u);
  EXPECT_EQ(t.size() + t.stats().expired, 9u);
}

// Fill a table with random keys until inserts fail, and measure how full it got. The
// numbers are the ones the header comment quotes.
TEST(ConnTable, HighLoadFactorWithRandomKeys) {
  const size_t kCap = 1 << 18;
  ConnTable t(kCap, nullptr, 12345);
  std::mt19937_64 rng(7);
  size_t first_fail = 0, failures = 0, attempts = 0;
  std::vector<sl_conn_key> stored;
  while (attempts < 2 * kCap && failures < 1000) {
    sl_conn_key k{};
    uint64_t r[5] = {rng(), rng(), rng(), rng(), rng()};
    std::memcpy(k.caddr, &r[0], 16);
    std::memcpy(k.vaddr, &r[2], 16);
    uint32_t ports = uint32_t(r[4]);
    std::memcpy(&k.cport, &ports, 4);
    k.proto = IPPROTO_TCP;
    k.family = (r[4] >> 32) & 1 ? SL_AF_V6 : SL_AF_V4;
    k.kind = SL_KEY_CONN;
    ++attempts;
    if (!put(t, k, kT0)) {
      if (!first_fail) first_fail = t.size();
      ++failures;
    } else {
      stored.push_back(k);
    }
  }
  // Entries moved to make room are all still found, each exactly where lookup says.
  size_t found = 0;
  for (const auto& k : stored) {
    sl_conn* c = t.lookup(k, kT0);
    found += c && std::memcmp(&c->key, &k, sizeof(k)) == 0;
  }
  EXPECT_EQ(found, stored.size());
  EXPECT_EQ(t.size(), stored.size());
  EXPECT_GT(t.stats().moved, 0u);
  double at_first_fail = double(first_fail) / double(t.capacity());
  double final_load = double(t.size()) / double(t.capacity());
  RecordProperty("load_at_first_failure", std::to_string(at_first_fail));
  RecordProperty("load_after_1000_failures", std::to_string(final_load));
  std::printf("load factor: first refusal at %.3f, %.3f after 1000 refusals\n", at_first_fail,
              final_load);
  EXPECT_GT(at_first_fail, 0.85);
  EXPECT_GT(final_load, 0.93);
  EXPECT_EQ(t.stats().full, failures);
}

}  // namespace
}  // namespace sluice::conn
