// Traffic statistics per virtual service, per real server and in total, as ipvsadm --stats
// and --rate report them.
//
// Each data-plane worker owns one set of arrays (indexed by svc_id / dest_id) and adds to
// it without atomic read-modify-write: a single writer per array, relaxed stores, so the
// hot path costs a plain add. Readers sum the writers' arrays. Zeroing (ipvsadm -Z) never
// writes into the workers' arrays (that would race with their adds): it records the
// current sums as a base that later reads subtract, as IPVS does with its ustats0.
//
// Rates follow Linux ip_vs_est.c: every 2 s the delta since the previous sample becomes an
// EWMA (avg += (sample - avg) / 4) kept in fixed point (packets and connections scaled by
// 2^10 per second, bytes by 2^5), so --rate prints the same numbers IPVS would.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/clock.h"
#include "abi/records.h"

namespace sluice::svc {

// Per-second rates (ipvsadm --rate); bytes per second for the *bps fields, like IPVS.
struct Rates {
  uint64_t cps = 0;
  uint64_t inpps = 0;
  uint64_t outpps = 0;
  uint64_t inbps = 0;
  uint64_t outbps = 0;
  friend bool operator==(const Rates&, const Rates&) = default;
};

class Stats {
  struct Slot;

 public:
  static constexpr Nanos kEstimatePeriod = 2 * kSecond;

  // `writers`: one per data-plane worker (plus any other source, e.g. one that folds in
  // the XDP program's per-CPU counters). Ids at or above the maxima are ignored.
  Stats(const Clock& clock, unsigned writers, uint32_t max_services, uint32_t max_dests);
  ~Stats();
  Stats(const Stats&) = delete;
  Stats& operator=(const Stats&) = delete;

  // A worker's handle. Only that worker may use it; cheap to copy.
  class Writer {
   public:
    Writer() = default;
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
    friend class Stats;
    Writer(sl_stats* svc, uint32_t nsvc, sl_stats* dest, uint32_t ndest, sl_stats* total)
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
  Writer writer(unsigned index) noexcept;
  unsigned writers() const noexcept { return unsigned(slots_.size()); }

  // Counters since the id was last zeroed/reset (summed over writers).
  sl_stats service(uint32_t svc_id) const;
  sl_stats dest(uint32_t dest_id) const;
  sl_stats total() const;  // every packet counted, whatever service (ip_vs_stats totals)

  Rates serviceRate(uint32_t svc_id) const;
  Rates destRate(uint32_t dest_id) const;
  Rates totalRate() const;

  // ipvsadm -Z SVC: the service and the dests listed (its real servers).
  void zeroService(uint32_t svc_id, std::span<const uint32_t> dest_ids);
  // ipvsadm -Z: everything, totals included.
  void zeroAll();
  // An id handed to a new owner: its counters and rates start from zero. Only ids that
  // have been reset at least once are estimated (the ServiceTable resets every id it
  // hands out), so the estimator never walks the unused tail of the arrays.
  void resetService(uint32_t svc_id);
  void resetDest(uint32_t dest_id);

  // Takes the 2-second samples that are due. Call it at least every couple of seconds
  // (from the control plane's timer); a late call catches up by one step per missed
  // period, spreading the delta evenly over them.
  void estimate();

 private:
  struct Est {
    sl_stats last{};  // raw sums at the previous sample
    int64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
  };
  enum class Kind { kSvc, kDest, kTotal };

  sl_stats rawSum(Kind k, uint32_t id) const;
  void zeroLocked(Kind k, uint32_t id);
  void sampleLocked(Kind k, uint32_t id, uint64_t periods);
  static Rates readEst(const Est& e);

  const Clock& clock_;
  uint32_t max_services_;
  uint32_t max_dests_;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex mu_;  // guards everything below (control plane only)
  std::vector<sl_stats> svc_base_, dest_base_;
  sl_stats total_base_{};
  std::vector<Est> svc_est_, dest_est_;
  Est total_est_;
  uint32_t svc_hwm_ = 0, dest_hwm_ = 0;  // ids below these are estimated
  Nanos last_sample_;
};

}  // namespace sluice::svc
