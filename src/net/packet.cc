// parseFrame: one forward pass over the headers, each step checking the bytes it is about
// to read against the bytes that are really there. Two bounds are in play: the frame (what
// the NIC gave us) and the IP datagram (what the IP header claims). A datagram longer than
// the frame is malformed; a frame longer than the datagram is Ethernet padding and ignored.
// Every later header is checked against the datagram end, so padding is never parsed as L4.
//
// Fragments are reported, not dropped: whether to reassemble, forward by 3-tuple or drop
// is policy, and policy lives in the datapath, which also owns the fragment counters.
#include "net/packet.h"

#include "net/bytes.h"

namespace sluice::net {
namespace {

using dp::Counter;

constexpr size_t kEthHdrLen = 14;
constexpr size_t kVlanTagLen = 4;
constexpr size_t kIpv4MinHdrLen = 20;
constexpr size_t kIpv6HdrLen = 40;
constexpr size_t kTcpMinHdrLen = 20;
constexpr size_t kUdpHdrLen = 8;
constexpr size_t kIcmpHdrLen = 8;  // type, code, checksum and the 4-byte rest (echo id/seq)

constexpr uint8_t kIp6Esp = 50;
constexpr uint8_t kIp6NoNext = 59;

// The parse steps fill one ParseResult in place and return nothing, so the whole result is
// built once, in parseFrame's return slot.
void drop(ParseResult& r, Counter c) noexcept {
  r.status = ParseStatus::kDrop;
  r.drop = c;
}

// Parses the L4 header at `off`; `end` is the end of the IP datagram (or of this first
// fragment). `whole` is false for a first fragment, whose UDP length field describes the
// reassembled datagram and so cannot be checked against what is present.
void parseL4(ParseResult& r, const uint8_t* d, size_t off, size_t end,
             bool whole) noexcept {
  Parsed& p = r.pkt;
  const size_t avail = end - off;
  switch (p.proto) {
    case kProtoTcp: {
      if (avail < kTcpMinHdrLen) return drop(r, Counter::kTcpTruncated);
      const size_t hdr_len = size_t(d[off + 12] >> 4) * 4;
      if (hdr_len < kTcpMinHdrLen || hdr_len > avail) return drop(r, Counter::kTcpBadDoff);
      p.sport = load16be(d + off);
      p.dport = load16be(d + off + 2);
      p.tcp_flags = d[off + 13];
      break;
    }
    case kProtoUdp: {
      if (avail < kUdpHdrLen) return drop(r, Counter::kUdpTruncated);
      const size_t ulen = load16be(d + off + 4);
      if (ulen < kUdpHdrLen || (whole && ulen > avail)) return drop(r, Counter::kUdpBadLen);
      p.sport = load16be(d + off);
      p.dport = load16be(d + off + 2);
      break;
    }
    case kProtoIcmp:
      if (p.family != Family::kV4) return;  // ICMPv4 inside IPv6 is just another proto
      if (avail < kIcmpHdrLen) return drop(r, Counter::kIcmpTruncated);
      p.icmp_type = d[off];
      p.icmp_code = d[off + 1];
      break;
    case kProtoIcmp6:
      if (p.family != Family::kV6) return;
      if (avail < kIcmpHdrLen) return drop(r, Counter::kIcmp6Truncated);
      p.icmp_type = d[off];
      p.icmp_code = d[off + 1];
      break;
    default:
      return;  // GRE, SCTP, IPIP, ...: the caller decides by proto alone
  }
  p.l4_off = uint16_t(off);
  p.l4_len = uint16_t(avail);
}

void parseIpv4(ParseResult& r, const uint8_t* d, size_t size) noexcept {
  Parsed& p = r.pkt;
  const size_t l3 = p.l3_off;
  const size_t present = size - l3;
  if (present < kIpv4MinHdrLen) return drop(r, Counter::kIpv4Truncated);
  const uint8_t* ip = d + l3;
  if ((ip[0] >> 4) != 4) return drop(r, Counter::kIpv4BadVersion);
  const size_t hdr_len = size_t(ip[0] & 0x0f) * 4;
  if (hdr_len < kIpv4MinHdrLen) return drop(r, Counter::kIpv4BadIhl);
  if (hdr_len > present) return drop(r, Counter::kIpv4Truncated);
  const size_t total = load16be(ip + 2);
  if (total < hdr_len || total > present) return drop(r, Counter::kIpv4BadTotalLen);

  p.family = Family::kV4;
  p.ip_len = uint16_t(total);
  p.ttl = ip[8];
  p.proto = ip[9];
  p.saddr = IpAddr::fromV4Bytes(ip + 12);
  p.daddr = IpAddr::fromV4Bytes(ip + 16);

  const uint16_t frag = load16be(ip + 6);
  const bool more = frag & 0x2000;
  const uint16_t offset = frag & 0x1fff;
  p.fragment = more || offset != 0;
  p.first_fragment = p.fragment && offset == 0;
  r.status = ParseStatus::kOk;
  if (offset != 0) return;  // no L4 header in this piece
  parseL4(r, d, l3 + hdr_len, l3 + total, !p.fragment);
}

void parseIpv6(ParseResult& r, const uint8_t* d, size_t size) noexcept {
  Parsed& p = r.pkt;
  const size_t l3 = p.l3_off;
  const size_t present = size - l3;
  if (present < kIpv6HdrLen) return drop(r, Counter::kIpv6Truncated);
  const uint8_t* ip = d + l3;
  if ((ip[0] >> 4) != 6) return drop(r, Counter::kIpv6BadVersion);
  // Jumbograms (payload length 0 plus a hop-by-hop option) cannot occur on our MTUs;
  // their zero length makes any upper-layer header fail the datagram bound below.
  const size_t total = kIpv6HdrLen + load16be(ip + 4);
  if (total > present || total > 0xffff) return drop(r, Counter::kIpv6BadPayloadLen);

  p.family = Family::kV6;
  p.ip_len = uint16_t(total);
  p.ttl = ip[7];
  p.saddr = IpAddr::fromV6Bytes(ip + 8);
  p.daddr = IpAddr::fromV6Bytes(ip + 24);

  const size_t end = l3 + total;
  size_t off = l3 + kIpv6HdrLen;
  uint8_t next = ip[6];
  for (unsigned n = 0;; ++n) {
    if (!isIpv6ExtHeader(next)) break;
    if (n == kMaxIpv6ExtHeaders) return drop(r, Counter::kIpv6ExtTooMany);
    if (end - off < 2) return drop(r, Counter::kIpv6ExtTruncated);
    const size_t len = ipv6ExtHeaderLen(next, d + off);
    if (end - off < len) return drop(r, Counter::kIpv6ExtTruncated);
    const uint8_t hdr_next = d[off];
    if (next == kIp6Fragment) {
      const uint16_t frag = load16be(d + off + 2);
      const bool more = frag & 0x0001;
      const uint16_t offset = frag >> 3;
      // An atomic fragment (offset 0, no more) is a whole packet (RFC 6946).
      p.fragment = more || offset != 0;
      p.first_fragment = p.fragment && offset == 0;
      if (offset != 0) {
        p.proto = hdr_next;  // what follows is a slice of the payload, not headers
        r.status = ParseStatus::kOk;
        return;
      }
    }
    next = hdr_next;
    off += len;
  }
  p.proto = next;
  r.status = ParseStatus::kOk;
  if (next == kIp6Esp || next == kIp6NoNext) return;
  parseL4(r, d, off, end, !p.fragment);
}

}  // namespace

ParseResult parseFrame(std::span<const uint8_t> frame) noexcept {
  ParseResult r;
  Parsed& p = r.pkt;
  const uint8_t* d = frame.data();
  const size_t size = frame.size();
  if (size < kEthHdrLen) {
    drop(r, Counter::kEthTruncated);
    return r;
  }

  size_t off = 12;
  uint16_t type = load16be(d + off);
  while (type == kEthP_8021Q || type == kEthP_8021AD) {
    if (p.vlan_depth == kMaxVlanDepth) {
      drop(r, Counter::kVlanTooDeep);
      return r;
    }
    // The tag is TPID(2, already read) + TCI(2), then the next ethertype (2).
    if (size - off < 2 + kVlanTagLen) {
      drop(r, Counter::kVlanTruncated);
      return r;
    }
    p.vlan_tci = load16be(d + off + 2);
    ++p.vlan_depth;
    off += kVlanTagLen;
    type = load16be(d + off);
  }
  p.ethertype = type;
  p.l3_off = uint16_t(off + 2);

  if (type == kEthP_IPv4) {
    parseIpv4(r, d, size);
  } else if (type == kEthP_IPv6) {
    parseIpv6(r, d, size);
  } else {
    r.status = ParseStatus::kNotIp;
  }
  return r;
}

}  // namespace sluice::net
