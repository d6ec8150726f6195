// dh: destination hashing (ip_vs_dh.c), for cache farms: hash(destination address) picks
// one of 256 buckets dealt to the servers one each in turn (weights only matter as
// 0 = quiescent), so every request for one origin lands on the same cache. No fallback:
// when that server is unavailable the connection gets none, as in IPVS.
#include <array>

#include "sched/algorithms.h"
#include "sched/hash.h"

namespace sluice::sched {
namespace {

constexpr size_t kDhTabSize = 256;  // IP_VS_DH_TAB_SIZE
constexpr uint64_t kDhSeed = 0x4448'0000'0000'0001ULL;

class DhScheduler final : public Scheduler {
 public:
  explicit DhScheduler(std::span<const SchedDest> dests) {
    buckets_.fill(-1);
    if (dests.empty()) return;
    for (size_t b = 0; b < kDhTabSize; ++b) buckets_[b] = static_cast<int32_t>(b % dests.size());
  }

  std::string_view name() const noexcept override { return "dh"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput& in) noexcept override {
    const int32_t i = buckets_[detail::hashAddrPort(in.daddr, 0, kDhSeed) % kDhTabSize];
    if (i < 0 || static_cast<size_t>(i) >= dests.size() || !dests[i].available()) return -1;
    return i;
  }

 private:
  std::array<int32_t, kDhTabSize> buckets_;
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeDh(std::span<const SchedDest> dests, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<DhScheduler>(dests));
}

}  // namespace sluice::sched
