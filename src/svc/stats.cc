#include "svc/stats.h"

#include <algorithm>

namespace sluice::svc {

// One writer's arrays, allocated apart so that two workers never share a cache line.
struct Stats::Slot {
  std::unique_ptr<sl_stats[]> svc;
  std::unique_ptr<sl_stats[]> dest;
  alignas(64) sl_stats total{};
};

namespace {

uint64_t load(const uint64_t& v) {
  return std::atomic_ref<const uint64_t>(v).load(std::memory_order_relaxed);
}

void accumulate(sl_stats& sum, const sl_stats& s) {
  sum.conns += load(s.conns);
  sum.inpkts += load(s.inpkts);
  sum.outpkts += load(s.outpkts);
  sum.inbytes += load(s.inbytes);
  sum.outbytes += load(s.outbytes);
}

sl_stats minus(const sl_stats& a, const sl_stats& b) {
  return sl_stats{a.conns - b.conns, a.inpkts - b.inpkts, a.outpkts - b.outpkts,
                  a.inbytes - b.inbytes, a.outbytes - b.outbytes};
}

// One EWMA step: avg += (sample - avg) / 4, with an arithmetic shift as in ip_vs_est.c.
void ewma(int64_t& avg, int64_t sample) { avg += (sample - avg) >> 2; }

}  // namespace

Stats::Stats(const Clock& clock, unsigned writers, uint32_t max_services, uint32_t max_dests)
    : clock_(clock),
      max_services_(max_services),
      max_dests_(max_dests),
      svc_base_(max_services),
      dest_base_(max_dests),
      svc_est_(max_services),
      dest_est_(max_dests),
      last_sample_(clock.now()) {
  slots_.reserve(writers);
  for (unsigned i = 0; i < writers; ++i) {
    auto s = std::make_unique<Slot>();
    s->svc = std::make_unique<sl_stats[]>(max_services);
    s->dest = std::make_unique<sl_stats[]>(max_dests);
    slots_.push_back(std::move(s));
  }
}

Stats::~Stats() = default;

Stats::Writer Stats::writer(unsigned index) noexcept {
  if (index >= slots_.size()) return Writer{};
  Slot& s = *slots_[index];
  return Writer(s.svc.get(), max_services_, s.dest.get(), max_dests_, &s.total);
}

sl_stats Stats::rawSum(Kind k, uint32_t id) const {
  sl_stats sum{};
  for (const auto& s : slots_) {
    switch (k) {
      case Kind::kSvc: accumulate(sum, s->svc[id]); break;
      case Kind::kDest: accumulate(sum, s->dest[id]); break;
      case Kind::kTotal: accumulate(sum, s->total); break;
    }
  }
  return sum;
}

sl_stats Stats::service(uint32_t svc_id) const {
  if (svc_id >= max_services_) return {};
  std::lock_guard lock(mu_);
  return minus(rawSum(Kind::kSvc, svc_id), svc_base_[svc_id]);
}

sl_stats Stats::dest(uint32_t dest_id) const {
  if (dest_id >= max_dests_) return {};
  std::lock_guard lock(mu_);
  return minus(rawSum(Kind::kDest, dest_id), dest_base_[dest_id]);
}

sl_stats Stats::total() const {
  std::lock_guard lock(mu_);
  return minus(rawSum(Kind::kTotal, 0), total_base_);
}

Rates Stats::readEst(const Est& e) {
  // Back from fixed point, rounding to nearest as ip_vs_read_estimator does.
  Rates r;
  r.cps = uint64_t(e.cps + 0x1FF) >> 10;
  r.inpps = uint64_t(e.inpps + 0x1FF) >> 10;
  r.outpps = uint64_t(e.outpps + 0x1FF) >> 10;
  r.inbps = uint64_t(e.inbps + 0xF) >> 5;
  r.outbps = uint64_t(e.outbps + 0xF) >> 5;
  return r;
}

Rates Stats::serviceRate(uint32_t svc_id) const {
  if (svc_id >= max_services_) return {};
  std::lock_guard lock(mu_);
  return readEst(svc_est_[svc_id]);
}

Rates Stats::destRate(uint32_t dest_id) const {
  if (dest_id >= max_dests_) return {};
  std::lock_guard lock(mu_);
  return readEst(dest_est_[dest_id]);
}

Rates Stats::totalRate() const {
  std::lock_guard lock(mu_);
  return readEst(total_est_);
}

void Stats::zeroLocked(Kind k, uint32_t id) {
  sl_stats raw = rawSum(k, id);
  Est fresh;
  fresh.last = raw;  // the next sample measures from here
  switch (k) {
    case Kind::kSvc: svc_base_[id] = raw; svc_est_[id] = fresh; break;
    case Kind::kDest: dest_base_[id] = raw; dest_est_[id] = fresh; break;
    case Kind::kTotal: total_base_ = raw; total_est_ = fresh; break;
  }
}

void Stats::zeroService(uint32_t svc_id, std::span<const uint32_t> dest_ids) {
  std::lock_guard lock(mu_);
  if (svc_id < max_services_) zeroLocked(Kind::kSvc, svc_id);
  for (uint32_t d : dest_ids)
    if (d < max_dests_) zeroLocked(Kind::kDest, d);
}

void Stats::zeroAll() {
  std::lock_guard lock(mu_);
  for (uint32_t i = 0; i < svc_hwm_; ++i) zeroLocked(Kind::kSvc, i);
  for (uint32_t i = 0; i < dest_hwm_; ++i) zeroLocked(Kind::kDest, i);
  zeroLocked(Kind::kTotal, 0);
}

void Stats::resetService(uint32_t svc_id) {
  if (svc_id >= max_services_) return;
  std::lock_guard lock(mu_);
  zeroLocked(Kind::kSvc, svc_id);
  svc_hwm_ = std::max(svc_hwm_, svc_id + 1);
}

void Stats::resetDest(uint32_t dest_id) {
  if (dest_id >= max_dests_) return;
  std::lock_guard lock(mu_);
  zeroLocked(Kind::kDest, dest_id);
  dest_hwm_ = std::max(dest_hwm_, dest_id + 1);
}

void Stats::sampleLocked(Kind k, uint32_t id, uint64_t periods) {
  Est& e = k == Kind::kSvc ? svc_est_[id] : k == Kind::kDest ? dest_est_[id] : total_est_;
  sl_stats now = rawSum(k, id);
  sl_stats d = minus(now, e.last);
  e.last = now;
  // Per 2 s period: packets << 9 (= per second scaled by 2^10), bytes << 4 (2^5).
  auto step = [periods](uint64_t delta, int shift) { return int64_t((delta << shift) / periods); };
  int64_t cps = step(d.conns, 9), inpps = step(d.inpkts, 9), outpps = step(d.outpkts, 9);
  int64_t inbps = step(d.inbytes, 4), outbps = step(d.outbytes, 4);
  // After a long stall, more than a few dozen steps only decay towards the same value.
  const uint64_t steps = std::min<uint64_t>(periods, 64);
  for (uint64_t i = 0; i < steps; ++i) {
    ewma(e.cps, cps);
    ewma(e.inpps, inpps);
    ewma(e.outpps, outpps);
    ewma(e.inbps, inbps);
    ewma(e.outbps, outbps);
  }
}

void Stats::estimate() {
  Nanos now = clock_.now();
  std::lock_guard lock(mu_);
  if (now < last_sample_ + kEstimatePeriod) return;
  uint64_t periods = (now - last_sample_) / kEstimatePeriod;
  last_sample_ += periods * kEstimatePeriod;
  for (uint32_t i = 0; i < svc_hwm_; ++i) sampleLocked(Kind::kSvc, i, periods);
  for (uint32_t i = 0; i < dest_hwm_; ++i) sampleLocked(Kind::kDest, i, periods);
  sampleLocked(Kind::kTotal, 0, periods);
}

}  // namespace sluice::svc
