// rr: round robin over the available real servers, continuing after the last one picked
// (ip_vs_rr.c). The only state is the cursor. It is a relaxed atomic so that a scheduler
// shared by several workers stays free of data races; under contention two workers may
// pick the same server, which only makes the rotation approximate, never wrong.
//
// The cursor survives changes to the service as IPVS's does: its list cursor is a pointer
// to the last server picked, untouched when a server is added (at the head) or a weight
// changes, and moved to the previous server when that one is deleted (ip_vs_rr_del_dest).
// A snapshot holds indices instead, so inheritFrom() finds the last pick again by dest id.
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

  void inheritFrom(const Scheduler& previous, std::span<const SchedDest> previous_dests,
                   std::span<const SchedDest> dests) noexcept override {
    const auto* prev = dynamic_cast<const RrScheduler*>(&previous);
    if (!prev) return;
    const uint32_t prev_cursor = prev->last_plus_one_.load(std::memory_order_relaxed);
    if (prev_cursor == 0 || prev_cursor > previous_dests.size()) return;  // at the head
    // The last pick, or if it was deleted the nearest server before it that is still
    // listed (IPVS steps back one; several deletions in one snapshot step back further).
    for (size_t k = prev_cursor; k-- > 0;) {
      const uint32_t id = previous_dests[k].dest_id;
      for (size_t i = 0; i < dests.size(); ++i) {
        if (dests[i].dest_id == id) {
          last_plus_one_.store(static_cast<uint32_t>(i + 1), std::memory_order_relaxed);
          return;
        }
      }
    }
  }

 private:
  std::atomic<uint32_t> last_plus_one_{0};
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeRr(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<RrScheduler>());
}

}  // namespace sluice::sched
