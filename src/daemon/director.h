// The director: the objects one sluiced owns and the threads that share them.
//
//   ctl thread ──► Director (ctl::Backend) ──► ServiceTable ──publish──► snapshot
//                       │                                                  │
//                       └─► next hops (route + neighbour) ─► DestTable ◄───┤
//   worker threads (daemon/worker.h), each: PacketIo ─► its Datapath ─► tx / drop / pass
//
// The Director owns one Datapath per worker (its own counters and stats writer; the
// listings sum them) and the tables they share. The connection table does its own locking
// (conn/conn_table.h, "Threading"): an established flow's packet takes only its entry's
// lock, a new flow the table's writer lock, and the -Lnc listing the writer lock too.
// Everything else a worker reads is a published snapshot, a seqlocked DestTable entry, an
// atomic counter, or the timeouts, which a worker copies when their version moves.
//
// The Director knows nothing of AF_XDP, BPF maps or netlink: packet I/O is a PacketIo,
// next-hop resolution a NextHopSource and the fast path's counters a FastCounterSource, all
// injected, so tests run a whole director in memory.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "conn/tcp_state.h"
#include "ctl/backend.h"
#include "dp/datapath.h"
#include "dp/dest_table.h"
#include "abi/fastpath.h"
#include "daemon/dest_writer.h"
#include "daemon/plane.h"
#include "io/packet_io.h"
#include "svc/ops.h"
#include "svc/service_table.h"
#include "svc/stats.h"

namespace sluice::daemon {

class ConfigDriver;

struct DirectorLimits {
  size_t conn_capacity = size_t(1) << 20;
  uint32_t max_services = 1024;
  uint32_t max_dests = 16384;
  uint64_t conn_seed = conn::ConnTable::kDefaultSeed;
  unsigned workers = 1;  // slow-path worker threads, one Datapath each
  laddr::PortRange fnat_ports;  // FULLNAT local ports (this director's part in a cluster)
};

// Memory the data-plane tables live in when an XDP fast path shares them (the mmap'ed BPF
// maps); without it the Director allocates its own and everything runs in the slow path.
struct SharedTables {
  std::span<sl_conn> conns;             // zeroed, a multiple of 4 entries
  std::span<sl_dest> dests;             // max_dests entries
  std::span<sl_dest_counts> counts;     // max_dests entries
  std::span<sl_stats> fast_stats;       // counted by the fast path: per dest, per CPU slice
  uint32_t fast_stat_slots = 1;         // entry dest_id * fast_stat_slots + cpu
  sl_dp_config* fast_config = nullptr;  // the fast path's config record
  std::span<sl_conn_ext> conn_ext;      // one per entry of conns
};

// Told about every change to the set of virtual services (the XDP steering map), and to the
// cluster's peer director MACs (the program's `peer_macs` map). An error fails the command
// that caused the change: the operator must learn that a service they added is not
// steered, instead of reading success and then losing its traffic.
class ServiceListener {
 public:
  virtual ~ServiceListener() = default;
  virtual Status servicesChanged(const svc::Snapshot& snap) = 0;
  // The peer directors' MACs changed (Director::setPeerMacs): the fast path's copy. A
  // listener without a fast path has nothing to do.
  virtual Status peerMacsChanged(std::span<const net::MacAddr> /*macs*/) { return {}; }
};

// Reads the fast path's counters (the XDP program's, summed over CPUs); nullopt when they
// cannot be read (the source logs why; the listing then shows them as 0). The daemon binds
// it to io::SteerProgram::counters(); tests to a fake.
using FastCounterSource = std::function<std::optional<dp::Counters>()>;

class Director final : public ctl::Backend {
 public:
  Director(const Clock& clock, DirectorLimits limits, NextHopSource& next_hops,
           ServiceListener* listener = nullptr, const SharedTables* shared = nullptr);
  ~Director() override;

  // --- ctl::Backend (control thread) ---
  // The one mutation path: every change to the services (each ctl::Backend command below,
  // and a reload, a health verdict or a sync message as they come) is an operation applied
  // here, followed by its side effects (changed()).
  // Thread-safe: mutations from the control socket, the config driver and housekeeping are
  // serialised, each with its side effects.
  Status apply(const svc::Op& op);
  // Several operations published as one snapshot with one round of side effects (a config
  // load or reload): each is applied on its own; the statuses come back in order.
  std::vector<Status> applyAll(const std::vector<svc::Op>& ops);

