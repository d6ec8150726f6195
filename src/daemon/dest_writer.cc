#include "daemon/dest_writer.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sluice::daemon {

DestWriter::DestWriter(const Clock& clock, NextHopSource& next_hops, dp::DestTable& table,
                       uint32_t max_dests)
    : clock_(clock),
      next_hops_(next_hops),
      table_(table),
      max_dests_(max_dests),
      wanted_(new std::atomic<uint8_t>[max_dests]) {
  for (uint32_t i = 0; i < max_dests_; ++i) wanted_[i].store(0);
}

void DestWriter::want(uint32_t dest_id) noexcept {
  if (dest_id >= max_dests_) return;
  wanted_[dest_id].store(1, std::memory_order_relaxed);
  any_wanted_.store(true, std::memory_order_release);
}

void DestWriter::refresh(const svc::Snapshot& snap) {
  std::lock_guard lock(mu_);
  seen_version_ = next_hops_.version();
  seen_snapshot_ = snap.version();
  last_refresh_ = clock_.now();
  std::vector<bool> live(max_dests_, false);
  auto write = [&](const svc::DestRt& d, const svc::ServiceKey* vs) {
    if (d.dest_id >= max_dests_) return;
    live[d.dest_id] = true;
    const bool available = !d.trashed;
    sl_dest e = dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), nullptr, nullptr, 0, available);
    if (auto nh = next_hops_.resolve(d.cfg.ep.addr); nh && nh->local) {
      // Resolved at every refresh, so an address added to or removed from this host later
      // changes the record within kRefreshEvery.
      e.flags |= SL_DEST_F_LOCAL;
    } else if (nh) {
      e = dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), &nh->smac, &nh->dmac, nh->ifindex,
                             available);
      // The tunnel's outer header is built from the record (abi/tun.h), per packet.
      if (d.cfg.fwd == svc::FwdMethod::kTun)
        dp::setTunnel(e, d.cfg.tun_type, d.cfg.tun_port, d.cfg.tun_flags, nh->src,
                      uint16_t(std::min<uint32_t>(nh->mtu, 0xffff)));
    } else {
      next_hops_.request(d.cfg.ep.addr);
    }
    std::optional<sl_dest> old = table_.read(d.dest_id);
    // The service's address: NAT replies get it as their source, and the reply twins
    // of the dest's connections lead back through it. A deleted dest keeps its service's.
    if (vs) {
      dp::setServiceOf(e, vs->addr, vs->port);
    } else if (old) {
      std::memcpy(e.vaddr, old->vaddr, sizeof e.vaddr);
      e.vport = old->vport;
    }
    if (!old || std::memcmp(&*old, &e, sizeof e) != 0) table_.write(d.dest_id, e);
    wanted_[d.dest_id].store(0, std::memory_order_relaxed);
  };
  for (const auto& svc : snap.services())
    for (const auto& d : svc->dest_rt) write(d, &svc->cfg.key);
  for (const auto& d : snap.trash()) write(d, nullptr);
  for (uint32_t id = 0; id < max_dests_; ++id)
    if (!live[id] && table_.read(id)) table_.clear(id);
}

void DestWriter::maybeRefresh(const svc::Snapshot& snap) {
  const bool wanted = any_wanted_.exchange(false, std::memory_order_acquire);
  bool stale;
  {
    std::lock_guard lock(mu_);
    stale = wanted || next_hops_.version() != seen_version_ || snap.version() != seen_snapshot_ ||
            clock_.now() - last_refresh_ > kRefreshEvery;
  }
  if (stale) refresh(snap);
}

}  // namespace sluice::daemon
