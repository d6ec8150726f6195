#include "io/xdp_mode.h"

#include <fmt/format.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sluice::io {

ModeChoice chooseXdpMode(XdpMode requested, const LinkFacts& link, uint32_t afxdp_frame) {
  ModeChoice c;
  const bool veth = link.driver == "veth";
  switch (requested) {
    case XdpMode::kGeneric:
      c.mode = XdpMode::kGeneric;
      c.why = "generic mode, as asked (--xdp-mode generic)";
      break;
    case XdpMode::kNative:
      c.mode = XdpMode::kNative;
      c.why = "native mode, as asked (--xdp-mode native)";
      if (veth) {
        c.csum_check = true;
        c.warnings.push_back(fmt::format(
            "{} is a veth in native mode: frames the fast path transmits (XDP_TX or redirect) "
            "are dropped by the kernel unless the veth's peer runs an XDP program or has GRO on "
            "(`ethtool -K PEER gro on` in the peer's namespace); use --xdp-mode auto (generic "
            "on veth) unless the peer is arranged so",
            link.name));
        c.warnings.push_back(fmt::format(
            "{}: segments whose sender left the checksum to the NIC (veth's default) go "
            "through the daemon, which finishes the checksum: slower than the fast path",
            link.name));
      }
      break;
    case XdpMode::kNativeOrGeneric:
      if (veth) {
        c.mode = XdpMode::kGeneric;
        c.why = "generic mode: the driver is veth, where native XDP_TX needs an XDP program "
                "on the peer and loses the senders' offloaded checksums (--xdp-mode native "
                "overrides)";
      } else {
        c.mode = XdpMode::kNativeOrGeneric;
        c.why = "native mode where the driver supports it, else generic";
      }
      break;
  }
  // The largest frame the link can deliver: MTU + Ethernet header + two VLAN tags.
  const uint32_t biggest = link.mtu + 14 + 8;
  const uint32_t room = afxdp_frame > 256 ? afxdp_frame - 256 : 0;  // XDP headroom
  if (biggest > room)
    c.warnings.push_back(fmt::format(
        "{}: MTU {} makes frames of up to {} bytes, more than an AF_XDP frame holds ({}); "
        "a new connection's first packet that large is dropped by the kernel. Lower the "
        "MTU to {} or less",
        link.name, link.mtu, biggest, room, room > 22 ? room - 22 : 0));
  return c;
}

LinkFacts readLinkFacts(const std::string& name) {
  LinkFacts f;
  f.name = name;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    ifr.ifr_data = reinterpret_cast<char*>(&info);
    if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) f.driver = info.driver;
    ifreq mtu{};
    std::strncpy(mtu.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFMTU, &mtu) == 0 && mtu.ifr_mtu > 0) f.mtu = uint32_t(mtu.ifr_mtu);
    close(fd);
  }
  return f;
}

}  // namespace sluice::io
