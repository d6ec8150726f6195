// Internet checksum arithmetic. csumPartial sums native-order 32-bit loads into a 64-bit
// accumulator and swaps bytes once at the end: the one's-complement sum is byte-order
// independent (RFC 1071 section 2(B)), so this is the same sum at a quarter of the adds.
#include "net/checksum.h"

#include <bit>
#include <cstring>

#include "abi/predicates.h"
#include "net/bytes.h"
#include "net/packet.h"

namespace sluice::net {
namespace {

// Adds with end-around carry at 32 bits; 2^32 = 1 (mod 0xFFFF), so the sum stays valid.
uint32_t addCarry(uint32_t a, uint32_t b) noexcept {
  const uint64_t t = uint64_t(a) + b;
  return uint32_t(t) + uint32_t(t >> 32);
}

uint16_t fold64(uint64_t s) noexcept {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

}  // namespace

uint32_t csumPartial(std::span<const uint8_t> data, uint32_t sum) noexcept {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t acc = 0;
  for (; n >= 4; n -= 4, p += 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
  }
  uint16_t folded = fold64(acc);
  if constexpr (std::endian::native == std::endian::little)
    folded = uint16_t((folded >> 8) | (folded << 8));
  uint32_t tail = 0;
  if (n >= 2) {
    tail = load16be(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) tail += uint32_t(p[0]) << 8;
  return addCarry(addCarry(sum, folded), tail);
}

uint32_t csumAdd16(uint32_t sum, uint16_t word) noexcept { return addCarry(sum, word); }

uint32_t csumAdd32(uint32_t sum, uint32_t value) noexcept {
  return addCarry(addCarry(sum, value >> 16), value & 0xffff);
}

uint16_t csumFold(uint32_t sum) noexcept { return fold64(sum); }

uint16_t csumFinish(uint32_t sum) noexcept { return uint16_t(~csumFold(sum)); }

uint16_t internetChecksum(std::span<const uint8_t> data) noexcept {
  return csumFinish(csumPartial(data));
}

bool checksumOk(std::span<const uint8_t> data, uint32_t sum) noexcept {
  return csumFold(csumPartial(data, sum)) == 0xffff;
}

// Sums `data` as if the 16-bit field at `field_off` were zero.
static uint32_t sumSkipping(std::span<const uint8_t> data, size_t field_off,
                            uint32_t sum) noexcept {
  if (field_off > data.size() || data.size() - field_off < 2) return csumPartial(data, sum);
  sum = csumPartial(data.first(field_off), sum);
  return csumPartial(data.subspan(field_off + 2), sum);
}

uint16_t ipv4HeaderChecksum(std::span<const uint8_t> hdr) noexcept {
  return csumFinish(sumSkipping(hdr, 10, 0));
}

uint32_t pseudoHeaderSum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                         uint32_t l4_len) noexcept {
  const size_t alen = saddr.isV6() ? 16 : 4;
  uint32_t sum = csumPartial(std::span(saddr.bytes.data(), alen));
  sum = csumPartial(std::span(daddr.bytes.data(), alen), sum);
  sum = csumAdd16(sum, proto);
  return csumAdd32(sum, l4_len);
}

size_t l4ChecksumOffset(uint8_t proto) noexcept {
  switch (proto) {
    case kProtoTcp: return 16;
    case kProtoUdp: return 6;
    case kProtoIcmp:
    case kProtoIcmp6: return 2;
    default: return SIZE_MAX;
  }
}

// ICMPv4 is the one L4 checksum without a pseudo header.
static uint32_t l4StartSum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                           size_t len) noexcept {
  if (proto == kProtoIcmp) return 0;
  return pseudoHeaderSum(saddr, daddr, proto, uint32_t(len));
}

uint16_t l4Checksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                    std::span<const uint8_t> l4, size_t csum_off) noexcept {
  const uint32_t sum = sumSkipping(l4, csum_off, l4StartSum(saddr, daddr, proto, l4.size()));
  const uint16_t c = csumFinish(sum);
  return (proto == kProtoUdp && c == 0) ? 0xffff : c;
}

bool l4ChecksumOk(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                  std::span<const uint8_t> l4) noexcept {
  // UDP over IPv4 may carry no checksum at all; over IPv6 a zero is invalid (RFC 8200).
  if (proto == kProtoUdp && saddr.isV4() && l4.size() >= 8 && load16be(l4.data() + 6) == 0)
    return true;
  return checksumOk(l4, l4StartSum(saddr, daddr, proto, l4.size()));
}

bool isPartialChecksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                       std::span<const uint8_t> l4) noexcept {
  const size_t off = proto == kProtoTcp ? 16 : proto == kProtoUdp ? 6 : SIZE_MAX;
  if (off == SIZE_MAX || l4.size() < off + 2) return false;
  // The kernel stores ~csum_tcpudp_magic(...) = the folded pseudo-header sum.
  const uint16_t folded = csumFold(pseudoHeaderSum(saddr, daddr, proto, uint32_t(l4.size())));
  return sl_csum_is_partial(load16be(l4.data() + off), folded, proto == kProtoUdp && saddr.isV4());
}

bool finishPartialChecksum(const IpAddr& saddr, const IpAddr& daddr, uint8_t proto,
                           std::span<uint8_t> l4) noexcept {
  if (!isPartialChecksum(saddr, daddr, proto, l4)) return false;
  const size_t off = proto == kProtoTcp ? 16 : 6;
  store16be(l4.data() + off, l4Checksum(saddr, daddr, proto, l4, off));
  return true;
}

uint16_t csumReplace16(uint16_t check, uint16_t old_word, uint16_t new_word) noexcept {
  uint32_t sum = uint16_t(~check);
  sum += uint16_t(~old_word);
  sum += new_word;
  return uint16_t(~csumFold(sum));
}

uint16_t csumReplace32(uint16_t check, uint32_t old_value, uint32_t new_value) noexcept {
  uint32_t sum = uint16_t(~check);
  sum += uint16_t(~(old_value >> 16));
  sum += uint16_t(~old_value);
  sum += new_value >> 16;
  sum += new_value & 0xffff;
  return uint16_t(~csumFold(sum));
}

uint16_t csumReplace128(uint16_t check, const uint8_t* old_bytes,
                        const uint8_t* new_bytes) noexcept {
  uint32_t sum = uint16_t(~check);
  for (size_t i = 0; i < 16; i += 2) {
    sum += uint16_t(~load16be(old_bytes + i));
    sum += load16be(new_bytes + i);
  }
  return uint16_t(~csumFold(sum));
}

uint16_t csumReplaceAddr(uint16_t check, const IpAddr& old_addr,
                         const IpAddr& new_addr) noexcept {
  if (old_addr.isV6())
    return csumReplace128(check, old_addr.bytes.data(), new_addr.bytes.data());
  return csumReplace32(check, load32be(old_addr.bytes.data()), load32be(new_addr.bytes.data()));
}

}  // namespace sluice::net
