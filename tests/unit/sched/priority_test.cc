// fo and ovf: weights as priorities.
#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;

int pick(Scheduler& s, const Pool& pool) { return s.schedule(pool.dests(), flowFrom(7)); }

TEST(Fo, HighestWeightAvailableTakesEverything) {
  Pool pool({2, 5, 5, 3});
  auto s = pool.make("fo");
  for (int k = 0; k < 10; ++k) EXPECT_EQ(pick(*s, pool), 1);  // first of the equal best
  pool.setOverloaded(1, true);
  EXPECT_EQ(pick(*s, pool), 2);
  pool.setOverloaded(2, true);
  EXPECT_EQ(pick(*s, pool), 3);
  pool.setActive(3, 1000);  // load does not matter to fo
  EXPECT_EQ(pick(*s, pool), 3);
}

TEST(Ovf, OverflowsWhenActiveExceedsWeight) {
  Pool pool({2, 5, 1});
  auto s = pool.make("ovf");
  std::vector<int> got;
  for (int k = 0; k < 12; ++k) {
    const int i = pick(*s, pool);
    got.push_back(i);
    if (i >= 0) ++pool.counts(i).active;
  }
  // As IPVS: a server takes connections while active <= weight, i.e. weight + 1 of them.
  EXPECT_EQ(got, (std::vector<int>{1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, -1}));
}

TEST(Ovf, OverloadedOrQuiescedIsSkipped) {
  Pool pool({0, 4, 2});
  auto s = pool.make("ovf");
  EXPECT_EQ(pick(*s, pool), 1);
  pool.setOverloaded(1, true);
  EXPECT_EQ(pick(*s, pool), 2);
}

}  // namespace
}  // namespace sluice::sched
