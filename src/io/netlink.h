// What the daemon asks the kernel over rtnetlink (libmnl): interface facts, the route and
// next hop towards a real server, and neighbour (ARP/ND) entries.
//
// These are control-plane calls: synchronous, one short-lived socket each, Result<T> errors.
// The message parsers are separate pure functions so they can be tested without root and
// reused by the neighbour watcher (neighbour_table.h), which follows the kernel's table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/addr.h"

struct nlmsghdr;
struct mnl_socket;

namespace sluice::io {

// Receive buffer for rtnetlink: large enough for a dump batch (the kernel's is 32 KiB).
constexpr size_t kNetlinkBufSize = 32768;

struct LinkInfo {
  uint32_t ifindex = 0;
  std::string name;
  net::MacAddr mac{};  // zero for links without an Ethernet address
  uint32_t mtu = 0;
  bool up = false;     // IFF_UP
};

struct Route {
  uint32_t oif = 0;                     // egress interface
  std::optional<net::IpAddr> gateway;   // nullopt: the destination is on-link
  std::optional<net::IpAddr> prefsrc;   // source address the kernel would use
  bool local = false;                   // the destination is this host
  // The route's MTU (`ip route ... mtu N`, or a path MTU the kernel learned), from
  // RTA_METRICS; 0 when the route sets none (the interface's MTU applies).
  uint32_t mtu = 0;
  // Whose MAC the frame needs: the gateway's, or the destination's own when on-link.
  net::IpAddr nextHop(const net::IpAddr& dst) const { return gateway ? *gateway : dst; }
};

struct NeighUpdate {
  uint32_t ifindex = 0;
  net::IpAddr addr;
  std::optional<net::MacAddr> mac;  // absent for INCOMPLETE/FAILED entries
  uint16_t state = 0;               // NUD_*
  bool deleted = false;             // RTM_DELNEIGH
  // Usable for forwarding: a MAC and a state in which the kernel would send to it.
  bool usable() const;
};

// NUD_REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP: states with a MAC worth using.
bool neighStateUsable(uint16_t nud_state);

Result<std::vector<LinkInfo>> listLinks();
Result<LinkInfo> linkByName(std::string_view name);
Result<LinkInfo> linkByIndex(uint32_t ifindex);

// The kernel's choice for `dst` (RTM_GETROUTE, as `ip route get` does).
Result<Route> lookupRoute(const net::IpAddr& dst);

// Asks the kernel to resolve `addr` on `ifindex` (send ARP / neighbour solicitation) when we
// need a MAC it does not have: RTM_NEWNEIGH with NLM_F_CREATE and NTF_USE, which creates an
// entry if needed and kicks its state machine exactly as an outgoing packet would (the same
// as `ip neigh replace ADDR dev IF use`); the result arrives later as an RTM_NEWNEIGH event.
// Unlike sending a dummy packet, it needs no socket bound to the address and sends nothing
// if the entry is already REACHABLE.
Status requestNeighbour(uint32_t ifindex, const net::IpAddr& addr);

// Runs an rtnetlink dump (RTM_GETLINK, RTM_GETNEIGH, ...) of `family` (AF_UNSPEC = all) and
// calls `each` for every message of it.
Status rtnlDump(uint16_t type, uint8_t family,
                const std::function<void(const nlmsghdr*)>& each);

// Parsers for single rtnetlink messages; nullopt for messages of another type or family,
// or too short to trust.
std::optional<NeighUpdate> parseNeighMessage(const nlmsghdr* nlh);
std::optional<LinkInfo> parseLinkMessage(const nlmsghdr* nlh);
// RTM_NEWROUTE of a route lookup; nullopt for unreachable/blackhole/prohibit results too.
std::optional<Route> parseRouteMessage(const nlmsghdr* nlh);

}  // namespace sluice::io
