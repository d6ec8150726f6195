#include "support/ctl_fake_backend.h"

#include <algorithm>

namespace sluice::testing {

ctl::ServiceInfo* FakeBackend::find(const svc::ServiceKey& k) {
  for (auto& s : services)
    if (s.cfg.key == k) return &s;
  return nullptr;
}

Status FakeBackend::addService(const svc::ServiceConfig& s) {
  ++calls;
  if (find(s.key)) return makeError("Service already exists");
  ctl::ServiceInfo info;
  info.cfg = s;
  if (info.cfg.scheduler.empty()) info.cfg.scheduler = "wlc";  // as the daemon's table does
  services.push_back(info);
  return {};
}

Status FakeBackend::editService(const svc::ServiceConfig& s) {
  ++calls;
  auto* p = find(s.key);
  if (!p) return makeError("No such service");
  p->cfg = s;
  if (p->cfg.scheduler.empty()) p->cfg.scheduler = "wlc";
  return {};
}

Status FakeBackend::delService(const svc::ServiceKey& k) {
  ++calls;
  auto it = std::find_if(services.begin(), services.end(), [&](const auto& s) { return s.cfg.key == k; });
  if (it == services.end()) return makeError("No such service");
  services.erase(it);
  return {};
}

Status FakeBackend::clear() {
  ++calls;
  services.clear();
  return {};
}

Status FakeBackend::addDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  ++calls;
  auto* s = find(k);
  if (!s) return makeError("Service not defined");
  for (const auto& x : s->dests)
    if (x.cfg.ep == d.ep) return makeError("Destination already exists");
  ctl::DestInfo info;
  info.cfg = d;
  s->dests.push_back(info);
  return {};
}

Status FakeBackend::editDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  ++calls;
  auto* s = find(k);
  if (!s) return makeError("Service not defined");
  for (auto& x : s->dests)
    if (x.cfg.ep == d.ep) {
      x.cfg = d;
      return {};
    }
  return makeError("No such destination");
}

Status FakeBackend::delDest(const svc::ServiceKey& k, const net::Endpoint& rs) {
  ++calls;
  auto* s = find(k);
  if (!s) return makeError("Service not defined");
  auto it = std::find_if(s->dests.begin(), s->dests.end(), [&](const auto& x) { return x.cfg.ep == rs; });
  if (it == s->dests.end()) return makeError("No such destination");
  s->dests.erase(it);
  return {};
}

Status FakeBackend::addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  ++calls;
  auto* s = find(k);
  if (!s) return makeError("Service not defined");
  for (const auto& x : s->laddrs)
    if (x.laddr.addr == l.addr) return makeError("Local address already exists");
  s->laddrs.push_back(ctl::LaddrInfo{l, 0});
  return {};
}

Status FakeBackend::delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  ++calls;
  auto* s = find(k);
  if (!s) return makeError("Service not defined");
  auto it = std::find_if(s->laddrs.begin(), s->laddrs.end(),
                         [&](const auto& x) { return x.laddr.addr == l.addr; });
  if (it == s->laddrs.end()) return makeError("No such local address");
  s->laddrs.erase(it);
  return {};
}

Status FakeBackend::zero(const std::optional<svc::ServiceKey>& k) {
  ++calls;
  ++zero_calls;
  last_zero_key = k;
  if (k && !find(*k)) return makeError("No such service");
  for (auto& s : services) {
    if (k && s.cfg.key != *k) continue;
    s.stats = {};
    for (auto& d : s.dests) d.stats = {};
  }
  return {};
}

Status FakeBackend::setTimeouts(const svc::Timeouts& t) {
  ++calls;
  if (t.tcp) timeouts_.tcp = t.tcp;
  if (t.tcp_fin) timeouts_.tcp_fin = t.tcp_fin;
  if (t.udp) timeouts_.udp = t.udp;
  return {};
}

Result<std::vector<ctl::ServiceInfo>> FakeBackend::listServices(const std::optional<svc::ServiceKey>& k) const {
  if (!k) return services;
  for (const auto& s : services)
    if (s.cfg.key == *k) return std::vector<ctl::ServiceInfo>{s};
  return makeError("No such service");
}

}  // namespace sluice::testing
