#include "config/desired.h"

#include <algorithm>

namespace sluice::config {

namespace {

bool sameService(const svc::ServiceConfig& a, const svc::ServiceConfig& b) {
  if (a.scheduler != b.scheduler || a.sched_flags != b.sched_flags ||
      a.persistent != b.persistent || a.one_packet != b.one_packet || a.client_addr != b.client_addr)
    return false;
  if (!a.persistent) return true;
  return a.persistence_timeout == b.persistence_timeout &&
         a.persistence_prefix == b.persistence_prefix;
}

// The real server as the table stores it: DR and TUN real servers of a non-fwmark service
// take the service's port (ServiceTable::addDest does the same).
svc::DestConfig normalised(const svc::ServiceKey& key, svc::DestConfig d) {
  bool forced = d.fwd == svc::FwdMethod::kDr || d.fwd == svc::FwdMethod::kTun;
  if (key.fwmark == 0 && (forced || d.ep.port == 0)) d.ep.port = key.port;
  return d;
}

bool sameDest(const svc::DestConfig& a, const svc::DestConfig& b) {
  return a.ep == b.ep && a.fwd == b.fwd && a.weight == b.weight &&
         a.u_threshold == b.u_threshold && a.l_threshold == b.l_threshold &&
         a.tun_type == b.tun_type && a.tun_port == b.tun_port && a.tun_flags == b.tun_flags;
}

const svc::DestConfig* findDest(const std::vector<svc::DestConfig>& v, const net::Endpoint& ep) {
  for (const auto& d : v)
    if (d.ep == ep) return &d;
  return nullptr;
}

const svc::LocalAddress* findLaddr(const std::vector<svc::LocalAddress>& v, const net::IpAddr& a) {
  for (const auto& l : v)
    if (l.addr == a) return &l;
  return nullptr;
}

const svc::DestState* findLiveDest(const svc::ServiceState& s, const net::Endpoint& ep) {
  for (const auto& d : s.dests)
    if (d.cfg.ep == ep) return &d;
  return nullptr;
}

}  // namespace

net::Endpoint rsEndpoint(const VirtualServerConfig& vs, const RealServerConfig& rs) {
  net::Endpoint ep = rs.dest.ep;
  if (ep.port == 0 && !vs.services.empty()) ep.port = vs.services.front().key.port;
  return ep;
}

int64_t liveWeight(const VirtualServerConfig& vs, const HealthMap& health) {
  int64_t sum = 0;
  for (const auto& rs : vs.real_servers) {
    auto it = health.find(RsId{vs.name, rsEndpoint(vs, rs)});
    RsHealth h = it == health.end() ? RsHealth{} : it->second;
    if (h.up) sum += h.weight.value_or(rs.dest.weight);
  }
  return sum;
}

bool quorumHeld(const VirtualServerConfig& vs, int64_t live_weight, std::optional<bool> before) {
  const int64_t q = vs.quorum, h = vs.hysteresis;
  if (!before) return live_weight >= q;
  if (*before) return live_weight >= q - h;  // lost below quorum - hysteresis
  return live_weight >= q + h;               // gained at quorum + hysteresis
}

Desired desired(const Config& cfg, const HealthMap& health, const QuorumMap& quorum) {
  Desired out;
  for (const auto& vs : cfg.virtual_servers) {
    auto qit = quorum.find(vs.name);
    const bool held = qit == quorum.end() || qit->second;
    const bool sorry_in_use = !held && vs.sorry_server.has_value();
    for (const auto& sc : vs.services) {
      DesiredService ds;
      ds.cfg = sc;
      ds.laddrs = vs.laddrs;
      for (const auto& rs : vs.real_servers) {
        auto it = health.find(RsId{vs.name, rsEndpoint(vs, rs)});
        RsHealth h = it == health.end() ? RsHealth{} : it->second;
        svc::DestConfig d = rs.dest;
        if (d.ep.port == 0) d.ep.port = sc.key.port;
        if (h.up && !sorry_in_use) {
          if (h.weight) d.weight = *h.weight;
        } else if (rs.inhibit_on_failure) {
          d.weight = 0;
        } else {
          continue;
        }
        ds.dests.push_back(normalised(sc.key, d));
      }
      if (vs.sorry_server && (sorry_in_use || vs.sorry_server->inhibit)) {
        svc::DestConfig d;
        d.ep = vs.sorry_server->ep;
        if (d.ep.port == 0) d.ep.port = sc.key.port;
        d.fwd = vs.sorry_server->fwd;
        d.tun_type = vs.sorry_server->tun_type;
        d.tun_port = vs.sorry_server->tun_port;
        d.tun_flags = vs.sorry_server->tun_flags;
        d.weight = sorry_in_use ? 1 : 0;
        d = normalised(sc.key, d);
        // A sorry server that is also one of the real servers keeps the real server's entry.
        if (!findDest(ds.dests, d.ep)) ds.dests.push_back(d);
      }
      out[svc::ServiceTable::canonicalKey(sc.key)] = std::move(ds);
    }
  }
  return out;
}

std::vector<svc::Op> diff(const Desired& want, const Desired& before,
                          const std::vector<svc::ServiceState>& live) {
  std::map<svc::ServiceKey, const svc::ServiceState*> live_by_key;
  for (const auto& s : live) live_by_key[svc::ServiceTable::canonicalKey(s.cfg.key)] = &s;
  std::vector<svc::Op> ops;
  // Services the file no longer names.
  for (const auto& [key, ds] : before)
    if (!want.count(key) && live_by_key.count(key)) ops.push_back(svc::DelService{key});
  std::vector<svc::Op> dest_ops;
  for (const auto& [key, ds] : want) {
    auto lit = live_by_key.find(key);
    const svc::ServiceState* ls = lit == live_by_key.end() ? nullptr : lit->second;
    if (!ls)
      ops.push_back(svc::AddService{ds.cfg});
    else if (!sameService(ds.cfg, ls->cfg))
      ops.push_back(svc::EditService{ds.cfg});
    // Local addresses: those the file took out (or moved to another interface), then the new.
    if (auto bit = before.find(key); bit != before.end() && ls)
      for (const auto& l : bit->second.laddrs) {
        const svc::LocalAddress* w = findLaddr(ds.laddrs, l.addr);
        const svc::LocalAddress* lv = findLaddr(ls->laddrs, l.addr);
        if (lv && (!w || *w != *lv)) dest_ops.push_back(svc::DelLaddr{key, *lv});
      }
    for (const auto& l : ds.laddrs) {
      const svc::LocalAddress* lv = ls ? findLaddr(ls->laddrs, l.addr) : nullptr;
      const bool moved = lv && *lv != l && before.count(key) &&
                         findLaddr(before.at(key).laddrs, l.addr);
      if (!lv || moved) dest_ops.push_back(svc::AddLaddr{key, l});
    }
    // Real servers the file (or the health of its servers) took out.
    if (auto bit = before.find(key); bit != before.end() && ls)
      for (const auto& d : bit->second.dests)
        if (!findDest(ds.dests, d.ep) && findLiveDest(*ls, d.ep))
          dest_ops.push_back(svc::DelDest{key, d.ep});
    for (const auto& d : ds.dests) {
      const svc::DestState* ld = ls ? findLiveDest(*ls, d.ep) : nullptr;
      if (!ld)
        dest_ops.push_back(svc::AddDest{key, d});
      else if (!sameDest(d, ld->cfg))
        dest_ops.push_back(svc::EditDest{key, d});
    }
  }
  ops.insert(ops.end(), dest_ops.begin(), dest_ops.end());
  return ops;
}

}  // namespace sluice::config
