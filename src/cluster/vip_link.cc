// The TUN device and its rtnetlink address requests; see vip_link.h.
#include "cluster/vip_link.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <net/if.h>  // before linux/if.h, which then leaves out what glibc defines
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <vector>

namespace sluice::cluster {
namespace {

// Moves `fd` to the highest free descriptor below the soft limit and closes the original.
// Why: when a process dies, the kernel releases its files in descending descriptor order
// (measured on 6.18: two TUN devices opened as 3 and 4 by a process killed with SIGKILL
// vanish 4 first; task_work runs its list last-in first-out). The VIP device must go before
// the AF_XDP sockets and the XDP link: while its addresses are still local, a packet to a
// VIP that no longer has a socket or a program to take it is answered by the kernel with a
// reset, and established connections the router is about to move to another director break.
// On a kernel that releases in ascending order this costs nothing but the move.
int highestDescriptor(int fd) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 64) return fd;
  const long cap = rl.rlim_cur == RLIM_INFINITY ? 4096 : long(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
  for (long want = cap - 1; want > fd && want >= cap - 64; --want) {
    if (fcntl(int(want), F_GETFD) != -1) continue;  // taken
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, int(want));
    if (hi < 0) return fd;
    ::close(fd);
    return hi;
  }
  return fd;
}

// One rtnetlink request with NLM_F_ACK on a short-lived socket. Returns the kernel's answer
// as an errno (0 = done), so callers can accept EEXIST/EADDRNOTAVAIL where those mean "already
// so"; an Error only when the socket itself fails. Bounded: the kernel answers at once, and a
// 2 s receive timeout covers a kernel that does not.
Result<int> rtnlAck(nlmsghdr* nlh) {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (!nl) return makeError("cannot open an rtnetlink socket: {}", std::strerror(errno));
  struct Closer {
    mnl_socket* s;
    ~Closer() { mnl_socket_close(s); }
  } closer{nl};
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return makeError("cannot bind an rtnetlink socket: {}", std::strerror(errno));
  timeval tv{2, 0};
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static std::atomic<uint32_t> seq{uint32_t(time(nullptr))};
  nlh->nlmsg_seq = seq.fetch_add(1, std::memory_order_relaxed) + 1;
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return makeError("cannot send an rtnetlink request: {}", std::strerror(errno));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (int tries = 0; tries < 16; ++tries) {   // skips strays; the ACK is the first normally
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return makeError("no answer to an rtnetlink request: {}", std::strerror(errno));
    int len = int(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != nlh->nlmsg_seq || m->nlmsg_type != NLMSG_ERROR) continue;
      if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
        return makeError("truncated rtnetlink answer");
      return -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
    }
  }
  return makeError("rtnetlink sent no acknowledgement");
}

// RTM_NEWLINK on an existing interface with one change, built by `fill`.
template <class Fill>
Result<int> changeLink(uint32_t ifindex, Fill fill) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = int(ifindex);
  fill(nlh, ifi);
  return rtnlAck(nlh);
}

// RTM_NEWADDR / RTM_DELADDR for one host address.
Result<int> addrRequest(uint16_t type, uint32_t ifindex, const net::IpAddr& addr) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  // EXCL: an address that is already there is left untouched (no netlink event, so the
  // routing daemon sees nothing), instead of being replaced.
  if (type == RTM_NEWADDR) nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = addr.isV4() ? AF_INET : AF_INET6;
  // A host prefix for every VIP: each IPv4 /32 is its own primary address, so removing one
  // never takes "secondaries" with it, as removing the primary of a shared subnet would.
  ifa->ifa_prefixlen = addr.isV4() ? 32 : 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  mnl_attr_put(nlh, IFA_LOCAL, addr.size(), addr.bytes.data());
  mnl_attr_put(nlh, IFA_ADDRESS, addr.size(), addr.bytes.data());
  // IPv6: no duplicate address detection (usable at once) and no prefix route pointing into
  // the device; the local route is all the kernel needs.
  if (type == RTM_NEWADDR && addr.isV6())
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
  return rtnlAck(nlh);
}

bool isPrintableAscii(char c) { return c > ' ' && c < 0x7f; }

}  // namespace

Status validateVipDeviceName(std::string_view name) {
  if (name.empty()) return makeError("the VIP device name is empty");
  if (name.size() >= IFNAMSIZ)
    return makeError("VIP device name '{}' is {} bytes long; Linux allows at most {}", name,
                     name.size(), IFNAMSIZ - 1);
  if (name == "." || name == "..") return makeError("'{}' is not a valid interface name", name);
  for (char c : name) {
    if (!isPrintableAscii(c) || c == '/' || c == ':' || c == '%')
      return makeError(
          "VIP device name '{}' contains '{}'; use letters, digits, '-', '_' or '.'", name,
          isPrintableAscii(c) ? std::string(1, c) : fmt::format("\\x{:02x}", uint8_t(c)));
  }
  return {};
}

Status validateVip(const net::IpAddr& a) {
  if (!a.isV4() && !a.isV6()) return makeError("a VIP needs an IPv4 or IPv6 address");
  if (a.isZero()) return makeError("{} is the unspecified address, not a VIP", a.str());
  const auto& b = a.bytes;
  if (a.isV4()) {
    if (b[0] == 127) return makeError("{} is a loopback address, not a VIP", a.str());
    if (b[0] >= 224 && b[0] <= 239) return makeError("{} is multicast, not a VIP", a.str());
    if (a.v4HostOrder() == 0xffffffffu) return makeError("{} is the broadcast address", a.str());
    return {};
  }
  static constexpr uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(b.data(), kLoop6, 16) == 0)
    return makeError("{} is the loopback address, not a VIP", a.str());
  if (b[0] == 0xff) return makeError("{} is multicast, not a VIP", a.str());
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return makeError("{} is link-local: a routing daemon cannot announce it", a.str());
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b.data(), kMapped, 12) == 0)
    return makeError("{} is IPv4-mapped; give the IPv4 address itself", a.str());
  return {};
}

