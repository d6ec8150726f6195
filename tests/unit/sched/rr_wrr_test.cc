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

// A service change builds a new instance; inheritFrom() is how it takes over the old
// one's position (svc/snapshot.cc calls it). Without it every change restarts at the head.
std::unique_ptr<Scheduler> rebuilt(const Scheduler& old, std::span<const SchedDest> old_dests,
                                   std::span<const SchedDest> dests, std::string_view name) {
  auto s = makeScheduler(name, dests, {});
  EXPECT_TRUE(s.ok());
  (*s)->inheritFrom(old, old_dests, dests);
  return std::move(*s);
}

TEST(Rr, WeightChangeKeepsTheRotation) {
  Pool pool({1, 1, 1});
  auto s = pool.make("rr");
  EXPECT_EQ(sequence(*s, pool.dests(), 2), (std::vector<int>{0, 1}));
  std::vector<SchedDest> edited(pool.dests().begin(), pool.dests().end());
  edited[2].weight = 5;
  auto t = rebuilt(*s, pool.dests(), edited, "rr");
  EXPECT_EQ(sequence(*t, edited, 4), (std::vector<int>{2, 0, 1, 2}));
}

TEST(Rr, AddedServerAtTheHeadWaitsForTheRotationToComeRound) {
  Pool pool({1, 1, 1, 1});  // dest 0 is the newcomer, listed first as IPVS lists it
  std::vector<SchedDest> before(pool.dests().begin() + 1, pool.dests().end());
  auto s = makeScheduler("rr", before, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(sequence(**s, before, 2), (std::vector<int>{0, 1}));  // servers 1 and 2
  auto t = rebuilt(**s, before, pool.dests(), "rr");
  // ip_vs_rr keeps its cursor on server 2: next come 3, then the head (the newcomer).
  EXPECT_EQ(sequence(*t, pool.dests(), 5), (std::vector<int>{3, 0, 1, 2, 3}));
}

TEST(Rr, DeletingTheLastPickContinuesAfterItsPredecessor) {
  Pool pool({1, 1, 1, 1});
  auto s = pool.make("rr");
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{0, 1, 2}));
  std::vector<SchedDest> rest(pool.dests().begin(), pool.dests().end());
  rest.erase(rest.begin() + 2);  // the last pick goes: ip_vs_rr_del_dest steps back to 1
  auto t = rebuilt(*s, pool.dests(), rest, "rr");
  EXPECT_EQ(rest[size_t(t->schedule(rest, flowFrom(1)))].dest_id, 3u);
}

TEST(Wrr, WeightChangeKeepsTheCurrentWeightAndRestartsAtTheHead) {
  Pool pool({3, 1});
  auto s = pool.make("wrr");
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{0, 0, 0}));  // now cw == 1
  // A third server, weight 1, joins at the head. ip_vs_wrr_dest_changed: mw 3, di 1, cw
  // stays 1, cursor to the head; so the cw == 1 pass runs over everyone first.
  Pool grown({1, 3, 1});
  auto t = rebuilt(*s, pool.dests(), grown.dests(), "wrr");
  EXPECT_EQ(sequence(*t, grown.dests(), 8), (std::vector<int>{0, 1, 2, 1, 1, 0, 1, 2}));
}

TEST(Wrr, CurrentWeightAboveTheNewMaximumRestartsFromIt) {
  Pool pool({4, 1});
  auto s = pool.make("wrr");
  EXPECT_EQ(sequence(*s, pool.dests(), 1), (std::vector<int>{0}));  // cw == 4
  Pool lighter({2, 1});
  auto t = rebuilt(*s, pool.dests(), lighter.dests(), "wrr");
  EXPECT_EQ(sequence(*t, lighter.dests(), 3), (std::vector<int>{0, 0, 1}));
}

TEST(Wrr, CurrentWeightMovesOntoTheNewDivisorGrid) {
  Pool pool({3, 2, 1});
  auto s = pool.make("wrr");
  EXPECT_EQ(sequence(*s, pool.dests(), 3), (std::vector<int>{0, 0, 1}));  // cw == 2
  // Weights 6 and 4 and 2: di 2, mw 6 - 1 = 5; cw 2 -> (2 / 2) * 2 + 1 = 3, from the head.
  Pool doubled({6, 4, 2});
  auto t = rebuilt(*s, pool.dests(), doubled.dests(), "wrr");
  EXPECT_EQ(sequence(*t, doubled.dests(), 4), (std::vector<int>{0, 1, 0, 1}));
}

}  // namespace
}  // namespace sluice::sched
