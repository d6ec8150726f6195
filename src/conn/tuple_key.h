// A connection-table key from a tuple: the client's end and the service's, in network byte
// order as the XDP program builds them. One builder for every direction a packet can name
// a connection from (a request, a reply, the packet an ICMP error quotes).
#pragma once

#include <arpa/inet.h>

#include <cstring>

#include "abi/records.h"
#include "net/addr.h"

namespace sluice::conn {

inline sl_conn_key tupleKey(net::Family family, uint8_t proto, const net::IpAddr& client,
                            uint16_t cport, const net::IpAddr& service, uint16_t vport,
                            uint8_t kind) noexcept {
  sl_conn_key k{};
  std::memcpy(k.caddr, client.bytes.data(), 16);
  std::memcpy(k.vaddr, service.bytes.data(), 16);
  k.cport = htons(cport);
  k.vport = htons(vport);
  k.proto = proto;
  k.family = uint8_t(family);
  k.kind = kind;
  return k;
}

}  // namespace sluice::conn
