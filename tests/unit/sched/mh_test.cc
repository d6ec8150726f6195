#include <algorithm>
#include <cmath>
#include <random>
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

TEST(Maglev, TableSizeIsAFixedPrimeOver100PerServerForHundredsOfServers) {
  EXPECT_TRUE(isPrime(kMaglevTableSize));
  EXPECT_GT(kMaglevTableSize, 100u * 655);  // the balance claim in maglev.h
}

TEST(Maglev, EqualWeightsShareTheTableWithinOneSlot) {
  Pool pool(std::vector<int32_t>(10, 1));
  const uint32_t m = kMaglevTableSize;
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

// How the servers of `a` and `b` (two sets of servers, endpoints compared) share a fixed
// population of flows: how many changed server, and how many of those did not have to
// (they were on a server that is in both sets, and went to another one).
struct Moved {
  int moved = 0;
  int needless = 0;
};
Moved compareFlows(std::span<const SchedDest> a, std::span<const SchedDest> b,
                   const std::vector<SchedInput>& flows) {
  auto sa = makeScheduler("mh", a, {});
  auto sb = makeScheduler("mh", b, {});
  EXPECT_TRUE(sa.ok() && sb.ok());
  auto inSet = [](std::span<const SchedDest> set, const net::Endpoint& ep) {
    return std::any_of(set.begin(), set.end(), [&](const SchedDest& d) { return d.ep == ep; });
  };
  Moved m;
  for (const auto& f : flows) {
    const net::Endpoint& ea = a[size_t((*sa)->schedule(a, f))].ep;
    const net::Endpoint& eb = b[size_t((*sb)->schedule(b, f))].ep;
    if (ea == eb) continue;
    ++m.moved;
    // Needless: it was on a server that stays, and did not go to the one that came.
    m.needless += inSet(b, ea) && inSet(a, eb);
  }
  return m;
}

// n servers 10.0.1.1.. with weight 1, as SchedDests.
std::vector<SchedDest> equalServers(size_t n) {
  std::vector<SchedDest> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i].dest_id = uint32_t(i);
    v[i].ep = net::Endpoint{net::IpAddr::v4(0x0a000101u + uint32_t(i)), 80};
    v[i].weight = 1;
  }
  return v;
}

// One server leaves a set of n + 1 equal ones (or, read backwards, joins n): the flows
// that must move are the ones on it. The bounds come from where deviation can come from:
//  * the table: equal-weight servers own floor(M/N) or ceil(M/N) slots, so the share that
//    must move is 1/(n+1) to within 1/M;
//  * the sample: F flows hash uniformly into the table, so a share p of the slots carries
//    a Binomial(F, p) count of flows; 5 standard deviations, sqrt(F p (1-p)), make a false
//    failure a one-in-a-million event;
//  * Maglev itself is not minimal: the servers that stay take turns in a shifted order and
//    some slots change hands between them. That part has no closed form (the NSDI paper
//    measures it; with M >> N it is small, and bench/maglev_bench.cc reports it as
//    extra_moved_pct), so it is held to a stated budget instead: at most a quarter of the
//    necessary moves. Any hashing whose slots follow the server count (the old stepping
//    table size, modulo N) moves about (n-1)/n of the other flows needlessly and fails it.
double sigma5(int flows, double p) { return 5 * std::sqrt(flows * p * (1 - p)); }

void expectAboutOneNthMoves(size_t n) {
  const auto big = equalServers(n + 1);
  const std::vector<SchedDest> small(big.begin(), big.end() - 1);  // the last one leaves
  const int f = 50000;
  const auto flows = randomFlows(size_t(f));
  // Moved is symmetric: the flows that change server when it leaves are those that change
  // when it comes back.
  const Moved m = compareFlows(big, small, flows);
  const double must = 1.0 / double(n + 1);
  const double must_flows = f * must;
  EXPECT_GE(m.moved, must_flows - sigma5(f, must) - double(f) / kMaglevTableSize) << n;
  EXPECT_LE(m.needless, must_flows / 4) << n;
  EXPECT_LE(m.moved, must_flows * 1.25 + sigma5(f, must) + double(f) / kMaglevTableSize) << n;
}

