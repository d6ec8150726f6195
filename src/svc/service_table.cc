#include "svc/service_table.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "sched/scheduler.h"
#include "svc/stats.h"

namespace sluice::svc {
namespace {

unsigned familyBits(net::Family f) { return f == net::Family::kV6 ? 128 : 32; }
int familyNum(net::Family f) { return f == net::Family::kV6 ? 6 : 4; }
bool validFamily(net::Family f) { return f == net::Family::kV4 || f == net::Family::kV6; }

net::Family serviceFamily(const ServiceKey& k) {
  return k.fwmark != 0 ? k.fwmark_family : k.addr.family;
}

uint32_t loadCount(const uint32_t& v) {
  return std::atomic_ref<const uint32_t>(v).load(std::memory_order_relaxed);
}

}  // namespace

std::optional<uint32_t> ServiceTable::IdPool::take() {
  if (!free_.empty()) {
    uint32_t id = *free_.begin();
    free_.erase(free_.begin());
    return id;
  }
  if (next_ < limit_) return next_++;
  return std::nullopt;
}

ServiceTable::ServiceTable(const Clock& clock, std::span<sl_dest_counts> counts, TableLimits limits,
                           Stats* stats)
    : clock_(clock),
      counts_(counts),
      limits_(limits),
      stats_(stats),
      svc_ids_(limits.max_services),
      dest_ids_(counts.empty() ? limits.max_dests
                               : uint32_t(std::min<size_t>(limits.max_dests, counts.size()))) {}

ServiceKey ServiceTable::canonicalKey(const ServiceKey& k) {
  if (k.fwmark == 0) return k;
  ServiceKey c;
  c.fwmark = k.fwmark;
  c.fwmark_family = k.fwmark_family;
  return c;
}

// ---- validation -----------------------------------------------------------------------

Result<ServiceConfig> ServiceTable::normaliseService(const ServiceConfig& in) const {
  ServiceConfig c = in;
  c.key = canonicalKey(in.key);
  const ServiceKey& k = c.key;
  if (Status st = checkImplemented(k); !st) return st.error();
  if (k.fwmark != 0) {
    if (!validFamily(k.fwmark_family))
      return makeError("Invalid address family for firewall-mark service {}", k.fwmark);
  } else {
    if (k.proto != Proto::kTcp && k.proto != Proto::kUdp)
      return makeError("Unsupported protocol {}: only TCP and UDP services", unsigned(k.proto));
    if (!validFamily(k.addr.family)) return makeError("Service address missing");
    if (k.port == 0 && !c.persistent)
      return makeError("Zero port specified for non-persistent service");
  }
  if (c.one_packet && k.fwmark == 0 && k.proto != Proto::kUdp)
    return makeError("One-Packet Scheduling is only for UDP virtual services");
  if (c.scheduler.empty()) c.scheduler = default_scheduler_;
  if (!sched::isKnownScheduler(c.scheduler)) {
    const std::string_view why = sched::notImplementedReason(c.scheduler);
    return makeError("Scheduler not found: {}", why.empty() ? std::string_view(c.scheduler) : why);
  }
  if (c.sched_flags & ~(kSchedFlag1 | kSchedFlag2 | kSchedFlag3))
    return makeError("Invalid scheduler flags 0x{:x}", c.sched_flags);
  if (uint8_t(c.client_addr) > SL_CA_PROXY2)
    return makeError("Invalid client address mode {}", unsigned(c.client_addr));
  if (Status st = checkImplemented(c.client_addr); !st) return st.error();

  const net::Family fam = serviceFamily(k);
  const unsigned bits = familyBits(fam);
  if (c.persistent && (c.persistence_timeout < 1 || c.persistence_timeout > kMaxPersistenceTimeout))
    return makeError("Invalid persistence timeout {}: must be 1..{} seconds", c.persistence_timeout,
                     kMaxPersistenceTimeout);
  // 32 is the model's default for either family: an IPv6 service that was given no -M has a
  // host mask like any other.
  if (fam == net::Family::kV6 && c.persistence_prefix == 32 && !c.persistent) c.persistence_prefix = bits;
  // Checked with or without -p, as IPVS (ip_vs_add_service) does: it refuses an IPv6 prefix
  // of 0 and allows an IPv4 mask of 0.0.0.0. Without -p the mask is kept but unused, and
  // not listed, as with ipvsadm.
  if (c.persistence_prefix > bits || (fam == net::Family::kV6 && c.persistence_prefix == 0))
    return makeError("Invalid persistence netmask /{} for an IPv{} service", c.persistence_prefix,
                     familyNum(fam));
  return c;
}

Result<DestConfig> ServiceTable::normaliseDest(const ServiceConfig& svc, const DestConfig& in) const {
  DestConfig d = in;
  const net::Family fam = serviceFamily(svc.key);
  if (!validFamily(d.ep.addr.family)) return makeError("Real server address missing");
  if (uint8_t(d.fwd) > uint8_t(FwdMethod::kLocal))
    return makeError("Invalid forwarding method {}", unsigned(d.fwd));
  if (Status st = checkImplemented(d.fwd); !st) return st.error();
  if (Status st = checkTunnel(d); !st) return st.error();
  if (Status st = checkImplemented(d); !st) return st.error();
  // Covers the deleted real servers of a deleted service a state file restores.
  if (Status st = checkImplemented(svc.key); !st) return st.error();
  // IPVS lets only tunnelled real servers be of the other family.
  if (d.ep.addr.family != fam && d.fwd != FwdMethod::kTun)
    return makeError("IPv{} real server for an IPv{} service (only tunnelling, -i, mixes families)",
                     familyNum(d.ep.addr.family), familyNum(fam));
  if (d.weight < 0 || d.weight > kMaxWeight)
    return makeError("Invalid weight {}: must be 0..{}", d.weight, kMaxWeight);
  if (d.u_threshold > kMaxThreshold)
    return makeError("Invalid upper threshold {}: must be 0..{}", d.u_threshold, kMaxThreshold);
  if (d.l_threshold > kMaxThreshold)
    return makeError("Invalid lower threshold {}: must be 0..{}", d.l_threshold, kMaxThreshold);
  if (d.l_threshold > d.u_threshold)
    return makeError("Lower threshold {} is higher than upper threshold {}", d.l_threshold,
                     d.u_threshold);
  // A NAT reply of a port-0 service keeps its source port (the real server's), which must
  // then be the port the client used: no port mapping there (dp/nat_reply.h).
  if (svc.key.fwmark == 0 && svc.key.port == 0 && d.fwd == FwdMethod::kNat && d.ep.port != 0)
    return makeError("A NAT real server of a port-0 (all ports) service cannot map ports: give "
                     "it port 0 (or no port), so each connection keeps the client's port");
  if (svc.key.fwmark == 0) {
    // DR and TUN do not rewrite the destination port: the real server must listen on the
    // service's port. Others take a missing port to mean the same one.
    if (d.fwd == FwdMethod::kDr || d.fwd == FwdMethod::kTun || d.ep.port == 0)
      d.ep.port = svc.key.port;
  }
  return d;
}

Status ServiceTable::checkLaddr(const ServiceConfig& svc, const std::vector<LocalAddress>& have,
                                const LocalAddress& l) {
  const net::Family fam = serviceFamily(svc.key);
  if (!validFamily(l.addr.family)) return makeError("Local address missing");
  if (l.addr.family != fam)
    return makeError("IPv{} local address {} for an IPv{} service: local addresses must be of the "
                     "service's family (NAT64 is not supported)",
                     familyNum(l.addr.family), l.addr.str(), familyNum(fam));
  const bool multicast = l.addr.isV4() ? (l.addr.bytes[0] & 0xf0) == 0xe0 : l.addr.bytes[0] == 0xff;
  const bool broadcast = l.addr.isV4() && l.addr.v4HostOrder() == 0xffffffffu;
  if (l.addr.isZero() || multicast || broadcast)
    return makeError("Invalid local address {}: it must be a unicast address of this director",
                     l.addr.str());
  if (l.ifname.size() > kMaxIfnameLen || l.ifname == "." || l.ifname == ".." ||
      l.ifname.find_first_of("/: \t\n") != std::string::npos)
    return makeError("Invalid interface name '{}' for local address {}", l.ifname, l.addr.str());
  for (const LocalAddress& h : have)
    if (h.addr == l.addr) return makeError("Local address already exists");
  if (have.size() >= kMaxLaddrsPerService)
    return makeError("Too many local addresses: the limit is {} per service", kMaxLaddrsPerService);
  return {};
}

// ---- helpers ------------------------------------------------------------------------------

ServiceTable::ServiceEntry* ServiceTable::find(const ServiceKey& k) {
  auto it = by_key_.find(canonicalKey(k));
  return it == by_key_.end() ? nullptr : it->second;
}

const ServiceTable::ServiceEntry* ServiceTable::find(const ServiceKey& k) const {
  auto it = by_key_.find(canonicalKey(k));
  return it == by_key_.end() ? nullptr : it->second;
}

DestRt ServiceTable::destRt(uint32_t svc_id, uint32_t dest_id, const DestConfig& cfg,
                            bool trashed, int32_t last_weight) const {
  DestRt r;
  r.dest_id = dest_id;
  r.svc_id = svc_id;
  r.cfg = cfg;
  r.last_weight = last_weight;
  r.counts = dest_id < counts_.size() ? &counts_[dest_id] : nullptr;
  r.trashed = trashed;
  return r;
}

Status ServiceTable::rebuild(ServiceEntry& e) {
  std::vector<DestRt> dests;
  dests.reserve(e.dests.size());
  for (const DestEntry& d : e.dests)
    dests.push_back(destRt(e.id, d.id, d.cfg, false, d.last_weight));
  auto rt = makeServiceRt(e.id, e.cfg, std::move(dests), e.rt.get(), e.laddrs);
  if (!rt) return rt.error();
  e.rt = std::move(*rt);
  return {};
}

bool ServiceTable::destIdle(uint32_t dest_id) const {
  if (dest_id >= counts_.size()) return true;
  const sl_dest_counts& c = counts_[dest_id];
  return loadCount(c.active) == 0 && loadCount(c.inactive) == 0 && loadCount(c.persist) == 0;
}

std::optional<uint32_t> ServiceTable::takeSvcId() {
  auto id = svc_ids_.take();
  if (!id && purgeLocked() > 0) id = svc_ids_.take();
  return id;
}

std::optional<uint32_t> ServiceTable::takeDestId() {
  auto id = dest_ids_.take();
  if (!id && purgeLocked() > 0) id = dest_ids_.take();
  if (id && *id < counts_.size()) {
    // A fresh or recycled id: nothing refers to it, so its flags are ours to clear.
    std::atomic_ref<uint32_t>(counts_[*id].overloaded).store(0, std::memory_order_relaxed);
  }
  return id;
}

void ServiceTable::trashDests(ServiceEntry& e) {
  for (const DestEntry& d : e.dests) trash_.push_back(TrashDest{d.id, e.id, d.cfg, std::nullopt});
  e.dests.clear();
}

void ServiceTable::changed() {
  dirty_ = true;
  if (batch_depth_ == 0) publishLocked();
}

void ServiceTable::publishLocked() {
  std::vector<std::shared_ptr<const ServiceRt>> rts;
  rts.reserve(services_.size());
  for (const auto& e : services_) rts.push_back(e->rt);
  std::vector<DestRt> trash;
  trash.reserve(trash_.size());
  for (const TrashDest& t : trash_) trash.push_back(destRt(t.svc_id, t.id, t.cfg, true));
  publisher_.publish(std::make_shared<const Snapshot>(++version_, std::move(rts), std::move(trash)));
  dirty_ = false;
}

ServiceState ServiceTable::stateOf(const ServiceEntry& e) const {
  ServiceState s;
  s.svc_id = e.id;
  s.cfg = e.cfg;
  s.dests.reserve(e.dests.size());
  for (const DestEntry& d : e.dests) s.dests.push_back(DestState{d.id, d.cfg});
  s.laddrs = e.laddrs;
  return s;
}

// ---- services -------------------------------------------------------------------------

Status ServiceTable::addService(const ServiceConfig& cfg) {
  std::lock_guard lock(mu_);
  auto n = normaliseService(cfg);
  if (!n) return n.error();
  if (by_key_.count(n->key)) return makeError("Service already exists");

  std::optional<uint32_t> id;
  bool revived = false;
  if (auto dead = dead_services_.find(n->key); dead != dead_services_.end()) {
    id = dead->second;
    revived = true;
  } else {
    id = takeSvcId();
    if (!id)
      return makeError("Too many virtual services: the limit is {} ({} deleted ones still carry "
                       "connections)",
                       svc_ids_.limit(), dead_services_.size());
  }
  auto e = std::make_unique<ServiceEntry>();
  e->id = *id;
  e->cfg = std::move(*n);
  if (Status st = rebuild(*e); !st) {
    if (!revived) svc_ids_.give(*id);
    return st;
  }
  if (revived) dead_services_.erase(e->cfg.key);
  if (stats_) stats_->resetService(e->id);
  by_key_[e->cfg.key] = e.get();
  services_.push_back(std::move(e));
  changed();
  return {};
}

Status ServiceTable::editService(const ServiceConfig& cfg) {
  std::lock_guard lock(mu_);
  auto n = normaliseService(cfg);
  if (!n) return n.error();
  ServiceEntry* e = find(n->key);
  if (!e) return makeError("No such service");
  ServiceConfig old = e->cfg;
  e->cfg = std::move(*n);
  if (Status st = rebuild(*e); !st) {
    e->cfg = std::move(old);
    return st;
  }
  changed();
  return {};
}

Status ServiceTable::delService(const ServiceKey& key) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("No such service");
  trashDests(*e);
  const uint32_t id = e->id;
  const bool referenced =
      std::any_of(trash_.begin(), trash_.end(), [id](const TrashDest& t) { return t.svc_id == id; });
  if (referenced)
    dead_services_[e->cfg.key] = id;
  else
    svc_ids_.give(id);
  by_key_.erase(e->cfg.key);
  services_.erase(std::find_if(services_.begin(), services_.end(),
                               [e](const auto& p) { return p.get() == e; }));
  changed();
  return {};
}

