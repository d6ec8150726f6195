// Several workers on one connection table (conn_table.h, "Threading"): threads inserting
// the same and different keys, looking up and updating while others move and expire
// entries. The checks are invariants that any lost or doubled entry breaks: every key at
// most once in the storage, the size and the per-dest counts equal to what the storage
// holds, and a resident key found by every lock-free lookup. Run under ASan too.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "conn/conn_ops.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "keys.h"

namespace sluice::conn {
namespace {

using testing::indexedKey;

constexpr unsigned kThreads = 4;
constexpr Nanos kT0 = 1000 * kSecond;

// Storage the test can inspect, as the daemon's is the BPF map's.
struct SharedTable {
  explicit SharedTable(size_t capacity, uint32_t dests = 8)
      : storage(capacity), counts(dests), limits(dests), acct(counts, limits),
        table(storage, &acct) {}
  std::vector<sl_conn> storage;
  std::vector<sl_dest_counts> counts;
  std::vector<DestLimits> limits;
  DestAccounting acct;
  ConnTable table;

  // Key -> how many slots hold it, over the raw storage.
  std::map<std::vector<uint8_t>, int> occurrences() const {
    std::map<std::vector<uint8_t>, int> seen;
    for (const sl_conn& c : storage) {
      if (c.key.family == SL_AF_NONE) continue;
      const auto* b = reinterpret_cast<const uint8_t*>(&c.key);
      ++seen[std::vector<uint8_t>(b, b + sizeof c.key)];
    }
    return seen;
  }
  size_t occupied() const {
    size_t n = 0;
    for (const sl_conn& c : storage) n += c.key.family != SL_AF_NONE;
    return n;
  }
  uint64_t counted() const {
    uint64_t n = 0;
    for (uint32_t id = 0; id < counts.size(); ++id) {
      sl_dest_counts c = acct.read(id);
      n += c.active + c.inactive + c.persist;
    }
    return n;
  }
  void expectConsistent() const {
    for (const auto& [key, n] : occurrences()) EXPECT_EQ(n, 1) << "a key is in the table twice";
    for (const sl_conn& c : storage) EXPECT_EQ(c.lock, 0) << "an entry was left locked";
    EXPECT_EQ(table.size(), occupied());
    EXPECT_EQ(counted(), occupied()) << "the per-dest counts drifted from the entries";
  }
};

// What a worker does with a packet's key (dp::Datapath::finish): a lock-free lookup and
// the entry's lock, else the writer lock, a second lookup and an insert. Returns whether
// this call created the entry; false when it existed or the table was full.
bool touch(ConnTable& t, const sl_conn_key& key, uint32_t dest_id, Nanos now, bool* full = nullptr) {
  const TimeoutTable timeouts;
  for (int tries = 0; tries < 4; ++tries) {
    sl_conn* c = t.lookup(key, now);
    if (!c) break;
    if (ConnTable::lockIfStill(*c, key)) {
      c->last_seen_ns = now;
      ConnTable::unlockEntry(*c);
      return false;
    }
  }
  ConnTable::WriterLock lock = t.lockWriter();
  if (t.lookup(key, now)) return false;
  sl_conn* c = createConn(t, key, Binding{1, dest_id, SL_FWD_DR}, timeouts, now);
  if (!c && full) *full = true;
  return c != nullptr;
}

TEST(ConnTableConcurrency, ThreadsCreatingTheSameKeysCreateEachOnce) {
  SharedTable s(8192);
  constexpr uint32_t kKeys = 3000;
  std::atomic<uint32_t> created{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread walks all keys, from a different starting point and direction, so
      // each key is raced for by threads at different moments of its insert.
      for (uint32_t n = 0; n < kKeys; ++n) {
        uint32_t i = t % 2 ? (n + t * 997) % kKeys : (kKeys - 1 - (n + t * 997) % kKeys);
        if (touch(s.table, indexedKey(i), i % 8, kT0)) created.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), kKeys);
  EXPECT_EQ(s.table.size(), kKeys);
  EXPECT_EQ(s.occurrences().size(), kKeys);
  s.expectConsistent();
}

TEST(ConnTableConcurrency, ThreadsCreatingDifferentKeysKeepEveryOne) {
  // Nearly full (90%), so inserts move other threads' entries between their buckets.
  SharedTable s(4096);
  constexpr uint32_t kPerThread = 900;
  std::atomic<uint32_t> created{0}, full{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t n = 0; n < kPerThread; ++n) {
        uint32_t i = t * kPerThread + n;
        bool was_full = false;
        if (touch(s.table, indexedKey(i), t, kT0, &was_full)) created.fetch_add(1);
        if (was_full) full.fetch_add(1);
        // And the thread's own earlier keys are found again every time.
        uint32_t back = t * kPerThread + n / 2;
        EXPECT_FALSE(touch(s.table, indexedKey(back), t, kT0)) << "key " << back << " was lost";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load() + full.load(), kThreads * kPerThread);
  EXPECT_GT(s.table.stats().moved, 0u) << "the test should make inserts move entries";
  s.expectConsistent();
}

TEST(ConnTableConcurrency, LockFreeLookupsFindEntriesWhileOthersMoveThem) {
  SharedTable s(2048);
  // Residents fill 80%; a churn thread inserts and erases other keys, which moves residents.
  constexpr uint32_t kResidents = 1640;
  for (uint32_t i = 0; i < kResidents; ++i)
    ASSERT_TRUE(touch(s.table, indexedKey(i), i % 8, kT0)) << i;
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (int round = 0; round < 40; ++round) {
      std::vector<sl_conn_key> added;
      for (uint32_t i = 0; i < 300; ++i) {
        sl_conn_key k = indexedKey(100000 + uint32_t(round) * 1000 + i);
        if (touch(s.table, k, 7, kT0)) added.push_back(k);
      }
      for (const sl_conn_key& k : added) EXPECT_TRUE(s.table.erase(k));
    }
    stop.store(true);
  });
  std::atomic<uint64_t> misses{0}, wrong{0}, lookups{0};
  std::vector<std::thread> readers;
  for (unsigned t = 0; t + 1 < kThreads; ++t) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (uint32_t i = 0; i < kResidents; ++i) {
          const sl_conn_key k = indexedKey(i);
          sl_conn* c = nullptr;
          for (int tries = 0; tries < 100 && !c; ++tries) {
            c = s.table.lookup(k, kT0);
            if (!c) break;
            if (!ConnTable::lockIfStill(*c, k)) c = nullptr;
          }
          lookups.fetch_add(1, std::memory_order_relaxed);
          if (!c) {
            misses.fetch_add(1);
            continue;
          }
          // Locked and still ours: the whole record is this key's, not a torn copy.
          if (c->dest_id != i % 8 || std::memcmp(&c->key, &k, sizeof k) != 0) wrong.fetch_add(1);
          ConnTable::unlockEntry(*c);
        }
      }
    });
  }
  churn.join();
  for (auto& th : readers) th.join();
  EXPECT_EQ(misses.load(), 0u) << "of " << lookups.load() << " lookups of resident keys";
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(s.table.stats().moved, 0u);
  EXPECT_EQ(s.table.size(), kResidents);
  s.expectConsistent();
}

