// rr: round robin over the available real servers, continuing after the last one picked
// (ip_vs_rr.c). The only state is the cursor. It is a relaxed atomic so that a scheduler
// shared by several workers stays free of data races; under contention two workers may
// pick the same server, which only makes the rotation approximate, never wrong.
#include <atomic>

#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class RrScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "rr"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    const size_t n = dests.size();
    if (n == 0) return -1;
    // The cursor holds the last pick + 1, so 0 means "start from the head" as a fresh
    // IPVS service does; the scan ends on the last pick itself (it may be the only one).
    const size_t start = last_plus_one_.load(std::memory_order_relaxed) % n;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (start + k) % n;
      if (dests[i].available()) {
        last_plus_one_.store(static_cast<uint32_t>(i + 1), std::memory_order_relaxed);
        return static_cast<int>(i);
      }
    }
    return -1;
  }

 private:
  std::atomic<uint32_t> last_plus_one_{0};
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeRr(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<RrScheduler>());
}

}  // namespace sluice::sched
