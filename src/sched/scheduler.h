// The scheduler interface: one small file per algorithm (sched/rr.cc, wrr.cc, ...), each
// registered by name in sched/registry.cc, as IPVS does with ip_vs_sched.c.
//
// A Scheduler instance belongs to one published service snapshot; it is built when the
// set of real servers or their weights change and never sees a config change after that.
// schedule() runs on the data path: noexcept, no allocation, no locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dp/abi.h"
#include "net/addr.h"

namespace sluice::sched {

// A real server as a scheduler sees it.
struct SchedDest {
  uint32_t dest_id = 0;
  net::Endpoint ep;
  int32_t weight = 0;
  // Live connection counts, shared with the connection table (may be null in tests that
  // do not care about counts; treated as all zero).
  const sl_dest_counts* counts = nullptr;

  uint32_t activeConns() const noexcept {
    return counts ? std::atomic_ref<const uint32_t>(counts->active).load(std::memory_order_relaxed) : 0;
  }
  uint32_t inactiveConns() const noexcept {
    return counts ? std::atomic_ref<const uint32_t>(counts->inactive).load(std::memory_order_relaxed) : 0;
  }
  bool overloaded() const noexcept {
    return counts && std::atomic_ref<const uint32_t>(counts->overloaded).load(std::memory_order_relaxed);
  }
  // Weight 0 (quiescent) or over its -x threshold: no new connections.
  bool available() const noexcept { return weight > 0 && !overloaded(); }
};

// What a scheduler may look at in the packet that opens a connection.
struct SchedInput {
  net::IpAddr saddr;
  uint16_t sport = 0;  // host order
  net::IpAddr daddr;
  uint16_t dport = 0;  // host order
};

struct SchedParams {
  uint32_t flags = 0;  // svc::kSchedFlag* (-b sh-fallback,sh-port / mh-...)
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const noexcept = 0;
  // Index into `dests` (the same span the scheduler was built with), or -1 when no real
  // server is available.
  virtual int schedule(std::span<const SchedDest> dests, const SchedInput& in) noexcept = 0;
};

// Builds a scheduler for this set of dests. Refuses unknown names with a message that
// lists the known ones.
Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name,
                                                 std::span<const SchedDest> dests,
                                                 const SchedParams& params);
bool isKnownScheduler(std::string_view name);
std::vector<std::string> schedulerNames();

}  // namespace sluice::sched
