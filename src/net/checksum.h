// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), as NAT, FULLNAT
// and tunnel rewrites need them. Every 16-bit value here is in host order and means the
// big-endian word on the wire: store it with store16be, read it with load16be.
//
// Partial sums are 32-bit accumulators, so a checksum can be built from pieces (pseudo
// header + L4 header + payload) without copying. The trade-off: pieces must be split at
// even byte offsets (only the last piece may have odd length), as in the kernel's
// csum_partial without its odd-offset rotation; every header boundary in IP is even.
#pragma once

#include <cstdint>
#include <span>

#include "net/addr.h"

namespace sluice::net {

// One's-complement sum of `data` added to `sum`. The result is not folded to 16 bits.
uint32_t csumPartial(std::span<const uint8_t> data, uint32_t sum = 0) noexcept;
// Adds a 16-bit word or a 32-bit value (as two words) to a partial sum.
uint32_t csumAdd16(uint32_t sum, uint16_t word) noexcept;
uint32_t csumAdd32(uint32_t sum, uint32_t value) noexcept;
// Folds a partial sum to 16 bits (end-around carry), not complemented.
uint16_t csumFold(uint32_t sum) noexcept;
// The checksum field value for a partial sum: ~fold(sum).
uint16_t csumFinish(uint32_t sum) noexcept;

// Checksum of a whole buffer (ICMPv4 messages, or any header with its field zeroed).
uint16_t internetChecksum(std::span<const uint8_t> data) noexcept;
// True if the buffer, checksum field included, sums to 0xFFFF (i.e. verifies).
bool checksumOk(std::span<const uint8_t> data, uint32_t sum = 0) noexcept;

// IPv4 header checksum of `hdr` (IHL*4 bytes); the checksum field in `hdr` is ignored, so
// it can be called on a header that still carries its old value.
uint16_t ipv4HeaderChecksum(std::span<const uint8_t> hdr) noexcept;

// Partial sum of the TCP/UDP/ICMPv6 pseudo header: addresses of the family of `saddr`,
// protocol, and upper-layer length (RFC 768 / RFC 8200 section 8.1).
uint32_t pseudoHeaderSum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                         uint32_t l4_len) noexcept;

// Checksum of an L4 segment (header + payload) under its pseudo header, as it belongs in
// the segment's checksum field. The current field value is ignored (treated as zero);
// `csum_off` is the field's offset inside `l4` (TCP 16, UDP 6, ICMPv6 2). For UDP a
// computed 0 is returned as 0xFFFF, since 0 on the wire means "no checksum".
uint16_t l4Checksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                    std::span<const uint8_t> l4, size_t csum_off) noexcept;
// Offset of the checksum field in the L4 header of `proto` (TCP, UDP, ICMP, ICMPv6), or
// SIZE_MAX for a protocol without one here.
size_t l4ChecksumOffset(uint8_t proto) noexcept;
// Verifies a received segment's checksum (field included) under its pseudo header.
bool l4ChecksumOk(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                  std::span<const uint8_t> l4) noexcept;

// Segments whose checksum the sender left to "hardware" (CHECKSUM_PARTIAL: veth, virtio,
// tap and most container links) carry in the field only the folded pseudo-header sum; the
// NIC, or the kernel on the receiving side of a virtual link, would add the rest. Once such
// a frame has been through an AF_XDP socket or an XDP_TX/redirect in native mode, that
// metadata is gone and nobody finishes it: the real server drops the segment as corrupt.
// True if the field of this TCP/UDP segment holds exactly that half-done value.
// A fully computed checksum equals it by coincidence once in 65536 segments; finishing such
// a segment recomputes the same valid checksum, so the only cost of a false positive is a
// full sum.
bool isPartialChecksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                       std::span<const uint8_t> l4) noexcept;
// Finishes a half-done TCP/UDP checksum in place (see isPartialChecksum); returns true if
// it did. Segments with a complete checksum (or none: UDP over IPv4 with 0) are left alone.
bool finishPartialChecksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                           std::span<uint8_t> l4) noexcept;

// RFC 1624 eqn. 3: the new checksum after replacing part of the covered data, without
// touching the rest: HC' = ~(~HC + ~m + m'). Callers rewriting a UDP/IPv4 checksum of 0
// ("none") must leave it 0, and must store a result of 0 as 0xFFFF.
uint16_t csumReplace16(uint16_t check, uint16_t old_word, uint16_t new_word) noexcept;
uint16_t csumReplace32(uint16_t check, uint32_t old_value, uint32_t new_value) noexcept;
// Replaces 16 bytes (an IPv6 address) at an even offset.
uint16_t csumReplace128(uint16_t check, const uint8_t* old_bytes,
                        const uint8_t* new_bytes) noexcept;
// Replaces an address of either family (4 or 16 bytes); both must be the same family.
uint16_t csumReplaceAddr(uint16_t check, const IpAddr& old_addr, const IpAddr& new_addr) noexcept;

}  // namespace sluice::net