Result<std::unique_ptr<TunLink>> TunLink::open(const std::string& name) {
  if (Status st = validateVipDeviceName(name); !st) return st.error();
  // O_CLOEXEC: a child that inherited the descriptor would keep the device, and so the
  // announcement, alive after sluiced died.
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENODEV)
      return makeError("cannot create VIP device '{}': no /dev/net/tun (load the tun module: "
                       "`modprobe tun`)", name);
    return makeError("cannot create VIP device '{}': cannot open /dev/net/tun: {}{}", name,
                     std::strerror(e), e == EACCES || e == EPERM ? " (needs root)" : "");
  }
  fd = highestDescriptor(fd);
  auto fail = [fd](Error e) {
    ::close(fd);
    return e;
  };
  ifreq ifr{};
  // IFF_TUN_EXCL: never attach to an interface that already exists (see vip_device.h).
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    if (e == EBUSY)
      return fail(makeError(
          "cannot create VIP device '{0}': an interface named '{0}' already exists. Either "
          "another sluiced owns it (stop that one first) or it is a leftover that would not "
          "vanish when sluiced dies; see `ip -d link show {0}` and remove it with "
          "`ip link del {0}`, or configure another VIP device name", name));
    if (e == EPERM)
      return fail(makeError("cannot create VIP device '{}': needs CAP_NET_ADMIN", name));
    return fail(makeError("cannot create VIP device '{}': TUNSETIFF: {}", name,
                          std::strerror(e)));
  }
  if (std::strncmp(ifr.ifr_name, name.c_str(), IFNAMSIZ) != 0)
    return fail(makeError("cannot create VIP device '{}': the kernel named it '{}'", name,
                          std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ))));
  // The device is ours alone from here, so the name cannot change under us before this.
  uint32_t ifindex = if_nametoindex(name.c_str());
  if (ifindex == 0)
    return fail(makeError("VIP device '{}' vanished right after creation", name));

  auto link_err = [&](const Result<int>& r, const char* what) -> std::optional<Error> {
    if (!r) return makeError("VIP device '{}': cannot {}: {}", name, what, r.error().message);
    if (*r != 0)
      return makeError("VIP device '{}': cannot {}: {}", name, what, std::strerror(*r));
    return std::nullopt;
  };
  // A transmit queue of 0 packets: whatever is routed into the device is dropped at once and
  // never waits for a reader we do not have (vip_link.h). Set before the device goes up, so
  // it also gets the "noqueue" discipline.
  auto r = changeLink(ifindex, [](nlmsghdr* nlh, ifinfomsg*) {
    mnl_attr_put_u32(nlh, IFLA_TXQLEN, 0);
  });
  if (auto e = link_err(r, "set its transmit queue length to 0")) return fail(*e);
  // No IPv6 link-local address, hence no router solicitations or MLD reports. Best effort:
  // with IPv6 disabled in this namespace the kernel refuses, and then there is nothing to
  // silence anyway (and no IPv6 VIP can be added; add() says so).
  (void)changeLink(ifindex, [](nlmsghdr* nlh, ifinfomsg*) {
    nlattr* spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    nlattr* in6 = mnl_attr_nest_start(nlh, AF_INET6);
    mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(nlh, in6);
    mnl_attr_nest_end(nlh, spec);
  });
  r = changeLink(ifindex, [](nlmsghdr*, ifinfomsg* ifi) {
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
  });
  if (auto e = link_err(r, "bring it up")) return fail(*e);
  return std::unique_ptr<TunLink>(new TunLink(fd, ifindex, name));
}

TunLink::~TunLink() { ::close(fd_); }

Status TunLink::addAddress(const net::IpAddr& addr) {
  auto r = addrRequest(RTM_NEWADDR, ifindex_, addr);
  if (!r) return makeError("cannot add VIP {} to {}: {}", addr.str(), name_, r.error().message);
  if (*r == 0 || *r == EEXIST) return {};
  if (addr.isV6() && (*r == EAFNOSUPPORT || *r == EACCES))
    return makeError("cannot add VIP {} to {}: IPv6 is disabled here ({})", addr.str(), name_,
                     std::strerror(*r));
  if (*r == ENODEV)
    return makeError("cannot add VIP {}: device {} was deleted by someone else", addr.str(),
                     name_);
  return makeError("cannot add VIP {} to {}: {}", addr.str(), name_, std::strerror(*r));
}

Status TunLink::removeAddress(const net::IpAddr& addr) {
  auto r = addrRequest(RTM_DELADDR, ifindex_, addr);
  if (!r)
    return makeError("cannot remove VIP {} from {}: {}", addr.str(), name_, r.error().message);
  // Absent already (removed by hand, or the device itself is gone): the wanted state.
  if (*r == 0 || *r == EADDRNOTAVAIL || *r == ENOENT || *r == ENODEV) return {};
  return makeError("cannot remove VIP {} from {}: {}", addr.str(), name_, std::strerror(*r));
}

}  // namespace sluice::cluster
