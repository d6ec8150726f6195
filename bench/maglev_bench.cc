// Maglev hashing (sched/maglev.h): speed and quality, as Envoy's maglev_lb_benchmark.cc
// measures both. Speed: building the table (the paper reports 1.8 ms for M = 65537,
// N = 1000) and looking a flow up. Quality, as benchmark counters: how many flows move
// when one of N servers leaves (ideal: only the 1/N that were on it), and how evenly slots
// and flows spread over the servers, with equal and with unequal weights.
//
// Flows are distinct client addresses (mh hashes the source address only, unless
// mh-port). Flow shares carry sampling noise; the balance runs use 10,000 flows per
// server (about 1% noise per server, reported as flow_noise_pct) so the hash, not the
// sample, dominates.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sched/maglev.h"
#include "sched/scheduler.h"

namespace {

using namespace sluice;
using sched::SchedDest;

enum Weights : int64_t { kEqual = 0, kOneToFour = 1, kOneToHundred = 2 };

int32_t weightOf(Weights w, uint32_t i) {
  switch (w) {
    case kOneToFour: return int32_t(1 + i % 4);
    case kOneToHundred: return int32_t(1 + i % 100);
    default: return 1;
  }
}

std::vector<SchedDest> servers(uint32_t n, Weights w = kEqual) {
  std::vector<SchedDest> v(n);
  for (uint32_t i = 0; i < n; ++i) {
    v[i].dest_id = i;
    v[i].ep = net::Endpoint{net::IpAddr::v4(0x0a000000u + i + 1), 80};
    v[i].weight = weightOf(w, i);
  }
  return v;
}

// Flow i's client address: an odd multiplier is a bijection mod 2^32, so all distinct.
net::IpAddr flow(uint32_t i) { return net::IpAddr::v4(i * 2654435761u + 0x01000000u); }

int lookup(const std::vector<int>& table, uint32_t m, uint32_t i) {
  return table[sched::maglevSlot(flow(i), 0, 0, m)];
}

// range(0) = M, range(1) = N. Counters: table memory in total and per server.
void BM_MaglevBuild(benchmark::State& state) {
  const uint32_t m = uint32_t(state.range(0));
  const auto dests = servers(uint32_t(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(sched::buildMaglevTable(dests, m));
  state.counters["table_KiB"] = double(m * sizeof(int)) / 1024;
  state.counters["bytes_per_server"] = double(m * sizeof(int)) / double(dests.size());
}

// Hash the client address and read its slot: what mh's schedule() does on a new flow.
void BM_MaglevLookup(benchmark::State& state) {
  const uint32_t m = uint32_t(state.range(0));
  const auto table = sched::buildMaglevTable(servers(uint32_t(state.range(1))), m);
  uint32_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(lookup(table, m, i++));
  state.SetItemsProcessed(state.iterations());
}

// One of N servers (the middle one) leaves. Timed: rebuilding the table without it.
// Counters, in percent: flows_moved (of 1M flows, those whose server changed),
// ideal (the flows that were on the leaving server and had to move), extra_moved
// (flows moved between servers that both stayed: the disruption beyond the ideal), and
// slots_moved (the same at table level, free of sampling noise).
void BM_MaglevRemoveOne(benchmark::State& state) {
  const uint32_t m = uint32_t(state.range(0));
  const uint32_t n = uint32_t(state.range(1));
  const auto all = servers(n);
  const uint32_t gone = n / 2;
  auto rest = all;
  rest.erase(rest.begin() + gone);
  std::vector<int> after;
  for (auto _ : state) {
    after = sched::buildMaglevTable(rest, m);
    benchmark::DoNotOptimize(after.data());
  }
  const auto before = sched::buildMaglevTable(all, m);
  auto idOf = [](const std::vector<SchedDest>& d, int idx) { return d[size_t(idx)].dest_id; };

  uint64_t slots_moved = 0;
  for (uint32_t s = 0; s < m; ++s) slots_moved += idOf(all, before[s]) != idOf(rest, after[s]);
  constexpr uint32_t kFlows = 1'000'000;
  uint64_t moved = 0, orphaned = 0;
  for (uint32_t i = 0; i < kFlows; ++i) {
    const uint32_t slot = sched::maglevSlot(flow(i), 0, 0, m);
    const uint32_t was = idOf(all, before[slot]);
    orphaned += was == gone;
    moved += was != idOf(rest, after[slot]);
  }
  state.counters["flows_moved_pct"] = 100.0 * double(moved) / kFlows;
  state.counters["ideal_pct"] = 100.0 * double(orphaned) / kFlows;
  state.counters["extra_moved_pct"] = 100.0 * double(moved - orphaned) / kFlows;
  state.counters["slots_moved_pct"] = 100.0 * double(slots_moved) / m;
}

// How evenly the table and the flows spread. range: M, N, weights. Shares are divided by
// the server's weight, so a perfect spread gives 1.0 for every ratio. slot_max_over_min
// and flow_max_over_min compare the most and least loaded servers; *_max_over_mean is
// the busiest server against a perfect spread (what decides when it saturates). Weights
// 1..100 show IPVS's scaling of large ratios to 6 bits: weights 1 and 2 both get one turn.
// Timed: the one experiment (build + 10,000 flows per server), so read the counters.
void BM_MaglevBalance(benchmark::State& state) {
  const uint32_t m = uint32_t(state.range(0));
  const uint32_t n = uint32_t(state.range(1));
  const auto dests = servers(n, Weights(state.range(2)));
  const uint32_t flows = 10'000 * n;
  std::vector<double> slots(n), hits(n);
  for (auto _ : state) {
    std::fill(slots.begin(), slots.end(), 0);
    std::fill(hits.begin(), hits.end(), 0);
    const auto table = sched::buildMaglevTable(dests, m);
    for (int idx : table) ++slots[size_t(idx)];
    for (uint32_t i = 0; i < flows; ++i) ++hits[size_t(lookup(table, m, i))];
  }
  double total_w = 0;
  for (const auto& d : dests) total_w += d.weight;
  auto ratios = [&](const std::vector<double>& count, double total, const char* name) {
    double lo = INFINITY, hi = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const double r = (count[i] / total) / (dests[i].weight / total_w);  // 1.0 = fair
      lo = std::min(lo, r);
      hi = std::max(hi, r);
    }
    state.counters[std::string(name) + "_max_over_min"] = hi / lo;
    state.counters[std::string(name) + "_max_over_mean"] = hi;
  };
  ratios(slots, m, "slot");
  ratios(hits, flows, "flow");
  state.counters["flow_noise_pct"] = 100.0 / std::sqrt(double(flows) / n);
}

BENCHMARK(BM_MaglevBuild)
    ->Args({65537, 1000})
    ->Args({131071, 1000})
    ->Args({16381, 100})
    ->ArgNames({"M", "N"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaglevLookup)->Args({65537, 1000})->Args({16381, 100})->ArgNames({"M", "N"});
BENCHMARK(BM_MaglevRemoveOne)
    ->Args({16381, 100})
    ->Args({65537, 100})
    ->Args({65537, 1000})
    ->Args({131071, 1000})
    ->ArgNames({"M", "N"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaglevBalance)
    ->Args({16381, 100, kEqual})
    ->Args({65537, 100, kEqual})
    ->Args({65537, 1000, kEqual})
    ->Args({131071, 1000, kEqual})
    ->Args({16381, 100, kOneToFour})
    ->Args({16381, 100, kOneToHundred})
    ->Args({131071, 1000, kOneToFour})
    ->ArgNames({"M", "N", "weights"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The mh scheduler as a service builds it (makeScheduler: its own table size), for the
// server counts where the table size used to jump. Build: what every -a/-e/-d of an mh
// service costs the control plane. Schedule: one new flow's decision, clients rotating
// over 64k addresses (so a large table is read out of L1, as real traffic would).
void BM_MhSchedulerBuild(benchmark::State& state) {
  const auto dests = servers(uint32_t(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(sched::makeScheduler("mh", dests, {}));
}

void BM_MhSchedule(benchmark::State& state) {
  const auto dests = servers(uint32_t(state.range(0)));
  auto made = sched::makeScheduler("mh", dests, {});
  if (!made) {
    state.SkipWithError("makeScheduler refused");
    return;
  }
  sched::Scheduler& s = **made;
  constexpr uint32_t kClients = 65536;
  std::vector<sched::SchedInput> in(kClients);
  for (uint32_t i = 0; i < kClients; ++i) in[i].saddr = flow(i);
  uint32_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.schedule(dests, in[i++ % kClients]));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_MhSchedulerBuild)
    ->Arg(2)->Arg(3)->Arg(10)->Arg(11)->Arg(100)->Arg(1000)
    ->ArgName("N")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MhSchedule)->Arg(2)->Arg(10)->Arg(100)->Arg(1000)->ArgName("N");

}  // namespace
