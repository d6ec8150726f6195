#include "fwd/nat.h"

#include <arpa/inet.h>

#include <cstring>

#include "fwd/dr.h"
#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::fwd {

namespace {

uint16_t replaceBytes(uint16_t check, const uint8_t* old_b, const uint8_t* new_b,
                      size_t len) noexcept {
  uint32_t sum = uint16_t(~check);
  for (size_t i = 0; i < len; i += 2) {
    sum += uint16_t(~net::load16be(old_b + i));
    sum += net::load16be(new_b + i);
  }
  return uint16_t(~net::csumFold(sum));
}

// Recomputes an ICMP/ICMPv6 error's checksum after its quote changed.
void icmpChecksum(std::span<uint8_t> frame, const net::Parsed& p) noexcept {
  std::span<uint8_t> msg = frame.subspan(p.l4_off, p.l4_len);
  net::store16be(msg.data() + 2, 0);
  uint16_t c = p.family == net::Family::kV4
                   ? net::internetChecksum(msg)
                   : net::l4Checksum(p.saddr, p.daddr, net::kProtoIcmp6, msg, 2);
  net::store16be(msg.data() + 2, c);
}

// Only the IP header's address (and the IPv4 header checksum): the outer header of an
// ICMP error, whose ICMP checksum is recomputed afterwards.
void rewriteAddr(std::span<uint8_t> frame, net::Family family, size_t ip_off, End end,
                 const uint8_t* addr) noexcept {
  const bool v4 = family == net::Family::kV4;
  uint8_t* a = frame.data() + ip_off + (v4 ? (end == End::kSource ? 12 : 16)
                                           : (end == End::kSource ? 8 : 24));
  if (v4) {
    uint8_t* ipc = frame.data() + ip_off + 10;
    net::store16be(ipc, replaceBytes(net::load16be(ipc), a, addr, 4));
  }
  std::memcpy(a, addr, v4 ? 4 : 16);
}

net::IpAddr addrOf(net::Family family, const uint8_t* addr) noexcept {
  return family == net::Family::kV4 ? net::IpAddr::fromV4Bytes(addr)
                                    : net::IpAddr::fromV6Bytes(addr);
}

}  // namespace

void rewriteEnd(std::span<uint8_t> frame, net::Family family, size_t ip_off, size_t l4_off,
                size_t l4_avail, uint8_t proto, End end, const uint8_t* addr,
                uint16_t port) noexcept {
  const bool v4 = family == net::Family::kV4;
  const size_t alen = v4 ? 4 : 16;
  uint8_t* a = frame.data() + ip_off + (v4 ? (end == End::kSource ? 12 : 16)
                                           : (end == End::kSource ? 8 : 24));
  uint8_t* pt = frame.data() + l4_off + (end == End::kSource ? 0 : 2);
  uint8_t old_a[16];
  std::memcpy(old_a, a, alen);
  uint8_t old_p[2];
  std::memcpy(old_p, pt, 2);
  if (v4) {
    uint8_t* ipc = frame.data() + ip_off + 10;
    net::store16be(ipc, replaceBytes(net::load16be(ipc), old_a, addr, 4));
  }
  const size_t coff = proto == net::kProtoTcp ? 16 : 6;
  if (l4_avail >= coff + 2) {
    uint8_t* l4c = frame.data() + l4_off + coff;
    uint16_t check = net::load16be(l4c);
    const bool udp = proto == net::kProtoUdp;
    if (!(udp && v4 && check == 0)) {  // UDP over IPv4 without a checksum keeps none
      // Address (pseudo-header) and port in one sum: the same fold as the XDP program's.
      uint32_t sum = uint16_t(~check);
      for (size_t i = 0; i < alen; i += 2) {
        sum += uint16_t(~net::load16be(old_a + i));
        sum += net::load16be(addr + i);
      }
      sum += uint16_t(~net::load16be(old_p));
      sum += net::load16be(reinterpret_cast<const uint8_t*>(&port));
      check = uint16_t(~net::csumFold(sum));
      if (udp && check == 0) check = 0xffff;
      net::store16be(l4c, check);
    }
  }
  std::memcpy(a, addr, alen);
  std::memcpy(pt, &port, 2);
}

void xmitNat(std::span<uint8_t> frame, const net::Parsed& p, const sl_dest& d) noexcept {
  const uint16_t port = d.port ? d.port : htons(p.dport);
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kDest, d.addr, port);
  xmitDr(frame, d);
}

void natReply(std::span<uint8_t> frame, const net::Parsed& p, const uint8_t* vaddr,
              uint16_t vport) noexcept {
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kSource, vaddr, vport);
}

void natIcmpToServer(std::span<uint8_t> frame, const net::Parsed& p, const net::IcmpQuote& q,
                     const sl_dest& d) noexcept {
  const uint16_t port = d.port ? d.port : htons(q.sport);
  // The quote first, then the outer header: the ICMPv6 pseudo-header uses the new outer
  // destination.
  rewriteEnd(frame, q.family, q.ip_off, q.l4_off, size_t(q.end - q.l4_off), q.proto,
             End::kSource, d.addr, port);
  rewriteAddr(frame, p.family, p.l3_off, End::kDest, d.addr);
  net::Parsed outer = p;
  outer.daddr = addrOf(p.family, d.addr);
  icmpChecksum(frame, outer);
  xmitDr(frame, d);
}

void natIcmpToClient(std::span<uint8_t> frame, const net::Parsed& p, const net::IcmpQuote& q,
                     const uint8_t* vaddr, uint16_t vport) noexcept {
  net::Parsed outer = p;
  // Sent by the real server itself: its address must not reach the client either.
  if (p.saddr == q.daddr) {
    rewriteAddr(frame, p.family, p.l3_off, End::kSource, vaddr);
    outer.saddr = addrOf(p.family, vaddr);
  }
  rewriteEnd(frame, q.family, q.ip_off, q.l4_off, size_t(q.end - q.l4_off), q.proto, End::kDest,
             vaddr, vport);
  icmpChecksum(frame, outer);
}

}  // namespace sluice::fwd
