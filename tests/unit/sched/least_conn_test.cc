// lc, wlc, sed, nq: the schedulers that read the live connection counts.
#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;

int pick(Scheduler& s, const Pool& pool) { return s.schedule(pool.dests(), flowFrom(7)); }

// Feeds `n` connections through the scheduler, each one staying active on its server.
std::vector<int> simulate(Scheduler& s, Pool& pool, size_t servers, int n) {
  std::vector<int> got(servers, 0);
  for (int k = 0; k < n; ++k) {
    const int i = pick(s, pool);
    if (i < 0) continue;
    ++got[i];
    ++pool.counts(i).active;
  }
  return got;
}

TEST(Lc, PicksLeastActiveTimes256PlusInactive) {
  Pool pool({1, 1, 1});
  auto s = pool.make("lc");
  pool.setActive(0, 2);
  pool.setActive(1, 1);
  pool.setInactive(1, 300);  // 556 > 512
  pool.setActive(2, 3);
  EXPECT_EQ(pick(*s, pool), 0);
  pool.setInactive(1, 200);  // 456 < 512
  EXPECT_EQ(pick(*s, pool), 1);
}

TEST(Lc, TiesGoToTheFirstAndWeightIsIgnored) {
  Pool pool({1, 100});
  auto s = pool.make("lc");
  EXPECT_EQ(pick(*s, pool), 0);
  const auto got = simulate(*s, pool, 2, 100);
  EXPECT_EQ(got[0], 50);
  EXPECT_EQ(got[1], 50);
}

TEST(Lc, SkipsQuiescedAndOverloadedEvenIfIdle) {
  Pool pool({0, 1, 1});
  auto s = pool.make("lc");
  pool.setActive(2, 5);
  pool.setOverloaded(1, true);
  EXPECT_EQ(pick(*s, pool), 2);
}

TEST(Wlc, ComparesOverheadPerWeight) {
  Pool pool({1, 3});
  auto s = pool.make("wlc");
  pool.setActive(0, 1);  // 256 / 1
  pool.setActive(1, 2);  // 512 / 3 = 170
  EXPECT_EQ(pick(*s, pool), 1);
  pool.setActive(1, 4);  // 1024 / 3 = 341
  EXPECT_EQ(pick(*s, pool), 0);
  pool.setActive(1, 3);  // 768 / 3 == 256 / 1: tie goes to the first
  EXPECT_EQ(pick(*s, pool), 0);
}

TEST(Wlc, LoadFollowsWeights) {
  Pool pool({1, 3, 0, 2});
  auto s = pool.make("wlc");
  const auto got = simulate(*s, pool, 4, 600);
  EXPECT_EQ(got[0], 100);
  EXPECT_EQ(got[1], 300);
  EXPECT_EQ(got[2], 0);
  EXPECT_EQ(got[3], 200);
}

TEST(Wlc, HugeCountsDoNotWrap) {
  // overhead * weight is ~1e21 here, past 64 bits.
  Pool pool({2000000000, 1500000000});
  auto s = pool.make("wlc");
  pool.setActive(0, 4000000000u);  // 1.02e12 / 2e9 = 512
  pool.setActive(1, 1000000000u);  // 2.56e11 / 1.5e9 = 171
  EXPECT_EQ(pick(*s, pool), 1);
  pool.setActive(1, 3500000000u);  // 8.96e11 / 1.5e9 = 597
  EXPECT_EQ(pick(*s, pool), 0);
}

TEST(Sed, CountsTheConnectionAboutToBePlaced) {
  Pool pool({1, 3});
  auto s = pool.make("sed");
  // Both idle: (0+1)/1 > (0+1)/3, so the heavier server wins (wlc would pick the first).
  EXPECT_EQ(pick(*s, pool), 1);
  pool.setActive(1, 2);  // 3/3 == 1/1: tie, first wins
  EXPECT_EQ(pick(*s, pool), 0);
  pool.setInactive(0, 1000);  // inactive connections do not count
  EXPECT_EQ(pick(*s, pool), 0);
}

TEST(Nq, IdleServerWinsWhateverItsWeight) {
  Pool pool({1, 10, 1});
  auto s = pool.make("nq");
  pool.setActive(0, 1);
  EXPECT_EQ(pick(*s, pool), 1);  // first idle
  pool.setActive(1, 1);
  EXPECT_EQ(pick(*s, pool), 2);  // still an idle one, despite weight 1
  pool.setActive(2, 1);
  EXPECT_EQ(pick(*s, pool), 1);  // none idle: sed, 2/10 < 2/1
}

}  // namespace
}  // namespace sluice::sched
