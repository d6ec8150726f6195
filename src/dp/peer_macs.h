// The MAC addresses of the other directors of an active-active cluster, as one worker's
// Datapath sees them. When directors are also real servers, a frame from a peer's MAC to a
// VIP is one that peer already balanced to this host: it belongs to the local stack, and
// balancing it again would bounce it between directors (a DR loop).
//
// Trade-off: the set is small (SL_MAX_PEER_MACS) and changes rarely (a peer's heartbeat
// appears or goes), but every worker reads it per packet. So the control plane publishes an
// immutable set under a mutex and bumps a version; the worker picks it up once per call of
// Datapath::process/processBatch when the version moved (as svc::SnapshotReader does), so
// an unchanged set costs one relaxed load and reading it takes no lock at all. The worker
// drops its reference to a replaced set itself: a free on the data path, once per change.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "net/addr.h"

namespace sluice::dp {

class PeerMacs {
 public:
  // Any thread: replaces the set. Duplicates are harmless; the caller bounds the size.
  void publish(std::span<const net::MacAddr> macs);

  // The owning worker only: picks up the latest published set.
  void refresh() noexcept {
    const uint64_t v = version_.load(std::memory_order_acquire);
    if (v == seen_) return;
    std::lock_guard lock(mu_);
    current_ = published_;
    seen_ = version_.load(std::memory_order_relaxed);
  }
  // The owning worker only, about the set refresh() picked up.
  bool empty() const noexcept { return !current_ || current_->empty(); }
  // `mac`: six bytes (an Ethernet header's source address).
  bool contains(const uint8_t* mac) const noexcept;

 private:
  std::mutex mu_;  // guards published_
  std::shared_ptr<const std::vector<uint64_t>> published_;
  std::atomic<uint64_t> version_{0};
  // The worker's own.
  uint64_t seen_ = 0;
  std::shared_ptr<const std::vector<uint64_t>> current_;
};

}  // namespace sluice::dp
