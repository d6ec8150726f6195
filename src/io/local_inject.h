// Hands an Ethernet frame's IP packet to this host's own stack, for the frames of
// connections whose real server is this host (IPVS's LOCALNODE, dp::Action::kLocal).
//
// A frame redirected into AF_XDP cannot be given back to the kernel as received, so the
// packet is sent, header included, on a raw socket (IPPROTO_RAW: IP_HDRINCL / IPv6's
// equivalent) to its own destination address. The kernel routes it to a local address and
// loops it back: the listening socket gets it as if it had arrived, with the client's source
// address intact, and no reverse-path filter sees it. Trade-off: one syscall per packet,
// paid only by the first packet of each such connection (the XDP program passes the rest to
// the stack itself) and by what the slow path handles anyway.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"

namespace sluice::io {

class LocalInjector {
 public:
  // Opens the two raw sockets (CAP_NET_RAW).
  static Result<LocalInjector> open();
  LocalInjector(LocalInjector&& o) noexcept : fd4_(o.fd4_), fd6_(o.fd6_) { o.fd4_ = o.fd6_ = -1; }
  LocalInjector& operator=(LocalInjector&& o) noexcept;
  LocalInjector(const LocalInjector&) = delete;
  LocalInjector& operator=(const LocalInjector&) = delete;
  ~LocalInjector();

  // Sends the IP packet inside `frame` (Ethernet, up to two VLAN tags) to the local stack,
  // without blocking. false: not IP, truncated, or the kernel refused it (a full socket
  // buffer, no route): the caller counts it as lost.
  bool inject(std::span<const uint8_t> frame) const noexcept;

 private:
  LocalInjector(int fd4, int fd6) : fd4_(fd4), fd6_(fd6) {}
  int fd4_ = -1;
  int fd6_ = -1;
};

}  // namespace sluice::io
