// Replay protection for one peer: its epoch and a sliding window over its sequence numbers.
//
// The window is a bitmap of the last kReplayWindow sequence numbers below the highest seen
// (IPsec's anti-replay window, RFC 4303 §3.4.3): a datagram reordered by the network within
// the window is accepted once, a second copy is a replay, and anything older than the window
// is refused as a replay too (it cannot be told apart from one). The epoch orders the peer's
// lives: a greater epoch is a restart and starts a fresh window, a smaller one is a message
// from a previous life and is refused. check() and commit() are split so that the caller can
// refuse cheaply before the cryptography and record a sequence only once the datagram is
// proved authentic (a forged datagram must not move the window).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::cluster {

constexpr uint64_t kReplayWindow = 1024;

enum class ReplayVerdict : uint8_t { kFresh, kReplay, kOldEpoch };

class ReplayWindow {
 public:
  ReplayVerdict check(uint64_t epoch, uint64_t seq) const noexcept;
  // Records (epoch, seq); call only after check() said kFresh and the datagram verified.
  void commit(uint64_t epoch, uint64_t seq) noexcept;

  bool seen() const noexcept { return seen_; }
  uint64_t epoch() const noexcept { return epoch_; }
  uint64_t highest() const noexcept { return top_; }

 private:
  bool bit(uint64_t seq) const noexcept { return bits_[(seq / 64) % kWords] >> (seq % 64) & 1; }
  void setBit(uint64_t seq, bool v) noexcept;

  static constexpr size_t kWords = kReplayWindow / 64;
  bool seen_ = false;
  uint64_t epoch_ = 0;
  uint64_t top_ = 0;  // highest sequence committed in this epoch
  std::array<uint64_t, kWords> bits_{};
};

}  // namespace sluice::cluster
