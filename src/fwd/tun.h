// Tunnelling (ip_vs_tunnel_xmit / ip_vs_tunnel_xmit_v6), the slow path's side of
// bpf/lib/xmit_tun.h: the client's IP packet, untouched, gets an outer IPv4 or IPv6 header
// (and for GUE a UDP and GUE header) addressed to the real server, which decapsulates it
// (the kernel's ipip/ip6_tunnel/fou modules, or sluice-decap) and answers the client
// directly from the VIP, as in DR. Unlike DR the real server may be anywhere routed.
// The header bytes come from abi/tun.h, shared with the XDP program; this file moves the
// packet back to make room and decides what a packet too big for the tunnel gets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/records.h"
#include "net/packet.h"

namespace sluice::fwd {

enum class TunStatus : uint8_t {
  kOk,           // encapsulated: `len` is the frame's new length
  kUnsupported,  // a tunnel type not built here (GRE, remote checksum offload)
  kNoSource,     // the dest has no outer source address (laddr) yet
  kNoRoom,       // the buffer cannot grow by the overhead
  kTooBig,       // inner datagram + overhead > the egress MTU: `mtu` is what fits inside
};

struct TunResult {
  TunStatus status = TunStatus::kOk;
  uint16_t len = 0;
  uint16_t mtu = 0;
};

// Encapsulates the frame of `p` (frame_len bytes at buf.data(); buf is the frame and the
// room after it) for the resolved dest `d`: the Ethernet header (VLAN tags kept) goes to
// d's next hop with the outer family's ethertype, the outer header(s) follow, then the
// inner datagram, moved back by the overhead. `hash` is the connection's table hash (the
// GUE source port). On anything but kOk the frame is untouched.
TunResult xmitTun(std::span<uint8_t> buf, size_t frame_len, const net::Parsed& p,
                  const sl_dest& d, uint64_t hash) noexcept;

}  // namespace sluice::fwd
