// wrr: weighted round robin, IPVS's stepping algorithm (ip_vs_wrr.c). With di the gcd of
// the weights and mw the largest weight less (di - 1), passes run over the list with a
// current weight cw = mw, mw - di, ..., down to 1, and a pass picks every server whose
// weight is >= cw. A 3:1 pair thus yields A A A B: each server gets exactly its share per
// cycle, the heavy ones first. Unlike smooth WRR (nginx) it bunches picks, but it is what
// LVS operators know and what their capacity plans assume.
//
// Weights are fixed for the instance's life (a new one is built when they change), so mw
// and di are computed once. The cursor and cw are packed in one relaxed atomic word so a
// shared instance has no data race; concurrent callers may repeat a step.
//
// When servers or weights change, IPVS (ip_vs_wrr_dest_changed) recomputes mw and di,
// puts the cursor back at the head of the list, and keeps the current weight cw: reset to
// the new mw only when it is above it (or 0), else moved onto the new di grid
// ((cw / di) * di + 1). inheritFrom() does the same, so a health checker flapping one
// server's weight does not hand the heaviest servers a fresh burst every time.
#include <algorithm>
#include <atomic>
#include <numeric>

#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

class WrrScheduler final : public Scheduler {
 public:
  explicit WrrScheduler(std::span<const SchedDest> dests) {
    int32_t g = 0;
    int32_t max_w = 0;
    for (const SchedDest& d : dests) {
      if (d.weight > 0) g = g > 0 ? std::gcd(g, d.weight) : d.weight;
      max_w = std::max(max_w, d.weight);
    }
    di_ = g > 0 ? g : 1;
    // Lowered by di - 1 so that the last pass runs with cw == 1 (see ip_vs_wrr.c).
    mw_ = max_w - (di_ - 1);
    state_.store(pack(kHead, mw_), std::memory_order_relaxed);
  }

  std::string_view name() const noexcept override { return "wrr"; }

  void inheritFrom(const Scheduler& previous, std::span<const SchedDest>,
                   std::span<const SchedDest>) noexcept override {
    const auto* prev = dynamic_cast<const WrrScheduler*>(&previous);
    if (!prev) return;
    int32_t cw = cwOf(prev->state_.load(std::memory_order_relaxed));
    if (cw > mw_ || cw <= 0)
      cw = mw_;
    else if (di_ > 1)
      cw = (cw / di_) * di_ + 1;
    state_.store(pack(kHead, cw), std::memory_order_relaxed);
  }

  int schedule(std::span<const SchedDest> dests, const SchedInput&) noexcept override {
    const int n = static_cast<int>(dests.size());
    if (mw_ <= 0 || n == 0) return -1;
    const uint64_t st = state_.load(std::memory_order_relaxed);
    int last = cursorOf(st);
    if (last >= n) last = kHead;
    int32_t cw = cwOf(st);
    if (cw <= 0 || cw > mw_) cw = mw_;

    int stop = kNoStop;
    bool last_pass = false;
    bool restarted = false;
    int i = last;
    for (;;) {
      for (++i; i < n; ++i) {
        if (!dests[i].overloaded() && dests[i].weight >= cw) {
          state_.store(pack(i, cw), std::memory_order_relaxed);
          return i;
        }
        if (i == stop) {  // every server was tried with cw == 1: all overloaded
          state_.store(pack(i, cw), std::memory_order_relaxed);
          return -1;
        }
      }
      i = kHead;
      cw -= di_;
      if (cw <= 0) {
        cw = mw_;
        // Give up once a full pass with cw == 1 covered every server.
        if (last_pass || last == kHead) {
          state_.store(pack(kHead, cw), std::memory_order_relaxed);
          return -1;
        }
        restarted = true;
      }
      last_pass = cw <= di_;
      // The first cw == 1 pass only covered servers after `last`; finish at `last`.
      if (last_pass && restarted && last != kHead) stop = last;
    }
  }

 private:
  static constexpr int kHead = -1;  // before the first server, like the IPVS list head
  static constexpr int kNoStop = -2;

  static uint64_t pack(int cursor, int32_t cw) noexcept {
    return (uint64_t{static_cast<uint32_t>(cw)} << 32) | static_cast<uint32_t>(cursor + 1);
  }
  static int cursorOf(uint64_t st) noexcept { return static_cast<int>(st & 0xffffffffu) - 1; }
  static int32_t cwOf(uint64_t st) noexcept { return static_cast<int32_t>(st >> 32); }

  int32_t di_ = 1;
  int32_t mw_ = 0;
  std::atomic<uint64_t> state_{0};
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeWrr(std::span<const SchedDest> dests, const SchedParams&) {
  return std::unique_ptr<Scheduler>(std::make_unique<WrrScheduler>(dests));
}

}  // namespace sluice::sched
