// PacketBuilder lays a frame out inside-out (L4 first, so every length below it is known)
// and checksums it with net/checksum.h. Using the production checksum code here is
// deliberate: checksum_test.cc pins that code to known vectors, so the builder inherits a
// checked implementation instead of carrying a second one.
#include "support/packet_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::testing {

using net::load16be;
using net::store16be;
using net::store32be;

namespace {

constexpr uint8_t kIp6HopByHop = 0;
constexpr uint8_t kIp6Fragment = 44;
constexpr uint8_t kIp6Ah = 51;
constexpr uint8_t kIp6DestOpts = 60;

void append16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}

void append32(Bytes& b, uint32_t v) {
  append16(b, uint16_t(v >> 16));
  append16(b, uint16_t(v));
}

void padZeros(Bytes& b, size_t multiple) {
  while (b.size() % multiple) b.push_back(0);
}

// Pads hop-by-hop / destination options so that 2 + options is a multiple of 8: one Pad1
// (a single 0) or a PadN option (1, len, zeros), as RFC 8200 section 4.2 asks.
Bytes padOptions(Bytes opts) {
  const size_t need = (8 - (2 + opts.size()) % 8) % 8;
  if (need == 1) {
    opts.push_back(0);
  } else if (need >= 2) {
    opts.push_back(1);
    opts.push_back(uint8_t(need - 2));
    opts.insert(opts.end(), need - 2, 0);
  }
  return opts;
}

}  // namespace

net::MacAddr mac(std::string_view s) {
  net::MacAddr m{};
  unsigned v[6];
  char tail;
  const std::string str(s);
  if (std::sscanf(str.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
                  &v[4], &v[5], &tail) != 6)
    throw std::invalid_argument(fmt::format("bad MAC address '{}'", s));
  for (int i = 0; i < 6; ++i) m[i] = uint8_t(v[i]);
  return m;
}

net::IpAddr ip(std::string_view s) {
  auto a = net::IpAddr::parse(s);
  if (!a) throw std::invalid_argument(fmt::format("bad IP address '{}'", s));
  return *a;
}

void put16(Bytes& frame, size_t off, uint16_t v) {
  if (off + 2 > frame.size()) throw std::invalid_argument("put16 past the end of the frame");
  store16be(frame.data() + off, v);
}

uint16_t get16(std::span<const uint8_t> frame, size_t off) {
  if (off + 2 > frame.size()) throw std::invalid_argument("get16 past the end of the frame");
  return load16be(frame.data() + off);
}

// ---- setters ----

