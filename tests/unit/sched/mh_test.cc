#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "sched/maglev.h"
#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;
using testing::randomFlows;

constexpr uint32_t kFallback = 0x1;
constexpr uint32_t kPort = 0x2;

bool isPrime(uint32_t m) {
  if (m < 2) return false;
  for (uint32_t d = 2; d * d <= m; ++d)
    if (m % d == 0) return false;
  return true;
}

std::vector<int> slotsPerServer(const std::vector<int>& table, size_t n) {
  std::vector<int> c(n, 0);
  for (int i : table) {
    EXPECT_GE(i, 0);
    if (i >= 0) ++c[i];
  }
  return c;
}

TEST(Maglev, TableSizeIsPrimeAndAtLeast100PerServer) {
  for (size_t n : {1u, 2u, 3u, 10u, 11u, 50u, 100u, 1000u}) {
    const uint32_t m = maglevTableSize(n);
    EXPECT_TRUE(isPrime(m)) << m;
    EXPECT_GE(m, 100 * n) << n;
    // The smallest listed prime that fits, not just any.
    const auto it = std::find(kMaglevPrimes.begin(), kMaglevPrimes.end(), m);
    ASSERT_NE(it, kMaglevPrimes.end());
    if (it != kMaglevPrimes.begin()) {
      EXPECT_LT(*(it - 1), 100 * n);
    }
  }
  EXPECT_EQ(maglevTableSize(5000), kMaglevPrimes.back());  // capped
}

TEST(Maglev, EqualWeightsShareTheTableWithinOneSlot) {
  Pool pool(std::vector<int32_t>(10, 1));
  const uint32_t m = maglevTableSize(10);
  const auto table = buildMaglevTable(pool.dests(), m);
  ASSERT_EQ(table.size(), m);
  const auto c = slotsPerServer(table, 10);
  const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
  EXPECT_LE(*hi - *lo, 1);
}

TEST(Maglev, WeightsSetSlotShares) {
  Pool pool({1, 2, 3, 0, 6});
  const auto table = buildMaglevTable(pool.dests(), 4093);
  const auto c = slotsPerServer(table, 5);
  EXPECT_EQ(c[3], 0);  // weight 0: not in the population
  EXPECT_NEAR(c[0] / 4093.0, 1 / 12.0, 0.01);
  EXPECT_NEAR(c[1] / 4093.0, 2 / 12.0, 0.01);
  EXPECT_NEAR(c[2] / 4093.0, 3 / 12.0, 0.01);
  EXPECT_NEAR(c[4] / 4093.0, 6 / 12.0, 0.01);
}

TEST(Maglev, HugeWeightRatiosAreScaledNotOverflowed) {
  Pool pool({1, 1000000});
  const auto c = slotsPerServer(buildMaglevTable(pool.dests(), 251), 2);
  EXPECT_GE(c[0], 1);  // the light server keeps at least one turn
  EXPECT_GT(c[1], 200);
}

TEST(Maglev, TableDoesNotDependOnServerOrder) {
  Pool a({1, 2, 3});
  Pool b({3, 2, 1});
  // Same endpoints with the same weights, listed in the opposite order.
  for (size_t i = 0; i < 3; ++i) b.dest(i).ep = a.dests()[2 - i].ep;
  const auto ta = buildMaglevTable(a.dests(), 1021);
  const auto tb = buildMaglevTable(b.dests(), 1021);
  for (size_t k = 0; k < ta.size(); ++k) ASSERT_EQ(ta[k], 2 - tb[k]) << k;
}

TEST(Maglev, NonPrimeSizeStillFillsTheTable) {
  Pool pool({1, 1, 1, 1});
  const auto table = buildMaglevTable(pool.dests(), 1000);
  EXPECT_EQ(std::count(table.begin(), table.end(), -1), 0);
}

TEST(Mh, SameFlowSameServer) {
  Pool pool(std::vector<int32_t>(8, 1));
  auto s = pool.make("mh");
  auto t = pool.make("mh");
  for (const auto& f : randomFlows(1000)) {
    const int i = s->schedule(pool.dests(), f);
    ASSERT_GE(i, 0);
    SchedInput again = f;
    again.sport = static_cast<uint16_t>(f.sport + 7);  // port not hashed by default
    EXPECT_EQ(s->schedule(pool.dests(), again), i);
    EXPECT_EQ(t->schedule(pool.dests(), f), i);  // another director agrees
  }
}

