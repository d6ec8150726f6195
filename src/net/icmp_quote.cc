// parseIcmpQuote: the quoted IP header (IPv4 with options, or IPv6 walking its extension
// headers), then the first 8 bytes of TCP/UDP. One bound only: the end of the ICMP message
// (the outer datagram; parseFrame has checked it against the frame). The quoted packet's
// own length fields describe the packet as it was sent, not the quote, which is usually
// cut short, so they are checked for consistency with the headers, never against the quote.
//
// Which counter: a quote that ends before the bytes we need is `icmp_quote_truncated`; a
// wrong version or IHL, or too many IPv6 extension headers, `icmp_quote_bad_header`; a
// length field too small for the headers it covers (total/payload length, UDP length, TCP
// data offset) `icmp_quote_bad_len`.
#include "net/icmp_quote.h"

#include "net/bytes.h"

namespace sluice::net {
namespace {

using dp::Counter;

constexpr size_t kIpv4MinHdrLen = 20;
constexpr size_t kIpv6HdrLen = 40;
constexpr size_t kTcpMinHdrLen = 20;
constexpr size_t kUdpHdrLen = 8;
constexpr size_t kPortsQuoteLen = 8;  // RFC 792: "the first 64 bits of the data"

constexpr size_t kIp6MinExtLen = 8;

void drop(QuoteResult& r, Counter c) noexcept {
  r.status = QuoteStatus::kDrop;
  r.drop = c;
}

bool balanced(uint8_t proto) noexcept { return proto == kProtoTcp || proto == kProtoUdp; }

// The quoted TCP/UDP header at `off`; `end` ends the quote, `l4_total` is what the quoted
// IP header says the L4 part measured when it was sent. `whole` is false for a first
// fragment, whose UDP length describes the reassembled datagram, not this piece.
void parseQuotedL4(QuoteResult& r, const uint8_t* d, size_t off, size_t end, size_t l4_total,
                   bool whole) noexcept {
  IcmpQuote& q = r.quote;
  const size_t min = q.proto == kProtoTcp ? kTcpMinHdrLen : kUdpHdrLen;
  if (l4_total < min) return drop(r, Counter::kIcmpQuoteBadLen);
  if (end - off < kPortsQuoteLen) return drop(r, Counter::kIcmpQuoteTruncated);
  if (q.proto == kProtoUdp) {
    const size_t ulen = load16be(d + off + 4);
    if (ulen < kUdpHdrLen || (whole && ulen > l4_total)) return drop(r, Counter::kIcmpQuoteBadLen);
  } else if (end - off > 12) {  // the data offset is quoted: it must fit what was sent
    const size_t doff = size_t(d[off + 12] >> 4) * 4;
    if (doff < kTcpMinHdrLen || doff > l4_total) return drop(r, Counter::kIcmpQuoteBadLen);
  }
  q.l4_off = uint16_t(off);
  q.sport = load16be(d + off);
  q.dport = load16be(d + off + 2);
  r.status = QuoteStatus::kOk;
}

void parseQuotedIpv4(QuoteResult& r, const uint8_t* d, size_t off, size_t end) noexcept {
  IcmpQuote& q = r.quote;
  if (end - off < kIpv4MinHdrLen) return drop(r, Counter::kIcmpQuoteTruncated);
  const uint8_t* ip = d + off;
  if ((ip[0] >> 4) != 4) return drop(r, Counter::kIcmpQuoteBadHeader);
  const size_t hdr_len = size_t(ip[0] & 0x0f) * 4;
  if (hdr_len < kIpv4MinHdrLen) return drop(r, Counter::kIcmpQuoteBadHeader);
  if (end - off < hdr_len) return drop(r, Counter::kIcmpQuoteTruncated);
  const size_t total = load16be(ip + 2);
  if (total < hdr_len) return drop(r, Counter::kIcmpQuoteBadLen);
  q.proto = ip[9];
  q.saddr = IpAddr::fromV4Bytes(ip + 12);
  q.daddr = IpAddr::fromV4Bytes(ip + 16);
  const uint16_t frag = load16be(ip + 6);
  // A later fragment has no ports (IPVS ignores such errors too); a protocol we do not
  // balance may be the host's own (an echo reply from the VIP): both go to the kernel.
  if ((frag & 0x1fff) != 0 || !balanced(q.proto)) {
    r.status = QuoteStatus::kNotOurs;
    return;
  }
  parseQuotedL4(r, d, off + hdr_len, end, total - hdr_len, (frag & 0x2000) == 0);
}

void parseQuotedIpv6(QuoteResult& r, const uint8_t* d, size_t off, size_t end) noexcept {
  IcmpQuote& q = r.quote;
  if (end - off < kIpv6HdrLen) return drop(r, Counter::kIcmpQuoteTruncated);
  const uint8_t* ip = d + off;
  if ((ip[0] >> 4) != 6) return drop(r, Counter::kIcmpQuoteBadHeader);
  const size_t total = kIpv6HdrLen + load16be(ip + 4);
  q.saddr = IpAddr::fromV6Bytes(ip + 8);
  q.daddr = IpAddr::fromV6Bytes(ip + 24);
  size_t at = off + kIpv6HdrLen;  // frame offset of the next header
  uint8_t next = ip[6];
  bool whole = true;
  for (unsigned n = 0;; ++n) {
    if (!isIpv6ExtHeader(next)) break;
    if (n == kMaxIpv6ExtHeaders) return drop(r, Counter::kIcmpQuoteBadHeader);
    if (end - at < kIp6MinExtLen) return drop(r, Counter::kIcmpQuoteTruncated);
    const size_t len = ipv6ExtHeaderLen(next, d + at);
    if (end - at < len) return drop(r, Counter::kIcmpQuoteTruncated);
    if (next == kIp6Fragment) {
      const uint16_t frag = load16be(d + at + 2);
      if ((frag >> 3) != 0) {
        r.status = QuoteStatus::kNotOurs;  // a later fragment: no ports
        return;
      }
      whole = (frag & 1) == 0;  // an atomic fragment (RFC 6946) is a whole packet
    }
    next = d[at];
    at += len;
  }
  q.proto = next;
  if (!balanced(q.proto)) {
    r.status = QuoteStatus::kNotOurs;
    return;
  }
  const size_t hdrs = at - off;
  if (total < hdrs) return drop(r, Counter::kIcmpQuoteBadLen);
  parseQuotedL4(r, d, at, end, total - hdrs, whole);
}

}  // namespace

bool isIcmpError(const Parsed& p) noexcept {
  if (p.fragment || p.l4_off == 0) return false;
  if (p.family == Family::kV4 && p.proto == kProtoIcmp)
    return p.icmp_type == kIcmpDestUnreach || p.icmp_type == kIcmpTimeExceeded ||
           p.icmp_type == kIcmpParamProblem;
  if (p.family == Family::kV6 && p.proto == kProtoIcmp6)
    return p.icmp_type == kIcmp6DestUnreach || p.icmp_type == kIcmp6PacketTooBig ||
           p.icmp_type == kIcmp6TimeExceeded || p.icmp_type == kIcmp6ParamProblem;
  return false;
}

QuoteResult parseIcmpQuote(std::span<const uint8_t> frame, const Parsed& outer) noexcept {
  QuoteResult r;
  IcmpQuote& q = r.quote;
  // parseFrame guarantees the ICMP header and the whole datagram are inside the frame.
  const size_t off = size_t(outer.l4_off) + kIcmpErrorHdrLen;
  const size_t end = size_t(outer.l4_off) + outer.l4_len;
  if (end > frame.size() || off > end) {
    drop(r, Counter::kIcmpQuoteTruncated);
    return r;
  }
  q.ip_off = uint16_t(off);
  q.end = uint16_t(end);
  q.family = outer.family;
  if (outer.family == Family::kV4) {
    parseQuotedIpv4(r, frame.data(), off, end);
  } else {
    parseQuotedIpv6(r, frame.data(), off, end);
  }
  return r;
}

}  // namespace sluice::net
