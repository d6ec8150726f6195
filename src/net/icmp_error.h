// ICMP errors the director itself sends, built in place over the packet they answer, so
// the data path needs no buffer of its own: "port unreachable" for a new connection that
// no real server can take (ip_vs_leave), and "fragmentation needed" / "packet too big" for
// a datagram too big for the tunnel to its real server. The message quotes the offending
// datagram as the kernel's icmp_send / icmpv6_send do (the whole datagram up to 576 bytes
// of IPv4 message, 1280 of IPv6), so the client's stack can match it to its socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/packet.h"

namespace sluice::net {

// Rewrites the frame of `p` (frame_len bytes at buf.data(); buf reaches as far as the
// buffer lets the frame grow) into the ICMP port unreachable (v4: type 3 code 3; v6:
// type 1 code 4) from p's destination back to its source: Ethernet addresses swapped,
// VLAN tags kept, TTL/hop limit 64. Returns the new frame length, or 0 (frame untouched)
// when the source must not be answered (unspecified, multicast, broadcast) or the reply
// does not fit in buf.
size_t buildPortUnreachable(std::span<uint8_t> buf, size_t frame_len, const Parsed& p) noexcept;

// The same for path MTU discovery (IPVS's pmtu_disc in ip_vs_tunnel_xmit): IPv4
// "fragmentation needed" (type 3 code 4) carrying `mtu`, IPv6 "packet too big" (type 2)
// carrying max(mtu, 1280). Sent from the VIP, as the kernel's own icmp_send would be.
size_t buildTooBig(std::span<uint8_t> buf, size_t frame_len, const Parsed& p,
                   uint32_t mtu) noexcept;

}  // namespace sluice::net
