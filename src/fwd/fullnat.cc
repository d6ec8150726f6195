#include "fwd/fullnat.h"

#include <arpa/inet.h>

#include <cstring>

#include "fwd/dr.h"
#include "fwd/nat.h"
#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::fwd {

namespace {
constexpr uint8_t kOptToa = 254;
constexpr uint8_t kOptMss = 2;
constexpr uint8_t kOptEnd = 0;
constexpr uint8_t kOptNop = 1;
constexpr size_t kMaxTcpHeader = 60;
}  // namespace

void xmitFullNat(std::span<uint8_t> frame, const net::Parsed& p, const sl_dest& d,
                 const sl_conn_ext& local) noexcept {
  const uint16_t port = d.port ? d.port : htons(p.dport);
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kSource, local.addr,
             local.port);
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kDest, d.addr, port);
  xmitDr(frame, d);
}

void fullNatReply(std::span<uint8_t> frame, const net::Parsed& p, const uint8_t* vaddr,
                  uint16_t vport, const uint8_t* caddr, uint16_t cport) noexcept {
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kSource, vaddr, vport);
  rewriteEnd(frame, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, End::kDest, caddr, cport);
}

ToaResult insertToa(std::span<uint8_t> buf, size_t frame_len, const net::Parsed& p,
                    const uint8_t* caddr, uint16_t cport) noexcept {
  const bool v4 = p.family == net::Family::kV4;
  const size_t n = toaLength(p.family);
  uint8_t* tcp = buf.data() + p.l4_off;
  const size_t doff = size_t(tcp[12] >> 4) * 4;
  if (doff + n > kMaxTcpHeader) return {ToaStatus::kNoOptionRoom, 0};
  const size_t ip_end = size_t(p.l3_off) + p.ip_len;
  if (ip_end > frame_len || ip_end + n > buf.size()) return {ToaStatus::kNoBufferRoom, 0};

  uint8_t opt[20];
  opt[0] = kOptToa;
  opt[1] = uint8_t(n);
  std::memcpy(opt + 2, &cport, 2);
  std::memcpy(opt + 4, caddr, v4 ? 4 : 16);
  const size_t at = p.l4_off + doff;
  std::memmove(buf.data() + at + n, buf.data() + at, ip_end - at);
  std::memcpy(buf.data() + at, opt, n);

  // TCP checksum: the option's words, the data offset's word, and the pseudo-header's
  // length. The option is n (a multiple of 4) bytes at an even offset: the payload's words
  // keep their alignment, so its sum is unchanged.
  const uint16_t old_w = net::load16be(tcp + 12);
  tcp[12] = uint8_t(((doff + n) / 4) << 4 | (tcp[12] & 0x0f));
  uint16_t check = net::load16be(tcp + 16);
  check = uint16_t(~net::csumFold(net::csumPartial({opt, n}, uint16_t(~check))));
  check = net::csumReplace16(check, old_w, net::load16be(tcp + 12));
  check = net::csumReplace16(check, p.l4_len, uint16_t(p.l4_len + n));
  net::store16be(tcp + 16, check);

  // The IP length.
  uint8_t* ip = buf.data() + p.l3_off;
  if (v4) {
    net::store16be(ip + 2, uint16_t(p.ip_len + n));
    net::store16be(ip + 10, net::csumReplace16(net::load16be(ip + 10), p.ip_len,
                                               uint16_t(p.ip_len + n)));
  } else {
    net::store16be(ip + 4, uint16_t(net::load16be(ip + 4) + n));
  }
  return {ToaStatus::kInserted, uint16_t(ip_end + n)};
}

bool lowerMss(std::span<uint8_t> frame, const net::Parsed& p, uint16_t by) noexcept {
  uint8_t* tcp = frame.data() + p.l4_off;
  const size_t doff = size_t(tcp[12] >> 4) * 4;
  if (doff > p.l4_len) return false;
  for (size_t i = 20; i < doff;) {
    const uint8_t kind = tcp[i];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= doff) break;
    const uint8_t len = tcp[i + 1];
    if (len < 2 || i + len > doff) break;
    if (kind == kOptMss && len == 4) {
      const uint16_t mss = net::load16be(tcp + i + 2);
      if (mss <= by + 536) return false;  // never below the minimum every host accepts
      // The option may start at an odd offset: sum the bytes as they sit in the header's
      // 16-bit words (the two words that hold the value).
      uint16_t check = net::load16be(tcp + 16);
      if ((i + 2) % 2 == 0) {
        net::store16be(tcp + i + 2, uint16_t(mss - by));
        check = net::csumReplace16(check, mss, uint16_t(mss - by));
      } else {  // two words, within the header: doff is a multiple of 4
        const uint32_t old_v = net::load32be(tcp + i + 1);
        net::store16be(tcp + i + 2, uint16_t(mss - by));
        check = net::csumReplace32(check, old_v, net::load32be(tcp + i + 1));
      }
      net::store16be(tcp + 16, check);
      return true;
    }
    i += len;
  }
  return false;
}

}  // namespace sluice::fwd
