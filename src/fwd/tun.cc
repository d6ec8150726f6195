#include "fwd/tun.h"

#include <cstring>

#include "abi/tun.h"
#include "net/addr.h"
#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::fwd {

namespace {
bool zero16(const uint8_t* a) noexcept {
  for (int i = 0; i < 16; ++i)
    if (a[i]) return false;
  return true;
}

net::IpAddr addrOf(const uint8_t* bytes, uint8_t family) noexcept {
  return family == SL_AF_V6 ? net::IpAddr::fromV6Bytes(bytes) : net::IpAddr::fromV4Bytes(bytes);
}
}  // namespace

TunResult xmitTun(std::span<uint8_t> buf, size_t frame_len, const net::Parsed& p,
                  const sl_dest& d, uint64_t hash) noexcept {
  const uint32_t ovh = sl_tun_overhead(d.family, d.tun_type, d.tun_flags);
  if (ovh == 0) return {TunStatus::kUnsupported};
  if (zero16(d.laddr)) return {TunStatus::kNoSource};
  // Path MTU (IPVS pmtu_disc): checked before anything moves, so the caller may answer
  // with an ICMP error built over the original frame.
  if (const uint32_t inner_mtu = sl_tun_inner_mtu(d.mtu, ovh); inner_mtu && p.ip_len > inner_mtu)
    return {TunStatus::kTooBig, 0, uint16_t(inner_mtu)};
  if (frame_len + ovh > buf.size() || frame_len + ovh > 0xffff) return {TunStatus::kNoRoom};

  uint8_t* l3 = buf.data() + p.l3_off;
  sl_tun_inner in{};
  sl_tun_inner_of(l3, uint8_t(p.family), p.ip_len, &in);
  // Everything from the inner IP header on (trailing link padding included, as the fast
  // path keeps it too) moves back; the link header stays where it is.
  std::memmove(l3 + ovh, l3, frame_len - p.l3_off);
  sl_tun_write_outer(l3, d.family, d.tun_type, d.tun_port, d.laddr, d.addr, &in,
                     sl_tun_gue_sport(hash));
  if (d.tun_type == SL_TUN_GUE && (d.family == SL_AF_V6 || (d.tun_flags & SL_TUN_F_CSUM))) {
    // RFC 8200 8.1: a UDP datagram over IPv6 needs its checksum; --tun-csum asks for it
    // over IPv4 too (l4Checksum sends a computed 0 as 0xffff, RFC 768).
    const size_t iphl = d.family == SL_AF_V6 ? 40 : 20;
    uint8_t* udp = l3 + iphl;
    const size_t ulen = SL_TUN_GUE_HLEN + p.ip_len;
    const uint16_t sum = net::l4Checksum(addrOf(d.laddr, d.family), addrOf(d.addr, d.family),
                                         net::kProtoUdp, std::span<const uint8_t>(udp, ulen), 6);
    net::store16be(udp + 6, sum);
  }
  std::memcpy(buf.data(), d.dmac, 6);
  std::memcpy(buf.data() + 6, d.smac, 6);
  net::store16be(l3 - 2, sl_tun_ethertype(d.family));
  return {TunStatus::kOk, uint16_t(frame_len + ovh)};
}

}  // namespace sluice::fwd
