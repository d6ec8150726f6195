#include "svc/stats.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"

using namespace sluice;
using namespace sluice::svc;

namespace {

class StatsTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  Stats stats_{clock_, 3, 8, 16};

  void SetUp() override {
    for (uint32_t i = 0; i < 8; ++i) stats_.resetService(i);
    for (uint32_t i = 0; i < 16; ++i) stats_.resetDest(i);
  }
};

TEST_F(StatsTest, SumsAcrossWriters) {
  auto w0 = stats_.writer(0), w1 = stats_.writer(1), w2 = stats_.writer(2);
  w0.conn(1, 4);
  w1.conn(1, 5);
  w0.inPacket(1, 4, 100);
  w1.inPacket(1, 5, 60);
  w2.outPacket(1, 5, 1500);
  w2.inPacket(2, 6, 40);
  sl_stats s = stats_.service(1);
  EXPECT_EQ(s.conns, 2u);
  EXPECT_EQ(s.inpkts, 2u);
  EXPECT_EQ(s.inbytes, 160u);
  EXPECT_EQ(s.outpkts, 1u);
  EXPECT_EQ(s.outbytes, 1500u);
  EXPECT_EQ(stats_.dest(4).inbytes, 100u);
  EXPECT_EQ(stats_.dest(5).inbytes, 60u);
  EXPECT_EQ(stats_.dest(5).outbytes, 1500u);
  EXPECT_EQ(stats_.service(2).inpkts, 1u);
  sl_stats t = stats_.total();
  EXPECT_EQ(t.conns, 2u);
  EXPECT_EQ(t.inpkts, 3u);
  EXPECT_EQ(t.inbytes, 200u);
  EXPECT_EQ(t.outbytes, 1500u);
}

TEST_F(StatsTest, AddFoldsInABatch) {
  sl_stats d{3, 10, 8, 1000, 900};
  stats_.writer(2).add(0, 1, d);
  stats_.writer(0).add(0, 1, d);
  sl_stats s = stats_.dest(1);
  EXPECT_EQ(s.conns, 6u);
  EXPECT_EQ(s.inpkts, 20u);
  EXPECT_EQ(s.outpkts, 16u);
  EXPECT_EQ(s.inbytes, 2000u);
  EXPECT_EQ(s.outbytes, 1800u);
}

TEST_F(StatsTest, OutOfRangeIdsAreIgnored) {
  auto w = stats_.writer(0);
  w.inPacket(8, 16, 10);     // both out of range: only the total counts
  w.inPacket(100000, 2, 5);  // service out of range, dest fine
  EXPECT_EQ(stats_.total().inpkts, 2u);
  EXPECT_EQ(stats_.dest(2).inbytes, 5u);
  EXPECT_EQ(stats_.service(8).inpkts, 0u);
  Stats::Writer none = stats_.writer(3);  // no such writer: a no-op handle
  none.conn(0, 0);
  EXPECT_EQ(stats_.total().conns, 0u);
}

TEST_F(StatsTest, ZeroServiceZeroesItAndItsDestsOnly) {
  auto w = stats_.writer(0);
  w.conn(1, 2);
  w.conn(1, 3);
  w.conn(4, 5);
  uint32_t dests[] = {2, 3};
  stats_.zeroService(1, dests);
  EXPECT_EQ(stats_.service(1).conns, 0u);
  EXPECT_EQ(stats_.dest(2).conns, 0u);
  EXPECT_EQ(stats_.dest(3).conns, 0u);
  EXPECT_EQ(stats_.service(4).conns, 1u);
  EXPECT_EQ(stats_.dest(5).conns, 1u);
  EXPECT_EQ(stats_.total().conns, 3u);
  // Counting goes on from zero.
  w.conn(1, 2);
  EXPECT_EQ(stats_.service(1).conns, 1u);
  EXPECT_EQ(stats_.dest(2).conns, 1u);
}

TEST_F(StatsTest, ZeroAllZeroesTotalsToo) {
  stats_.writer(0).inPacket(1, 2, 10);
  stats_.writer(1).outPacket(3, 4, 20);
  stats_.zeroAll();
  EXPECT_EQ(stats_.service(1).inpkts, 0u);
  EXPECT_EQ(stats_.service(3).outpkts, 0u);
  EXPECT_EQ(stats_.dest(4).outbytes, 0u);
  EXPECT_EQ(stats_.total().inpkts, 0u);
  stats_.writer(2).inPacket(1, 2, 7);
  EXPECT_EQ(stats_.total().inbytes, 7u);
}

TEST_F(StatsTest, ConcurrentWritersAreNotLost) {
  constexpr int kN = 100000;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 3; ++t)
    threads.emplace_back([this, t] {
      auto w = stats_.writer(t);
      for (int i = 0; i < kN; ++i) w.inPacket(1, 1, 2);
    });
  // Reading while they write must be safe (TSan-clean) and monotonic.
  uint64_t prev = 0;
  for (int i = 0; i < 100; ++i) {
    uint64_t now = stats_.service(1).inpkts;
    EXPECT_GE(now, prev);
    prev = now;
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stats_.service(1).inpkts, 3u * kN);
  EXPECT_EQ(stats_.dest(1).inbytes, 6u * kN);
}

// ---- rate estimation --------------------------------------------------------------------

