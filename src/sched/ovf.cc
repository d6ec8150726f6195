// ovf: overflow (ip_vs_ovf.c). Like fo, the highest-weight server takes everything, but
// here the weight is also a capacity: a server whose active connections exceed its weight
// overflows to the next in line. As in IPVS the test is active > weight, so a server
// accepts up to weight + 1 active connections. Only active (TCP ESTABLISHED) connections
// count, so the capacity means little for UDP.
#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class OvfScheduler final : public Scheduler {
 public:
  std::string_view name() const noexcept override { return "ovf"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    int best = -1;
    int32_t best_w = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      const SchedDest& d = dests[i];
      if (!d.available() || d.activeConns() > static_cast<uint32_t>(d.weight)) continue;
      if (best < 0 || d.weight > best_w) {
        best = static_cast<int>(i);
        best_w = d.weight;
      }
    }
    return best;
  }
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeOvf(std::span<const SchedDest>, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<OvfScheduler>());
}

}  // namespace sluice::sched
