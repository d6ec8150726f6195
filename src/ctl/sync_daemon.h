// ipvsadm's sync-daemon commands (--start-daemon, --stop-daemon, -L --daemon) over Sluice's
// session sync (cluster/sync_node.h). IPVS runs a multicast master that sends and a backup
// that receives, started and stopped by hand; a cluster director runs one unicast,
// authenticated sync node that does both, started from the sluice_cluster block. So the
// listing shows both roles whenever sync runs, --start-daemon succeeds only when its
// arguments describe what already runs (a boot script that starts IPVS's daemons keeps
// working), and --stop-daemon is refused on a cluster director: stopping sync while the
// director forwards would lose the connections a peer needs when this director dies.
// The decisions live here, over a plain description of the running sync, so that the
// daemon and the tests' fake backend answer with the same words.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/addr.h"

namespace sluice::ctl {

enum class SyncRole : uint8_t { kMaster, kBackup };

// "master", "backup".
const char* syncRoleName(SyncRole r);
std::optional<SyncRole> syncRoleFromName(std::string_view name);

// What --start-daemon / --stop-daemon asked for: ipvsadm's daemon options, each absent
// when not given (ipvsadm's defaults, eth0 and syncid 255 or 0, are not applied: an absent
// option agrees with whatever runs).
struct SyncDaemonArgs {
  SyncRole role = SyncRole::kMaster;
  std::optional<std::string> mcast_interface;
  std::optional<uint32_t> syncid;  // 0..255
  std::optional<net::IpAddr> mcast_group;
  std::optional<uint16_t> mcast_port;   // 1..65535
  std::optional<uint8_t> mcast_ttl;     // 1..255
  std::optional<uint32_t> sync_maxlen;  // 1..65507

  friend bool operator==(const SyncDaemonArgs&, const SyncDaemonArgs&) = default;
};

// The running session sync of a cluster director: both of IPVS's roles.
struct SyncDaemonInfo {
  std::string interface;  // the interface carrying the sync address; "" when none does now
  net::IpAddr addr;       // the sync address (the `director` line of this node)
  uint32_t syncid = 0;    // the node id
  uint16_t port = 0;      // sync_port
  uint32_t maxlen = 0;    // largest datagram, UDP payload (cluster::kMaxDatagram)
  bool ready = false;     // the peers' tables are in (or join_timeout passed)
  uint32_t peers = 0;     // other directors listed
  uint32_t peers_alive = 0;
  // Session sync's counters (SyncNodeStats), by name.
  std::map<std::string, uint64_t> counters;

  friend bool operator==(const SyncDaemonInfo&, const SyncDaemonInfo&) = default;
};

// The answer to --start-daemon given what runs (nullopt: no sluice_cluster block): success
// when every option given agrees with the running sync, otherwise a refusal naming the
// first option that does not and where that setting comes from.
Status checkStartDaemon(const std::optional<SyncDaemonInfo>& running, const SyncDaemonArgs& args);

// The answer to --stop-daemon: always a refusal; its words depend on whether sync runs.
Status checkStopDaemon(const std::optional<SyncDaemonInfo>& running, const SyncDaemonArgs& args);

}  // namespace sluice::ctl
