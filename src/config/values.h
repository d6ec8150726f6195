// The value syntaxes both config formats share: times in seconds with decimals, bounded
// integers, keepalived's booleans, hex payloads, HTTP status-code ranges, scheduler and
// forwarding-method names. Each returns nullopt (or an Error with the reason) and never
// throws, so the parsers turn every bad value into a diag that names its line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "svc/model.h"

namespace sluice::config {

// "6", "0.5", "1.25": seconds, at most a day; nanosecond resolution is not kept past 1 µs.
std::optional<Nanos> parseSeconds(std::string_view s);
// Decimal, 0..max.
std::optional<uint64_t> parseUint(std::string_view s, uint64_t max);
// keepalived's BOOL: on/off, true/false, yes/no, 1/0 (case-insensitive).
std::optional<bool> parseBool(std::string_view s);
// "00 01 ff" or "0001ff": an even number of hex digits, spaces between pairs allowed.
std::optional<std::vector<uint8_t>> parseHex(std::string_view s);
// "200", "200-299": an inclusive range within 100..599.
std::optional<std::pair<int, int>> parseStatusRange(std::string_view s);
// "NAT", "DR", "TUN", "FNAT"/"FULLNAT" (any case).
std::optional<svc::FwdMethod> parseFwdMethod(std::string_view s);
// An IPVS scheduler name Sluice implements; the Error says why not (unknown, or lblcr).
Result<std::string> parseScheduler(std::string_view s);

std::string lower(std::string_view s);
// An HTTP path: "index.html" -> "/index.html", "" -> "/".
std::string urlPath(std::string_view s);

}  // namespace sluice::config
