// wlc: weighted least connections, the IPVS default (ip_vs_wlc.c). Picks the least
// overhead / weight, compared as overhead_a * weight_b > overhead_b * weight_a so that no
// division (and no rounding) is involved. Ties go to the earliest server in the list.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class WlcScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "wlc"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    return detail::leastWeightedLoad(dests, detail::connOverhead);
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeWlc(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<WlcScheduler>());
}

}  // namespace sluice::sched
