#include "svc/snapshot.h"

#include <algorithm>
#include <utility>

namespace sluice::svc {
namespace {

bool sameSchedView(std::span<const sched::SchedDest> a, std::span<const sched::SchedDest> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].dest_id != b[i].dest_id || a[i].ep != b[i].ep || a[i].weight != b[i].weight ||
        a[i].last_weight != b[i].last_weight || a[i].counts != b[i].counts)
      return false;
  }
  return true;
}

uint64_t markKey(net::Family f, uint32_t mark) { return (uint64_t(f) << 32) | mark; }

}  // namespace

Result<std::shared_ptr<const ServiceRt>> makeServiceRt(uint32_t svc_id, const ServiceConfig& cfg,
                                                      std::vector<DestRt> dests,
                                                      const ServiceRt* previous,
                                                      std::vector<LocalAddress> laddrs) {
  auto rt = std::make_shared<ServiceRt>();
  rt->svc_id = svc_id;
  rt->cfg = cfg;
  rt->laddrs = std::move(laddrs);
  rt->dests.reserve(dests.size());
  for (const DestRt& d : dests) {
    sched::SchedDest sd;
    sd.dest_id = d.dest_id;
    sd.ep = d.cfg.ep;
    sd.weight = d.cfg.weight;
    sd.last_weight = d.last_weight;
    sd.counts = d.counts;
    rt->dests.push_back(sd);
  }
  rt->dest_rt = std::move(dests);
  if (previous && previous->scheduler && previous->cfg.scheduler == cfg.scheduler &&
      previous->cfg.sched_flags == cfg.sched_flags && sameSchedView(previous->dests, rt->dests)) {
    rt->scheduler = previous->scheduler;
  } else {
    sched::SchedParams params;
    params.flags = cfg.sched_flags;
    auto s = sched::makeScheduler(cfg.scheduler, rt->dests, params);
    if (!s) return s.error();
    if (previous && previous->scheduler && previous->cfg.scheduler == cfg.scheduler)
      (*s)->inheritFrom(*previous->scheduler, previous->dests, rt->dests);
    rt->scheduler = std::shared_ptr<sched::Scheduler>(std::move(*s));
  }
  return std::shared_ptr<const ServiceRt>(std::move(rt));
}

size_t Snapshot::VsKeyHash::operator()(const VsKey& k) const noexcept {
  return net::IpAddrHash{}(k.addr) ^ (size_t(k.port) << 8) ^ (size_t(k.proto) << 40);
}

Snapshot::Snapshot(uint64_t version, std::vector<std::shared_ptr<const ServiceRt>> services,
                   std::vector<DestRt> trash)
    : version_(version), services_(std::move(services)), trash_(std::move(trash)) {
  auto place = [](auto& vec, uint32_t id, auto* p) {
    if (vec.size() <= id) vec.resize(size_t(id) + 1, nullptr);
    vec[id] = p;
  };
  for (const auto& s : services_) {
    const ServiceKey& k = s->cfg.key;
    if (k.fwmark != 0) {
      by_mark_[markKey(k.fwmark_family, k.fwmark)] = s.get();
    } else {
      by_key_[VsKey{k.addr, k.port, uint8_t(k.proto)}] = s.get();
      ++vips_[k.addr];
    }
    place(by_svc_id_, s->svc_id, s.get());
    for (const DestRt& d : s->dest_rt) place(by_dest_id_, d.dest_id, &d);
  }
  for (const DestRt& d : trash_) place(by_dest_id_, d.dest_id, &d);

  // The packet step's view. Reserved whole first: the views hold spans into fwd_ and laddrs_.
  size_t ndests = 0, nladdrs = 0;
  for (const auto& s : services_) {
    ndests += s->dest_rt.size();
    nladdrs += s->laddrs.size();
  }
  fwd_.reserve(ndests);
  laddrs_.reserve(nladdrs);
  views_.reserve(services_.size());
  for (const auto& s : services_) {
    dp::ServiceView v;
    v.svc_id = s->svc_id;
    v.persistent = s->cfg.persistent;
    v.any_port = s->cfg.key.port == 0;
    v.one_packet = s->cfg.one_packet;
    v.persistence_prefix = s->cfg.persistence_prefix;
    v.persistence_timeout = s->cfg.persistence_timeout;
    v.scheduler = s->scheduler.get();
    v.dests = s->dests;
    const size_t first = fwd_.size();
    for (const DestRt& d : s->dest_rt) fwd_.push_back(uint8_t(d.cfg.fwd));
    v.fwd = std::span<const uint8_t>(fwd_.data() + first, s->dest_rt.size());
    const size_t first_laddr = laddrs_.size();
    for (const LocalAddress& l : s->laddrs) laddrs_.push_back(l.addr);
    v.laddrs = std::span<const net::IpAddr>(laddrs_.data() + first_laddr, s->laddrs.size());
    v.client_addr = uint8_t(s->cfg.client_addr);
    views_.push_back(v);
  }
  view_by_svc_id_.assign(by_svc_id_.size(), nullptr);
  for (const dp::ServiceView& v : views_) view_by_svc_id_[v.svc_id] = &v;
  dest_views_.resize(by_dest_id_.size());
  for (size_t id = 0; id < by_dest_id_.size(); ++id)
    if (const DestRt* d = by_dest_id_[id])
      dest_views_[id] = dp::DestView{d->dest_id, d->svc_id, d->trashed};
}