  Status addService(const svc::ServiceConfig& s) override;
  Status editService(const svc::ServiceConfig& s) override;
  Status delService(const svc::ServiceKey& k) override;
  Status clear() override;
  Status addDest(const svc::ServiceKey& k, const svc::DestConfig& d) override;
  Status editDest(const svc::ServiceKey& k, const svc::DestConfig& d) override;
  Status delDest(const svc::ServiceKey& k, const net::Endpoint& rs) override;
  Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override;
  Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override;
  Status zero(const std::optional<svc::ServiceKey>& k) override;
  Status setTimeouts(const svc::Timeouts& t) override;
  svc::Timeouts timeouts() const override;
  Result<std::vector<ctl::ServiceInfo>> listServices(
      const std::optional<svc::ServiceKey>& k) const override;
  std::vector<ctl::ConnInfo> listConns() const override;
  uint32_t connTableSize() const override { return uint32_t(conns_.capacity()); }
  // The slow path's counters beside the fast path's (0 without a FastCounterSource).
  std::vector<ctl::CounterInfo> counters() const override;
  // Through the config driver (sluiced -f); refused without one.
  Result<std::string> reload() override;
  Result<std::vector<ctl::HealthInfo>> health() const override;
  // Call before the control socket serves requests; nullptr detaches.
  void setConfigDriver(ConfigDriver* d) { config_driver_ = d; }
  // Session sync as `sluiceadm -L --daemon` shows it, from the cluster role; none set (no
  // sluice_cluster block): no sync runs. Call before the control socket serves requests.
  using SyncDaemonSource = std::function<ctl::SyncDaemonInfo()>;
  void setSyncDaemonSource(SyncDaemonSource src) { sync_daemons_ = std::move(src); }
  Result<std::optional<ctl::SyncDaemonInfo>> syncDaemons() const override;

  // Call before the control socket serves requests: the source is read without a lock.
  // expire_nodest_conn: see Datapath::setExpireNodestConn. Before the worker starts.
  void setExpireNodestConn(bool on) {
    for (unsigned i = 0; i < plane_.workers(); ++i) plane_.datapath(i).setExpireNodestConn(on);
  }
  void setFastCounterSource(FastCounterSource src) { fast_counters_ = std::move(src); }
  // How many ports of a service's FULLNAT local address are in use now (sluiceadm -G's
  // CONNS, the sluice_laddr_ports_in_use gauge); the FULLNAT port pools answer it (set by
  // the constructor; tests may replace it). Called from the control and metrics threads, so it must be thread-safe. Set it
  // before the control socket and the metrics endpoint serve requests.
  // Whether an address is one of this host's (sluiced: the kernel's addresses in its
  // namespace). Each FULLNAT local address is checked once when a service first names it,
  // with a warning when it is not: the real servers' replies to it would reach nobody.
  // Unset (tests): nothing is checked.
  using IsLocalAddress = std::function<bool(const net::IpAddr&)>;
  void setLocalAddressCheck(IsLocalAddress f) { is_local_ = std::move(f); }
  using LaddrConnsSource = std::function<uint64_t(uint32_t svc_id, const net::IpAddr& laddr)>;
  void setLaddrConnsSource(LaddrConnsSource src) { laddr_conns_ = std::move(src); }
  uint64_t laddrConns(uint32_t svc_id, const net::IpAddr& laddr) const {
    return laddr_conns_ ? laddr_conns_(svc_id, laddr) : 0;
  }

  // --- cluster mode (issue 8; any thread, at any time) ---
  // Adopt mid-flow TCP segments (Datapath::setAdoptMidflow) in every worker and the fast path.
  void setAdoptMidflow(bool on);
  // The other directors' MACs (Datapath::setPeerMacs): every worker's, and the fast path's
  // map through the ServiceListener. Duplicates are dropped; more than SL_MAX_PEER_MACS is
  // refused and changes nothing. A fast-path refusal is returned after the workers have the
  // new set (the kernel then balances those frames again: the error says so).
  Status setPeerMacs(std::vector<net::MacAddr> macs);
  // Told about every connection a worker creates (dp/conn_events.h); nullptr detaches.
  // The sink must outlive the workers or be detached first.
  void setConnEventSink(dp::ConnEventSink* sink);

  // --- housekeeping (any non-worker thread, periodically) ---
  // Rate estimation, trash purge, next-hop refresh when the neighbour table moved or a
  // worker asked for a next hop it lacked.
  void housekeeping();

  // --- for the workers (daemon/worker.h) ---
  unsigned workers() const { return plane_.workers(); }
  // Worker `index`'s packet step; only that worker calls it.
  dp::Datapath& datapath(unsigned index) { return plane_.datapath(index); }
  conn::ConnTable& conns() { return conns_; }
  laddr::Pools& localPorts() { return plane_.localPorts(); }
  const Clock& clock() const { return clock_; }
  // Copies the current timeouts into `dp` when they changed since `seen` (the worker's
  // own version counter): one atomic load per batch, the mutex only after a --set.
  void syncTimeouts(uint64_t& seen, dp::Datapath& dp);