Status ServiceTable::clear() {
  std::lock_guard lock(mu_);
  for (auto& e : services_) {
    trashDests(*e);
    dead_services_[e->cfg.key] = e->id;
  }
  services_.clear();
  by_key_.clear();
  // Services none of whose dests carry anything get their id back now.
  for (auto it = dead_services_.begin(); it != dead_services_.end();) {
    uint32_t id = it->second;
    if (std::none_of(trash_.begin(), trash_.end(), [id](const TrashDest& t) { return t.svc_id == id; })) {
      svc_ids_.give(id);
      it = dead_services_.erase(it);
    } else {
      ++it;
    }
  }
  changed();
  return {};
}

// ---- real servers ---------------------------------------------------------------------

Status ServiceTable::addDest(const ServiceKey& key, const DestConfig& dest) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("Service not defined");
  auto n = normaliseDest(e->cfg, dest);
  if (!n) return n.error();
  for (const DestEntry& d : e->dests)
    if (d.cfg.ep == n->ep) return makeError("Destination already exists");

  // The same real server deleted from this service but still carrying connections comes
  // back with its id, so those connections and the new ones count together.
  auto t = std::find_if(trash_.begin(), trash_.end(), [&](const TrashDest& td) {
    return td.svc_id == e->id && td.cfg.ep == n->ep;
  });
  std::optional<TrashDest> revived;
  uint32_t id;
  if (t != trash_.end()) {
    revived = *t;
    id = t->id;
    trash_.erase(t);
  } else {
    auto fresh = takeDestId();
    if (!fresh)
      return makeError("Too many real servers: the limit is {} ({} deleted ones still carry "
                       "connections)",
                       dest_ids_.limit(), trash_.size());
    id = *fresh;
  }
  // At the head, as IPVS's list_add_rcu() puts it: the newest real server is listed first
  // and comes first for rr and for every scheduler's tie-break.
  e->dests.insert(e->dests.begin(), DestEntry{id, *n, n->weight});
  if (Status st = rebuild(*e); !st) {
    e->dests.erase(e->dests.begin());
    if (revived)
      trash_.push_back(*revived);
    else
      dest_ids_.give(id);
    return st;
  }
  if (!revived && stats_) stats_->resetDest(id);
  changed();
  return {};
}

