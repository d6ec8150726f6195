// IP addresses and endpoints, one type for both families (templated code, not v4/v6 twins).
// An IPv4 address lives in the first 4 bytes of the 16-byte array, like the shared
// records in abi/records.h, so copying between the two is a memcpy.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::net {

enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  Family family = Family::kNone;

  static IpAddr v4(uint32_t host_order);
  static IpAddr fromV4Bytes(const uint8_t* b);   // 4 bytes, network order
  static IpAddr fromV6Bytes(const uint8_t* b);   // 16 bytes
  // "10.0.0.1" or "2001:db8::1" (no brackets).
  static std::optional<IpAddr> parse(std::string_view s);

  bool isV4() const { return family == Family::kV4; }
  bool isV6() const { return family == Family::kV6; }
  bool isZero() const;
  size_t size() const { return isV4() ? 4 : 16; }
  uint32_t v4HostOrder() const;
  // Keeps the first `prefix_len` bits.
  IpAddr masked(unsigned prefix_len) const;
  std::string str() const;

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

// Prefix length of a dotted netmask ("255.255.255.0" -> 24); nullopt if not contiguous.
std::optional<unsigned> netmaskToPrefix(const IpAddr& mask);
IpAddr prefixToNetmaskV4(unsigned prefix_len);

struct Endpoint {
  IpAddr addr;
  uint16_t port = 0;  // host order

  // "10.0.0.1:80", "[2001:db8::1]:80", "10.0.0.1" (port 0); nullopt on garbage.
  static std::optional<Endpoint> parse(std::string_view s);
  // "10.0.0.1:80" / "[2001:db8::1]:80"
  std::string str() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const noexcept;
};

using MacAddr = std::array<uint8_t, 6>;
std::string macStr(const MacAddr& m);

}  // namespace sluice::net
