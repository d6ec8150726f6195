// Deterministic hashing of addresses for the hashing schedulers (sh, dh, mh).
//
// std::hash is neither stable across builds nor across standard libraries, and every
// director of a cluster must agree on where a flow hashes, so this is a fixed 64-bit mix
// (the splitmix64 finaliser) over the 16 address bytes, the family and the port. Bytes
// are assembled little-endian explicitly so the result does not depend on the host.
#pragma once

#include <cstdint>

#include "net/addr.h"

namespace sluice::sched::detail {

inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t load64le(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Different seeds give independent hash functions (Maglev needs two for the permutation
// and one more for the lookup; fallback rehashes with further seeds).
inline uint64_t hashAddrPort(const net::IpAddr& a, uint16_t port, uint64_t seed) noexcept {
  uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ ((uint64_t{port} << 8) | static_cast<uint8_t>(a.family)));
  h = mix64(h ^ load64le(a.bytes.data()));
  h = mix64(h ^ load64le(a.bytes.data() + 8));
  return h;
}

}  // namespace sluice::sched::detail