Status ServiceTable::editDest(const ServiceKey& key, const DestConfig& dest) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("Service not defined");
  auto n = normaliseDest(e->cfg, dest);
  if (!n) return n.error();
  auto it = std::find_if(e->dests.begin(), e->dests.end(),
                         [&](const DestEntry& d) { return d.cfg.ep == n->ep; });
  if (it == e->dests.end()) return makeError("No such destination");
  const DestEntry old = *it;
  it->cfg = *n;
  // Weight 0 quiesces: the last non-zero weight stays (__ip_vs_update_dest).
  if (n->weight != 0) it->last_weight = n->weight;
  if (Status st = rebuild(*e); !st) {
    *it = old;
    return st;
  }
  changed();
  return {};
}

Status ServiceTable::delDest(const ServiceKey& key, const net::Endpoint& rs) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("Service not defined");
  net::Endpoint ep = rs;
  if (e->cfg.key.fwmark == 0 && ep.port == 0) ep.port = e->cfg.key.port;
  auto it = std::find_if(e->dests.begin(), e->dests.end(),
                         [&](const DestEntry& d) { return d.cfg.ep == ep; });
  if (it == e->dests.end()) return makeError("No such destination");
  DestEntry gone = *it;
  size_t pos = size_t(it - e->dests.begin());
  e->dests.erase(it);
  if (Status st = rebuild(*e); !st) {
    e->dests.insert(e->dests.begin() + std::ptrdiff_t(pos), gone);
    return st;
  }
  trash_.push_back(TrashDest{gone.id, e->id, gone.cfg, std::nullopt});
  changed();
  return {};
}

