// Small builders shared by the svc tests.
#pragma once

#include <string>

#include "net/addr.h"
#include "svc/model.h"

namespace sluice::svc::testing {

inline net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }
inline net::Endpoint ep(const char* s) { return *net::Endpoint::parse(s); }

inline ServiceKey tcpKey(const char* addr, uint16_t port) {
  ServiceKey k;
  k.proto = Proto::kTcp;
  k.addr = ip(addr);
  k.port = port;
  return k;
}

inline ServiceKey udpKey(const char* addr, uint16_t port) {
  ServiceKey k = tcpKey(addr, port);
  k.proto = Proto::kUdp;
  return k;
}

inline ServiceKey markKey(uint32_t mark, net::Family f = net::Family::kV4) {
  ServiceKey k;
  k.fwmark = mark;
  k.fwmark_family = f;
  return k;
}

inline ServiceConfig svcCfg(const ServiceKey& k, std::string sched = "rr") {
  ServiceConfig c;
  c.key = k;
  c.scheduler = std::move(sched);
  if (k.fwmark ? k.fwmark_family == net::Family::kV6 : k.addr.isV6()) c.persistence_prefix = 128;
  return c;
}

inline DestConfig destCfg(const char* endpoint, FwdMethod fwd = FwdMethod::kDr, int32_t weight = 1) {
  DestConfig d;
  d.ep = ep(endpoint);
  d.fwd = fwd;
  d.weight = weight;
  return d;
}

}  // namespace sluice::svc::testing
