#include "cluster/sync_queue.h"

#include <gtest/gtest.h>

#include "cluster/sync_wire.h"
#include "unit/cluster/entries.h"

namespace sluice::cluster {
namespace {

using namespace testing;

// A budget large enough never to matter, for the tests of the other bounds.
SyncQueueConfig roomy(size_t max_pending) {
  return SyncQueueConfig{max_pending, 1'000'000'000, 1'000'000'000};
}

constexpr uint64_t kFullDatagram = kHeaderSize + kMaxUpdateEntries * kEntryWireSize + kTagSize;

TEST(SyncQueue, AStormOnOneFlowCostsOneSlotAndSendsTheLatestState) {
  ManualClock clock;
  SyncQueue q(clock, roomy(16));
  SyncEntry e = drConn();
  for (uint32_t i = 1; i <= 1000; ++i) {
    e.timeout_s = i;
    q.push(e, Urgency::kRefresh);
  }
  EXPECT_EQ(q.pending(), 1u);
  EXPECT_EQ(q.stats().coalesced, 999u);
  auto b = q.takeBatch(kMaxUpdateEntries);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].timeout_s, 1000u);
  EXPECT_EQ(q.pending(), 0u);
  // Sent: the next update of the flow queues again.
  q.push(e, Urgency::kRefresh);
  EXPECT_EQ(q.pending(), 1u);
}

TEST(SyncQueue, KeysDifferByEveryPartOfTheConnectionKey) {
  ManualClock clock;
  SyncQueue q(clock, roomy(16));
  q.push(drConn(1), Urgency::kRefresh);
  q.push(drConn(2), Urgency::kRefresh);                   // client port
  q.push(drConn(1, "198.51.100.8"), Urgency::kRefresh);   // client address
  SyncEntry udp = udpFwmarkConn();
  udp.client.port = 1;
  q.push(udp, Urgency::kRefresh);                         // protocol
  SyncEntry other_vport = drConn(1);
  other_vport.vip.port = 443;
  other_vport.svc_port = 443;
  q.push(other_vport, Urgency::kRefresh);
  SyncEntry dest_moved = drConn(1);
  dest_moved.dest = ep("10.0.0.11", 80);                  // same connection, new real server
  q.push(dest_moved, Urgency::kRefresh);
  EXPECT_EQ(q.pending(), 5u);
  EXPECT_EQ(q.stats().coalesced, 1u);
}

TEST(SyncQueue, CriticalLeavesFirstAndAnUpdateKeepsARefreshInPlace) {
  ManualClock clock;
  SyncQueue q(clock, roomy(16));
  q.push(drConn(1), Urgency::kRefresh);
  q.push(drConn(2), Urgency::kRefresh);
  q.push(drConn(3), Urgency::kCritical);
  q.push(drConn(1), Urgency::kRefresh);   // updated, keeps its place before 2
  q.push(drConn(2), Urgency::kCritical);  // promoted, after 3
  auto b = q.takeBatch(kMaxUpdateEntries);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].client.port, 3);
  EXPECT_EQ(b[1].client.port, 2);
  EXPECT_EQ(b[2].client.port, 1);
  EXPECT_EQ(q.pendingCritical(), 0u);
}

TEST(SyncQueue, AFullQueueDropsTheOldestRefreshNeverACriticalUpdate) {
  ManualClock clock;
  SyncQueue q(clock, roomy(4));
  q.push(drConn(1), Urgency::kRefresh);
  q.push(drConn(2), Urgency::kCritical);
  q.push(drConn(3), Urgency::kRefresh);
  q.push(drConn(4), Urgency::kCritical);
  q.push(drConn(5), Urgency::kCritical);  // drops refresh 1
  EXPECT_EQ(q.stats().dropped_oldest, 1u);
  q.push(drConn(6), Urgency::kRefresh);   // drops refresh 3
  EXPECT_EQ(q.stats().dropped_oldest, 2u);
  q.push(drConn(7), Urgency::kRefresh);   // drops refresh 6
  EXPECT_EQ(q.pending(), 4u);
  q.push(drConn(2), Urgency::kRefresh);   // coalesced: needs no room
  EXPECT_EQ(q.stats().dropped_oldest, 3u);
  q.push(drConn(8), Urgency::kCritical);  // drops refresh 7; now all critical
  q.push(drConn(9), Urgency::kCritical);  // refused: nothing left to drop
  q.push(drConn(10), Urgency::kRefresh);  // refused too
  EXPECT_EQ(q.stats().dropped_oldest, 4u);
  EXPECT_EQ(q.stats().refused_full, 2u);
  EXPECT_EQ(q.pending(), 4u);
  std::vector<uint16_t> ports;
  for (const auto& e : q.takeBatch(kMaxUpdateEntries)) ports.push_back(e.client.port);
  EXPECT_EQ(ports, (std::vector<uint16_t>{2, 4, 5, 8}));
}

TEST(SyncQueue, TheByteBudgetLimitsWhatLeavesPerSecond) {
  ManualClock clock;
  // Two full datagrams of burst, one per second of rate.
  SyncQueue q(clock, SyncQueueConfig{100000, kFullDatagram, 2 * kFullDatagram});
  for (uint16_t p = 1; p <= 100; ++p) q.push(drConn(p), Urgency::kRefresh);
  EXPECT_EQ(q.takeBatch(kMaxUpdateEntries).size(), kMaxUpdateEntries);
  EXPECT_EQ(q.takeBatch(kMaxUpdateEntries).size(), kMaxUpdateEntries);
  EXPECT_TRUE(q.takeBatch(kMaxUpdateEntries).empty());  // burst spent
  EXPECT_EQ(q.stats().budget_short, 1u);
  clock.advance(kSecond / 2);  // half a datagram's worth: a partial batch
  auto half = q.takeBatch(kMaxUpdateEntries);
  EXPECT_EQ(half.size(), (kFullDatagram / 2 - kHeaderSize - kTagSize) / kEntryWireSize);
  // Over a long run the rate holds: 10 s buy at most 10 datagrams (plus the burst cap).
  size_t sent = 0;
  for (int step = 0; step < 100; ++step) {
    clock.advance(kSecond / 10);
    while (true) {
      auto b = q.takeBatch(kMaxUpdateEntries);
      if (b.empty()) break;
      sent += b.size();
    }
  }
  EXPECT_LE(sent * kEntryWireSize, 10 * kFullDatagram);
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(q.stats().taken, 2 * kMaxUpdateEntries + half.size() + sent);
}

TEST(SyncQueue, AnIdleHourFillsTheBucketOnlyToItsBurst) {
  ManualClock clock;
  SyncQueue q(clock, SyncQueueConfig{100000, 1'000'000'000, kFullDatagram});
  for (uint16_t p = 1; p <= 100; ++p) q.push(drConn(p), Urgency::kRefresh);
  clock.advance(3600 * kSecond);
  EXPECT_EQ(q.takeBatch(kMaxUpdateEntries).size(), kMaxUpdateEntries);
  EXPECT_TRUE(q.takeBatch(kMaxUpdateEntries).empty());
}

TEST(SyncQueue, ABurstBelowOneDatagramIsRaisedToOne) {
  ManualClock clock;
  SyncQueue q(clock, SyncQueueConfig{100, 1, 10});
  for (uint16_t p = 1; p <= 20; ++p) q.push(drConn(p), Urgency::kRefresh);
  EXPECT_EQ(q.takeBatch(kMaxUpdateEntries).size(), kMaxUpdateEntries);
}

}  // namespace
}  // namespace sluice::cluster
