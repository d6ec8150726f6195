// Values inside ipvsadm arguments: numbers as ipvsadm's string_to_number reads them, and
// "host[:port]" as its parse_service does (numeric hosts only, port names from
// /etc/services). Kept apart from the option grammar so each can be read on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "net/addr.h"
#include "svc/model.h"

namespace sluice::cli {

// True for "" too, as ipvsadm's str_is_digit.
bool allDigits(std::string_view s);

// A whole decimal number within [min, max] (an optional leading '+'), else nullopt.
std::optional<long> toNumber(std::string_view s, long min, long max);

// A port number or a service name looked up for `proto`.
std::optional<uint16_t> parsePort(std::string_view s, svc::Proto proto);

struct HostPort {
  net::IpAddr addr;
  std::optional<uint16_t> port;  // nullopt when none was written
};

// "a.b.c.d[:port]", "[v6addr]:port" or a bare IPv6 address; nullopt on anything else,
// including a bare number (ipvsadm refuses "80" as an address).
std::optional<HostPort> parseHostPort(std::string_view s, svc::Proto proto);

}  // namespace sluice::cli