// ---- local addresses ---------------------------------------------------------------------

Status ServiceTable::addLaddr(const ServiceKey& key, const LocalAddress& laddr) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("Service not defined");
  if (Status st = checkLaddr(e->cfg, e->laddrs, laddr); !st) return st;
  e->laddrs.push_back(laddr);
  if (Status st = rebuild(*e); !st) {
    e->laddrs.pop_back();
    return st;
  }
  changed();
  return {};
}

Status ServiceTable::delLaddr(const ServiceKey& key, const LocalAddress& laddr) {
  std::lock_guard lock(mu_);
  ServiceEntry* e = find(key);
  if (!e) return makeError("Service not defined");
  auto it = std::find_if(e->laddrs.begin(), e->laddrs.end(),
                         [&](const LocalAddress& l) { return l.addr == laddr.addr; });
  if (it == e->laddrs.end()) return makeError("No such local address");
  if (!laddr.ifname.empty() && it->ifname != laddr.ifname)
    return makeError("No such local address: {} is on {}, not {}", it->addr.str(),
                     it->ifname.empty() ? std::string("no interface") : it->ifname, laddr.ifname);
  const LocalAddress gone = *it;
  const auto pos = it - e->laddrs.begin();
  e->laddrs.erase(it);
  if (Status st = rebuild(*e); !st) {
    e->laddrs.insert(e->laddrs.begin() + pos, gone);
    return st;
  }
  changed();
  return {};
}

