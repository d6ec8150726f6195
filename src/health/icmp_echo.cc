#include "health/icmp_echo.h"

namespace sluice::health {

namespace {

constexpr uint8_t kEchoRequestV4 = 8, kEchoReplyV4 = 0;
constexpr uint8_t kEchoRequestV6 = 128, kEchoReplyV6 = 129;
constexpr char kPayload[] = "sluice health check";

uint16_t checksum(std::span<const uint8_t> b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += uint32_t(b[i] << 8 | b[i + 1]);
  if (b.size() % 2) sum += uint32_t(b.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return uint16_t(~sum);
}

}  // namespace

std::vector<uint8_t> buildEchoRequest(bool v6, uint16_t id, uint16_t seq) {
  constexpr size_t kLen = 8 + sizeof kPayload - 1;
  std::vector<uint8_t> p(kLen, 0);
  p[0] = v6 ? kEchoRequestV6 : kEchoRequestV4;
  p[4] = uint8_t(id >> 8);
  p[5] = uint8_t(id);
  p[6] = uint8_t(seq >> 8);
  p[7] = uint8_t(seq);
  for (size_t i = 8; i < kLen; ++i) p[i] = uint8_t(kPayload[i - 8]);
  if (!v6) {
    uint16_t c = checksum(p);
    p[2] = uint8_t(c >> 8);
    p[3] = uint8_t(c);
  }
  return p;
}

bool isEchoReply(bool v6, std::span<const uint8_t> pkt, uint16_t id, uint16_t seq) {
  if (!v6) {
    if (pkt.size() < 20 || (pkt[0] >> 4) != 4) return false;
    size_t ihl = size_t(pkt[0] & 0xF) * 4;
    if (ihl < 20 || pkt.size() < ihl + 8) return false;
    pkt = pkt.subspan(ihl);
  }
  if (pkt.size() < 8) return false;
  return pkt[0] == (v6 ? kEchoReplyV6 : kEchoReplyV4) && pkt[1] == 0 &&
         uint16_t(pkt[4] << 8 | pkt[5]) == id && uint16_t(pkt[6] << 8 | pkt[7]) == seq;
}

}  // namespace sluice::health
