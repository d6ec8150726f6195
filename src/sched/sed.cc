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
    int least = -1;
    uint64_t least_load = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].available()) continue;
      const uint64_t load = uint64_t{dests[i].activeConns()} + 1;
      if (least < 0 ||
          detail::heavierThan(least_load, dests[least].weight, load, dests[i].weight)) {
        least = static_cast<int>(i);
        least_load = load;
      }
    }
    return least;
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeSed(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<SedScheduler>());
}

}  // namespace sluice::sched