TEST_F(StatsTest, FirstSampleFollowsIpvsFixedPoint) {
  auto w = stats_.writer(0);
  for (int i = 0; i < 1000; ++i) w.conn(1, 2);
  for (int i = 0; i < 3000; ++i) w.inPacket(1, 2, 1000);
  clock_.advance(kSecond + kSecond / 2);
  stats_.estimate();  // not yet 2 s: nothing sampled
  EXPECT_EQ(stats_.serviceRate(1), Rates{});
  clock_.advance(kSecond / 2);
  stats_.estimate();
  // 1000 conns in 2 s = 500/s; the EWMA moves a quarter of the way: 125.
  Rates r = stats_.serviceRate(1);
  EXPECT_EQ(r.cps, 125u);
  EXPECT_EQ(r.inpps, 375u);      // 1500/s / 4
  EXPECT_EQ(r.inbps, 375000u);   // 1.5 MB/s / 4
  EXPECT_EQ(r.outpps, 0u);
  EXPECT_EQ(r.outbps, 0u);
  EXPECT_EQ(stats_.destRate(2), r);
  EXPECT_EQ(stats_.totalRate(), r);
  EXPECT_EQ(stats_.serviceRate(3), Rates{});
}

TEST_F(StatsTest, SecondSampleIsTheEwma) {
  auto w = stats_.writer(0);
  for (int i = 0; i < 1000; ++i) w.conn(1, 2);
  clock_.advance(2 * kSecond);
  stats_.estimate();
  for (int i = 0; i < 1000; ++i) w.conn(1, 2);
  clock_.advance(2 * kSecond);
  stats_.estimate();
  // In 2^10 fixed point: 128000, then 128000 + (512000 - 128000) / 4 = 224000 -> 218.75 -> 219.
  EXPECT_EQ(stats_.serviceRate(1).cps, 219u);
}

TEST_F(StatsTest, SteadyTrafficConvergesToItsRate) {
  auto w = stats_.writer(1);
  for (int period = 0; period < 80; ++period) {
    for (int i = 0; i < 600; ++i) w.outPacket(0, 0, 1250);  // 300 pps, 375000 B/s
    clock_.advance(2 * kSecond);
    stats_.estimate();
  }
  Rates r = stats_.serviceRate(0);
  EXPECT_EQ(r.outpps, 300u);
  EXPECT_EQ(r.outbps, 375000u);
  // Traffic stops: the rate decays a quarter per period.
  clock_.advance(2 * kSecond);
  stats_.estimate();
  EXPECT_EQ(stats_.serviceRate(0).outpps, 225u);
}

TEST_F(StatsTest, LateEstimateCatchesUpEvenly) {
  ManualClock other_clock;
  Stats punctual(other_clock, 1, 8, 16);
  punctual.resetService(1);
  auto late_w = stats_.writer(0);
  auto punctual_w = punctual.writer(0);
  for (int period = 0; period < 3; ++period) {
    for (int i = 0; i < 800; ++i) {
      late_w.conn(1, 2);
      punctual_w.conn(1, 2);
    }
    other_clock.advance(2 * kSecond);
    punctual.estimate();
  }
  clock_.advance(6 * kSecond + kSecond / 2);  // one call for three periods
  stats_.estimate();
  EXPECT_EQ(stats_.serviceRate(1), punctual.serviceRate(1));
  EXPECT_GT(stats_.serviceRate(1).cps, 0u);
  // The half second left over belongs to the next period.
  clock_.advance(kSecond + kSecond / 2);
  stats_.estimate();
  EXPECT_LT(stats_.serviceRate(1).cps, punctual.serviceRate(1).cps);
}

TEST_F(StatsTest, ZeroingResetsRates) {
  auto w = stats_.writer(0);
  for (int i = 0; i < 1000; ++i) w.conn(1, 2);
  clock_.advance(2 * kSecond);
  stats_.estimate();
  ASSERT_GT(stats_.serviceRate(1).cps, 0u);
  uint32_t dests[] = {2};
  stats_.zeroService(1, dests);
  EXPECT_EQ(stats_.serviceRate(1), Rates{});
  EXPECT_EQ(stats_.destRate(2), Rates{});
  EXPECT_GT(stats_.totalRate().cps, 0u);  // not part of the service
  // The next sample measures only what came after zeroing.
  for (int i = 0; i < 200; ++i) w.conn(1, 2);
  clock_.advance(2 * kSecond);
  stats_.estimate();
  EXPECT_EQ(stats_.serviceRate(1).cps, 25u);  // 100/s / 4
}

TEST(StatsEstimator, OnlyResetIdsAreEstimated) {
  ManualClock clock;
  Stats s(clock, 1, 8, 8);
  s.resetService(2);  // ids 0..2 are estimated from now on; 3.. are not
  auto w = s.writer(0);
  for (int i = 0; i < 400; ++i) {
    w.conn(1, 0);
    w.conn(5, 0);
  }
  clock.advance(2 * kSecond);
  s.estimate();
  EXPECT_EQ(s.serviceRate(1).cps, 50u);
  EXPECT_EQ(s.serviceRate(5).cps, 0u);
  EXPECT_EQ(s.service(5).conns, 400u);  // counted all the same
}

}  // namespace
