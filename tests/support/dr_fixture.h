// A director's data path in memory: service table, connection table, dest table and the
// Datapath step, with a manual clock and next hops written directly (no netlink). Shared
// by the golden tests and the datapath unit tests.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "conn/tuple_key.h"
#include "daemon/plane.h"
#include "dp/datapath.h"
#include "dp/dest_table.h"
#include "support/packet_builder.h"
#include "svc/service_table.h"
#include "svc/stats.h"

namespace sluice::testing {

inline const net::MacAddr kRouterMac = mac("02:00:00:00:02:01");
inline const net::MacAddr kDirectorMac = mac("02:00:00:00:02:10");
inline const net::MacAddr kRs1Mac = mac("02:00:00:00:02:11");
inline const net::MacAddr kRs2Mac = mac("02:00:00:00:02:12");
constexpr uint32_t kIfindex = 7;
constexpr uint32_t kMaxDests = 64;

// ICMP errors as a router on the real servers' way back sends them: about the real server's
// reply VIP:vport -> client:cport (the client is 10.0.1.2 / 2001:db8:1::2), quoting `quote`.
// error4/error6 from src to dst MAC; the router is 10.0.2.1 / 2001:db8:2::1.
inline Bytes reply4(uint16_t cport, uint8_t proto = net::kProtoTcp) {
  PacketBuilder b;
  b.ipv4("10.0.2.100", "10.0.1.2").df();
  if (proto == net::kProtoTcp) b.tcp(80, cport, net::kTcpAck).seq(5000);
  else b.udp(53, cport);
  return b.payloadFill(1400, 0x5a).build();
}
inline Bytes reply6(uint16_t cport, uint8_t proto = net::kProtoTcp) {
  PacketBuilder b;
  b.ipv6("2001:db8:2::100", "2001:db8:1::2");
  if (proto == net::kProtoTcp) b.tcp(80, cport, net::kTcpAck).seq(5000);
  else b.udp(53, cport);
  return b.payloadFill(1400, 0x5a).build();
}
// The first n bytes of b (all of b if shorter): an ICMP error quotes a packet's head.
inline Bytes firstBytes(Bytes b, size_t n) {
  b.resize(std::min(n, b.size()));
  return b;
}
inline Bytes error4(const net::MacAddr& src, const net::MacAddr& dst, const Bytes& quote,
                    uint8_t type = 3, uint8_t code = 4, bool vlan = false) {
  PacketBuilder b;
  b.eth(src, dst);
  if (vlan) b.vlan(100);
  return b.ipv4("10.0.2.1", "10.0.2.100").icmp(type, code, 1400).payload(quote).build();
}
inline Bytes error6(const net::MacAddr& src, const net::MacAddr& dst, const Bytes& quote,
                    uint8_t type = 2, bool vlan = false) {
  PacketBuilder b;
  b.eth(src, dst);
  if (vlan) b.vlan(100);
  return b.ipv6("2001:db8:2::1", "2001:db8:2::100").icmp(type, 0, 1400).payload(quote).build();
}

class DrFixture : public ::testing::Test {
 protected:
  // The daemon's own assembly (daemon::Plane) over heap storage: one worker.
  DrFixture() : plane_(clock_, daemon::PlaneLimits{64, kMaxDests, 4096}) {
    dp_.onUnresolved([this](uint32_t) { ++resolve_requests_; });
  }

  static svc::ServiceKey svcKey4(uint16_t port = 80, svc::Proto p = svc::Proto::kTcp) {
    return svc::ServiceKey{p, ip("10.0.2.100"), port};
  }
  static svc::ServiceKey svcKey6(uint16_t port = 80, svc::Proto p = svc::Proto::kTcp) {
    return svc::ServiceKey{p, ip("2001:db8:2::100"), port};
  }
  static svc::ServiceConfig svcCfg4(const char* sched, uint16_t port = 80, svc::Proto p = svc::Proto::kTcp) {
    svc::ServiceConfig s;
    s.key = svcKey4(port, p);
    s.scheduler = sched;
    return s;
  }
  static svc::DestConfig destCfg(const char* ep, int32_t weight = 1) {
    svc::DestConfig d;
    d.ep = *net::Endpoint::parse(ep);
    d.weight = weight;
    return d;
  }