  // What the workers counted (the slow path only), summed.
  dp::Counters slowPathCounters() const;
  const svc::ServiceTable& services() const { return services_; }
  // All traffic counted, whatever service (ipvsadm's totals, node_exporter's node_ipvs_*).
  sl_stats totals() const;
  // Occupied connection-table slots (expired entries not yet reaped included).
  size_t connEntries() const { return conns_.size(); }

  // --- restart support (sluiced --state-dir) ---
  // Installs a saved configuration with its ids (into a Director with no services yet),
  // and its --set timeouts. Call before traffic and before setConfigSink().
  Status restore(const svc::TableState& table, const svc::Timeouts& timeouts);
  // Called after every successful configuration change (services, dests, the trash as it
  // empties, timeouts) with the whole configuration, serialised: a later call always sees
  // a state at least as new as an earlier one. Its error is reported to the operator.
  using ConfigSink = std::function<Status(const svc::TableState&, const svc::Timeouts&)>;
  void setConfigSink(ConfigSink sink);
  // Told the services after every applied change, and once at once when set (the cluster's
  // VIP announcement follows it). Runs under the mutation lock: must not call back into
  // the Director. nullptr: nothing.
  using ServicesWatcher = std::function<void(const svc::Snapshot&)>;
  // The scheduler of a service added or edited with none named (before the control socket
  // opens): wlc, or mh in a cluster.
  void setDefaultScheduler(std::string name) { services_.setDefaultScheduler(std::move(name)); }
  void setServicesWatcher(ServicesWatcher w);
  Status saveConfig();  // calls the sink now (a no-op without one)

 private:
  // Families with a NAT real server at the last snapshot (checkNatForwarding's memory).
  bool nat_v4_seen_ = false;
  bool nat_v6_seen_ = false;
  // An effect of every change to the services, run in registration order after each applied
  // operation: the real servers' thresholds, the forwarding records, the steering map (the
  // ServiceListener), the state file (setConfigSink). Each returns a status; the first
  // refusal fails the operation, after the others ran, so the configuration and its effects
  // never silently disagree.
  struct Observer {
    const char* name;
    std::function<Status(const svc::Snapshot&)> fn;
  };
  Status changed(Status s);  // runs the observers; under mutate_mu_
  // Called by housekeeping and before every listing, so --stats never lags the kernel;
  // folding is part of reading, hence const (its state is mutable, under fold_mu_).
  void foldFastPathStats() const;
  sl_stats fastStatsOf(uint32_t dest_id) const;  // summed over the fast path's CPU slices
  ctl::ServiceInfo infoOf(const svc::ServiceState& s) const;

  const Clock& clock_;
  DirectorLimits limits_;
  ServiceListener* listener_;

  // Counts, stats, the model, the forwarding records, the connection table and the
  // workers' Datapaths (stats writers 0..workers-1 are the workers', the last the fold's).
  Plane plane_;
  conn::DestAccounting& accounting_ = plane_.accounting();
  svc::Stats& stats_ = plane_.stats();
  svc::ServiceTable& services_ = plane_.services();
  dp::DestTable& dest_table_ = plane_.dests();
  conn::ConnTable& conns_ = plane_.conns();  // locks itself: see conn_table.h
  std::span<sl_stats> fast_stats_;
  uint32_t fast_stat_slots_;
  mutable std::vector<sl_stats> fast_stats_seen_;
  mutable std::mutex fold_mu_;
  sl_dp_config* fast_config_;
  FastCounterSource fast_counters_;
  LaddrConnsSource laddr_conns_;
  IsLocalAddress is_local_;
  std::vector<net::IpAddr> laddrs_checked_;  // the observer's own (snapshots come one at a time)
  // FULLNAT refusals already logged (ports exhausted, no local address), and when.
  void reportFullNatRefusals();
  uint64_t fnat_refused_logged_[2] = {0, 0};
  Nanos fnat_refused_at_[2] = {0, 0};
  ConfigDriver* config_driver_ = nullptr;
  SyncDaemonSource sync_daemons_;
  std::vector<Observer> observers_;  // fixed after construction (the sink observer reads sink_)

  mutable std::mutex timeouts_mu_;  // guards timeouts_
  conn::TimeoutTable timeouts_;
  std::atomic<uint64_t> timeouts_version_{1};

  DestWriter dest_writer_;  // the one writer of dest_table_

  // Serialises every mutation and its side effects (changed()): the control socket, the config
  // driver and housekeeping each run on their own thread.
  std::recursive_mutex mutate_mu_;

  std::mutex watcher_mu_;
  ServicesWatcher watcher_;

  std::mutex sink_mu_;  // serialises saves: state read and written under it
  ConfigSink sink_;
};

}  // namespace sluice::daemon
