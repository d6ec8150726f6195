// Key builders for the conn tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "abi/records.h"
#include "net/addr.h"

namespace sluice::conn::testing {

inline sl_conn_key makeKey(std::string_view caddr, uint16_t cport, std::string_view vaddr,
                           uint16_t vport, uint8_t proto = IPPROTO_TCP) {
  sl_conn_key k{};
  auto c = *net::IpAddr::parse(caddr);
  auto v = *net::IpAddr::parse(vaddr);
  std::memcpy(k.caddr, c.bytes.data(), 16);
  std::memcpy(k.vaddr, v.bytes.data(), 16);
  k.cport = htons(cport);
  k.vport = htons(vport);
  k.proto = proto;
  k.family = c.isV4() ? SL_AF_V4 : SL_AF_V6;
  k.kind = SL_KEY_CONN;
  return k;
}

// Distinct IPv4 keys: client 10.x.y.z, port from the index, one VIP.
inline sl_conn_key indexedKey(uint32_t i) {
  sl_conn_key k{};
  uint32_t caddr = htonl(0x0a000000u | (i >> 16));
  std::memcpy(k.caddr, &caddr, 4);
  uint32_t vaddr = htonl(0xc0a80a64u);
  std::memcpy(k.vaddr, &vaddr, 4);
  k.cport = htons(uint16_t(i));
  k.vport = htons(80);
  k.proto = IPPROTO_TCP;
  k.family = SL_AF_V4;
  k.kind = SL_KEY_CONN;
  return k;
}

}  // namespace sluice::conn::testing
