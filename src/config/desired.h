// From a parsed config and the health of its real servers to the service table the file asks
// for, and from there to the operations that bring the live table to it. Both are pure
// functions: the daemon's ConfigDriver (daemon/config_driver.h) calls them on every load,
// reload and health verdict, and the tests call them directly.
//
// Rules, as keepalived applies them:
// * A real server that is up is in its services with its weight (a MISC_CHECK misc_dynamic or
//   FILE_CHECK weight replaces the configured one while it is given). One that is down is
//   removed, or kept at weight 0 with inhibit_on_failure (ldirectord's quiescent=yes), so its
//   established connections keep flowing.
// * Quorum: the weights of the live real servers are summed; quorum is lost when the sum falls
//   below quorum - hysteresis and gained again at quorum + hysteresis. While it is lost and a
//   sorry server (ldirectord's fallback) is set, the sorry server alone takes new connections
//   (weight 1) and the remaining live real servers are taken out; without one, the live ones
//   stay. sorry_server_inhibit keeps the sorry server at weight 0 while it is not in use.
// * The file owns the services it names. diff() only ever touches those (and those the previous
//   load named, to delete them): services added with sluiceadm are left alone, and so are real
//   servers added with sluiceadm to a service of the file. Within a file's service, a change made
//   with sluiceadm to one of the file's real servers lasts until the file's view of that service
//   is applied again (a reload that changes it, or a health change in it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "svc/ops.h"
#include "svc/service_table.h"

namespace sluice::config {

// The health of one real server of one virtual-server block, as the checkers report it.
struct RsHealth {
  bool up = true;
  std::optional<int32_t> weight;  // dynamic weight from a checker, when given
};

// Keyed by (virtual-server block name, real server endpoint as written, port resolved).
struct RsId {
  std::string vs;
  net::Endpoint rs;
  friend auto operator<=>(const RsId&, const RsId&) = default;
  friend bool operator==(const RsId&, const RsId&) = default;
};
using HealthMap = std::map<RsId, RsHealth>;

// The endpoint of a real server of `vs`: its address and port, port 0 meaning the block's
// first service's port (keepalived's "real_server IP" without a port).
net::Endpoint rsEndpoint(const VirtualServerConfig& vs, const RealServerConfig& rs);

// Quorum state per virtual-server block name (true = quorum held).
using QuorumMap = std::map<std::string, bool>;

// The weight a real server counts for in its block's quorum (0 when down).
int64_t liveWeight(const VirtualServerConfig& vs, const HealthMap& health);

// Whether `vs` holds quorum now, given the previous state (nullopt at the first evaluation,
// where no hysteresis applies).
bool quorumHeld(const VirtualServerConfig& vs, int64_t live_weight, std::optional<bool> before);

struct DesiredService {
  svc::ServiceConfig cfg;
  std::vector<svc::DestConfig> dests;  // the file's order
  std::vector<svc::LocalAddress> laddrs;  // FULLNAT local addresses (laddr_group_name)
};
using Desired = std::map<svc::ServiceKey, DesiredService>;

// The table the file asks for, given its real servers' health and its blocks' quorum
// (a block missing from `quorum` holds it).
Desired desired(const Config& cfg, const HealthMap& health, const QuorumMap& quorum);

// The operations that bring the services of `want` (and the file-owned services of `before`,
// the previous call's `want`) in `live` to what `want` says, in an order that always applies:
// deletions of services first, then additions and edits of services, then their local
// addresses (deletions, then additions) and their real servers. A local address is owned like
// a real server: one the file no longer lists is deleted, one added with sluiceadm is left
// alone. Local addresses change without touching any connection.
// Services of `live` that neither names are never touched.
std::vector<svc::Op> diff(const Desired& want, const Desired& before,
                          const std::vector<svc::ServiceState>& live);

}  // namespace sluice::config
