// Cost of one Scheduler::schedule() call, the decision a new connection waits for, for the
// common IPVS schedulers with 10 and 100 real servers. Weights are 1..4 (so wrr and wlc do
// their weighted work) and every server carries a different, fixed number of connections
// (so wlc really compares; nothing changes them, so it keeps choosing among the same
// few). Clients rotate over 4096 distinct addresses and ports, which is what sh and mh hash.
// Built through makeScheduler, as a service snapshot builds them.
#include <benchmark/benchmark.h>

#include <vector>

#include "sched/scheduler.h"

namespace {

using namespace sluice;

void BM_Schedule(benchmark::State& state, const char* name) {
  const uint32_t n = uint32_t(state.range(0));
  std::vector<sl_dest_counts> counts(n);
  std::vector<sched::SchedDest> dests(n);
  for (uint32_t i = 0; i < n; ++i) {
    counts[i].active = (i * 37) % 101;
    counts[i].inactive = (i * 11) % 17;
    dests[i].dest_id = i;
    dests[i].ep = net::Endpoint{net::IpAddr::v4(0x0a000300u + i + 1), 80};
    dests[i].weight = int32_t(1 + i % 4);
    dests[i].counts = &counts[i];
  }
  auto made = sched::makeScheduler(name, dests, sched::SchedParams{});
  if (!made) {
    state.SkipWithError("makeScheduler refused");
    return;
  }
  sched::Scheduler& s = **made;
  constexpr uint32_t kClients = 4096;
  std::vector<sched::SchedInput> in(kClients);
  for (uint32_t i = 0; i < kClients; ++i) {
    in[i].saddr = net::IpAddr::v4(i * 2654435761u + 0x01000000u);
    in[i].sport = uint16_t(1024 + i * 7);
    in[i].daddr = net::IpAddr::v4(0x0a000264u);
    in[i].dport = 80;
  }
  uint64_t refused = 0;
  uint32_t i = 0;
  for (auto _ : state) {
    const int idx = s.schedule(dests, in[i++ % kClients]);
    refused += idx < 0;
    benchmark::DoNotOptimize(idx);
  }
  if (refused) state.SkipWithError("a schedule() call found no server");
  state.SetItemsProcessed(state.iterations());
}

#define DESTS ->Arg(10)->Arg(100)->ArgName("dests")
BENCHMARK_CAPTURE(BM_Schedule, rr, "rr") DESTS;
BENCHMARK_CAPTURE(BM_Schedule, wrr, "wrr") DESTS;
BENCHMARK_CAPTURE(BM_Schedule, wlc, "wlc") DESTS;
BENCHMARK_CAPTURE(BM_Schedule, sh, "sh") DESTS;
BENCHMARK_CAPTURE(BM_Schedule, mh, "mh") DESTS;

}  // namespace
