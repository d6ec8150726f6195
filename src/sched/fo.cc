// fo: weighted failover (ip_vs_fo.c). Every new connection goes to the available server
// with the highest weight (the first of equals); the others only take over when it is
// quiesced or overloaded. Weights here are priorities, not shares.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class FoScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "fo"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    int best = -1;
    int32_t best_w = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (dests[i].available() && dests[i].weight > best_w) {
        best = static_cast<int>(i);
        best_w = dests[i].weight;
      }
    }
    return best;
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeFo(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<FoScheduler>());
}

}  // namespace sluice::sched
