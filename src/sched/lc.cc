// lc: least connections (ip_vs_lc.c). Load is the IPVS overhead, active * 256 + inactive,
// so a server with many idle TIME_WAIT/UDP entries still counts a little. Weights only
// matter as 0 = quiescent; ties go to the earliest server in the list.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class LcScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "lc"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    int least = -1;
    uint64_t least_load = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].available()) continue;
      const uint64_t load = detail::connOverhead(dests[i]);
      if (least < 0 || load < least_load) {
        least = static_cast<int>(i);
        least_load = load;
      }
    }
    return least;
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeLc(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<LcScheduler>());
}

}  // namespace sluice::sched