  // A service listing RS 1 then RS 2, next hops resolved. IPVS puts each new real server
  // at the head of the list (sluiceadm -Ln shows the newest first, rr starts there), so
  // RS 2 is added first.
  void addService(const svc::ServiceConfig& s) {
    ASSERT_TRUE(table_.addService(s));
    bool v6 = s.key.addr.isV6();
    uint16_t port = s.key.port ? s.key.port : 80;
    std::string a = v6 ? "[2001:db8:2::11]:" : "10.0.2.11:";
    std::string b = v6 ? "[2001:db8:2::12]:" : "10.0.2.12:";
    ASSERT_TRUE(table_.addDest(s.key, destCfg((b + std::to_string(port)).c_str())));
    ASSERT_TRUE(table_.addDest(s.key, destCfg((a + std::to_string(port)).c_str())));
    resolveAll();
  }
  void addRr4() { addService(svcCfg4("rr")); }
  void addRr6() {
    svc::ServiceConfig s;
    s.key = svcKey6();
    s.scheduler = "rr";
    addService(s);
  }
  void addUdp4() { addService(svcCfg4("rr", 53, svc::Proto::kUdp)); }
  void addUdp6() {
    svc::ServiceConfig s;
    s.key = svcKey6(53, svc::Proto::kUdp);
    s.scheduler = "rr";
    addService(s);
  }

  // Writes every configured dest's next hop: RS x.x.x.11 -> kRs1Mac, .12 -> kRs2Mac.
  void resolveAll() {
    auto snap = table_.snapshot();
    for (const auto& svc : snap->services())
      for (const auto& d : svc->dest_rt) {
        const bool rs1 = d.cfg.ep.addr.str().ends_with("11");
        sl_dest e = dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), &kDirectorMac,
                                       rs1 ? &kRs1Mac : &kRs2Mac, kIfindex);
        dp::setServiceOf(e, svc->cfg.key.addr, svc->cfg.key.port);  // as daemon::DestWriter
        dests_.write(d.dest_id, e);
        if (rs1) rs1_ids_.push_back(d.dest_id);
        else rs2_ids_.push_back(d.dest_id);
      }
  }
  void unresolve(uint32_t dest_id) {
    sl_dest e = *dests_.read(dest_id);
    e.flags &= ~SL_DEST_F_RESOLVED;
    dests_.write(dest_id, e);
  }

  uint32_t rs1_id() const { return rs1_ids_.at(0); }
  uint32_t rs2_id() const { return rs2_ids_.at(0); }
  sl_dest_counts countsOf(uint32_t id) const { return accounting_.read(id); }
  static net::MacAddr dstMac(const Bytes& f) {
    net::MacAddr m;
    std::memcpy(m.data(), f.data(), 6);
    return m;
  }

  static sl_conn_key key4(uint16_t sport, uint16_t dport, uint8_t proto) {
    return makeKey(ip("10.0.1.2"), ip("10.0.2.100"), sport, dport, proto);
  }
  static sl_conn_key key6(uint16_t sport, uint16_t dport, uint8_t proto) {
    return makeKey(ip("2001:db8:1::2"), ip("2001:db8:2::100"), sport, dport, proto);
  }
  static sl_conn_key makeKey(const net::IpAddr& c, const net::IpAddr& v, uint16_t sport,
                             uint16_t dport, uint8_t proto) {
    return conn::tupleKey(c.family, proto, c, sport, v, dport, SL_KEY_CONN);
  }

  ManualClock clock_;
  daemon::Plane plane_;
  conn::DestAccounting& accounting_ = plane_.accounting();
  svc::Stats& stats_ = plane_.stats();
  svc::ServiceTable& table_ = plane_.services();
  dp::DestTable& dests_ = plane_.dests();
  conn::ConnTable& conns_ = plane_.conns();
  dp::Datapath& dp_ = plane_.datapath();
  std::vector<uint32_t> rs1_ids_, rs2_ids_;
  int resolve_requests_ = 0;
};

}  // namespace sluice::testing