const dp::ServiceView* Snapshot::serviceView(uint8_t proto, const net::IpAddr& vip,
                                             uint16_t vport) const noexcept {
  const ServiceRt* s = findService(proto, vip, vport);
  return s && s->svc_id < view_by_svc_id_.size() ? view_by_svc_id_[s->svc_id] : nullptr;
}

const dp::DestView* Snapshot::destView(uint32_t dest_id) const noexcept {
  return dest_id < by_dest_id_.size() && by_dest_id_[dest_id] ? &dest_views_[dest_id] : nullptr;
}

const ServiceRt* Snapshot::findService(uint8_t proto, const net::IpAddr& vip,
                                       uint16_t vport) const noexcept {
  if (by_key_.empty()) return nullptr;
  auto it = by_key_.find(VsKey{vip, vport, proto});
  if (it != by_key_.end()) return it->second;
  if (vport == 0) return nullptr;
  it = by_key_.find(VsKey{vip, 0, proto});
  return it != by_key_.end() ? it->second : nullptr;
}

const ServiceRt* Snapshot::findFwmark(net::Family family, uint32_t mark) const noexcept {
  if (mark == 0 || by_mark_.empty()) return nullptr;
  auto it = by_mark_.find(markKey(family, mark));
  return it != by_mark_.end() ? it->second : nullptr;
}

const ServiceRt* Snapshot::lookup(uint32_t mark, uint8_t proto, const net::IpAddr& vip,
                                  uint16_t vport) const noexcept {
  if (const ServiceRt* s = findFwmark(vip.family, mark)) return s;
  return findService(proto, vip, vport);
}

bool Snapshot::isVip(const net::IpAddr& addr) const noexcept {
  return vips_.find(addr) != vips_.end();
}

const ServiceRt* Snapshot::findServiceById(uint32_t svc_id) const noexcept {
  return svc_id < by_svc_id_.size() ? by_svc_id_[svc_id] : nullptr;
}

const DestRt* Snapshot::findDest(uint32_t dest_id) const noexcept {
  return dest_id < by_dest_id_.size() ? by_dest_id_[dest_id] : nullptr;
}

SnapshotPublisher::SnapshotPublisher() : current_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Snapshot> SnapshotPublisher::current() const noexcept {
  std::lock_guard lock(mu_);
  return current_;
}

void SnapshotPublisher::publish(std::shared_ptr<const Snapshot> s) {
  const uint64_t v = s->version();
  std::shared_ptr<const Snapshot> old;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(current_, std::move(s));
  }
  // After the pointer: a reader that sees the new version finds at least this snapshot.
  version_.store(v, std::memory_order_release);
  // `old` is released here, outside the lock (often the last reference: a free).
}

}  // namespace sluice::svc