TEST(ConnTableConcurrency, ExpiryRacesLookupsUpdatesAndInserts) {
  SharedTable s(8192);
  constexpr uint32_t kKeys = 2000;
  std::atomic<Nanos> now{kT0};
  std::atomic<unsigned> started{0};
  std::atomic<bool> stop{false};
  // The workers keep refreshing (and re-creating) the keys while the sweeper moves time on
  // and reaps, so entries expire, are found, refreshed and inserted again under each other.
  std::vector<std::thread> workers;
  for (unsigned t = 0; t + 1 < kThreads; ++t) {
    workers.emplace_back([&, t] {
      uint32_t i = t * 331;
      for (int n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        if (n == kKeys) started.fetch_add(1);  // every key touched once
        i = (i + 7) % kKeys;
        touch(s.table, indexedKey(i), i % 8, now.load());
        if (i % 13 == 0) s.table.erase(indexedKey((i + 1) % kKeys));
      }
    });
  }
  std::thread sweeper([&] {
    while (started.load() < kThreads - 1) std::this_thread::yield();
    // Each step is longer than the NONE state's 2 s timeout: whatever the workers did not
    // refresh since the last step expires under their feet.
    for (int step = 0; step < 200; ++step) {
      now.fetch_add(3 * kSecond);
      s.table.expireSome(now.load(), 1024);
      s.table.tryExpireSome(now.load(), 1024);
      std::this_thread::yield();
    }
    stop.store(true);
  });
  sweeper.join();
  for (auto& th : workers) th.join();
  EXPECT_GT(s.table.stats().expired, 0u) << "the test should make entries expire";
  s.expectConsistent();
  // Everything expires in the end, and the counts go back to zero with it.
  s.table.expireSome(now.load() + 3600 * kSecond, s.table.capacity());
  EXPECT_EQ(s.table.size(), 0u);
  EXPECT_EQ(s.counted(), 0u);
}

}  // namespace
}  // namespace sluice::conn
