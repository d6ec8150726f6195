// The scheduler interface: one small file per algorithm (sched/rr.cc, wrr.cc, ...), each
// registered by name in sched/registry.cc, as IPVS does with ip_vs_sched.c.
//
// A Scheduler instance belongs to one published service snapshot; it is built when the
// set of real servers or their weights change and never sees a config change after that.
// IPVS keeps one scheduler state per service through such changes (its add_dest/upd_dest/
// del_dest hooks adjust it), so a new instance may take over the previous one's position
// (inheritFrom) before it is published. schedule() runs on the data path: noexcept, no
// allocation, no locks.
//
// `dests` is in IPVS's list order: the most recently added real server first (ip_vs_ctl.c
// puts a new one at the head of svc->destinations), which is also the order ipvsadm -Ln
// lists them in. rr walks it from the head; the schedulers that break ties (fo, ovf, lc,
// wlc, sed, nq) prefer the earliest, i.e. the newest server.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "abi/records.h"
#include "net/addr.h"

namespace sluice::sched {

// A real server as a scheduler sees it.
struct SchedDest {
  uint32_t dest_id = 0;
  net::Endpoint ep;
  int32_t weight = 0;
  // IPVS's last_weight: the latest non-zero weight this server was given, or 0 if it was
  // added with weight 0 and has had none since. Quiescing (weight 0) keeps it, so mh can
  // keep the server's table slots and only its own flows are affected.
  int32_t last_weight = 0;
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
  // The weight mh builds its table with: the weight, or while quiesced the last non-zero
  // one (a server given weight > 0 always has last_weight == weight, so callers that only
  // set weight get the same answer).
  int32_t slotWeight() const noexcept { return weight > 0 ? weight : last_weight; }
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
  // Called once on a fresh instance, before it is published, when it replaces `previous`
  // (the same algorithm: makeScheduler with the same name) because the service's real
  // servers or weights changed. `previous_dests` is what `previous` was built with. The
  // default keeps nothing: the hashing and least-load schedulers have no position. rr and
  // wrr carry theirs over as IPVS does. `previous` may still be scheduling on other
  // threads; only its relaxed atomics are read.
  virtual void inheritFrom(const Scheduler& previous, std::span<const SchedDest> previous_dests,
                           std::span<const SchedDest> dests) noexcept {
    (void)previous;
    (void)previous_dests;
    (void)dests;
  }
};

// Builds a scheduler for this set of dests. Refuses unknown names with a message that
// lists the known ones, or with notImplementedReason() for an IPVS one Sluice lacks.
Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name,
                                                 std::span<const SchedDest> dests,
                                                 const SchedParams& params);
bool isKnownScheduler(std::string_view name);
// For an IPVS scheduler Sluice does not implement (lblcr): one line saying so, for the
// operator. Empty for any other name, known or not.
std::string_view notImplementedReason(std::string_view name);
std::vector<std::string> schedulerNames();

}  // namespace sluice::sched
