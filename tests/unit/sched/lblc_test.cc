#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;
using testing::randomFlows;

SchedInput toOrigin(uint32_t daddr, uint32_t saddr = 0x0a000001) {
  return flowFrom(saddr, 40000, daddr);
}

TEST(Lblc, NewDestinationGoesToTheLeastLoadedPerWeight) {
  Pool pool({1, 2});
  auto s = pool.make("lblc");
  pool.setActive(0, 1);  // 256 / 1
  pool.setActive(1, 1);  // 256 / 2
  EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x08080808)), 1);
}

TEST(Lblc, DestinationSticksWhileLoadsShift) {
  Pool pool({10, 10});
  auto s = pool.make("lblc");
  const int first = s->schedule(pool.dests(), toOrigin(0x08080808));
  ASSERT_GE(first, 0);
  // Now make the cached server the busier one, but within its weight: still sticky,
  // from any client.
  pool.setActive(first, 8);
  for (uint32_t c = 1; c < 20; ++c)
    EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x08080808, 0x0a000000 + c)), first);
  // A new destination goes to the other, least loaded, server.
  EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x09090909)), 1 - first);
}

TEST(Lblc, MovesWhenPastWeightAndAnotherIsUnderHalf) {
  Pool pool({4, 4});
  auto s = pool.make("lblc");
  const int first = s->schedule(pool.dests(), toOrigin(0x08080808));
  ASSERT_GE(first, 0);
  const int other = 1 - first;
  pool.setActive(first, 5);  // past its weight ...
  pool.setActive(other, 2);  // ... but the other is at half, not under: stay
  EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x08080808)), first);
  pool.setActive(other, 1);  // under half: move, and the move is remembered
  EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x08080808)), other);
  pool.setActive(first, 0);
  EXPECT_EQ(s->schedule(pool.dests(), toOrigin(0x08080808)), other);
}

TEST(Lblc, UnavailableCachedServerIsReplaced) {
  Pool pool({1, 1, 1});
  auto s = pool.make("lblc");
  const int first = s->schedule(pool.dests(), toOrigin(0x08080808));
  ASSERT_GE(first, 0);
  pool.setOverloaded(first, true);
  const int next = s->schedule(pool.dests(), toOrigin(0x08080808));
  EXPECT_GE(next, 0);
  EXPECT_NE(next, first);
}

TEST(Lblc, ManyDestinationsSpreadByLoad) {
  Pool pool({1, 1, 1, 1});
  auto s = pool.make("lblc");
  std::vector<int> got(4, 0);
  for (const auto& f : randomFlows(400)) {
    const int i = s->schedule(pool.dests(), f);
    ASSERT_GE(i, 0);
    ++got[i];
    ++pool.counts(i).active;
  }
  for (int c : got) EXPECT_EQ(c, 100);
}

}  // namespace
}  // namespace sluice::sched
