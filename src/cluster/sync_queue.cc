// The coalescing, bounded, rate-limited send queue (policy in sync_queue.h).
#include "cluster/sync_queue.h"

#include <algorithm>
#include <cstring>

#include "cluster/sync_wire.h"

namespace sluice::cluster {
namespace {

constexpr uint64_t kNanoPerSec = 1'000'000'000ull;
constexpr uint64_t kDatagramOverhead = kHeaderSize + kTagSize;

}  // namespace

EntryKey EntryKey::of(const SyncEntry& e) {
  EntryKey k;
  k.kind = e.kind;
  k.proto = e.proto;
  k.family = uint8_t(e.family());
  k.cport = e.client.port;
  k.vport = e.vip.port;
  k.caddr = e.client.addr.bytes;
  k.vaddr = e.vip.addr.bytes;
  return k;
}

size_t EntryKeyHash::operator()(const EntryKey& k) const noexcept {
  // FNV-1a over the fields: the keys come from our own table, not from an attacker choosing
  // collisions (peers' entries are never queued here).
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  uint8_t small[7] = {k.kind, k.proto, k.family, uint8_t(k.cport >> 8), uint8_t(k.cport),
                      uint8_t(k.vport >> 8), uint8_t(k.vport)};
  mix(small, sizeof small);
  mix(k.caddr.data(), 16);
  mix(k.vaddr.data(), 16);
  return size_t(h);
}

SyncQueue::SyncQueue(const Clock& clock, SyncQueueConfig cfg) : clock_(clock), cfg_(cfg) {
  cfg_.max_pending = std::max<size_t>(cfg_.max_pending, 1);
  cfg_.bytes_per_second = std::max<uint64_t>(cfg_.bytes_per_second, 1);
  cfg_.burst_bytes = std::clamp<uint64_t>(cfg_.burst_bytes, kMaxDatagram, uint64_t(1) << 32);
  credit_cap_ = cfg_.burst_bytes * kNanoPerSec;
  credit_ = credit_cap_;
  last_refill_ = clock_.now();
}

void SyncQueue::push(const SyncEntry& e, Urgency u) {
  ++stats_.pushed;
  EntryKey key = EntryKey::of(e);
  if (auto it = index_.find(key); it != index_.end()) {
    ++stats_.coalesced;
    Slot& s = it->second;
    s.it->entry = e;
    if (u == Urgency::kCritical && s.urgency == Urgency::kRefresh) {
      critical_.splice(critical_.end(), refresh_, s.it);
      s.urgency = Urgency::kCritical;
    }
    return;
  }
  if (index_.size() >= cfg_.max_pending) {
    if (refresh_.empty()) {
      ++stats_.refused_full;
      return;
    }
    index_.erase(refresh_.front().key);
    refresh_.pop_front();
    ++stats_.dropped_oldest;
  }
  List& list = u == Urgency::kCritical ? critical_ : refresh_;
  list.push_back(Node{e, key});
  index_.emplace(key, Slot{std::prev(list.end()), u});
}

void SyncQueue::refill() {
  Nanos now = clock_.now();
  if (now <= last_refill_) return;
  uint64_t elapsed = now - last_refill_;
  last_refill_ = now;
  uint64_t missing = credit_cap_ - credit_;
  // Past the time that fills the bucket, the product could overflow: cap it there.
  if (elapsed >= missing / cfg_.bytes_per_second + 1) {
    credit_ = credit_cap_;
    return;
  }
  credit_ = std::min(credit_cap_, credit_ + elapsed * cfg_.bytes_per_second);
}

std::vector<SyncEntry> SyncQueue::takeBatch(size_t max_entries) {
  std::vector<SyncEntry> out;
  if (index_.empty() || max_entries == 0) return out;
  refill();
  uint64_t bytes = credit_ / kNanoPerSec;
  size_t want = std::min(max_entries, index_.size());
  size_t afford = bytes > kDatagramOverhead ? (bytes - kDatagramOverhead) / kEntryWireSize : 0;
  size_t n = std::min(want, afford);
  if (n < want) ++stats_.budget_short;
  if (n == 0) return out;
  credit_ -= (kDatagramOverhead + n * kEntryWireSize) * kNanoPerSec;
  out.reserve(n);
  for (List* list : {&critical_, &refresh_}) {
    while (out.size() < n && !list->empty()) {
      out.push_back(std::move(list->front().entry));
      index_.erase(list->front().key);
      list->pop_front();
    }
  }
  stats_.taken += out.size();
  return out;
}

}  // namespace sluice::cluster
