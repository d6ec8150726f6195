// The sliding window (see replay_window.h). Bit i of the bitmap, indexed modulo the window,
// says whether sequence i was seen; bits the window slides over are cleared as it moves, so
// a slot never carries a flag from a sequence kReplayWindow lower.
#include "cluster/replay_window.h"

namespace sluice::cluster {

ReplayVerdict ReplayWindow::check(uint64_t epoch, uint64_t seq) const noexcept {
  if (!seen_ || epoch > epoch_) return ReplayVerdict::kFresh;
  if (epoch < epoch_) return ReplayVerdict::kOldEpoch;
  if (seq > top_) return ReplayVerdict::kFresh;
  if (top_ - seq >= kReplayWindow) return ReplayVerdict::kReplay;
  return bit(seq) ? ReplayVerdict::kReplay : ReplayVerdict::kFresh;
}

void ReplayWindow::setBit(uint64_t seq, bool v) noexcept {
  uint64_t& w = bits_[(seq / 64) % kWords];
  uint64_t m = uint64_t(1) << (seq % 64);
  w = v ? (w | m) : (w & ~m);
}

void ReplayWindow::commit(uint64_t epoch, uint64_t seq) noexcept {
  if (!seen_ || epoch > epoch_) {
    seen_ = true;
    epoch_ = epoch;
    top_ = seq;
    bits_.fill(0);
    setBit(seq, true);
    return;
  }
  if (epoch < epoch_) return;
  if (seq > top_) {
    if (seq - top_ >= kReplayWindow) {
      bits_.fill(0);
    } else {
      for (uint64_t s = top_ + 1; s < seq; ++s) setBit(s, false);  // at most kReplayWindow steps
    }
    top_ = seq;
  }
  setBit(seq, true);
}

}  // namespace sluice::cluster
