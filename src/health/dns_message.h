// DNS messages for DNS_CHECK: building the query and judging the response, as pure
// functions over bytes (no I/O), so the fuzzer and the unit tests drive them directly.
//
// Trade-off: only what the check needs (one question, class IN, the answer count of one
// type) and strict bounds: names at most 255 bytes, at most 16 compression hops, every
// offset checked against the message, so a hostile responder gets an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sluice::health {

// "A" -> 1, "NS" -> 2, "CNAME" -> 5, "SOA" -> 6, "MX" -> 15, "TXT" -> 16, "AAAA" -> 28.
std::optional<uint16_t> dnsTypeCode(std::string_view name);

// A recursion-desired query for (name, type) class IN. name "." or "" is the root; a
// trailing dot is optional. Errors: labels over 63 bytes, names over 255, empty labels.
Result<std::vector<uint8_t>> buildDnsQuery(uint16_t id, std::string_view name, uint16_t type);

// Success when the response has our id, QR set, RCODE NOERROR, the same single question
// (name compared case-insensitively, type, class IN) and at least one answer of `type`.
// The error says which rule failed ("RCODE 3 (NXDOMAIN)", "no A answer", ...).
Status checkDnsResponse(std::span<const uint8_t> msg, uint16_t id, std::string_view name, uint16_t type);

}  // namespace sluice::health
