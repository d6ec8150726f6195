// The data plane assembled once: per-real-server counts and limits, stats, the service
// model and its snapshots, the forwarding records, the connection table, and one Datapath
// per worker, wired to each other in the one order they need. The daemon builds it over the
// BPF maps it shares with the XDP program; the tests, the two-path test, the benchmarks and
// the fuzzers build it over heap storage, so all of them run the pieces the daemon runs,
// wired the way it wires them. Trade-off: it lives with the daemon because it joins the
// control plane's model to the data plane; the data plane itself never includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "dp/datapath.h"
#include "dp/dest_table.h"
#include "dp/nat_reply.h"
#include "laddr/pool.h"
#include "svc/service_table.h"
#include "svc/stats.h"

namespace sluice::daemon {

struct PlaneLimits {
  uint32_t max_services = 16;
  uint32_t max_dests = 64;
  size_t conn_capacity = 1024;  // ignored over shared storage: its size
  uint64_t conn_seed = conn::ConnTable::kDefaultSeed;
  unsigned workers = 1;         // Datapaths; each writes stats through writer(index)
  unsigned extra_writers = 0;   // further stats writers after the workers' (the daemon's fold)
  laddr::PortRange fnat_ports;  // FULLNAT local ports (this director's part in a cluster)
};

// Storage shared with the XDP program (mmap'ed maps). Empty spans: the plane allocates.
// A shared table may hold a previous daemon's entries (conn/conn_table.h adopts them).
struct PlaneStorage {
  std::span<sl_conn> conns;
  std::span<sl_dest> dests;          // at least max_dests
  std::span<sl_dest_counts> counts;  // at least max_dests
  std::span<sl_conn_ext> conn_ext;   // one per slot of conns (empty: the table allocates)
};

class Plane {
 public:
  Plane(const Clock& clock, const PlaneLimits& limits, const PlaneStorage& shared = {});
  Plane(const Plane&) = delete;
  Plane& operator=(const Plane&) = delete;

  svc::ServiceTable& services() noexcept { return services_; }
  svc::Stats& stats() noexcept { return stats_; }
  dp::DestTable& dests() noexcept { return dests_; }
  conn::ConnTable& conns() noexcept { return conns_; }
  conn::DestAccounting& accounting() noexcept { return accounting_; }
  laddr::Pools& localPorts() noexcept { return laddrs_; }
  dp::Datapath& datapath(unsigned worker = 0) { return *datapaths_.at(worker); }
  const dp::Datapath& datapath(unsigned worker = 0) const { return *datapaths_.at(worker); }
  unsigned workers() const noexcept { return unsigned(datapaths_.size()); }
  const PlaneLimits& limits() const noexcept { return limits_; }

 private:
  PlaneLimits limits_;
  std::vector<sl_dest_counts> own_counts_;
  std::span<sl_dest_counts> counts_;
  std::vector<conn::DestLimits> dest_limits_;
  conn::DestAccounting accounting_;
  svc::Stats stats_;
  svc::ServiceTable services_;
  dp::DestTable dests_;
  conn::ConnTable conns_;
  dp::NatReplyKeys reply_keys_{dests_};
  laddr::Pools laddrs_;
  std::vector<std::unique_ptr<dp::Datapath>> datapaths_;
};

}  // namespace sluice::daemon
