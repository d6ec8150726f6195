#include "net/icmp_error.h"

#include <algorithm>
#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::net {

namespace {

constexpr size_t kIpv4MaxError = 576;   // RFC 1812 4.3.2.3: the whole error within 576
constexpr size_t kIpv6MaxError = 1280;  // RFC 4443 2.4(c): within the minimum IPv6 MTU

bool answerable(const IpAddr& src) noexcept {
  if (src.isZero()) return false;
  const uint8_t first = src.bytes[0];
  if (src.isV4()) {
    if (first >= 224) return false;  // multicast, reserved, limited broadcast
    return true;
  }
  return first != 0xff;  // multicast
}

// The error (v4 type/code, or v6 type/code) with `rest` in the 4 bytes after the checksum.
size_t buildError(std::span<uint8_t> buf, size_t frame_len, const Parsed& p, uint8_t type4,
                  uint8_t code4, uint8_t type6, uint8_t code6, uint32_t rest) noexcept {
  if (!answerable(p.saddr) || p.l3_off + size_t(p.ip_len) > frame_len) return 0;
  const bool v4 = p.family == Family::kV4;
  const size_t ip_hdr = v4 ? 20 : 40;
  const size_t quote = std::min<size_t>(p.ip_len, (v4 ? kIpv4MaxError : kIpv6MaxError) - ip_hdr - 8);
  const size_t len = p.l3_off + ip_hdr + 8 + quote;
  if (len > buf.size()) return 0;

  uint8_t* l3 = buf.data() + p.l3_off;
  std::memmove(l3 + ip_hdr + 8, l3, quote);
  uint8_t mac[6];
  std::memcpy(mac, buf.data(), 6);
  std::memcpy(buf.data(), buf.data() + 6, 6);
  std::memcpy(buf.data() + 6, mac, 6);

  uint8_t* icmp = l3 + ip_hdr;
  std::memset(icmp, 0, 8);
  store32be(icmp + 4, rest);
  if (v4) {
    std::memset(l3, 0, 20);
    l3[0] = 0x45;
    l3[1] = 0xc0;  // IPTOS_PREC_INTERNETCONTROL, as the kernel marks its ICMP
    store16be(l3 + 2, uint16_t(ip_hdr + 8 + quote));
    l3[8] = 64;
    l3[9] = kProtoIcmp;
    std::memcpy(l3 + 12, p.daddr.bytes.data(), 4);
    std::memcpy(l3 + 16, p.saddr.bytes.data(), 4);
    store16be(l3 + 10, ipv4HeaderChecksum(std::span<const uint8_t>(l3, 20)));
    icmp[0] = type4;
    icmp[1] = code4;
    store16be(icmp + 2, internetChecksum(std::span<const uint8_t>(icmp, 8 + quote)));
  } else {
    std::memset(l3, 0, 40);
    l3[0] = 0x60;
    store16be(l3 + 4, uint16_t(8 + quote));
    l3[6] = kProtoIcmp6;
    l3[7] = 64;
    std::memcpy(l3 + 8, p.daddr.bytes.data(), 16);
    std::memcpy(l3 + 24, p.saddr.bytes.data(), 16);
    icmp[0] = type6;
    icmp[1] = code6;
    store16be(icmp + 2, l4Checksum(p.daddr, p.saddr, kProtoIcmp6,
                                   std::span<const uint8_t>(icmp, 8 + quote), 2));
  }
  return len;
}

}  // namespace

size_t buildPortUnreachable(std::span<uint8_t> buf, size_t frame_len, const Parsed& p) noexcept {
  // v4: destination unreachable / port unreachable; v6: destination unreachable / port
  // unreachable.
  return buildError(buf, frame_len, p, 3, 3, 1, 4, 0);
}

size_t buildTooBig(std::span<uint8_t> buf, size_t frame_len, const Parsed& p,
                   uint32_t mtu) noexcept {
  // v4: destination unreachable / fragmentation needed, the next-hop MTU in the low half
  // of the last word (RFC 1191); v6: packet too big, the MTU in the whole word (RFC 4443),
  // never under the IPv6 minimum (RFC 8201: a node never goes below 1280).
  if (p.family == Family::kV6)
    return buildError(buf, frame_len, p, 0, 0, 2, 0, std::max<uint32_t>(mtu, 1280));
  return buildError(buf, frame_len, p, 3, 4, 0, 0, mtu & 0xffff);
}

}  // namespace sluice::net