PacketBuilder& PacketBuilder::eth(const net::MacAddr& src, const net::MacAddr& dst) {
  has_eth_ = true;
  src_mac_ = src;
  dst_mac_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::eth(std::string_view src, std::string_view dst) {
  return eth(mac(src), mac(dst));
}

PacketBuilder& PacketBuilder::vlan(uint16_t vid, uint8_t pcp, uint16_t tpid) {
  if (!has_eth_) throw std::invalid_argument("vlan() needs eth() first");
  vlans_.push_back(uint32_t(tpid) << 16 | uint32_t(pcp & 7) << 13 | (vid & 0x0fff));
  return *this;
}

PacketBuilder& PacketBuilder::ethertype(uint16_t type) {
  ethertype_ = type;
  return *this;
}

PacketBuilder& PacketBuilder::padTo(size_t size) {
  pad_to_ = size;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(std::string_view src, std::string_view dst) {
  auto s = testing::ip(src), d = testing::ip(dst);
  if (!s.isV4() || !d.isV4()) throw std::invalid_argument("ipv4() needs IPv4 addresses");
  return ip(s, d);
}

PacketBuilder& PacketBuilder::ipv6(std::string_view src, std::string_view dst) {
  auto s = testing::ip(src), d = testing::ip(dst);
  if (!s.isV6() || !d.isV6()) throw std::invalid_argument("ipv6() needs IPv6 addresses");
  return ip(s, d);
}

PacketBuilder& PacketBuilder::ip(const net::IpAddr& src, const net::IpAddr& dst) {
  if (src.family != dst.family || src.family == net::Family::kNone)
    throw std::invalid_argument("ip() needs two addresses of one family");
  saddr_ = src;
  daddr_ = dst;
  return *this;
}

void PacketBuilder::needIp(const char* what) const {
  if (saddr_.family == net::Family::kNone)
    throw std::invalid_argument(fmt::format("{}() needs ipv4() or ipv6() first", what));
}

PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::tos(uint8_t tos) {
  tos_ = tos;
  return *this;
}

PacketBuilder& PacketBuilder::flowLabel(uint32_t label) {
  flow_label_ = label & 0xfffff;
  return *this;
}

PacketBuilder& PacketBuilder::ipId(uint16_t id) {
  ip_id_ = id;
  return *this;
}

PacketBuilder& PacketBuilder::df(bool on) {
  df_ = on;
  return *this;
}

PacketBuilder& PacketBuilder::ipOptions(Bytes options) {
  padZeros(options, 4);
  if (options.size() > 40) throw std::invalid_argument("IPv4 options exceed 40 bytes");
  ip_options_ = std::move(options);
  return *this;
}

PacketBuilder& PacketBuilder::fragment(uint16_t offset_bytes, bool more, uint32_t id) {
  needIp("fragment");
  if (offset_bytes % 8) throw std::invalid_argument("fragment offset must be a multiple of 8");
  if (saddr_.isV4()) {
    v4_frag_offset_ = offset_bytes;
    v4_more_frags_ = more;
    ip_id_ = uint16_t(id);
  } else {
    Bytes body;  // offset<<3 | M, identification (next header and reserved are added)
    append16(body, uint16_t(offset_bytes | (more ? 1 : 0)));
    append32(body, id);
    exts_.push_back({kIp6Fragment, std::move(body)});
  }
  return *this;
}

PacketBuilder& PacketBuilder::hopByHop(Bytes options) {
  return ipv6Ext(kIp6HopByHop, padOptions(std::move(options)));
}

PacketBuilder& PacketBuilder::destOpts(Bytes options) {
  return ipv6Ext(kIp6DestOpts, padOptions(std::move(options)));
}

PacketBuilder& PacketBuilder::ipv6Ext(uint8_t type, Bytes body) {
  needIp("ipv6Ext");
  if (!saddr_.isV6()) throw std::invalid_argument("extension headers need ipv6()");
  const size_t unit = type == kIp6Ah ? 4 : 8;
  if ((2 + body.size()) % unit)
    throw std::invalid_argument(fmt::format("extension header {} length must be a multiple of {}",
                                            type, unit));
  exts_.push_back({type, std::move(body)});
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
  needIp("tcp");
  l4_ = L4::kTcp;
  sport_ = sport;
  dport_ = dport;
  tcp_flags_ = flags;
  return *this;
}

PacketBuilder& PacketBuilder::seq(uint32_t seq) {
  seq_ = seq;
  return *this;
}

PacketBuilder& PacketBuilder::ackNum(uint32_t ack) {
  ack_ = ack;
  return *this;
}

PacketBuilder& PacketBuilder::window(uint16_t window) {
  window_ = window;
  return *this;
}

PacketBuilder& PacketBuilder::tcpOptions(Bytes options) {
  padZeros(options, 4);
  if (options.size() > 40) throw std::invalid_argument("TCP options exceed 40 bytes");
  tcp_options_ = std::move(options);
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  needIp("udp");
  l4_ = L4::kUdp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::icmpEcho(uint16_t id, uint16_t seq, bool reply) {
  needIp("icmpEcho");
  if (!saddr_.isV4()) throw std::invalid_argument("icmpEcho() is IPv4; use icmp6Echo()");
  return icmp(reply ? 0 : 8, 0, uint32_t(id) << 16 | seq);
}

PacketBuilder& PacketBuilder::icmp6Echo(uint16_t id, uint16_t seq, bool reply) {
  needIp("icmp6Echo");
  if (!saddr_.isV6()) throw std::invalid_argument("icmp6Echo() is IPv6; use icmpEcho()");
  return icmp(reply ? 129 : 128, 0, uint32_t(id) << 16 | seq);
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest) {
  needIp("icmp");
  l4_ = saddr_.isV4() ? L4::kIcmp : L4::kIcmp6;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest;
  return *this;
}

PacketBuilder& PacketBuilder::rawL4(uint8_t proto) {
  needIp("rawL4");
  l4_ = L4::kRaw;
  raw_proto_ = proto;
  return *this;
}

PacketBuilder& PacketBuilder::badL4Checksum() {
  bad_l4_csum_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::partialL4Checksum() {
  partial_l4_csum_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::payload(std::string_view text) {
  payload_.insert(payload_.end(), text.begin(), text.end());
  return *this;
}

PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::payloadFill(size_t n, uint8_t byte) {
  payload_.insert(payload_.end(), n, byte);
  return *this;
}

// ---- layout ----

Bytes PacketBuilder::buildL4() const {
  Bytes b;
  uint8_t proto = 0;
  switch (l4_) {
    case L4::kNone:
    case L4::kRaw:
      return payload_;
    case L4::kTcp:
      proto = net::kProtoTcp;
      append16(b, sport_);
      append16(b, dport_);
      append32(b, seq_);
      append32(b, ack_);
      b.push_back(uint8_t((20 + tcp_options_.size()) / 4) << 4);
      b.push_back(tcp_flags_);
      append16(b, window_);
      append16(b, 0);  // checksum
      append16(b, 0);  // urgent pointer
      b.insert(b.end(), tcp_options_.begin(), tcp_options_.end());
      break;
    case L4::kUdp:
      proto = net::kProtoUdp;
      append16(b, sport_);
      append16(b, dport_);
      append16(b, uint16_t(8 + payload_.size()));
      append16(b, 0);
      break;
    case L4::kIcmp:
    case L4::kIcmp6:
      proto = l4_ == L4::kIcmp ? net::kProtoIcmp : net::kProtoIcmp6;
      b.push_back(icmp_type_);
      b.push_back(icmp_code_);
      append16(b, 0);
      append32(b, icmp_rest_);
      break;
  }
  b.insert(b.end(), payload_.begin(), payload_.end());
  const size_t off = net::l4ChecksumOffset(proto);
  uint16_t c = net::l4Checksum(saddr_, daddr_, proto, b, off);
  if (bad_l4_csum_) c = uint16_t(c + 1);
  if (partial_l4_csum_)  // what the kernel leaves for the NIC: ~csum_tcpudp_magic(.., 0)
    c = net::csumFold(net::pseudoHeaderSum(saddr_, daddr_, proto, uint32_t(b.size())));
  store16be(b.data() + off, c);
  return b;
}

Bytes PacketBuilder::build() const {
  uint8_t proto = raw_proto_;
  switch (l4_) {
    case L4::kTcp: proto = net::kProtoTcp; break;
    case L4::kUdp: proto = net::kProtoUdp; break;
    case L4::kIcmp: proto = net::kProtoIcmp; break;
    case L4::kIcmp6: proto = net::kProtoIcmp6; break;
    default: break;
  }
  const Bytes l4 = buildL4();

  Bytes l3;
  uint16_t type = ethertype_.value_or(0);
  if (saddr_.isV4()) {
    type = ethertype_.value_or(net::kEthP_IPv4);
    const size_t hlen = 20 + ip_options_.size();
    if (hlen + l4.size() > 0xffff) throw std::invalid_argument("IPv4 datagram over 65535");
    l3.push_back(uint8_t(0x40 | hlen / 4));
    l3.push_back(tos_);
    append16(l3, uint16_t(hlen + l4.size()));
    append16(l3, ip_id_);
    append16(l3, uint16_t((df_ ? 0x4000 : 0) | (v4_more_frags_ ? 0x2000 : 0) |
                          v4_frag_offset_ / 8));
    l3.push_back(ttl_);
    l3.push_back(proto);
    append16(l3, 0);
    l3.insert(l3.end(), saddr_.bytes.begin(), saddr_.bytes.begin() + 4);
    l3.insert(l3.end(), daddr_.bytes.begin(), daddr_.bytes.begin() + 4);
    l3.insert(l3.end(), ip_options_.begin(), ip_options_.end());
    store16be(l3.data() + 10, net::ipv4HeaderChecksum(l3));
  } else if (saddr_.isV6()) {
    type = ethertype_.value_or(net::kEthP_IPv6);
    Bytes chain;
    for (size_t i = 0; i < exts_.size(); ++i) {
      const auto& e = exts_[i];
      chain.push_back(i + 1 < exts_.size() ? exts_[i + 1].type : proto);
      if (e.type == kIp6Fragment) {
        chain.push_back(0);  // reserved: the fragment header has a fixed length
      } else if (e.type == kIp6Ah) {
        chain.push_back(uint8_t((2 + e.body.size()) / 4 - 2));
      } else {
        chain.push_back(uint8_t((2 + e.body.size()) / 8 - 1));
      }
      chain.insert(chain.end(), e.body.begin(), e.body.end());
    }
    const size_t plen = chain.size() + l4.size();
    if (plen > 0xffff) throw std::invalid_argument("IPv6 payload over 65535");
    append32(l3, 0x60000000u | uint32_t(tos_) << 20 | flow_label_);
    append16(l3, uint16_t(plen));
    l3.push_back(exts_.empty() ? proto : exts_.front().type);
    l3.push_back(ttl_);
    l3.insert(l3.end(), saddr_.bytes.begin(), saddr_.bytes.end());
    l3.insert(l3.end(), daddr_.bytes.begin(), daddr_.bytes.end());
    l3.insert(l3.end(), chain.begin(), chain.end());
  }
  l3.insert(l3.end(), l4.begin(), l4.end());

  Bytes frame;
  if (has_eth_) {
    if (!type) throw std::invalid_argument("eth() without an IP header needs ethertype()");
    frame.insert(frame.end(), dst_mac_.begin(), dst_mac_.end());
    frame.insert(frame.end(), src_mac_.begin(), src_mac_.end());
    for (uint32_t tag : vlans_) append32(frame, tag);
    append16(frame, type);
  }
  frame.insert(frame.end(), l3.begin(), l3.end());
  if (frame.size() < pad_to_) frame.resize(pad_to_, 0);
  return frame;
}

// ---- printing ----

std::string hexDump(std::span<const uint8_t> frame) {
  std::string out;
  for (size_t row = 0; row < frame.size(); row += 16) {
    out += fmt::format("{:04x} ", row);
    for (size_t i = row; i < row + 16 && i < frame.size(); ++i)
      out += fmt::format(" {:02x}", frame[i]);
    out += '\n';
  }
  return out;
}

namespace {

// Names where byte `off` of a frame lies, using the parser on the expected frame.
std::string describeOffset(std::span<const uint8_t> frame, size_t off) {
  const net::ParseResult r = net::parseFrame(frame);
  const net::Parsed& p = r.pkt;
  if (off < p.l3_off || p.l3_off == 0) return fmt::format("Ethernet +{}", off);
  if (r.status == net::ParseStatus::kNotIp) return fmt::format("L2 payload +{}", off - p.l3_off);
  const char* l3 = p.family == net::Family::kV6 ? "IPv6" : "IPv4";
  if (p.l4_off == 0 || off < p.l4_off) return fmt::format("{} header +{}", l3, off - p.l3_off);
  const char* l4 = p.proto == net::kProtoTcp    ? "TCP"
                   : p.proto == net::kProtoUdp  ? "UDP"
                   : p.proto == net::kProtoIcmp ? "ICMP"
                                                : "ICMPv6";
  if (off < size_t(p.l3_off) + p.ip_len) return fmt::format("{} +{}", l4, off - p.l4_off);
  return fmt::format("past the IP datagram +{}", off - p.l3_off - p.ip_len);
}

std::string hexRow(std::span<const uint8_t> f, size_t row) {
  std::string s;
  for (size_t i = row; i < row + 16; ++i)
    s += i < f.size() ? fmt::format(" {:02x}", f[i]) : std::string("   ");
  return s;
}

}  // namespace

std::string frameDiff(std::span<const uint8_t> expected, std::span<const uint8_t> actual) {
  const size_t n = std::max(expected.size(), actual.size());
  size_t first = n, count = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool same = i < expected.size() && i < actual.size() && expected[i] == actual[i];
    if (!same) {
      ++count;
      if (first == n) first = i;
    }
  }
  if (count == 0) return {};
  std::string out = fmt::format("frames differ: expected {} bytes, actual {} bytes; {} byte(s) "
                                "differ, first at 0x{:04x} ({})\n",
                                expected.size(), actual.size(), count, first,
                                describeOffset(expected, first));
  out += fmt::format("      {:<48}  |{}\n", " expected", " actual");
  for (size_t row = 0; row < n; row += 16) {
    std::string marks;
    bool differs = false;
    for (size_t i = row; i < row + 16 && i < n; ++i) {
      const bool same = i < expected.size() && i < actual.size() && expected[i] == actual[i];
      marks += same ? "   " : " ^^";
      differs |= !same;
    }
    out += fmt::format("{}{:04x} {}  |{}\n", differs ? '*' : ' ', row, hexRow(expected, row),
                       hexRow(actual, row));
    if (differs) out += fmt::format("      {:<48}  |{}\n", marks, marks);
  }
  return out;
}

::testing::AssertionResult framesEqual(std::span<const uint8_t> expected,
                                       std::span<const uint8_t> actual) {
  std::string d = frameDiff(expected, actual);
  if (d.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n" << d;
}

}  // namespace sluice::testing
