// ICMP echo messages for PING_CHECK, as pure functions: the request to send, and whether a
// received datagram is the reply to it (IPv4 raw sockets hand over the IP header, IPv6 ones
// do not; the kernel fills the ICMPv6 checksum).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sluice::health {

std::vector<uint8_t> buildEchoRequest(bool v6, uint16_t id, uint16_t seq);
// True when `pkt` (as read from the raw socket) is the echo reply for (id, seq).
bool isEchoReply(bool v6, std::span<const uint8_t> pkt, uint16_t id, uint16_t seq);

}  // namespace sluice::health
