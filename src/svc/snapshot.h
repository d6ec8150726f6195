// What the data plane sees of the configuration: an immutable Snapshot, rebuilt by the
// ServiceTable on every change and published by swapping one shared_ptr. Workers pick up
// the current snapshot once per batch through a SnapshotReader, which touches the shared
// pointer only when the version moved, so an idle control plane costs a worker one
// relaxed load per batch and no shared reference-count traffic.
//
// Trade-off: a snapshot is copied whole on every change (O(services + dests)), but a
// service that did not change is shared between snapshots (same ServiceRt object, same
// Scheduler instance), so an edit of one service never resets another's rr/wrr position,
// and a changed service's new scheduler inherits the old one's (see makeServiceRt).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "abi/records.h"
#include "net/addr.h"
#include "dp/snapshot_view.h"
#include "sched/scheduler.h"
#include "svc/model.h"

namespace sluice::svc {

// A real server as the data path needs it to forward.
struct DestRt {
  uint32_t dest_id = 0;
  uint32_t svc_id = 0;
  DestConfig cfg;                          // normalised: DR/TUN port = service port
  int32_t last_weight = 0;                 // latest non-zero weight (sched::SchedDest)
  const sl_dest_counts* counts = nullptr;  // shared counts (null when the table has none)
  bool trashed = false;  // deleted from its service; kept while connections still use it
};

// One virtual service. `dests` (what the scheduler sees) and `dest_rt` (how to forward)
// are parallel: the index schedule() returns selects both.
struct ServiceRt {
  uint32_t svc_id = 0;
  ServiceConfig cfg;
  std::vector<sched::SchedDest> dests;
  std::vector<DestRt> dest_rt;
  // FULLNAT local addresses, in the order they were added.
  std::vector<LocalAddress> laddrs;
  // Shared with the previous ServiceRt of this service when neither the scheduler
  // settings nor the scheduler's view of the dests changed (see makeServiceRt).
  std::shared_ptr<sched::Scheduler> scheduler;

  // Index into dests/dest_rt, or -1 when no real server is available.
  int schedule(const sched::SchedInput& in) const noexcept {
    return scheduler ? scheduler->schedule(dests, in) : -1;
  }
};

// Builds the runtime form of one service. Reuses `previous->scheduler` when the scheduler
// name, its flags and every SchedDest (id, endpoint, weight, last weight, counts) are
// unchanged; otherwise builds a new one with sched::makeScheduler (whose error is returned
// as is), which takes over the previous one's position (Scheduler::inheritFrom) when the
// algorithm is the same, as an IPVS service keeps its scheduler state across -a/-e/-d.
Result<std::shared_ptr<const ServiceRt>> makeServiceRt(uint32_t svc_id, const ServiceConfig& cfg,
                                                      std::vector<DestRt> dests,
                                                      const ServiceRt* previous,
                                                      std::vector<LocalAddress> laddrs = {});

class Snapshot final : public dp::SnapshotView {
 public:
  Snapshot() = default;  // empty: no services
  // `services` in listing order; `trash` are dests deleted but still referenced.
  Snapshot(uint64_t version, std::vector<std::shared_ptr<const ServiceRt>> services,
           std::vector<DestRt> trash);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  uint64_t version() const noexcept { return version_; }

  // Exact <proto, vip, vport> first; failing that, a port-0 (persistent, all ports) service
  // on <proto, vip>, as IPVS's ip_vs_service_find does. proto is IPPROTO_TCP/UDP.
  const ServiceRt* findService(uint8_t proto, const net::IpAddr& vip, uint16_t vport) const noexcept;
  // A firewall-mark service of that family.
  const ServiceRt* findFwmark(net::Family family, uint32_t mark) const noexcept;
  // IPVS order: a non-zero mark selects a fwmark service first, then findService.
  const ServiceRt* lookup(uint32_t mark, uint8_t proto, const net::IpAddr& vip,
                          uint16_t vport) const noexcept;
  // True when some <proto/port> service listens on this address (VIP or not: PASS).
  bool isVip(const net::IpAddr& addr) const noexcept override;
  // dp::SnapshotView: the packet step's plain view of the same services and dests.
  const dp::ServiceView* serviceView(uint8_t proto, const net::IpAddr& vip,
                                     uint16_t vport) const noexcept override;
  const dp::DestView* destView(uint32_t dest_id) const noexcept override;

  const ServiceRt* findServiceById(uint32_t svc_id) const noexcept;
  // Any dest a connection may name: live ones and trashed ones (deleted from their
  // service, or whose service was deleted) until their id is recycled.
  const DestRt* findDest(uint32_t dest_id) const noexcept;

  std::span<const std::shared_ptr<const ServiceRt>> services() const noexcept { return services_; }
  std::span<const DestRt> trash() const noexcept { return trash_; }

 private:
  struct VsKey {
    net::IpAddr addr;
    uint16_t port = 0;
    uint8_t proto = 0;
    friend bool operator==(const VsKey&, const VsKey&) = default;
  };
  struct VsKeyHash {
    size_t operator()(const VsKey& k) const noexcept;
  };

  uint64_t version_ = 0;
  std::vector<std::shared_ptr<const ServiceRt>> services_;
  std::vector<DestRt> trash_;
  std::unordered_map<VsKey, const ServiceRt*, VsKeyHash> by_key_;
  std::unordered_map<uint64_t, const ServiceRt*> by_mark_;  // family << 32 | mark
  std::unordered_map<net::IpAddr, uint32_t, net::IpAddrHash> vips_;  // addr -> service count
  std::vector<const ServiceRt*> by_svc_id_;
  std::vector<const DestRt*> by_dest_id_;
  // The packet step's view (dp/snapshot_view.h), built once with the snapshot.
  std::vector<dp::ServiceView> views_;                  // parallel to services_
  std::vector<const dp::ServiceView*> view_by_svc_id_;
  std::vector<uint8_t> fwd_;                            // every service's dest methods
  std::vector<dp::DestView> dest_views_;                // by dest id
  std::vector<net::IpAddr> laddrs_;                     // every service's local addresses
};

// The one place a snapshot is published. publish() from the control plane; readers on any
// thread. A mutex guards the pointer rather than std::atomic<std::shared_ptr>: GCC 12's
// version unlocks loads with relaxed ordering (a real race by the memory model, flagged by
// TSan), and readers come here only when the version moved, so the lock is cold.
class SnapshotPublisher {
 public:
  SnapshotPublisher();  // starts with an empty snapshot, version 0
  void publish(std::shared_ptr<const Snapshot> s);
  std::shared_ptr<const Snapshot> current() const noexcept;
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> version_{0};
};

// One per worker. acquire() once per batch; the reference stays valid until the next
// acquire() on this reader (the reader holds the snapshot alive meanwhile).
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotPublisher& pub) : pub_(&pub) {}
  const Snapshot& acquire() noexcept {
    if (!held_ || pub_->version() != held_->version()) held_ = pub_->current();
    return *held_;
  }

 private:
  const SnapshotPublisher* pub_;
  std::shared_ptr<const Snapshot> held_;
};

}  // namespace sluice::svc
