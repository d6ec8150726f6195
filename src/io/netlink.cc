// rtnetlink requests and message parsers; see netlink.h.
#include "io/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace sluice::io {
namespace {

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlCloser>;

uint32_t nextSeq() {
  static std::atomic<uint32_t> seq{uint32_t(time(nullptr))};
  return seq.fetch_add(1, std::memory_order_relaxed);
}

Result<MnlSocket> openRtnl() {
  MnlSocket nl(mnl_socket_open(NETLINK_ROUTE));
  if (!nl) return makeError("cannot open an rtnetlink socket: {}", std::strerror(errno));
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return makeError("cannot bind an rtnetlink socket: {}", std::strerror(errno));
  return nl;
}

struct CbCtx {
  const std::function<void(const nlmsghdr*)>* each;
};

int forEachCb(const nlmsghdr* nlh, void* data) {
  (*static_cast<CbCtx*>(data)->each)(nlh);
  return MNL_CB_OK;
}

// Sends `nlh` and feeds replies to `each` until the kernel is done: NLMSG_DONE for a dump,
// the ACK (or error) for NLM_F_ACK requests, the single reply otherwise.
Status transact(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& each,
                const char* what) {
  auto nl = openRtnl();
  if (!nl) return nl.error();
  uint32_t portid = mnl_socket_get_portid(nl->get());
  nlh->nlmsg_seq = nextSeq();
  const bool multi = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP ||
                     (nlh->nlmsg_flags & NLM_F_ACK);
  if (mnl_socket_sendto(nl->get(), nlh, nlh->nlmsg_len) < 0)
    return makeError("{}: cannot send the request: {}", what, std::strerror(errno));
  std::vector<char> buf(kNetlinkBufSize);
  CbCtx ctx{&each};
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->get(), buf.data(), buf.size());
    if (n < 0) return makeError("{}: {}", what, std::strerror(errno));
    int r = mnl_cb_run(buf.data(), size_t(n), nlh->nlmsg_seq, portid, forEachCb, &ctx);
    if (r < 0) return makeError("{}: {}", what, std::strerror(errno));
    if (r == MNL_CB_STOP || !multi) return {};
  }
}

bool familyOf(uint8_t af, net::Family* out) {
  if (af == AF_INET) *out = net::Family::kV4;
  else if (af == AF_INET6) *out = net::Family::kV6;
  else return false;
  return true;
}

uint8_t afOf(const net::IpAddr& a) { return a.isV4() ? AF_INET : AF_INET6; }

// Reads an address attribute of exactly the family's size.
std::optional<net::IpAddr> addrAttr(const nlattr* a, net::Family f) {
  if (!a) return std::nullopt;
  size_t want = f == net::Family::kV4 ? 4 : 16;
  if (mnl_attr_get_payload_len(a) != want) return std::nullopt;
  auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  return f == net::Family::kV4 ? net::IpAddr::fromV4Bytes(p) : net::IpAddr::fromV6Bytes(p);
}

// Collects the top-level attributes into tb[0..max]; unknown types are skipped.
template <size_t N>
void attrsOf(const nlmsghdr* nlh, size_t hdr_len, const nlattr* (&tb)[N]) {
  for (auto& t : tb) t = nullptr;
  auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, hdr_len));
  auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(a, int(tail - reinterpret_cast<const char*>(a)))) {
    uint16_t type = mnl_attr_get_type(a);
    if (type < N) tb[type] = a;
    a = mnl_attr_next(a);
  }
}

}  // namespace

bool neighStateUsable(uint16_t s) {
  return s & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP);
}

bool NeighUpdate::usable() const { return !deleted && mac && neighStateUsable(state); }

std::optional<NeighUpdate> parseNeighMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) return std::nullopt;
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ndmsg))) return std::nullopt;
  auto* nd = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  NeighUpdate u;
  net::Family f;
  if (!familyOf(nd->ndm_family, &f) || (nd->ndm_flags & NTF_PROXY)) return std::nullopt;
  const nlattr* tb[NDA_MAX + 1];
  attrsOf(nlh, sizeof(ndmsg), tb);
  auto dst = addrAttr(tb[NDA_DST], f);
  if (!dst) return std::nullopt;
  u.ifindex = uint32_t(nd->ndm_ifindex);
  u.addr = *dst;
  u.state = nd->ndm_state;
  u.deleted = nlh->nlmsg_type == RTM_DELNEIGH;
  if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
    net::MacAddr m;
    std::memcpy(m.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
    u.mac = m;
  }
  return u;
}

std::optional<LinkInfo> parseLinkMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK) return std::nullopt;
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg))) return std::nullopt;
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  const nlattr* tb[IFLA_MAX + 1];
  attrsOf(nlh, sizeof(ifinfomsg), tb);
  if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_STRING) < 0)
    return std::nullopt;
  LinkInfo l;
  l.ifindex = uint32_t(ifi->ifi_index);
  l.name = mnl_attr_get_str(tb[IFLA_IFNAME]);
  l.up = ifi->ifi_flags & IFF_UP;
  if (tb[IFLA_MTU] && mnl_attr_get_payload_len(tb[IFLA_MTU]) == 4) l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
    std::memcpy(l.mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  return l;
}

