// Builds correct frames for tests: Ethernet (+ VLAN tags), IPv4 (+ options) or IPv6
// (+ extension headers), TCP / UDP / ICMP / ICMPv6, payload; every length and checksum
// filled in. Calls describe the frame outside-in and build() lays it out, so a test reads
// like the packet it sends:
//
//   PacketBuilder().eth(kClientMac, kDirectorMac).vlan(100)
//       .ipv4("10.0.0.2", "10.20.0.100").tcp(40000, 80, net::kTcpSyn).payload("hi").build();
//
// Leaving out eth() gives a bare IP packet (the inner packet of a tunnel, or the payload of
// an ICMP error). Misuse (tcp() before ipv4(), a bad address string) throws
// std::invalid_argument: this is test code, and a thrown error names the mistake.
// To make malformed frames, build a correct one and poke bytes (put16 / frame offsets).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"
#include "net/packet.h"

namespace sluice::testing {

using Bytes = std::vector<uint8_t>;

// "02:00:00:00:00:01" -> MacAddr; throws std::invalid_argument on anything else.
net::MacAddr mac(std::string_view s);
// "10.0.0.1" / "2001:db8::1" -> IpAddr; throws std::invalid_argument.
net::IpAddr ip(std::string_view s);

// Big-endian pokes into a built frame, for malformed-header tests.
void put16(Bytes& frame, size_t off, uint16_t v);
uint16_t get16(std::span<const uint8_t> frame, size_t off);

class PacketBuilder {
 public:
  // ---- L2 ----
  PacketBuilder& eth(const net::MacAddr& src, const net::MacAddr& dst);
  PacketBuilder& eth(std::string_view src, std::string_view dst);
  // One tag per call, outermost first. tpid 0x88A8 for an 802.1ad outer tag.
  PacketBuilder& vlan(uint16_t vid, uint8_t pcp = 0, uint16_t tpid = net::kEthP_8021Q);
  // Ethertype of a non-IP frame (ARP, LLDP, ...); the payload follows the Ethernet header.
  PacketBuilder& ethertype(uint16_t type);
  // Pads the finished frame with zeros to at least `size` bytes (e.g. 60: Ethernet minimum).
  PacketBuilder& padTo(size_t size);

  // ---- L3 ----
  PacketBuilder& ipv4(std::string_view src, std::string_view dst);
  PacketBuilder& ipv6(std::string_view src, std::string_view dst);
  PacketBuilder& ip(const net::IpAddr& src, const net::IpAddr& dst);  // family of src
  PacketBuilder& ttl(uint8_t ttl);          // IPv4 TTL / IPv6 hop limit (default 64)
  PacketBuilder& tos(uint8_t tos);          // IPv4 TOS / IPv6 traffic class
  PacketBuilder& flowLabel(uint32_t label);  // IPv6 only
  PacketBuilder& ipId(uint16_t id);         // IPv4 identification (default 1)
  PacketBuilder& df(bool on = true);        // IPv4 don't-fragment
  // IPv4 options, zero-padded (End of Options List) to a multiple of 4 bytes.
  PacketBuilder& ipOptions(Bytes options);
  // IPv4: sets MF and the fragment offset (bytes, multiple of 8) and the id.
  // IPv6: appends a fragment header here in the extension chain.
  // A non-first fragment carries no L4 header: use rawL4(proto) + payload for it.
  PacketBuilder& fragment(uint16_t offset_bytes, bool more, uint32_t id = 0x1234);
  // IPv6 extension headers, appended in call order. Options are padded (Pad1/PadN) to
  // the 8-byte multiple the header needs.
  PacketBuilder& hopByHop(Bytes options = {});
  PacketBuilder& destOpts(Bytes options = {});
  // Any extension header given as its body after the next-header and length bytes; the
  // length byte is computed (8-byte units, or 4-byte units for AH, type 51).
  PacketBuilder& ipv6Ext(uint8_t type, Bytes body);

  // ---- L4 ----
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags = net::kTcpAck);
  PacketBuilder& seq(uint32_t seq);        // default 1
  PacketBuilder& ackNum(uint32_t ack);     // default 0
  PacketBuilder& window(uint16_t window);  // default 65535
  PacketBuilder& tcpOptions(Bytes options);  // zero-padded to a multiple of 4
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& icmpEcho(uint16_t id, uint16_t seq, bool reply = false);
  PacketBuilder& icmp6Echo(uint16_t id, uint16_t seq, bool reply = false);
  // Any ICMP (IPv4) or ICMPv6 (IPv6) message: type, code and the 4 bytes after the
  // checksum (e.g. the next-hop MTU of "fragmentation needed").
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest = 0);
  // No L4 header: the payload is the IP payload, `proto` goes in the IP header
  // (GRE, IPIP, a non-first fragment, ...).
  PacketBuilder& rawL4(uint8_t proto);
  // Leaves a wrong L4 checksum (the correct one + 1), to test verification.
  PacketBuilder& badL4Checksum();
  // Leaves the TCP/UDP checksum half-done, as a sender with checksum offload hands it to a
  // veth (CHECKSUM_PARTIAL): the field holds only the folded pseudo-header sum.
  PacketBuilder& partialL4Checksum();

  // ---- payload (appends) ----
  PacketBuilder& payload(std::string_view text);
  PacketBuilder& payload(std::span<const uint8_t> bytes);
  PacketBuilder& payloadFill(size_t n, uint8_t byte = 0xab);

  Bytes build() const;

 private:
  enum class L4 : uint8_t { kNone, kTcp, kUdp, kIcmp, kIcmp6, kRaw };
  struct Ext {
    uint8_t type;
    Bytes body;
  };
  void needIp(const char* what) const;
  Bytes buildL4() const;

  bool has_eth_ = false;
  net::MacAddr src_mac_{}, dst_mac_{};
  std::vector<uint32_t> vlans_;  // tpid << 16 | tci
  std::optional<uint16_t> ethertype_;
  size_t pad_to_ = 0;

  net::IpAddr saddr_, daddr_;
  uint8_t ttl_ = 64;
  uint8_t tos_ = 0;
  uint32_t flow_label_ = 0;
  uint16_t ip_id_ = 1;
  bool df_ = false;
  bool v4_more_frags_ = false;
  uint16_t v4_frag_offset_ = 0;  // bytes
  Bytes ip_options_;
  std::vector<Ext> exts_;

  L4 l4_ = L4::kNone;
  uint8_t raw_proto_ = 0;
  uint16_t sport_ = 0, dport_ = 0;
  uint8_t tcp_flags_ = 0;
  uint32_t seq_ = 1, ack_ = 0;
  uint16_t window_ = 65535;
  Bytes tcp_options_;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  bool bad_l4_csum_ = false;
  bool partial_l4_csum_ = false;

  Bytes payload_;
};

// Classic 16-bytes-a-line hex dump with offsets.
std::string hexDump(std::span<const uint8_t> frame);
// Empty when equal; otherwise lengths, the first difference named by header (parsed from
// `expected`), and both frames side by side with differing bytes marked.
std::string frameDiff(std::span<const uint8_t> expected, std::span<const uint8_t> actual);
// EXPECT_TRUE(framesEqual(want, got)) prints frameDiff on failure.
::testing::AssertionResult framesEqual(std::span<const uint8_t> expected,
                                       std::span<const uint8_t> actual);

}  // namespace sluice::testing
