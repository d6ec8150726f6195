// The outgoing side of session sync under load: which connection updates wait to be sent,
// and how fast they leave.
//
// Bounds. A connection storm must not cost unbounded memory or bandwidth, so:
//  * updates are coalesced per connection key: a flow that changes a thousand times before
//    the next send occupies one slot and is sent once, with its latest state;
//  * at most max_pending entries wait; when a new key arrives at a full queue, the oldest
//    refresh (a timeout extension, which the next refresh repeats anyway) is dropped to make
//    room. Critical updates (a new connection, a state change, a template: what a peer could
//    not rebuild) are never dropped for a newer one; when the queue holds nothing else, the
//    newcomer is refused instead. Both drops are counted;
//  * a token bucket limits the bytes sent per second (UDP payload: header, entries, tag),
//    with a burst of at least one full datagram. takeBatch() hands out only what the budget
//    covers now, so the sender simply calls it whenever its timer fires.
// Critical updates leave before refreshes, each group in arrival order; a refresh that is
// updated keeps its place so a busy flow is not pushed back for ever.
//
// Pure and single-threaded: time comes from the injected Clock, and the caller (the sync
// thread) serialises push() and takeBatch().
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "cluster/sync_entry.h"
#include "common/clock.h"

namespace sluice::cluster {

enum class Urgency : uint8_t { kRefresh, kCritical };

struct SyncQueueConfig {
  size_t max_pending = 65536;
  uint64_t bytes_per_second = 10'000'000;  // 80 Mbit/s per peer
  uint64_t burst_bytes = 64 * 1400;        // raised to one datagram if smaller
};

struct SyncQueueStats {
  uint64_t pushed = 0;
  uint64_t coalesced = 0;       // a push that updated a waiting entry
  uint64_t dropped_oldest = 0;  // a waiting refresh dropped for a newcomer
  uint64_t refused_full = 0;    // a newcomer dropped: the queue held only critical entries
  uint64_t taken = 0;           // entries handed to the sender
  uint64_t budget_short = 0;    // takeBatch() calls that the byte budget cut short
};

// What identifies a connection across directors (its sl_conn_key, by value).
struct EntryKey {
  uint8_t kind = 0;
  uint8_t proto = 0;
  uint8_t family = 0;
  uint16_t cport = 0;
  uint16_t vport = 0;
  std::array<uint8_t, 16> caddr{};
  std::array<uint8_t, 16> vaddr{};

  static EntryKey of(const SyncEntry& e);
  friend bool operator==(const EntryKey&, const EntryKey&) = default;
};

struct EntryKeyHash {
  size_t operator()(const EntryKey& k) const noexcept;
};

class SyncQueue {
 public:
  SyncQueue(const Clock& clock, SyncQueueConfig cfg);

  void push(const SyncEntry& e, Urgency u);

  // Up to max_entries entries for one message, as many as the byte budget allows now; the
  // budget is charged for the whole datagram. Empty when nothing waits or the budget is short.
  std::vector<SyncEntry> takeBatch(size_t max_entries);

  size_t pending() const { return index_.size(); }
  size_t pendingCritical() const { return critical_.size(); }
  const SyncQueueStats& stats() const { return stats_; }

 private:
  struct Node {
    SyncEntry entry;
    EntryKey key;
  };
  using List = std::list<Node>;
  struct Slot {
    List::iterator it;
    Urgency urgency;
  };

  void refill();

  const Clock& clock_;
  SyncQueueConfig cfg_;
  List critical_;
  List refresh_;
  std::unordered_map<EntryKey, Slot, EntryKeyHash> index_;
  // Budget in byte-nanoseconds (bytes x 1e9), so refills at any rate stay exact.
  uint64_t credit_;
  uint64_t credit_cap_;
  Nanos last_refill_;
  SyncQueueStats stats_;
};

}  // namespace sluice::cluster
