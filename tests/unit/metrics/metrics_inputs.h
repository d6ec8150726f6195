// Inputs the metrics tests share: a rich director (every protocol, family, forwarding
// method, fwmark services, checkers) and a reader of the text format's samples.
#pragma once

#include <map>
#include <string>

#include "metrics/exposition.h"

namespace sluice::metrics::testing {

inline net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

inline svc::ServiceKey service(svc::Proto p, const char* addr, uint16_t port) {
  svc::ServiceKey k;
  k.proto = p;
  k.addr = ip(addr);
  k.port = port;
  return k;
}

inline svc::ServiceKey fwmark(uint32_t mark, net::Family f = net::Family::kV4) {
  svc::ServiceKey k;
  k.fwmark = mark;
  k.fwmark_family = f;
  return k;
}

inline ctl::DestInfo dest(const char* addr, uint16_t port, svc::FwdMethod fwd, int32_t weight, uint32_t active,
                          uint32_t inactive, sl_stats stats = {}) {
  ctl::DestInfo d;
  d.cfg.ep = {ip(addr), port};
  d.cfg.fwd = fwd;
  d.cfg.weight = weight;
  d.active = active;
  d.inactive = inactive;
  d.stats = stats;
  return d;
}

inline Inputs richInputs() {
  Inputs in;
  ctl::ServiceInfo web;
  web.cfg.key = service(svc::Proto::kTcp, "10.20.0.100", 80);
  web.stats = {1234, 56789, 40000, 4567890, 9876543};
  web.dests = {dest("192.168.10.11", 80, svc::FwdMethod::kDr, 100, 12, 240, {617, 28394, 20000, 123456789, 5000}),
               dest("192.168.10.12", 8080, svc::FwdMethod::kNat, 0, 9, 198, {617, 28395, 20000, 4444434, 4876543})};
  web.dests[1].persist = 3;
  ctl::ServiceInfo dns;
  dns.cfg.key = service(svc::Proto::kUdp, "2001:db8::53", 53);
  dns.stats = {17, 17, 17, 1700, 3400};
  dns.dests = {dest("2001:db8:0:1::21", 53, svc::FwdMethod::kTun, 1, 0, 17, {17, 17, 17, 1700, 3400})};
  ctl::ServiceInfo mark4;
  mark4.cfg.key = fwmark(10);
  mark4.stats = {5, 50, 0, 5000, 0};
  mark4.dests = {dest("172.16.1.11", 0, svc::FwdMethod::kFullNat, 2, 1, 1, {5, 50, 0, 5000, 0})};
  ctl::ServiceInfo mark6;
  mark6.cfg.key = fwmark(11, net::Family::kV6);
  mark6.dests = {dest("::1", 0, svc::FwdMethod::kLocal, 1, 0, 0)};
  in.services = {web, dns, mark4, mark6};
  in.totals = {1256, 56856, 40017, 4574590, 9879943};
  in.counters = {{"rx_packets", false, 1000, 50000}, {"tx_packets", false, 900, 49000},
                 {"ipv4_fragment", true, 3, 0},      {"no_real_server", true, 7, 2},
                 {"conn_new", false, 1256, 0}};
  in.conn_entries = 466;
  in.conn_capacity = 1048576;

  RealServerHealth h1;
  h1.svc = web.cfg.key;
  h1.rs = web.dests[0].cfg.ep;
  h1.up = true;
  h1.checked = true;
  h1.last_transition_unix_ns = 1765000000123456789ull;
  health::TargetStatus http;
  http.kind = config::CheckKind::kHttp;
  http.rs = h1.rs;
  http.connect_to = {ip("192.168.10.11"), 8081};
  http.up = true;
  http.checks_run = 120;
  http.checks_failed = 2;
  health::TargetStatus tcp = http;
  tcp.kind = config::CheckKind::kTcp;
  tcp.connect_to = h1.rs;
  tcp.checks_run = 121;
  tcp.checks_failed = 0;
  h1.checkers = {http, tcp};
  RealServerHealth h2;
  h2.svc = web.cfg.key;
  h2.rs = web.dests[1].cfg.ep;
  h2.up = false;
  h2.checked = true;
  h2.last_transition_unix_ns = 1765000100000000000ull;
  tcp.rs = h2.rs;
  tcp.connect_to = h2.rs;
  tcp.up = false;
  tcp.checks_failed = 4;
  h2.checkers = {tcp};
  RealServerHealth h3;  // no checker: up by definition, no timestamp
  h3.svc = dns.cfg.key;
  h3.rs = dns.dests[0].cfg.ep;
  in.health = {h1, h2, h3};
  in.start_time_unix_ns = 1764999000500000000ull;
  in.version = "0.9.0";
  ClusterInputs c;
  c.node_id = 2;
  c.ready = true;
  c.announced = {*net::IpAddr::parse("10.31.0.100"), *net::IpAddr::parse("2001:db8:31::100")};
  cluster::SyncNodeStats st;
  st.sent[0] = 7;
  st.received[3] = 12;
  st.replay = 1;
  st.entries_installed = 40;
  st.peers_alive = 2;
  c.sync = st;
  in.cluster = c;
  return in;
}

// "name{labels}" -> value, for every sample line of a page.
inline std::map<std::string, std::string> samples(const std::string& page) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < page.size()) {
    size_t nl = page.find('\n', pos);
    if (nl == std::string::npos) nl = page.size();
    std::string line = page.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

}  // namespace sluice::metrics::testing