std::optional<Route> parseRouteMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWROUTE) return std::nullopt;
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) return std::nullopt;
  auto* rt = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  net::Family f;
  if (!familyOf(rt->rtm_family, &f)) return std::nullopt;
  if (rt->rtm_type != RTN_UNICAST && rt->rtm_type != RTN_LOCAL) return std::nullopt;
  const nlattr* tb[RTA_MAX + 1];
  attrsOf(nlh, sizeof(rtmsg), tb);
  Route r;
  r.local = rt->rtm_type == RTN_LOCAL;
  if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) == 4) r.oif = mnl_attr_get_u32(tb[RTA_OIF]);
  r.gateway = addrAttr(tb[RTA_GATEWAY], f);
  r.prefsrc = addrAttr(tb[RTA_PREFSRC], f);
  if (tb[RTA_METRICS]) {
    const nlattr* nest = tb[RTA_METRICS];
    const auto* end = static_cast<const char*>(mnl_attr_get_payload(nest)) +
                      mnl_attr_get_payload_len(nest);
    for (auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
         mnl_attr_ok(a, int(end - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a)) {
      if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_get_payload_len(a) == 4)
        r.mtu = mnl_attr_get_u32(a);
    }
  }
  if (r.oif == 0) return std::nullopt;
  return r;
}

Status rtnlDump(uint16_t type, uint8_t family,
                const std::function<void(const nlmsghdr*)>& each) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  // Each request type has its own header with the family in its first byte; sending the
  // exact one keeps strict-checking kernels happy and the log free of "leftover bytes".
  size_t hdr = sizeof(rtgenmsg);
  switch (type) {
    case RTM_GETLINK: hdr = sizeof(ifinfomsg); break;
    case RTM_GETNEIGH: hdr = sizeof(ndmsg); break;
    case RTM_GETROUTE: hdr = sizeof(rtmsg); break;
    case RTM_GETADDR: hdr = sizeof(ifaddrmsg); break;
  }
  auto* g = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, hdr));
  g->rtgen_family = family;
  return transact(nlh, each, "rtnetlink dump");
}

Result<std::vector<LinkInfo>> listLinks() {
  std::vector<LinkInfo> out;
  Status st = rtnlDump(RTM_GETLINK, AF_UNSPEC, [&](const nlmsghdr* nlh) {
    if (auto l = parseLinkMessage(nlh)) out.push_back(std::move(*l));
  });
  if (!st) return makeError("cannot list interfaces: {}", st.error().message);
  return out;
}

Result<LinkInfo> linkByName(std::string_view name) {
  auto links = listLinks();
  if (!links) return links.error();
  for (auto& l : *links)
    if (l.name == name) return l;
  return makeError("no interface named '{}' (see `ip link`)", name);
}

Result<LinkInfo> linkByIndex(uint32_t ifindex) {
  auto links = listLinks();
  if (!links) return links.error();
  for (auto& l : *links)
    if (l.ifindex == ifindex) return l;
  return makeError("no interface with index {}", ifindex);
}

Result<Route> lookupRoute(const net::IpAddr& dst) {
  if (!dst.isV4() && !dst.isV6()) return makeError("route lookup: address has no family");
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rt->rtm_family = afOf(dst);
  rt->rtm_dst_len = dst.isV4() ? 32 : 128;
  mnl_attr_put(nlh, RTA_DST, dst.size(), dst.bytes.data());
  std::optional<Route> found;
  int type = -1;
  Status st = transact(nlh, [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWROUTE && m->nlmsg_len >= mnl_nlmsg_size(sizeof(rtmsg)))
      type = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m))->rtm_type;
    if (auto r = parseRouteMessage(m)) found = r;
  }, "route lookup");
  if (!st) return makeError("no route to {}: {}", dst.str(), st.error().message);
  if (!found)
    return makeError("no usable route to {} (route type {}: unreachable, blackhole or prohibit)",
                     dst.str(), type);
  return *found;
}

Status requestNeighbour(uint32_t ifindex, const net::IpAddr& addr) {
  if (!addr.isV4() && !addr.isV6()) return makeError("neighbour request: address has no family");
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
  auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  nd->ndm_family = afOf(addr);
  nd->ndm_ifindex = int(ifindex);
  nd->ndm_state = NUD_NONE;
  nd->ndm_flags = NTF_USE;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.bytes.data());
  Status st = transact(nlh, [](const nlmsghdr*) {}, "neighbour request");
  if (!st)
    return makeError("cannot ask the kernel to resolve {} on ifindex {}: {}", addr.str(),
                     ifindex, st.error().message);
  return {};
}

}  // namespace sluice::io
