#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;
using testing::tally;

std::vector<int> sequence(Scheduler& s, std::span<const SchedDest> dests, int n) {
  std::vector<int> out;
  for (int k = 0; k < n; ++k) out.push_back(s.schedule(dests, flowFrom(0x01020304)));
  return out;
}

TEST(Rr, AlternatesFromTheFirstServer) {
  Pool pool({1, 1, 1});
  auto s = pool.make("rr");
  EXPECT_EQ(sequence(*s, pool.dests(), 7), (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(Rr, IgnoresWeightsOtherThanZero) {
  Pool pool({5, 1});
  auto s = pool.make("rr");
  const auto c = tally(*s, pool.dests(), 40);
  EXPECT_EQ(c[0], 20);
  EXPECT_EQ(c[1], 20);
}

TEST(Rr, SkipsUnavailableAndContinuesAfterLastPick) {
  Pool pool({1, 0, 1, 1});
  auto s = pool.make("rr");
  EXPECT_EQ(sequence(*s, pool.dests(), 4), (std::vector<int>{0, 2, 3, 0}));
  // Overloading the next one in line moves the cursor past it, not back to the head.
  pool.setOverloaded(2, true);
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{3, 0, 3}));
  pool.setOverloaded(2, false);
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{0, 2, 3}));
}

TEST(Rr, SingleAvailableServerIsPickedEveryTime) {
  Pool pool({0, 1, 0});
  auto s = pool.make("rr");
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{1, 1, 1}));
}

TEST(Wrr, ThreeToOneGivesExactSharesInIpvsOrder) {
  Pool pool({3, 1});
  auto s = pool.make("wrr");
  // IPVS passes with cw = 3, 2, 1: A, A, A B.
  EXPECT_EQ(sequence(*s, pool.dests(), 8), (std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1}));
  const auto c = tally(*s, pool.dests(), 40);
  EXPECT_EQ(c[0], 30);
  EXPECT_EQ(c[1], 10);
}

TEST(Wrr, InterleavesByDescendingCurrentWeight) {
  Pool pool({4, 3, 2});
  auto s = pool.make("wrr");
  // cw=4: A; cw=3: A B; cw=2: A B C; cw=1: A B C.
  EXPECT_EQ(sequence(*s, pool.dests(), 9), (std::vector<int>{0, 0, 1, 0, 1, 2, 0, 1, 2}));
}

TEST(Wrr, SharesFollowWeightsOverManyCycles) {
  Pool pool({5, 0, 2, 7});
  auto s = pool.make("wrr");
  const auto c = tally(*s, pool.dests(), 14 * 50);
  EXPECT_EQ(c[0], 250);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2], 100);
  EXPECT_EQ(c[3], 350);
}

TEST(Wrr, CommonDivisorStepsTheSameAsReducedWeights) {
  Pool big({40, 20});
  Pool small({2, 1});
  auto a = big.make("wrr");
  auto b = small.make("wrr");
  EXPECT_EQ(sequence(*a, big.dests(), 12), sequence(*b, small.dests(), 12));
}

TEST(Wrr, OverloadedServerIsSkippedAndAllOverloadedGivesNone) {
  Pool pool({3, 1});
  auto s = pool.make("wrr");
  pool.setOverloaded(0, true);
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{1, 1, 1}));
  pool.setOverloaded(1, true);
  EXPECT_EQ(s->schedule(pool.dests(), flowFrom(1)), -1);
  pool.setOverloaded(0, false);
  EXPECT_EQ(s->schedule(pool.dests(), flowFrom(1)), 0);
}

TEST(Wrr, AllZeroWeightsGiveNone) {
  Pool pool({0, 0});
  auto s = pool.make("wrr");
  EXPECT_EQ(s->schedule(pool.dests(), flowFrom(1)), -1);
}

}  // namespace
}  // namespace sluice::sched
