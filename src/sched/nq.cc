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
    for (size_t i = 0; i < dests.size(); ++i)
      if (dests[i].available() && dests[i].activeConns() == 0) return static_cast<int>(i);
    return detail::leastWeightedLoad(  // none idle: sed
        dests, [](const SchedDest& d) { return uint64_t{d.activeConns()} + 1; });
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeNq(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<NqScheduler>());
}

}  // namespace sluice::sched
