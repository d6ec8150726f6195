// Bounds-checked parsing of a received frame: Ethernet (with 802.1Q/802.1ad tags), IPv4
// (with options), IPv6 (walking its extension-header chain), TCP, UDP, ICMP, ICMPv6.
// No allocation, no exceptions: a frame either parses, is not IP (the caller passes it to
// the kernel), or is dropped with the named counter that says why.
#pragma once

#include <cstdint>
#include <span>

#include "dp/counters.h"
#include "net/addr.h"

namespace sluice::net {

constexpr uint16_t kEthP_IPv4 = 0x0800;
constexpr uint16_t kEthP_IPv6 = 0x86DD;
constexpr uint16_t kEthP_8021Q = 0x8100;
constexpr uint16_t kEthP_8021AD = 0x88A8;
constexpr uint16_t kEthP_ARP = 0x0806;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp6 = 58;

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;

constexpr unsigned kMaxVlanDepth = 2;     // 802.1ad outer + 802.1Q inner

// IPv6 extension headers, as both the frame parser and the ICMP quote parser walk them.
constexpr uint8_t kIp6HopByHop = 0;
constexpr uint8_t kIp6Routing = 43;
constexpr uint8_t kIp6Fragment = 44;
constexpr uint8_t kIp6Ah = 51;
constexpr uint8_t kIp6DestOpts = 60;
constexpr size_t kIp6FragHdrLen = 8;
constexpr bool isIpv6ExtHeader(uint8_t next) noexcept {
  return next == kIp6HopByHop || next == kIp6Routing || next == kIp6DestOpts ||
         next == kIp6Fragment || next == kIp6Ah;
}
// The length of extension header `next` whose first two bytes are at `hdr` (AH counts in
// 4-byte units less 2, the others in 8-byte units less 1; a fragment header is 8).
constexpr size_t ipv6ExtHeaderLen(uint8_t next, const uint8_t* hdr) noexcept {
  if (next == kIp6Fragment) return kIp6FragHdrLen;
  if (next == kIp6Ah) return (size_t(hdr[1]) + 2) * 4;
  return (size_t(hdr[1]) + 1) * 8;
}
constexpr unsigned kMaxIpv6ExtHeaders = 8;

struct Parsed {
  uint16_t l3_off = 0;      // first byte of the IP header
  uint16_t l4_off = 0;      // first byte of the TCP/UDP/ICMP header (0 for non-first fragments)
  uint16_t ip_len = 0;      // IP datagram length from the header (v4 total length, v6 40+payload)
  uint16_t ethertype = 0;   // of the L3 payload, after VLAN tags
  uint16_t vlan_tci = 0;    // innermost tag's TCI
  uint8_t vlan_depth = 0;   // 0, 1 or 2 tags
  Family family = Family::kNone;
  uint8_t proto = 0;        // upper-layer protocol (after IPv6 extension headers)
  uint8_t ttl = 0;          // TTL / hop limit
  bool fragment = false;    // any fragment (v4 MF/offset, v6 fragment header)
  bool first_fragment = false;  // fragment whose L4 header is present
  IpAddr saddr;
  IpAddr daddr;
  uint16_t sport = 0;       // host order; ICMP: 0
  uint16_t dport = 0;       // host order; ICMP: 0
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint16_t l4_len = 0;      // bytes from l4_off to the end of the IP datagram
};

enum class ParseStatus : uint8_t {
  kOk,     // an IPv4/IPv6 packet whose headers are all present and consistent
  kNotIp,  // ARP, LLDP, ...: hand to the kernel
  kDrop,   // malformed: `drop` names the counter
};

struct ParseResult {
  ParseStatus status = ParseStatus::kDrop;
  dp::Counter drop = dp::Counter::kCount;
  Parsed pkt;
};

ParseResult parseFrame(std::span<const uint8_t> frame) noexcept;

}  // namespace sluice::net