TEST(Mh, EqualWeightsBalanceFlowsWithinAFewPercent) {
  Pool pool(std::vector<int32_t>(10, 1));
  auto s = pool.make("mh");
  std::vector<int> got(10, 0);
  const int n = 100000;
  for (const auto& f : randomFlows(n)) ++got[s->schedule(pool.dests(), f)];
  for (int c : got) EXPECT_NEAR(c, n / 10, n / 10 * 0.05);
}

TEST(Mh, WeightsHonouredProportionally) {
  Pool pool({1, 3});
  auto s = pool.make("mh");
  std::vector<int> got(2, 0);
  for (const auto& f : randomFlows(40000)) ++got[s->schedule(pool.dests(), f)];
  EXPECT_NEAR(got[1] / 40000.0, 0.75, 0.03);
}

TEST(Mh, RemovingOneOfTenMovesAboutATenth) {
  Pool ten(std::vector<int32_t>(10, 1));
  std::vector<SchedDest> nine(ten.dests().begin(), ten.dests().end());
  nine.erase(nine.begin() + 3);
  auto before = ten.make("mh");
  auto after = makeScheduler("mh", nine, {});
  ASSERT_TRUE(after.ok());
  const int n = 10000;
  int moved = 0, moved_needlessly = 0;
  for (const auto& f : randomFlows(n)) {
    const auto& a = ten.dests()[before->schedule(ten.dests(), f)].ep;
    const auto& b = nine[(*after)->schedule(nine, f)].ep;
    if (a == b) continue;
    ++moved;
    moved_needlessly += a != ten.dests()[3].ep;
  }
  EXPECT_GT(moved, n / 10 - n / 50);  // the removed server's flows must move
  EXPECT_LT(moved, n / 10 + n / 25);
  EXPECT_LT(moved_needlessly, n / 25);
}

TEST(Mh, PortFlagSpreadsOneClient) {
  Pool pool({1, 1, 1, 1});
  auto plain = pool.make("mh");
  auto by_port = pool.make("mh", kPort);
  std::set<int> plain_seen, port_seen;
  for (uint16_t port = 2000; port < 2200; ++port) {
    plain_seen.insert(plain->schedule(pool.dests(), flowFrom(0x0a000001, port)));
    port_seen.insert(by_port->schedule(pool.dests(), flowFrom(0x0a000001, port)));
  }
  EXPECT_EQ(plain_seen.size(), 1u);
  EXPECT_EQ(port_seen.size(), 4u);
}

TEST(Mh, FallbackOnlyMovesFlowsOfTheOverloadedServer) {
  Pool pool({1, 1, 1, 1});
  auto plain = pool.make("mh");
  auto fb = pool.make("mh", kFallback);
  const auto flows = randomFlows(4000);
  std::vector<int> before;
  for (const auto& f : flows) before.push_back(fb->schedule(pool.dests(), f));
  pool.setOverloaded(2, true);
  std::vector<int> landed(4, 0);
  for (size_t k = 0; k < flows.size(); ++k) {
    const int p = plain->schedule(pool.dests(), flows[k]);
    const int f = fb->schedule(pool.dests(), flows[k]);
    if (before[k] == 2) {
      EXPECT_EQ(p, -1);
      ASSERT_GE(f, 0);
      EXPECT_NE(f, 2);
      ++landed[f];
      EXPECT_EQ(fb->schedule(pool.dests(), flows[k]), f);  // deterministic
    } else {
      EXPECT_EQ(p, before[k]);
      EXPECT_EQ(f, before[k]);
    }
  }
  // Rehashing spreads the orphans over all the others, not onto one neighbour.
  for (int i : {0, 1, 3}) EXPECT_GT(landed[i], 200) << i;
}

TEST(Mh, QuiescedServerIsLeftOutOfTheTable) {
  Pool pool({1, 0, 1});
  auto s = pool.make("mh");
  int served = 0;
  for (const auto& f : randomFlows(1000)) {
    const int i = s->schedule(pool.dests(), f);
    EXPECT_NE(i, 1);
    served += i >= 0;
  }
  EXPECT_EQ(served, 1000);  // its slots went to the others, nobody is orphaned
}

TEST(Mh, RefusesMoreServersThanTheLargestTable) {
  std::vector<SchedDest> many(kMaglevPrimes.back() + 1);
  for (auto& d : many) d.weight = 1;
  auto s = makeScheduler("mh", many, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("at most"), std::string::npos);
}

}  // namespace
}  // namespace sluice::sched
