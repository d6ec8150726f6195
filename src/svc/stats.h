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
#include "dp/stats_writer.h"

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

  // A worker's handle (dp/stats_writer.h). Only that worker may use it; cheap to copy.
  using Writer = dp::StatsWriter;
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
