// What the packet step sees of the configuration: plain data, no names, no locks. The
// control plane's snapshot (svc::Snapshot) implements this view over what it publishes, so
// the step never includes the model: a service is its id, its persistence settings and the
// scheduler with the real servers it chooses among; a real server is its id, its service
// and whether it was deleted. Trade-off: a virtual call per lookup, paid only on the miss
// path (new connections, templates, errors), never per established packet.
#pragma once

#include <cstdint>
#include <span>

#include "abi/records.h"
#include "net/addr.h"
#include "sched/scheduler.h"

namespace sluice::dp {

struct ServiceView {
  uint32_t svc_id = 0;
  bool persistent = false;            // -p
  bool any_port = false;              // a port-0 service: one template covers every port
  bool one_packet = false;            // -o (UDP)
  unsigned persistence_prefix = 32;   // -M as a prefix length
  uint32_t persistence_timeout = 0;   // seconds
  sched::Scheduler* scheduler = nullptr;
  std::span<const sched::SchedDest> dests;  // what the scheduler chooses among
  std::span<const uint8_t> fwd;             // the forwarding method of dests[i] (SL_FWD_*)
  // FULLNAT: the service's local addresses (DPVS's laddrs, keepalived's
  // local_address_group), the new source of its FULLNAT connections; empty: none set, a
  // FULLNAT connection cannot be made (counted). Only those of the service's family.
  std::span<const net::IpAddr> laddrs;
  // FULLNAT: how the client's address reaches the real server (SL_CA_*).
  uint8_t client_addr = SL_CA_TOA;

  // Index into dests/fwd, or -1 when no real server is available.
  int schedule(const sched::SchedInput& in) const noexcept {
    return scheduler ? scheduler->schedule(dests, in) : -1;
  }
};

struct DestView {
  uint32_t dest_id = 0;
  uint32_t svc_id = 0;
  bool trashed = false;  // deleted from its service, kept while connections use it
};

class SnapshotView {
 public:
  // Exact <proto, vip, vport> first, then a port-0 service on <proto, vip> (ip_vs_service_find).
  virtual const ServiceView* serviceView(uint8_t proto, const net::IpAddr& vip,
                                         uint16_t vport) const noexcept = 0;
  // Any real server a connection may name, deleted ones included until their id is reused.
  virtual const DestView* destView(uint32_t dest_id) const noexcept = 0;
  // Some service listens on this address.
  virtual bool isVip(const net::IpAddr& addr) const noexcept = 0;

 protected:
  ~SnapshotView() = default;
};

}  // namespace sluice::dp
