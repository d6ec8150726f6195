#include "ctl/sync_daemon.h"

#include <fmt/format.h>

namespace sluice::ctl {

const char* syncRoleName(SyncRole r) { return r == SyncRole::kMaster ? "master" : "backup"; }

std::optional<SyncRole> syncRoleFromName(std::string_view name) {
  if (name == "master") return SyncRole::kMaster;
  if (name == "backup") return SyncRole::kBackup;
  return std::nullopt;
}

Status checkStartDaemon(const std::optional<SyncDaemonInfo>& running, const SyncDaemonArgs& a) {
  if (!running)
    return makeError(
        "no {} sync daemon to start: session sync is configured by the sluice_cluster block "
        "(docs/CLUSTER.md) and starts with sluiced; it is unicast to the listed directors, "
        "authenticated with their shared key, and each director is both master and backup",
        syncRoleName(a.role));
  const SyncDaemonInfo& r = *running;
  // Checked in ipvsadm's option order, so the first disagreement is the one reported.
  if (a.mcast_interface && *a.mcast_interface != r.interface) {
    if (r.interface.empty())
      return makeError(
          "--mcast-interface {}: no interface carries this director's sync address {} now",
          *a.mcast_interface, r.addr.str());
    return makeError(
        "--mcast-interface {}: session sync runs on {}, the interface carrying this director's "
        "sync address {} (its `director` line in the sluice_cluster block)",
        *a.mcast_interface, r.interface, r.addr.str());
  }
  if (a.syncid && *a.syncid != r.syncid)
    return makeError(
        "--syncid {}: this director's sync id is its node id, {} (sluice_cluster block); peers are "
        "told apart by their listed addresses and the shared key",
        *a.syncid, r.syncid);
  if (a.mcast_group)
    return makeError(
        "--mcast-group {}: session sync is unicast to the directors listed in the sluice_cluster "
        "block; there is no multicast group",
        a.mcast_group->str());
  if (a.mcast_port && *a.mcast_port != r.port)
    return makeError(
        "--mcast-port {}: session sync uses UDP port {} (sync_port in the sluice_cluster block)",
        *a.mcast_port, r.port);
  if (a.mcast_ttl)
    return makeError(
        "--mcast-ttl {}: session sync is unicast and routed with the system's default TTL; there "
        "is no multicast TTL to set",
        *a.mcast_ttl);
  if (a.sync_maxlen && *a.sync_maxlen != r.maxlen)
    return makeError(
        "--sync-maxlen {}: session sync datagrams are at most {} bytes, fixed by its wire format "
        "so that they are never fragmented",
        *a.sync_maxlen, r.maxlen);
  return {};  // it runs as asked: nothing to do
}

Status checkStopDaemon(const std::optional<SyncDaemonInfo>& running, const SyncDaemonArgs&) {
  if (!running) return makeError("No daemon is running");  // ipvsadm's (libipvs's) words
  return makeError(
      "session sync is not stopped on a cluster director: it is what keeps this director's "
      "connections alive on its peers when it dies. To take the director out, stop sluiced "
      "gracefully: SIGTERM withdraws its VIPs, drains for drain_time, then stops");
}

}  // namespace sluice::ctl
