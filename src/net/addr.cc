#include "net/addr.h"

#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

namespace sluice::net {

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family = Family::kV4;
  uint32_t n = htonl(host_order);
  std::memcpy(a.bytes.data(), &n, 4);
  return a;
}

IpAddr IpAddr::fromV4Bytes(const uint8_t* b) {
  IpAddr a;
  a.family = Family::kV4;
  std::memcpy(a.bytes.data(), b, 4);
  return a;
}

IpAddr IpAddr::fromV6Bytes(const uint8_t* b) {
  IpAddr a;
  a.family = Family::kV6;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view s) {
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  IpAddr a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = Family::kV4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.family = Family::kV6;
    return a;
  }
  return std::nullopt;
}

bool IpAddr::isZero() const {
  for (size_t i = 0; i < size(); ++i)
    if (bytes[i]) return false;
  return true;
}

uint32_t IpAddr::v4HostOrder() const {
  uint32_t n;
  std::memcpy(&n, bytes.data(), 4);
  return ntohl(n);
}

IpAddr IpAddr::masked(unsigned prefix_len) const {
  IpAddr r = *this;
  unsigned bits = unsigned(size()) * 8;
  for (unsigned i = 0; i < size(); ++i) {
    unsigned start = i * 8;
    if (start >= prefix_len) {
      r.bytes[i] = 0;
    } else if (start + 8 > prefix_len) {
      r.bytes[i] &= uint8_t(0xff << (8 - (prefix_len - start)));
    }
  }
  (void)bits;
  return r;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN];
  if (family == Family::kV4) return inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  if (family == Family::kV6) return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return "?";
}

std::optional<unsigned> netmaskToPrefix(const IpAddr& mask) {
  unsigned n = 0;
  bool seen_zero = false;
  for (size_t i = 0; i < mask.size(); ++i) {
    for (int bit = 7; bit >= 0; --bit) {
      bool one = (mask.bytes[i] >> bit) & 1;
      if (one && seen_zero) return std::nullopt;
      if (one) ++n; else seen_zero = true;
    }
  }
  return n;
}

IpAddr prefixToNetmaskV4(unsigned prefix_len) {
  uint32_t m = prefix_len == 0 ? 0 : (prefix_len >= 32 ? 0xffffffffu : ~((1u << (32 - prefix_len)) - 1));
  return IpAddr::v4(m);
}

std::optional<Endpoint> Endpoint::parse(std::string_view s) {
  Endpoint ep;
  std::string_view host = s, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    auto colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  auto a = IpAddr::parse(host);
  if (!a) return std::nullopt;
  ep.addr = *a;
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v > 65535) return std::nullopt;
    ep.port = uint16_t(v);
  }
  return ep;
}

std::string Endpoint::str() const {
  if (addr.isV6()) return fmt::format("[{}]:{}", addr.str(), port);
  return fmt::format("{}:{}", addr.str(), port);
}

size_t IpAddrHash::operator()(const IpAddr& a) const noexcept {
  uint64_t h = 1469598103934665603ull ^ uint64_t(a.family);
  for (uint8_t b : a.bytes) h = (h ^ b) * 1099511628211ull;
  return size_t(h);
}

std::string macStr(const MacAddr& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

}  // namespace sluice::net
