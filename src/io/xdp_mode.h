// Which XDP mode to attach in, per interface, and what the operator must know about it.
//
// Native (driver) mode is what makes the fast path fast on a hardware NIC. On a veth it
// quietly loses packets in two ways a user trying Sluice in containers or namespaces meets
// first: a frame sent with XDP_TX or redirected into a veth is dropped by the kernel unless
// the veth's PEER runs NAPI (an XDP program of its own, or GRO on), which a default peer
// does not; and a sender on the other end leaves TCP/UDP checksums half-done for the
// "hardware" (CHECKSUM_PARTIAL), a mark that XDP_TX and AF_XDP lose, so the real server
// drops the segment as corrupt. Generic (SKB) mode keeps the socket buffer, its checksum
// mark included, and transmits through the normal queueing path, so it works on any veth
// as it is. The trade-off: generic mode costs an SKB per packet, several times the cost of
// native mode, which is why `auto` still chooses native wherever the driver is not veth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/xdp_loader.h"

namespace sluice::io {

// What the kernel tells about a data-plane interface.
struct LinkFacts {
  std::string name;
  std::string driver;        // ethtool's driver name ("veth", "mlx5_core", ...); "" unknown
  uint32_t mtu = 1500;
};

struct ModeChoice {
  XdpMode mode = XdpMode::kNativeOrGeneric;  // what to ask attach() for
  std::string why;                           // one line for the start-up log
  std::vector<std::string> warnings;         // conditions that lose packets, each with its fix
  bool csum_check = false;                   // the fast path must hand half-done checksums
                                             // to the slow path (native mode on veth)
};

// The decision for one interface, from the operator's --xdp-mode and the link's facts.
// `afxdp_frame` is the AF_XDP frame size: a first packet larger than it cannot reach the
// slow path.
ModeChoice chooseXdpMode(XdpMode requested, const LinkFacts& link, uint32_t afxdp_frame);

// Reads LinkFacts for an interface of the current network namespace.
LinkFacts readLinkFacts(const std::string& name);

}  // namespace sluice::io