TEST(Mh, AddingOrRemovingOneServerMovesAboutOneNth) {
  for (size_t n : {4u, 9u, 20u}) expectAboutOneNthMoves(n);
}

// Where the table size used to step (251 -> 509 -> 1021 -> 2039 slots), nearly every client
// was remapped; with one fixed size these are ordinary additions.
TEST(Mh, CrossingFormerTableSizeStepsMovesOnlyTheNewServersShare) {
  for (size_t n : {2u, 5u, 10u}) expectAboutOneNthMoves(n);
}

TEST(Mh, InsertionOrderAndIdsDoNotChangeTheTable) {
  const auto base = equalServers(7);
  auto weighted = base;
  for (size_t i = 0; i < weighted.size(); ++i) weighted[i].weight = int32_t(1 + i % 3);
  for (const auto& servers : {base, weighted}) {
    const auto ref = buildMaglevTable(servers, kMaglevTableSize);
    auto shuffled = servers;
    std::mt19937 rng(7);
    for (int round = 0; round < 5; ++round) {
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i].dest_id = uint32_t(100 + i);
      const auto t = buildMaglevTable(shuffled, kMaglevTableSize);
      ASSERT_EQ(t.size(), ref.size());
      for (size_t k = 0; k < t.size(); ++k)
        ASSERT_EQ(shuffled[size_t(t[k])].ep, servers[size_t(ref[k])].ep) << "slot " << k;
    }
  }
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

TEST(Mh, ServerAddedWithWeightZeroGetsNoSlots) {
  Pool pool({1, 0, 1});  // never had a weight: last_weight 0, as IPVS's add with -w 0
  auto s = pool.make("mh");
  int served = 0;
  for (const auto& f : randomFlows(1000)) {
    const int i = s->schedule(pool.dests(), f);
    EXPECT_NE(i, 1);
    served += i >= 0;
  }
  EXPECT_EQ(served, 1000);  // the others own the whole table, nobody is orphaned
}

// ip_vs_mh populates with last_weight: a quiesced server keeps its slots, so only its own
// clients are affected. Without mh-fallback they get no server (as the kernel's
// ip_vs_mh_get: an unavailable dest is no dest); with it they are rehashed elsewhere.
TEST(Mh, QuiescedServerKeepsItsSlotsAndOnlyItsFlowsAreAffected) {
  Pool pool({1, 2, 1, 1});
  auto plain_up = pool.make("mh");
  const auto table_up = buildMaglevTable(pool.dests(), kMaglevTableSize);
  const auto flows = randomFlows(4000);
  std::vector<int> before;
  for (const auto& f : flows) before.push_back(plain_up->schedule(pool.dests(), f));

  pool.dest(1).last_weight = 2;
  pool.dest(1).weight = 0;  // sluiceadm -e ... -w 0
  EXPECT_EQ(buildMaglevTable(pool.dests(), kMaglevTableSize), table_up);
  auto plain = pool.make("mh");
  auto fb = pool.make("mh", kFallback);
  int orphans = 0;
  for (size_t k = 0; k < flows.size(); ++k) {
    const int p = plain->schedule(pool.dests(), flows[k]);
    const int f = fb->schedule(pool.dests(), flows[k]);
    if (before[k] == 1) {
      ++orphans;
      EXPECT_EQ(p, -1);
      EXPECT_GE(f, 0);
      EXPECT_NE(f, 1);
    } else {
      EXPECT_EQ(p, before[k]);
      EXPECT_EQ(f, before[k]);
    }
  }
  EXPECT_GT(orphans, 0);
  // Back to weight 2: exactly the table it had before it was quiesced.
  pool.dest(1).weight = 2;
  auto again = pool.make("mh");
  for (size_t k = 0; k < flows.size(); ++k)
    EXPECT_EQ(again->schedule(pool.dests(), flows[k]), before[k]);
}

TEST(Mh, RefusesMoreServersThanTableSlots) {
  std::vector<SchedDest> many(kMaglevTableSize + 1);
  for (auto& d : many) d.weight = 1;
  auto s = makeScheduler("mh", many, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("at most"), std::string::npos);
}

}  // namespace
}  // namespace sluice::sched
