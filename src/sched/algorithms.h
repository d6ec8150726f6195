// The factories of the individual scheduling algorithms, one per file (rr.cc, wrr.cc, ...),
// and the helpers several of them share. Internal to sched/: the rest of Sluice reaches the
// algorithms only by name through makeScheduler() (registry.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "sched/scheduler.h"

namespace sluice::sched {

using SchedulerFactory = Result<std::unique_ptr<Scheduler>> (*)(std::span<const SchedDest> dests,
                                                                 const SchedParams& params);

Result<std::unique_ptr<Scheduler>> makeRr(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeWrr(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeLc(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeWlc(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeSh(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeMh(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeLblc(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeDh(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeSed(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeNq(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeFo(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeOvf(std::span<const SchedDest>, const SchedParams&);
Result<std::unique_ptr<Scheduler>> makeTwos(std::span<const SchedDest>, const SchedParams&);

namespace detail {

// IPVS's ip_vs_dest_conn_overhead(): an active (ESTABLISHED) connection costs 256 times an
// inactive one. 64-bit so that counts near 2^32 cannot wrap.
inline uint64_t connOverhead(const SchedDest& d) noexcept {
  return (uint64_t{d.activeConns()} << 8) + d.inactiveConns();
}

// a_load / a_weight > b_load / b_weight without division. 128-bit because a 40-bit
// overhead times a 31-bit weight does not fit in 64 bits.
inline bool heavierThan(uint64_t a_load, int32_t a_weight, uint64_t b_load,
                        int32_t b_weight) noexcept {
  using U = unsigned __int128;
  return U{a_load} * static_cast<uint32_t>(b_weight) >
         U{b_load} * static_cast<uint32_t>(a_weight);
}

// The available server with the least load/weight (wlc, sed, nq): the scan IPVS repeats
// in each of those files, with the load as the only difference. Ties go to the earliest.
template <class LoadFn>
int leastWeightedLoad(std::span<const SchedDest> dests, LoadFn load_of) noexcept {
  int least = -1;
  uint64_t least_load = 0;
  for (size_t i = 0; i < dests.size(); ++i) {
    if (!dests[i].available()) continue;
    const uint64_t load = load_of(dests[i]);
    if (least < 0 || heavierThan(least_load, dests[least].weight, load, dests[i].weight)) {
      least = static_cast<int>(i);
      least_load = load;
    }
  }
  return least;
}

}  // namespace detail
}  // namespace sluice::sched
