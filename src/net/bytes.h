// Big-endian loads and stores on raw packet bytes. memcpy keeps them legal on unaligned
// frame data (AF_XDP frames are only 2-byte aligned after a 14-byte Ethernet header) and
// compiles to a single load plus bswap.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice::net {

inline uint16_t load16be(const uint8_t* p) noexcept {
  return uint16_t((uint16_t(p[0]) << 8) | p[1]);
}

inline uint32_t load32be(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

inline void store16be(uint8_t* p, uint16_t v) noexcept {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

inline void store32be(uint8_t* p, uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

}  // namespace sluice::net
