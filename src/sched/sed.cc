// sed: shortest expected delay (ip_vs_sed.c). Like wlc, but the load is active + 1: the
// "+1" is the connection about to be placed, so an idle heavy server beats an idle light
// one, and inactive connections are ignored. Ties go to the earliest server.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class SedScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "sed"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    return detail::leastWeightedLoad(
        dests, [](const SchedDest& d) { return uint64_t{d.activeConns()} + 1; });
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeSed(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<SedScheduler>());
}

}  // namespace sluice::sched
