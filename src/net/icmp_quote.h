// ICMP and ICMPv6 error messages and the packet they quote. A director receives errors
// about packets that left with a VIP as their source: in DR the real servers' replies (a
// router on the way back answers "fragmentation needed" / "packet too big" to the VIP),
// later the replies NAT and FULLNAT rewrite. The quote is how such an error finds its
// connection: the quoted packet is VIP:vport -> client:cport, the connection's key with
// its two ends swapped (ip_vs_in_icmp / ip_vs_in_icmp_v6 look it up the same way).
//
// This is only the parse: where the quoted IP and TCP/UDP headers lie in the frame and
// what they say, so the packet step can look the connection up and a forwarding method
// that rewrites addresses (NAT, FULLNAT) can translate the quoted headers in place. The
// trade-off: RFC 792 promises only the quoted IP header plus 8 bytes, so nothing past the
// ports is required; the UDP length and the TCP data offset are checked when present.
#pragma once

#include <cstdint>
#include <span>

#include "dp/counters.h"
#include "net/addr.h"
#include "net/packet.h"

namespace sluice::net {

// ICMP (RFC 792) and ICMPv6 (RFC 4443) error types that carry a quote.
constexpr uint8_t kIcmpDestUnreach = 3;  // code 4: fragmentation needed (next-hop MTU)
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpParamProblem = 12;
constexpr uint8_t kIcmp6DestUnreach = 1;
constexpr uint8_t kIcmp6PacketTooBig = 2;
constexpr uint8_t kIcmp6TimeExceeded = 3;
constexpr uint8_t kIcmp6ParamProblem = 4;

// The ICMP header before the quote: type, code, checksum and 4 bytes (unused, MTU, pointer).
constexpr size_t kIcmpErrorHdrLen = 8;

struct IcmpQuote {
  uint16_t ip_off = 0;  // frame offset of the quoted IP header
  uint16_t l4_off = 0;  // frame offset of the quoted TCP/UDP header
  uint16_t end = 0;     // frame offset one past the quote (the end of the ICMP message)
  uint8_t proto = 0;    // kProtoTcp or kProtoUdp
  Family family = Family::kNone;
  IpAddr saddr;         // the quoted packet's source (the VIP, for a director)
  IpAddr daddr;         // its destination (the client)
  uint16_t sport = 0;   // host order
  uint16_t dport = 0;   // host order
};

enum class QuoteStatus : uint8_t {
  kOk,       // a TCP or UDP packet whose ports are present
  kNotOurs,  // well formed, but no connection can own it: another protocol, a later fragment
  kDrop,     // malformed: `drop` names the counter
};

struct QuoteResult {
  QuoteStatus status = QuoteStatus::kDrop;
  dp::Counter drop = dp::Counter::kCount;
  IcmpQuote quote;
};

// Whether a frame parseFrame accepted is an ICMP error that quotes a packet: ICMP in IPv4
// or ICMPv6 in IPv6 (not fragmented: a fragment's quote is not all there), of an error type
// above. Echo, router and neighbour messages are not.
bool isIcmpError(const Parsed& p) noexcept;

// Parses the quote of an error for which isIcmpError(outer) holds; `frame` is the frame
// parseFrame saw. The quote's family is the outer packet's: an ICMPv4 error quoting an IPv6
// header is malformed.
QuoteResult parseIcmpQuote(std::span<const uint8_t> frame, const Parsed& outer) noexcept;

}  // namespace sluice::net
