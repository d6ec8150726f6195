// ConnTable over storage a previous owner filled (pinned maps after a daemon restart):
// entries are counted and found, and locks the dead owner held are recovered.
#include <vector>

#include <gtest/gtest.h>

#include "conn/conn_table.h"
#include "abi/conn_hash.h"
#include "unit/conn/keys.h"

using namespace sluice;
using namespace sluice::conn;
using namespace sluice::conn::testing;

namespace {

constexpr uint64_t kSeed = 0x1234;
constexpr Nanos kNow = 1000 * kSecond;

// Fills `n` entries the way conn_ops does (insert, fill, unlock) in a table that then goes.
void fill(std::vector<sl_conn>& storage, uint32_t n) {
  ConnTable t(std::span<sl_conn>(storage), nullptr, kSeed);
  for (uint32_t i = 0; i < n; ++i) {
    sl_conn* c = t.insert(indexedKey(i), kNow);
    ASSERT_NE(c, nullptr);
    c->dest_id = i % 7;
    c->timeout_s = 900;
    c->state = SL_TCP_ESTABLISHED;
    ConnTable::unlockEntry(*c);
  }
}

size_t slotOf(const std::vector<sl_conn>& storage, const sl_conn_key& k) {
  for (size_t i = 0; i < storage.size(); ++i)
    if (std::memcmp(&storage[i].key, &k, sizeof k) == 0) return i;
  return storage.size();
}

TEST(ConnTableRecover, CountsAndFindsEntriesLeftInStorage) {
  std::vector<sl_conn> storage(1024);
  fill(storage, 300);
  ConnTable t(std::span<sl_conn>(storage), nullptr, kSeed);
  EXPECT_EQ(t.size(), 300u);
  EXPECT_EQ(t.stats().recovered, 0u);
  for (uint32_t i = 0; i < 300; ++i) {
    sl_conn* c = t.lookup(indexedKey(i), kNow + kSecond);
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->dest_id, i % 7);
  }
  // The same storage under another seed would look in the wrong buckets: the seed is part
  // of what must survive a restart.
  ConnTable other(std::span<sl_conn>(storage), nullptr, kSeed + 1);
  size_t found = 0;
  for (uint32_t i = 0; i < 300; ++i) found += other.lookup(indexedKey(i), kNow) != nullptr;
  EXPECT_LT(found, 300u);
}

TEST(ConnTableRecover, UnlocksAnEntryItsDeadOwnerHeld) {
  std::vector<sl_conn> storage(1024);
  fill(storage, 50);
  size_t i = slotOf(storage, indexedKey(17));
  ASSERT_LT(i, storage.size());
  ConnTable::lockEntry(storage[i]);
  ConnTable t(std::span<sl_conn>(storage), nullptr, kSeed);
  EXPECT_EQ(t.size(), 50u);
  EXPECT_EQ(t.stats().recovered, 1u);
  EXPECT_EQ(storage[i].lock, 0);
  EXPECT_EQ(storage[i].state, SL_TCP_ESTABLISHED);  // the rest of the word is kept
  EXPECT_NE(t.lookup(indexedKey(17), kNow), nullptr);
}

TEST(ConnTableRecover, KeepsOneCopyOfAnEntryCaughtMidMove) {
  std::vector<sl_conn> storage(1024);
  fill(storage, 50);
  const sl_conn_key k = indexedKey(23);
  size_t src = slotOf(storage, k);
  ASSERT_LT(src, storage.size());
  // move() copies the entry, locked, to the key's other bucket before it clears the
  // original: die in between.
  uint32_t b1, b2;
  sl_conn_buckets(sl_conn_hash(&k, kSeed), uint32_t(storage.size() / 4), &b1, &b2);
  size_t other = (src / 4 == b1) ? b2 : b1;
  size_t dst = storage.size();
  for (size_t s = 0; s < 4; ++s)
    if (storage[other * 4 + s].key.family == SL_AF_NONE) dst = other * 4 + s;
  ASSERT_LT(dst, storage.size()) << "test table too full";
  ConnTable::lockEntry(storage[src]);
  storage[dst] = storage[src];

  ConnTable t(std::span<sl_conn>(storage), nullptr, kSeed);
  EXPECT_EQ(t.size(), 50u);
  int copies = 0;
  for (const sl_conn& c : storage)
    if (std::memcmp(&c.key, &k, sizeof k) == 0) {
      ++copies;
      EXPECT_EQ(c.lock, 0);
    }
  EXPECT_EQ(copies, 1);
  sl_conn* c = t.lookup(k, kNow);
  ASSERT_NE(c, nullptr);
  t.erase(c);
  EXPECT_EQ(t.lookup(k, kNow), nullptr);  // no second copy resurfaces
  EXPECT_EQ(t.size(), 49u);
}

}  // namespace
