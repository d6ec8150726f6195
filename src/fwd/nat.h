// NAT, IPVS's masquerading (ipvsadm -m; ip_vs_nat_xmit and handle_response), the slow
// path's side of bpf/lib/xmit_nat.h. The director is the real servers' gateway and sees
// both directions: a request's destination becomes the real server (RIP:rport), a reply's
// source becomes the service again (VIP:vport). Checksums are updated incrementally
// (RFC 1624), never recomputed: the cost does not grow with the payload, and a segment
// that arrived corrupt stays detectably corrupt. The trade-off: a checksum the sender left
// half-done (CHECKSUM_PARTIAL) must be finished before the rewrite, which the caller does
// (dp::Datapath::forward), as an incremental update of a partial sum would be wrong.
#pragma once

#include <cstdint>
#include <span>

#include "abi/records.h"
#include "net/icmp_quote.h"
#include "net/packet.h"

namespace sluice::fwd {

enum class End : uint8_t { kSource, kDest };

// Rewrites one end (address and TCP/UDP port) of the IP packet whose header starts at
// `ip_off` and whose TCP/UDP header starts at `l4_off`, `l4_avail` bytes of it present;
// `addr` holds 16 bytes (IPv4 in the first 4), `port` is in network byte order. Updates
// the IPv4 header checksum and, when the field is present in l4_avail, the TCP/UDP
// checksum (its pseudo-header covers the address). A UDP/IPv4 checksum of 0 ("none")
// stays 0, and a UDP result of 0 is sent as 0xFFFF. The caller has checked the bounds.
void rewriteEnd(std::span<uint8_t> frame, net::Family family, size_t ip_off, size_t l4_off,
                size_t l4_avail, uint8_t proto, End end, const uint8_t* addr,
                uint16_t port) noexcept;

// A request of a NAT connection: destination -> the real server's address and port (the
// virtual port when the real server's port is 0), Ethernet addresses to its next hop. `d`
// must be resolved; the frame leaves out of d.ifindex.
void xmitNat(std::span<uint8_t> frame, const net::Parsed& p, const sl_dest& d) noexcept;

// A reply of a NAT connection (real server -> client): source -> the service's address and
// port (`vport` in network byte order). The Ethernet header is left alone: the kernel routes
// the packet on to the client (dp::Action::kRoute).
void natReply(std::span<uint8_t> frame, const net::Parsed& p, const uint8_t* vaddr,
              uint16_t vport) noexcept;

// ICMP errors of NAT connections, translated as ip_vs_nat_icmp does. The quote's own IP
// header checksum is fixed, and the ICMP (v4) or ICMPv6 (with its pseudo-header) checksum
// recomputed over the message: errors are rare and their quotes short.
//
// From the Internet about a reply the client got (quote VIP:vport -> CIP:cport): the outer
// destination and the quote's source become the real server's (`d`), and the frame goes
// to it like a request.
void natIcmpToServer(std::span<uint8_t> frame, const net::Parsed& p, const net::IcmpQuote& q,
                     const sl_dest& d) noexcept;
// From a real server (or a router between) about a request it got (quote CIP:cport ->
// RIP:rport): the quote's destination becomes VIP:vport, and the outer source too when the
// real server itself sent the error (it is RIP); then the kernel routes it to the client.
void natIcmpToClient(std::span<uint8_t> frame, const net::Parsed& p, const net::IcmpQuote& q,
                     const uint8_t* vaddr, uint16_t vport) noexcept;

}  // namespace sluice::fwd
