#include <algorithm>

#include <gtest/gtest.h>

#include "sched/scheduler.h"
#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;
using testing::randomFlows;

TEST(SchedRegistry, KnowsEveryIpvsSchedulerItImplements) {
  const auto names = schedulerNames();
  for (std::string_view n : {"rr", "wrr", "lc", "wlc", "sh", "mh", "dh", "sed", "nq", "fo", "ovf",
                             "twos"}) {
    EXPECT_TRUE(isKnownScheduler(n)) << n;
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_FALSE(isKnownScheduler("foo"));
  EXPECT_FALSE(isKnownScheduler(""));
  EXPECT_FALSE(isKnownScheduler("RR"));  // ipvsadm names are case-sensitive
}

TEST(SchedRegistry, UnknownNameErrorListsKnownOnes) {
  Pool pool({1, 1});
  auto s = makeScheduler("foo", pool.dests(), {});
  ASSERT_FALSE(s.ok());
  const std::string& msg = s.error().message;
  EXPECT_NE(msg.find("unknown scheduler 'foo'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rr wrr lc wlc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mh"), std::string::npos) << msg;
}

TEST(SchedRegistry, EachFactoryBuildsTheNamedScheduler) {
  Pool pool({1, 2});
  for (const std::string& n : schedulerNames()) {
    auto s = pool.make(n);
    ASSERT_TRUE(s) << n;
    EXPECT_EQ(s->name(), n);
  }
}

// Properties every scheduler shares, checked for all registered names.
class EveryScheduler : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryScheduler, EmptyServiceGetsNoServer) {
  Pool pool({});
  auto s = pool.make(GetParam());
  ASSERT_TRUE(s);
  for (const auto& f : randomFlows(50)) EXPECT_EQ(s->schedule(pool.dests(), f), -1);
}

TEST_P(EveryScheduler, NeverPicksQuiescedOrOverloadedServers) {
  for (uint32_t flags : {0u, 1u, 2u, 3u}) {
    Pool pool({2, 0, 3, 1, 0, 2});
    pool.setOverloaded(2, true);
    pool.setOverloaded(5, true);
    auto s = pool.make(GetParam(), flags);
    ASSERT_TRUE(s);
    int served = 0;
    for (const auto& f : randomFlows(2000)) {
      const int i = s->schedule(pool.dests(), f);
      if (i < 0) continue;
      ++served;
      ASSERT_LT(i, 6);
      EXPECT_TRUE(i == 0 || i == 3) << GetParam() << " flags " << flags << " picked " << i;
    }
    EXPECT_GT(served, 0) << GetParam() << " flags " << flags;
  }
}

TEST_P(EveryScheduler, AllUnavailableGetsNoServer) {
  Pool pool({0, 2, 0});
  pool.setOverloaded(1, true);
  auto s = pool.make(GetParam(), 1);  // with fallback where it applies
  ASSERT_TRUE(s);
  for (const auto& f : randomFlows(200)) EXPECT_EQ(s->schedule(pool.dests(), f), -1);
  // ... and recovers when the server is under its threshold again.
  pool.setOverloaded(1, false);
  int served = 0;
  for (const auto& f : randomFlows(200)) {
    const int i = s->schedule(pool.dests(), f);
    EXPECT_TRUE(i == -1 || i == 1);
    served += i == 1;
  }
  EXPECT_GT(served, 0);
}

INSTANTIATE_TEST_SUITE_P(Sched, EveryScheduler, ::testing::ValuesIn(schedulerNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sluice::sched
