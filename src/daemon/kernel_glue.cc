#include "daemon/kernel_glue.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "io/afxdp.h"
#include "io/xdp_mode.h"

namespace sluice::daemon {

namespace {
const log::Logger kLog("nexthop");
const log::Logger kSteerLog("steer");
}  // namespace

const io::LinkInfo* NetlinkNextHops::link(uint32_t ifindex) const {
  for (const auto& l : links_)
    if (l.ifindex == ifindex) return &l;
  return nullptr;
}

namespace {
// The first address of `family` on interface `name` (getifaddrs lists them in the kernel's
// order, primary first), or nullopt.
std::optional<net::IpAddr> firstAddress(const std::string& name, net::Family family) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<net::IpAddr> found;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || name != a->ifa_name) continue;
    if (family == net::Family::kV4 && a->ifa_addr->sa_family == AF_INET) {
      found = net::IpAddr::fromV4Bytes(
          reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr));
    } else if (family == net::Family::kV6 && a->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;  // not routable to a real server
      found = net::IpAddr::fromV6Bytes(reinterpret_cast<const uint8_t*>(&sin6->sin6_addr));
    }
  }
  freeifaddrs(list);
  return found;
}
}  // namespace

std::optional<NextHop> NetlinkNextHops::resolve(const net::IpAddr& rs) {
  auto route = io::lookupRoute(rs);
  if (!route) return std::nullopt;
  if (route->local) return NextHop{.local = true};
  const io::LinkInfo* l = link(route->oif);
  if (!l) return std::nullopt;  // reachable only through an interface we do not drive
  auto mac = neigh_.lookup(l->ifindex, route->nextHop(rs));
  if (!mac) return std::nullopt;
  NextHop nh{l->ifindex, l->mac, *mac};
  // The outer source of a tunnel to rs: the address the kernel's own ipip tunnel would
  // send from (the route's preferred source), else the interface's first of the family.
  if (route->prefsrc && route->prefsrc->family == rs.family) {
    nh.src = *route->prefsrc;
  } else if (auto a = firstAddress(l->name, rs.family)) {
    nh.src = *a;
  }
  // The route's MTU where it has one (set by the operator for a path with a smaller MTU
  // than the link's, or learned by the kernel), else the link's, read at start-up.
  nh.mtu = route->mtu && (route->mtu < l->mtu || l->mtu == 0) ? route->mtu : l->mtu;
  return nh;
}

void NetlinkNextHops::request(const net::IpAddr& rs) {
  {
    std::lock_guard lock(mu_);
    Nanos now = clock_.now();
    auto [it, fresh] = last_request_.try_emplace(rs, now);
    if (!fresh) {
      if (now - it->second < kSecond) return;
      it->second = now;
    }
  }
  auto route = io::lookupRoute(rs);
  if (!route) {
    kLog.warn("no route to real server {}: {}", rs.str(), route.error().message);
    return;
  }
  if (route->local) return;  // resolve() says so now: delivered to the local stack
  if (!link(route->oif)) {
    kLog.warn("real server {} is routed out of interface {}, which sluiced does not drive",
              rs.str(), route->oif);
    return;
  }
  if (auto st = io::requestNeighbour(route->oif, route->nextHop(rs)); !st)
    kLog.warn("cannot ask the kernel to resolve {}: {}", rs.str(), st.error().message);
}

Status SteerSync::servicesChanged(const svc::Snapshot& snap) {
  std::set<Key> want;
  std::set<net::IpAddr> want_vips;
  for (const auto& s : snap.services()) {
    const auto& k = s->cfg.key;
    if (k.fwmark) continue;  // firewall marks are not visible to XDP
    want.emplace(k.addr, uint8_t(k.proto), k.port);
    want_vips.insert(k.addr);
  }
  std::vector<std::string> refused;
  std::lock_guard lock(mu_);
  std::set<net::IpAddr> vips;
  for (const auto& a : vips_)
    if (!want_vips.count(a) && !prog_.removeVip(a)) vips.insert(a);  // retried next time
  for (const auto& a : want_vips) {
    if (vips_.count(a)) {
      vips.insert(a);
    } else if (auto st = prog_.addVip(a); st) {
      vips.insert(a);
    } else {
      refused.push_back(st.error().message);
    }
  }
  vips_ = std::move(vips);
  std::set<Key> installed;
  for (const auto& k : installed_) {
    if (want.count(k)) continue;
    if (auto st = prog_.removeService(std::get<0>(k), std::get<1>(k), std::get<2>(k)); !st) {
      // Still in the map: its packets keep reaching the daemon, which passes them on.
      kSteerLog.warn("cannot remove {} from the steering map: {}", std::get<0>(k).str(),
                     st.error().message);
      installed.insert(k);
    }
  }
  for (const auto& k : want) {
    if (installed_.count(k)) {
      installed.insert(k);
    } else if (auto st = prog_.addService(std::get<0>(k), std::get<1>(k), std::get<2>(k)); st) {
      installed.insert(k);
    } else {
      refused.push_back(fmt::format("{} port {}: {}", std::get<0>(k).str(), std::get<2>(k),
                                    st.error().message));
    }
  }
  installed_ = std::move(installed);
  if (refused.empty()) return {};
  for (const auto& r : refused) kSteerLog.error("steering map refused {}", r);
  return makeError("the XDP steering map refused it ({}): the kernel stack gets these packets "
                   "instead of sluiced",
                   fmt::join(refused, "; "));
}

Status SteerSync::peerMacsChanged(std::span<const net::MacAddr> macs) {
  std::lock_guard lock(mu_);
  Status st = prog_.setPeerMacs(macs);
  if (!st) kSteerLog.error("peer MAC map: {}", st.error().message);
  return st;
}

Status attachSteering(io::SteerProgram& prog, const io::LinkInfo& l, io::XdpMode requested) {
  const io::LinkFacts facts = io::readLinkFacts(l.name);
  const uint32_t frame = io::AfXdpOptions{}.frame_size;
  io::ModeChoice choice = io::chooseXdpMode(requested, facts, frame);
  // The checksum test must be on before the first frame arrives in native mode on veth.
  if (choice.csum_check) prog.config()->csum_check = 1;
  if (Status st = prog.attach(l.ifindex, choice.mode, requested == io::XdpMode::kNativeOrGeneric);
      !st)
    return st;
  const io::XdpMode mode = prog.attachedMode(l.ifindex).value_or(io::XdpMode::kGeneric);
  if (prog.tookOverLink(l.ifindex) && mode != choice.mode) {
    // A pinned link keeps the mode it was made in: judge that mode, not the preferred one.
    choice = io::chooseXdpMode(mode, facts, frame);
    choice.why = "the pinned link's mode, kept across the restart";
    if (choice.csum_check) prog.config()->csum_check = 1;
  }
  kSteerLog.info("{}: {}", l.name, choice.why);
  for (const auto& w : choice.warnings) kSteerLog.warn("{}", w);
  kSteerLog.info("XDP {} {} (ifindex {}, {} mode)",
            prog.tookOverLink(l.ifindex) ? "program swapped into the pinned link of"
                                         : "attached to",
            l.name, l.ifindex, mode == io::XdpMode::kNative ? "native" : "generic");
  return {};
}

}  // namespace sluice::daemon
