// twos: power of two choices (ip_vs_twos.c, Mitzenmacher). Draw two servers at random,
// each with probability proportional to its weight, and keep the one with the lower
// overhead / weight. Nearly as even as wlc, but it reads the counts of two servers instead
// of all, so it stays cheap with many servers and stale counts do not herd every new
// connection onto one server.
//
// The random source is a splitmix64 sequence in a relaxed atomic: deterministic for a given
// instance (tests can rely on sequences being repeatable), race-free when shared.
#include <atomic>

#include "sched/algorithms.h"
#include "sched/hash.h"

namespace sluice::sched {
namespace {

class TwosScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "twos"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    uint64_t total = 0;
    for (const SchedDest& d : dests)
      if (d.available()) total += static_cast<uint32_t>(d.weight);
    if (total == 0) return -1;
    // IPVS draws in [0, total] and stops where the remainder reaches <= 0, which gives the
    // first server one extra chance in total + 1 (2:3 instead of 1:3 for weights 1 and 3).
    // Drawing in [0, total) and stopping where it goes below 0 makes shares equal weights.
    int64_t r1 = static_cast<int64_t>(below(total));
    int64_t r2 = static_cast<int64_t>(below(total));
    int c1 = -1;
    int c2 = -1;
    for (size_t i = 0; i < dests.size() && (c1 < 0 || c2 < 0); ++i) {
      if (!dests[i].available()) continue;
      r1 -= dests[i].weight;
      r2 -= dests[i].weight;
      if (r1 < 0 && c1 < 0) c1 = static_cast<int>(i);
      if (r2 < 0 && c2 < 0) c2 = static_cast<int>(i);
    }
    if (detail::heavierThan(detail::connOverhead(dests[c1]), dests[c1].weight,
                            detail::connOverhead(dests[c2]), dests[c2].weight))
      return c2;
    return c1;
  }

 private:
  uint64_t below(uint64_t n) noexcept {
    const uint64_t s = state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed);
    const uint64_t r = detail::mix64(s + 0x9e3779b97f4a7c15ULL);
    return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
  }

  std::atomic<uint64_t> state_{0x7477'6f73'0000'0001ULL};
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeTwos(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<TwosScheduler>());
}

}  // namespace sluice::sched
