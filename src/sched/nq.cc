// nq: never queue (ip_vs_nq.c). The first idle server (no active connection) wins at
// once, whatever its weight; when none is idle it is sed. This keeps every server busy
// before any gets a second connection, at the cost of ignoring weights while some are idle.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class NqScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "nq"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    int least = -1;
    uint64_t least_load = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].available()) continue;
      const uint32_t active = dests[i].activeConns();
      if (active == 0) return static_cast<int>(i);
      const uint64_t load = uint64_t{active} + 1;
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

Result<std::unique_ptr<Scheduler>> makeNq(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<NqScheduler>());
}

}  // namespace sluice::sched
