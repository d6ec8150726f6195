// sh: source hashing (ip_vs_sh.c). A 256-bucket table maps hash(source address) to a real
// server; buckets are dealt round robin, each server taking `weight` consecutive buckets
// before the next takes its turn (a quiesced server still takes one bucket per turn, so
// quiescing one does not reshuffle the clients of the others). Flag-2 (sh-port) mixes the source port
// into the hash; flag-1 (sh-fallback) walks on to the next buckets when the hashed server
// is unavailable, otherwise such a flow gets no server. The trade-off versus mh: a tiny
// table and cheap rebuilds, but adding or removing a server remaps most clients.
#include <array>

#include "sched/algorithms.h"
#include "sched/hash.h"

namespace sluice::sched {
namespace {

constexpr size_t kShTabSize = 256;  // IP_VS_SH_TAB_SIZE
constexpr uint64_t kShSeed = 0x5348'0000'0000'0001ULL;
constexpr uint32_t kFlagFallback = 0x1;  // svc::kSchedFlag1
constexpr uint32_t kFlagPort = 0x2;      // svc::kSchedFlag2

class ShScheduler final : public Scheduler {
 public:
  ShScheduler(std::span<const SchedDest> dests, uint32_t flags)
      : fallback_(flags & kFlagFallback), use_port_(flags & kFlagPort) {
    buckets_.fill(-1);
    if (dests.empty()) return;
    size_t d = 0;
    int32_t taken = 0;
    for (size_t b = 0; b < kShTabSize; ++b) {
      buckets_[b] = static_cast<int32_t>(d);
      if (++taken >= dests[d].weight) {
        d = (d + 1) % dests.size();
        taken = 0;
      }
    }
  }

  std::string_view name() const noexcept override { return "sh"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput& in) noexcept override {
    const size_t first =
        detail::hashAddrPort(in.saddr, use_port_ ? in.sport : 0, kShSeed) % kShTabSize;
    const size_t tries = fallback_ ? kShTabSize : 1;
    for (size_t k = 0; k < tries; ++k) {
      const int32_t i = buckets_[(first + k) % kShTabSize];
      if (i < 0 || static_cast<size_t>(i) >= dests.size()) return -1;  // empty table
      if (dests[i].available()) return i;
    }
    return -1;
  }

 private:
  std::array<int32_t, kShTabSize> buckets_;
  bool fallback_;
  bool use_port_;
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeSh(std::span<const SchedDest> dests,
                                          const SchedParams& params) {
  return std::unique_ptr<Scheduler>(std::make_unique<ShScheduler>(dests, params.flags));
}

}  // namespace sluice::sched
