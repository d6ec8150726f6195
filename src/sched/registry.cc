// STAND-IN until the sched module lands: just "rr" and "wlc", enough for the svc module's
// tests. The real registry (sched/registry.cc from the sched branch) replaces this file.
#include <atomic>

#include <fmt/format.h>

#include "sched/scheduler.h"

namespace sluice::sched {
namespace {

class StandInRr final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "rr"; }
  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    const size_t n = dests.size();
    for (size_t tries = 0; tries < n; ++tries) {
      size_t i = next_.fetch_add(1, std::memory_order_relaxed) % n;
      if (dests[i].available()) return int(i);
    }
    return -1;
  }

 private:
  std::atomic<size_t> next_{0};
};

class StandInWlc final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "wlc"; }
  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    int best = -1;
    uint64_t best_load = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      const SchedDest& d = dests[i];
      if (!d.available()) continue;
      uint64_t load = uint64_t(d.activeConns()) * 256 + d.inactiveConns();
      // load_i / w_i < load_best / w_best, cross-multiplied.
      if (best < 0 || load * uint64_t(dests[best].weight) < best_load * uint64_t(d.weight)) {
        best = int(i);
        best_load = load;
      }
    }
    return best;
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name, std::span<const SchedDest>,
                                                 const SchedParams&) {
  if (name == "rr") return std::unique_ptr<Scheduler>(std::make_unique<StandInRr>());
  if (name == "wlc") return std::unique_ptr<Scheduler>(std::make_unique<StandInWlc>());
  return makeError("Scheduler not found: {} (known: rr, wlc)", name);
}

bool isKnownScheduler(std::string_view name) { return name == "rr" || name == "wlc"; }

std::vector<std::string> schedulerNames() { return {"rr", "wlc"}; }

}  // namespace sluice::sched
