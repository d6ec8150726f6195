// lblc: locality-based least connections (ip_vs_lblc.c), for cache farms. A destination
// address sticks to the server it was first given (picked as wlc does) so that one cache
// holds each origin's objects, and moves only when that server is unavailable or is past
// its weight in active connections while another is under half of its own.
//
// Differences from IPVS, forced by the data path (no allocation, no clock in schedule()):
// the cache is a fixed direct-mapped table of kSlots entries, where a colliding address
// evicts the older one, instead of a growing hash table with 24-hour expiry; and it starts
// empty again whenever the service's servers or weights change (a new instance is built).
// Each slot is one atomic word holding a 40-bit tag of the address hash and the server,
// so a shared instance has no data race; a tag collision (about 2^-40) merely sends an
// address to another server's cache. A cached server that is overloaded (-x) is also left,
// where IPVS would keep using it.
#include <atomic>
#include <memory>

#include "sched/algorithms.h"
#include "sched/hash.h"

namespace sluice::sched {
namespace {

constexpr size_t kSlots = 16384;  // IPVS's lblc keeps at most 1024 * 16 entries
constexpr uint64_t kLblcSeed = 0x4c42'4c43'0000'0001ULL;
constexpr int kIndexBits = 24;

class LblcScheduler final : public Scheduler {
 public:
  LblcScheduler() : slots_(new std::atomic<uint64_t>[kSlots]()) {}

  std::string_view name() const noexcept override { return "lblc"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput& in) noexcept override {
    const uint64_t h = detail::hashAddrPort(in.daddr, 0, kLblcSeed);
    const uint64_t tag = h >> kIndexBits;  // the 40 high bits; the low ones pick the slot
    std::atomic<uint64_t>& slot = slots_[h % kSlots];
    const uint64_t entry = slot.load(std::memory_order_relaxed);
    if (entry != 0 && (entry >> kIndexBits) == tag) {
      const size_t cached = (entry & ((uint64_t{1} << kIndexBits) - 1)) - 1;
      if (cached < dests.size() && dests[cached].available() && !swamped(dests, cached))
        return static_cast<int>(cached);
    }
    const int least = leastLoaded(dests);
    if (least >= 0 && static_cast<size_t>(least) + 1 < (size_t{1} << kIndexBits))
      slot.store((tag << kIndexBits) | (static_cast<uint64_t>(least) + 1),
                 std::memory_order_relaxed);
    return least;
  }

 private:
  // IPVS's lblc is_overloaded(): past its weight while some server is under half of its.
  static bool swamped(std::span<const SchedDest> dests, size_t i) noexcept {
    if (dests[i].activeConns() <= static_cast<uint32_t>(dests[i].weight)) return false;
    for (const SchedDest& d : dests)
      if (d.weight > 0 && uint64_t{d.activeConns()} * 2 < static_cast<uint32_t>(d.weight))
        return true;
    return false;
  }

  static int leastLoaded(std::span<const SchedDest> dests) noexcept {
    int least = -1;
    uint64_t least_load = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].available()) continue;
      const uint64_t load = detail::connOverhead(dests[i]);
      if (least < 0 ||
          detail::heavierThan(least_load, dests[least].weight, load, dests[i].weight)) {
        least = static_cast<int>(i);
        least_load = load;
      }
    }
    return least;
  }

  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeLblc(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<LblcScheduler>());
}

}  // namespace sluice::sched
