// ServiceTable across a daemon restart: export the model with its ids, and install such a
// copy again with exactly those ids. The ids index tables that outlive the daemon (the
// pinned connection table stores svc_id/dest_id in every entry), so a restored model that
// handed out different ids would silently send established connections to the wrong real
// server. restore() therefore checks ids as strictly as configuration: a state file that
// does not add up is refused as a whole, never installed in part.
#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "svc/service_table.h"
#include "svc/stats.h"

namespace sluice::svc {
namespace {

std::string keyName(const ServiceKey& k) {
  if (k.fwmark != 0) return fmt::format("FWM {}", k.fwmark);
  net::Endpoint e;
  e.addr = k.addr;
  e.port = k.port;
  return fmt::format("{} {}", k.proto == Proto::kUdp ? "UDP" : "TCP", e.str());
}

}  // namespace

bool ServiceTable::IdPool::reserve(uint32_t id) {
  if (id >= limit_) return false;
  if (id < next_) return free_.erase(id) == 1;
  for (uint32_t i = next_; i < id; ++i) free_.insert(i);
  next_ = id + 1;
  return true;
}

TableState ServiceTable::exportState() const {
  std::lock_guard lock(mu_);
  TableState st;
  st.services.reserve(services_.size());
  for (const auto& e : services_) st.services.push_back(stateOf(*e));
  for (const TrashDest& t : trash_) {
    TrashedDest td;
    td.dest_id = t.id;
    td.svc_id = t.svc_id;
    td.cfg = t.cfg;
    auto live = std::find_if(services_.begin(), services_.end(),
                             [&](const auto& e) { return e->id == t.svc_id; });
    if (live != services_.end()) {
      td.svc_key = (*live)->cfg.key;
    } else {
      for (const auto& [key, id] : dead_services_)
        if (id == t.svc_id) td.svc_key = key;
    }
    st.trash.push_back(std::move(td));
  }
  return st;
}

Status ServiceTable::restore(const std::vector<ServiceState>& services,
                             const std::vector<TrashedDest>& trash) {
  std::lock_guard lock(mu_);
  if (!services_.empty() || !trash_.empty() || !dead_services_.empty())
    return makeError("cannot restore services into a table that already has some");
  IdPool svc_ids(svc_ids_.limit());
  IdPool dest_ids(dest_ids_.limit());
  std::vector<std::unique_ptr<ServiceEntry>> entries;
  std::map<ServiceKey, ServiceEntry*> by_key;
  std::map<uint32_t, ServiceEntry*> by_id;

  for (const ServiceState& s : services) {
    auto n = normaliseService(s.cfg);
    if (!n) return makeError("restoring service {}: {}", keyName(s.cfg.key), n.error().message);
    const std::string name = keyName(n->key);
    if (by_key.count(n->key)) return makeError("restoring service {}: listed twice", name);
    if (!svc_ids.reserve(s.svc_id))
      return makeError("restoring service {}: service id {} is {}", name, s.svc_id,
                       s.svc_id >= svc_ids.limit() ? fmt::format("beyond the limit of {}", svc_ids.limit())
                                                   : std::string("used twice"));
    auto e = std::make_unique<ServiceEntry>();
    e->id = s.svc_id;
    e->cfg = std::move(*n);
    for (const DestState& d : s.dests) {
      auto nd = normaliseDest(e->cfg, d.cfg);
      if (!nd)
        return makeError("restoring real server {} of {}: {}", d.cfg.ep.str(), name, nd.error().message);
      if (std::any_of(e->dests.begin(), e->dests.end(),
                      [&](const DestEntry& x) { return x.cfg.ep == nd->ep; }))
        return makeError("restoring real server {} of {}: listed twice", nd->ep.str(), name);
      if (!dest_ids.reserve(d.dest_id))
        return makeError("restoring real server {} of {}: dest id {} is {}", nd->ep.str(), name,
                         d.dest_id,
                         d.dest_id >= dest_ids.limit()
                             ? fmt::format("beyond the limit of {}", dest_ids.limit())
                             : std::string("used twice"));
      e->dests.push_back(DestEntry{d.dest_id, *nd});
    }
    for (const LocalAddress& l : s.laddrs) {
      if (Status st = checkLaddr(e->cfg, e->laddrs, l); !st)
        return makeError("restoring local address {} of {}: {}", l.addr.str(), name, st.error().message);
      e->laddrs.push_back(l);
    }
    if (Status st = rebuild(*e); !st) return makeError("restoring service {}: {}", name, st.error().message);
    by_key[e->cfg.key] = e.get();
    by_id[e->id] = e.get();
    entries.push_back(std::move(e));
  }

  std::vector<TrashDest> trashed;
  std::map<ServiceKey, uint32_t> dead;
  std::set<std::pair<uint32_t, net::Endpoint>> seen;
  for (const TrashedDest& t : trash) {
    const ServiceKey key = canonicalKey(t.svc_key);
    const std::string name = fmt::format("deleted real server {} of {}", t.cfg.ep.str(), keyName(key));
    ServiceConfig owner;  // what normaliseDest needs of a deleted service: its key
    owner.key = key;
    if (auto live = by_id.find(t.svc_id); live != by_id.end()) {
      if (live->second->cfg.key != key)
        return makeError("restoring {}: service id {} belongs to {}", name, t.svc_id,
                         keyName(live->second->cfg.key));
      owner = live->second->cfg;
    } else if (by_key.count(key)) {
      return makeError("restoring {}: the service has id {}, not {}", name, by_key[key]->id, t.svc_id);
    } else if (auto d = dead.find(key); d != dead.end()) {
      if (d->second != t.svc_id)
        return makeError("restoring {}: the deleted service has ids {} and {}", name, d->second,
                         t.svc_id);
    } else {
      if (std::any_of(dead.begin(), dead.end(), [&](const auto& kv) { return kv.second == t.svc_id; }) ||
          !svc_ids.reserve(t.svc_id))
        return makeError("restoring {}: service id {} is taken or beyond the limit of {}", name,
                         t.svc_id, svc_ids.limit());
      dead[key] = t.svc_id;
    }
    auto nd = normaliseDest(owner, t.cfg);
    if (!nd) return makeError("restoring {}: {}", name, nd.error().message);
    if (auto live = by_id.find(t.svc_id); live != by_id.end()) {
      const auto& ds = live->second->dests;
      if (std::any_of(ds.begin(), ds.end(), [&](const DestEntry& x) { return x.cfg.ep == nd->ep; }))
        return makeError("restoring {}: it is also a configured real server of that service", name);
    }
    if (!seen.emplace(t.svc_id, nd->ep).second)
      return makeError("restoring {}: listed twice", name);
    if (!dest_ids.reserve(t.dest_id))
      return makeError("restoring {}: dest id {} is taken or beyond the limit of {}", name,
                       t.dest_id, dest_ids.limit());
    trashed.push_back(TrashDest{t.dest_id, t.svc_id, *nd, std::nullopt});
  }

  services_ = std::move(entries);
  by_key_ = std::move(by_key);
  trash_ = std::move(trashed);
  dead_services_ = std::move(dead);
  svc_ids_ = std::move(svc_ids);
  dest_ids_ = std::move(dest_ids);
  if (stats_) {
    for (const auto& e : services_) {
      stats_->resetService(e->id);
      for (const DestEntry& d : e->dests) stats_->resetDest(d.id);
    }
    for (const auto& [key, id] : dead_services_) stats_->resetService(id);
    for (const TrashDest& t : trash_) stats_->resetDest(t.id);
  }
  changed();
  return {};
}

}  // namespace sluice::svc
