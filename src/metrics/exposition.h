// The /metrics page: everything the director knows, in the Prometheus text format 0.0.4.
//
// A pure function of a snapshot (Inputs) so it is tested byte for byte without a daemon;
// the daemon gathers the Inputs on the HTTP server's thread (metrics/http_server.h) per
// scrape. Two vocabularies are written:
//   * node_exporter's IPVS collector (node_ipvs_*), names, labels and label spellings
//     exactly, so dashboards and alerts written for an IPVS director keep working;
//   * Sluice's own (sluice_*): per service and per real server traffic, drops by reason
//     and path, health checks, the connection table.
// Trade-off: counters are written as exact integers (not via double), and series whose
// label sets come out equal are merged (summed, as node_exporter does for its backends)
// rather than written twice, so the page is always valid whatever the model holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "abi/records.h"
#include "cluster/sync_node.h"
#include "ctl/backend.h"
#include "health/status.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::metrics {

// One real server of one service, as the health layer sees it.
struct RealServerHealth {
  svc::ServiceKey svc;
  net::Endpoint rs;
  bool up = true;
  bool checked = false;                     // has at least one checker
  uint64_t last_transition_unix_ns = 0;     // 0: never changed (no timestamp series)
  std::vector<health::TargetStatus> checkers;
};

// A cluster director's announcement and session-sync state (daemon/cluster_role.h).
struct ClusterInputs {
  uint32_t node_id = 0;
  bool ready = false;
  bool draining = false;
  std::vector<net::IpAddr> announced;  // on the VIP device now
  std::optional<cluster::SyncNodeStats> sync;
};

struct Inputs {
  std::vector<ctl::ServiceInfo> services;   // what `sluiceadm -Ln --stats` lists, same order
  // All traffic, ipvsadm's totals (/proc/net/ip_vs_stats): the daemon passes
  // svc::Stats::total() after folding the fast path's counters in.
  sl_stats totals{};
  std::vector<ctl::CounterInfo> counters;   // every data-plane counter, split slow/fast
  uint64_t conn_entries = 0;
  uint64_t conn_capacity = 0;
  std::vector<RealServerHealth> health;
  uint64_t start_time_unix_ns = 0;          // daemon start (wall clock); 0: not written
  std::string version;                      // sluice_build_info{version}; empty: not written
  std::optional<ClusterInputs> cluster;     // absent: not a cluster director, nothing written
};

// The whole page. Families in a fixed order, series in the order of the inputs (services
// as listed, then their real servers), so two renders of equal inputs are equal strings.
std::string render(const Inputs& in);

// Label value spellings, exposed for tests. An address as node_exporter (Go's net.IP)
// prints it: dotted IPv4, RFC 5952 IPv6, an IPv4-mapped IPv6 address as IPv4.
std::string addrLabel(const net::IpAddr& a);
// Backslash, double quote and newline escaped as the text format requires.
std::string escapeLabelValue(std::string_view v);

}  // namespace sluice::metrics
