// The `sluice_cluster { ... }` block: the directors of an active-active cluster, in
// keepalived.conf's syntax. It lives either in keepalived.conf itself (keepalived, run for
// VRRP on the same file, logs "Unknown keyword" for it and goes on) or alone in the file
// given to `sluiced --cluster FILE` (for ldirectord.cf users, and for operators who want
// `keepalived -t` to stay silent). docs/CLUSTER.md is the reference.
//
//   sluice_cluster {
//       director 1 10.0.0.11        # node id and sync address, one line per director
//       director 2 10.0.0.12
//       director 3 10.0.0.13
//       node_id 2                   # optional: which one this is (default: the local address)
//       vip_interface sluice-vip    # the TUN device the routing daemon announces
//       shared_key_file /etc/sluice/cluster.key
//       sync_port 8848
//       join_timeout 5              # seconds a joining director waits for its peers' tables
//       drain_time 5                # seconds a stopping director forwards after withdrawing
//       sync_bandwidth 10000000     # bytes per second to each peer
//   }
//
// The same block can be copied to every director: each finds itself by its local address.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "config/lexer.h"
#include "config/model.h"
#include "net/addr.h"

namespace sluice::config {

// Fills cfg.cluster from one `sluice_cluster` node; problems go to cfg.diags with file:line.
void parseClusterBlock(const Node& n, Config& cfg);

// Reads a file that holds a sluice_cluster block (and nothing else but comments) into a
// Config whose `cluster` is set and whose diags say what was wrong.
Config loadClusterFile(const std::string& path);
Config loadClusterString(std::string_view text, const std::string& name);

// This director's entry: node_id if set, else the one director whose address is among
// `local`. The error says what to fix (no match, several, an unknown node_id).
Result<ClusterDirector> selfOf(const ClusterConfig& c, std::span<const net::IpAddr> local);

}  // namespace sluice::config

namespace sluice::config {
// In a cluster, a virtual server whose scheduler was not written gets mh: every director
// then sends a flow to the same real server. A written one is kept (it relies on sync).
void applyClusterDefaults(Config& cfg);
// The same whatever cfg.cluster says (the block came from --cluster FILE).
void useMhByDefault(Config& cfg);
}  // namespace sluice::config
