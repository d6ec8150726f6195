// Entry and message builders for the session-sync tests.
#pragma once

#include <cstdint>
#include <string_view>

#include "cluster/sync_wire.h"

namespace sluice::cluster::testing {

inline net::Endpoint ep(std::string_view addr, uint16_t port) {
  return net::Endpoint{*net::IpAddr::parse(addr), port};
}

// An established DR connection to 10.0.0.10:80 through 192.0.2.1:80.
inline SyncEntry drConn(uint16_t cport = 40000, std::string_view client = "198.51.100.7") {
  SyncEntry e;
  e.kind = SL_KEY_CONN;
  e.proto = 6;
  e.fwd = SL_FWD_DR;
  e.state = SL_TCP_ESTABLISHED;
  e.timeout_s = 900;
  e.client = ep(client, cport);
  e.vip = ep("192.0.2.1", 80);
  e.svc_port = 80;
  e.dest = ep("10.0.0.10", 80);
  return e;
}

// A persistent IPv6 FULLNAT connection controlled by a template of a port-0 service.
inline SyncEntry fullNatV6Controlled() {
  SyncEntry e;
  e.kind = SL_KEY_CONN;
  e.proto = 6;
  e.fwd = SL_FWD_FULLNAT;
  e.state = SL_TCP_SYN_RECV;
  e.flags = SL_CONN_F_CONTROLLED;
  e.timeout_s = 60;
  e.client = ep("2001:db8:1::42", 51000);
  e.vip = ep("2001:db8::80", 443);
  e.svc_port = 0;
  e.dest = ep("2001:db8:2::10", 8443);
  e.local = ep("2001:db8:3::1", 20001);
  e.has_template = true;
  e.tmpl_caddr = *net::IpAddr::parse("2001:db8:1::");
  e.tmpl_vport = 0;
  return e;
}

inline SyncEntry templateEntry() {
  SyncEntry e;
  e.kind = SL_KEY_TEMPLATE;
  e.proto = 17;
  e.fwd = SL_FWD_TUN;
  e.state = SL_TCP_NONE;
  e.flags = SL_CONN_F_TEMPLATE | SL_CONN_F_ASSURED;
  e.timeout_s = 300;
  e.client = ep("198.51.100.0", 0);
  e.vip = ep("192.0.2.1", 53);
  e.svc_port = 53;
  e.dest = ep("2001:db8:2::53", 53);  // an IPv6 real server behind an IPv4 VIP (tunnel)
  return e;
}

inline SyncEntry udpFwmarkConn() {
  SyncEntry e = drConn(5353);
  e.proto = 17;
  e.state = SL_STATE_UDP;
  e.timeout_s = 300;
  e.svc_fwmark = 7;
  e.svc_port = 0;
  e.flags = SL_CONN_F_ONE_PACKET;
  return e;
}

inline Message update(std::vector<SyncEntry> entries) {
  Message m;
  m.type = MsgType::kConnUpdate;
  m.node_id = 1;
  m.epoch = makeEpoch(1'700'000'000, 0x1234);
  m.seq = 1;
  m.entries = std::move(entries);
  return m;
}

inline Message heartbeat(uint32_t flags = kHeartbeatReady) {
  Message m;
  m.type = MsgType::kHeartbeat;
  m.node_id = 1;
  m.epoch = makeEpoch(1'700'000'000, 0x1234);
  m.seq = 9;
  m.heartbeat_flags = flags;
  return m;
}

}  // namespace sluice::cluster::testing