// ---- trash ------------------------------------------------------------------------------

size_t ServiceTable::purgeLocked() {
  const Nanos now = clock_.now();
  size_t released = 0;
  for (auto it = trash_.begin(); it != trash_.end();) {
    if (!destIdle(it->id)) {
      it->idle_since.reset();  // the grace period restarts when it next goes idle
      ++it;
      continue;
    }
    if (!it->idle_since) it->idle_since = now;
    if (now - *it->idle_since >= limits_.trash_grace) {
      dest_ids_.give(it->id);
      it = trash_.erase(it);
      ++released;
    } else {
      ++it;
    }
  }
  bool services_freed = false;
  for (auto it = dead_services_.begin(); it != dead_services_.end();) {
    uint32_t id = it->second;
    if (std::none_of(trash_.begin(), trash_.end(), [id](const TrashDest& t) { return t.svc_id == id; })) {
      svc_ids_.give(id);
      it = dead_services_.erase(it);
      services_freed = true;
    } else {
      ++it;
    }
  }
  if (released > 0 || services_freed) changed();
  return released;
}

size_t ServiceTable::purgeTrash() {
  std::lock_guard lock(mu_);
  return purgeLocked();
}

// ---- batches and reading ------------------------------------------------------------------

ServiceTable::Batch::Batch(ServiceTable& t) : t_(t) {
  std::lock_guard lock(t_.mu_);
  ++t_.batch_depth_;
}

ServiceTable::Batch::~Batch() {
  std::lock_guard lock(t_.mu_);
  if (--t_.batch_depth_ == 0 && t_.dirty_) t_.publishLocked();
}

std::vector<ServiceState> ServiceTable::list() const {
  std::lock_guard lock(mu_);
  std::vector<ServiceState> out;
  out.reserve(services_.size());
  for (const auto& e : services_) out.push_back(stateOf(*e));
  return out;
}

Result<ServiceState> ServiceTable::get(const ServiceKey& key) const {
  std::lock_guard lock(mu_);
  const ServiceEntry* e = find(key);
  if (!e) return makeError("No such service");
  return stateOf(*e);
}

size_t ServiceTable::serviceCount() const {
  std::lock_guard lock(mu_);
  return services_.size();
}

size_t ServiceTable::trashCount() const {
  std::lock_guard lock(mu_);
  return trash_.size();
}

}  // namespace sluice::svc
