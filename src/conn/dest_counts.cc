// Counting rules from ip_vs_conn.c / ip_vs_proto_tcp.c; see dest_counts.h. Relaxed atomics:
// the counts steer scheduling decisions and feed displays, nothing synchronises on them.
#include "conn/dest_counts.h"

#include <atomic>

namespace sluice::conn {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

uint32_t load(uint32_t& v) noexcept { return std::atomic_ref<uint32_t>(v).load(kRelaxed); }
void store(uint32_t& v, uint32_t x) noexcept { std::atomic_ref<uint32_t>(v).store(x, kRelaxed); }
void inc(uint32_t& v) noexcept { std::atomic_ref<uint32_t>(v).fetch_add(1, kRelaxed); }

// Never wraps below zero, so a bookkeeping slip cannot show up as 4 billion connections.
void dec(uint32_t& v) noexcept {
  std::atomic_ref<uint32_t> a(v);
  uint32_t cur = a.load(kRelaxed);
  while (cur != 0 && !a.compare_exchange_weak(cur, cur - 1, kRelaxed)) {
  }
}

uint32_t total(sl_dest_counts& d) noexcept { return load(d.active) + load(d.inactive); }

}  // namespace

DestLimits DestAccounting::limits(uint32_t id) const noexcept {
  if (id >= limits_.size()) return {};
  DestLimits& l = limits_[id];
  return {load(l.u_threshold), load(l.l_threshold)};
}

void DestAccounting::setLimits(uint32_t id, DestLimits l) noexcept {
  if (id >= limits_.size()) return;
  DestLimits old = limits(id);
  store(limits_[id].u_threshold, l.u_threshold);
  store(limits_[id].l_threshold, l.l_threshold);
  if (sl_dest_counts* d = at(id); d && (l.u_threshold == 0 || l.u_threshold > old.u_threshold))
    store(d->overloaded, 0);
}

void DestAccounting::bind(const sl_conn& c) noexcept {
  sl_dest_counts* d = at(c.dest_id);
  if (!d) return;
  if (c.flags & SL_CONN_F_TEMPLATE)
    inc(d->persist);
  else if (c.flags & SL_CONN_F_INACTIVE)
    inc(d->inactive);
  else
    inc(d->active);
  DestLimits l = limits(c.dest_id);
  if (l.u_threshold != 0 && total(*d) >= l.u_threshold) store(d->overloaded, 1);
}

void DestAccounting::unbind(const sl_conn& c) noexcept {
  sl_dest_counts* d = at(c.dest_id);
  if (!d) return;
  if (c.flags & SL_CONN_F_TEMPLATE)
    dec(d->persist);
  else if (c.flags & SL_CONN_F_INACTIVE)
    dec(d->inactive);
  else
    dec(d->active);
  DestLimits l = limits(c.dest_id);
  uint32_t n = total(*d);
  bool clear;
  if (l.l_threshold != 0)
    clear = n < l.l_threshold;
  else if (l.u_threshold != 0)
    clear = uint64_t(n) * 4 < uint64_t(l.u_threshold) * 3;
  else
    clear = true;
  if (clear) store(d->overloaded, 0);
}

void DestAccounting::noteActivity(sl_conn& c, bool active) noexcept {
  if (c.flags & SL_CONN_F_TEMPLATE) return;
  bool was_active = !(c.flags & SL_CONN_F_INACTIVE);
  if (was_active == active) return;
  sl_dest_counts* d = at(c.dest_id);
  if (active) {
    c.flags &= ~SL_CONN_F_INACTIVE;
    if (d) {
      inc(d->active);
      dec(d->inactive);
    }
  } else {
    c.flags |= SL_CONN_F_INACTIVE;
    if (d) {
      dec(d->active);
      inc(d->inactive);
    }
  }
}

sl_dest_counts DestAccounting::read(uint32_t id) const noexcept {
  sl_dest_counts* d = at(id);
  if (!d) return {};
  return {load(d->active), load(d->inactive), load(d->persist), load(d->overloaded)};
}

bool DestAccounting::overloaded(uint32_t id) const noexcept {
  sl_dest_counts* d = at(id);
  return d && load(d->overloaded) != 0;
}

}  // namespace sluice::conn
