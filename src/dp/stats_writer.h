// One data-plane worker's handle on the traffic statistics (svc/stats.h owns the arrays and
// their readers): the packet step adds through it with plain single-writer stores, so it
// needs nothing of the control plane's statistics machinery (rates, zeroing, locks).
#pragma once

#include <atomic>
#include <cstdint>

#include "abi/records.h"

namespace sluice::svc {
class Stats;
}

namespace sluice::dp {

class StatsWriter {
 public:
  StatsWriter() = default;
  void conn(uint32_t svc_id, uint32_t dest_id) noexcept {
    bump(svc_id, dest_id, &sl_stats::conns, 1);
  }
  void inPacket(uint32_t svc_id, uint32_t dest_id, uint64_t bytes) noexcept {
    bump(svc_id, dest_id, &sl_stats::inpkts, 1);
    bump(svc_id, dest_id, &sl_stats::inbytes, bytes);
  }
  void outPacket(uint32_t svc_id, uint32_t dest_id, uint64_t bytes) noexcept {
    bump(svc_id, dest_id, &sl_stats::outpkts, 1);
    bump(svc_id, dest_id, &sl_stats::outbytes, bytes);
  }
  // A batch of counts at once (e.g. deltas folded in from another source).
  void add(uint32_t svc_id, uint32_t dest_id, const sl_stats& d) noexcept {
    bump(svc_id, dest_id, &sl_stats::conns, d.conns);
    bump(svc_id, dest_id, &sl_stats::inpkts, d.inpkts);
    bump(svc_id, dest_id, &sl_stats::outpkts, d.outpkts);
    bump(svc_id, dest_id, &sl_stats::inbytes, d.inbytes);
    bump(svc_id, dest_id, &sl_stats::outbytes, d.outbytes);
  }

 private:
  friend class svc::Stats;
  StatsWriter(sl_stats* svc, uint32_t nsvc, sl_stats* dest, uint32_t ndest, sl_stats* total)
      : svc_(svc), dest_(dest), total_(total), nsvc_(nsvc), ndest_(ndest) {}
  static void addTo(sl_stats& s, uint64_t sl_stats::*field, uint64_t n) noexcept {
    // Single writer: load + store, no locked instruction; atomic_ref so readers on
    // other threads see whole values.
    std::atomic_ref<uint64_t> r(s.*field);
    r.store(r.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void bump(uint32_t svc_id, uint32_t dest_id, uint64_t sl_stats::*field, uint64_t n) noexcept {
    if (!total_) return;
    addTo(*total_, field, n);
    if (svc_id < nsvc_) addTo(svc_[svc_id], field, n);
    if (dest_id < ndest_) addTo(dest_[dest_id], field, n);
  }
  sl_stats* svc_ = nullptr;
  sl_stats* dest_ = nullptr;
  sl_stats* total_ = nullptr;
  uint32_t nsvc_ = 0;
  uint32_t ndest_ = 0;
};

}  // namespace sluice::dp
