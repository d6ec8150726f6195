#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::Pool;
using testing::tally;

TEST(Twos, IdleServersAreDrawnByWeight) {
  Pool pool({1, 3});
  auto s = pool.make("twos");
  const auto c = tally(*s, pool.dests(), 20000);
  // Loads equal: the first draw stands, weighted exactly 1:3 (IPVS would give 2:3).
  EXPECT_NEAR(c[1] / 20000.0, 0.75, 0.03);
  EXPECT_EQ(c[2], 0);
}

TEST(Twos, LessLoadedOfTheTwoWins) {
  Pool pool({1, 1});
  auto s = pool.make("twos");
  pool.setActive(0, 50);
  const auto c = tally(*s, pool.dests(), 4000);
  // Server 0 wins only when both draws hit it: about a quarter of the time.
  EXPECT_NEAR(c[0] / 4000.0, 0.25, 0.05);
}

TEST(Twos, SingleAvailableServer) {
  Pool pool({0, 2, 5});
  pool.setOverloaded(2, true);
  auto s = pool.make("twos");
  const auto c = tally(*s, pool.dests(), 100);
  EXPECT_EQ(c[1], 100);
}

}  // namespace
}  // namespace sluice::sched
