// ipvsadm argument values; see values.h.
#include "cli/values.h"

#include <netdb.h>

#include <cctype>
#include <charconv>
#include <string>

namespace sluice::cli {

bool allDigits(std::string_view s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// ipvsadm's string_to_number: a whole decimal number within [min, max].
std::optional<long> toNumber(std::string_view s, long min, long max) {
  if (s.empty()) return std::nullopt;
  long v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<uint16_t> parsePort(std::string_view s, svc::Proto proto) {
  if (auto n = toNumber(s, 0, 65535)) return uint16_t(*n);
  std::string name(s);
  if (const servent* se = ::getservbyname(name.c_str(), proto == svc::Proto::kUdp ? "udp" : "tcp"))
    return ntohs(uint16_t(se->s_port));
  return std::nullopt;
}

// ipvsadm's parse_service: "a.b.c.d[:port]", "[v6]:port" or a bare IPv6 address.
std::optional<HostPort> parseHostPort(std::string_view s, svc::Proto proto) {
  if (allDigits(s)) return std::nullopt;  // also refuses ""
  HostPort hp;
  std::string_view host = s;
  std::optional<std::string_view> port;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    auto a = net::IpAddr::parse(host);
    if (!a || !a->isV6()) return std::nullopt;
    hp.addr = *a;
  } else if (auto a6 = net::IpAddr::parse(s); a6 && a6->isV6()) {
    hp.addr = *a6;
  } else {
    auto colon = s.rfind(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
    }
    auto a = net::IpAddr::parse(host);
    if (!a || !a->isV4()) return std::nullopt;
    hp.addr = *a;
  }
  if (port) {
    auto p = parsePort(*port, proto);
    if (!p) return std::nullopt;
    hp.port = *p;
  }
  return hp;
}

}  // namespace sluice::cli
