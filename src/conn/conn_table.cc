// Two-choice bucketised hash table over sl_conn records; see conn_table.h for the design.
#include "conn/conn_table.h"

#include "abi/conn_hash.h"

#include <sys/mman.h>

#include <cstddef>
#include <algorithm>
#include <new>

namespace sluice::conn {
namespace {

uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The bytes of an entry before its state word: cleared or copied while the word is held.
constexpr size_t kBeforeWord = offsetof(sl_conn, word);
static_assert(kBeforeWord + sizeof(uint32_t) == sizeof(sl_conn), "the state word ends the entry");

std::atomic_ref<uint32_t> wordOf(sl_conn& c) noexcept { return std::atomic_ref<uint32_t>(c.word); }

bool keyEqual(const sl_conn_key& a, const sl_conn_key& b) noexcept {
  const auto* x = reinterpret_cast<const uint8_t*>(&a);
  const auto* y = reinterpret_cast<const uint8_t*>(&b);
  // Five words, branch-free: cheaper than memcmp's early-exit loop on hits.
  uint64_t d = 0;
  for (int w = 0; w < 5; ++w) d |= load64(x + 8 * w) ^ load64(y + 8 * w);
  return d == 0;
}

}  // namespace

ConnTable::ConnTable(std::span<sl_conn> storage, DestAccounting* dests, uint64_t seed,
                     std::span<sl_conn_ext> ext)
    : seed_(seed), dests_(dests) {
  init(storage, ext);
}

ConnTable::ConnTable(size_t capacity, DestAccounting* dests, uint64_t seed)
    : seed_(seed), dests_(dests) {
  size_t slots = (capacity + kBucketSlots - 1) / kBucketSlots * kBucketSlots;
  if (slots == 0) slots = kBucketSlots;
  // Anonymous mmap: zeroed, page-aligned (so every record is one cache line), and the
  // pages are only faulted in as buckets are first touched.
  owned_bytes_ = slots * sizeof(sl_conn);
  owned_ = mmap(nullptr, owned_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (owned_ == MAP_FAILED) throw std::bad_alloc();
  // Lookups land on random buckets: with 4 KiB pages a big table misses the TLB on
  // nearly every one. Huge pages where the kernel allows them (advice only).
  madvise(owned_, owned_bytes_, MADV_HUGEPAGE);
  init({static_cast<sl_conn*>(owned_), slots}, {});
}

ConnTable::~ConnTable() {
  if (owned_) munmap(owned_, owned_bytes_);
}

void ConnTable::init(std::span<sl_conn> storage, std::span<sl_conn_ext> ext) {
  slots_ = storage.data();
  num_buckets_ = storage.size() / kBucketSlots;
  capacity_ = num_buckets_ * kBucketSlots;
  meta_ = std::make_unique<uint32_t[]>(capacity_);  // value-initialised: zero
  if (ext.size() >= capacity_ && capacity_ != 0) {
    ext_ = ext.data();  // shared with the fast path (and a previous daemon's, if pinned)
  } else {
    own_ext_ = std::make_unique<sl_conn_ext[]>(std::max<size_t>(capacity_, 1));
    ext_ = own_ext_.get();
  }
  // Storage that already holds entries (pinned maps a previous daemon filled): count them,
  // and take back the entries it held locked when it died.
  for (size_t i = 0; i < capacity_; ++i) {
    if (!occupied(i)) continue;
    if (slots_[i].lock != 0 && recoverLocked(i)) continue;
    ++size_;
    if (isReplyTwin(slots_[i])) ++twins_;
  }
}

bool ConnTable::recoverLocked(size_t i) noexcept {
  // A lock outliving its owner marks an insert, move or free cut short. A move publishes
  // the copy before it clears the original, so the same key may sit in both buckets:
  // keep one. Otherwise the entry is kept and unlocked; if it died mid-insert or mid-free
  // its counts may be off by one (they saturate at zero), and it expires like any other.
  if (num_buckets_ != 0) {
    auto [b1, b2] = bucketsOf(hash(slots_[i].key));
    for (size_t b : {b1, b2}) {
      for (size_t s = 0; s < kBucketSlots; ++s) {
        size_t j = b * kBucketSlots + s;
        if (j != i && occupied(j) && keyEqual(slots_[j].key, slots_[i].key)) {
          std::memset(&slots_[i], 0, sizeof(sl_conn));
          ext_[i] = sl_conn_ext{};
          ++stats_.recovered;
          return true;
        }
      }
    }
  }
  unlockEntry(slots_[i]);
  ++stats_.recovered;
  return false;
}

uint64_t ConnTable::hash(const sl_conn_key& key) const noexcept {
  return sl_conn_hash(&key, seed_);
}

ConnTable::Buckets ConnTable::bucketsOf(uint64_t h) const noexcept {
  uint32_t b1, b2;
  sl_conn_buckets(h, uint32_t(num_buckets_), &b1, &b2);
  return {b1, b2};
}

void ConnTable::prefetch(uint64_t h) const noexcept {
  if (num_buckets_ == 0) return;
  auto [b1, b2] = bucketsOf(h);
  for (size_t s = 0; s < kBucketSlots; ++s) {
    __builtin_prefetch(&slots_[b1 * kBucketSlots + s]);
    __builtin_prefetch(&slots_[b2 * kBucketSlots + s]);
  }
}

sl_conn* ConnTable::findIn(size_t bucket, const sl_conn_key& key) noexcept {
  sl_conn* b = &slots_[bucket * kBucketSlots];
  for (size_t s = 0; s < kBucketSlots; ++s)
    if (keyEqual(b[s].key, key)) return &b[s];
  return nullptr;
}

bool ConnTable::checkExpiry(size_t i, Nanos now) noexcept {
  sl_conn& c = slots_[i];
  if (!expired(c, now)) return false;
  if (isTemplate(i) && meta_[i] != 0) {
    c.last_seen_ns = now;
    c.timeout_s = kTemplateRearmSeconds;
    ++stats_.rearmed;
    return false;
  }
  return true;
}

bool ConnTable::lockIfStill(sl_conn& c, const sl_conn_key& key) noexcept {
  lockEntry(c);
  // Every writer changes a key only while holding the entry's lock, so this compare reads
  // a stable key, and a match means the entry stays here until unlockEntry().
  if (key.family != SL_AF_NONE && keyEqual(c.key, key)) return true;
  unlockEntry(c);
  return false;
}

sl_conn* ConnTable::findAll(const sl_conn_key& key, uint64_t h) noexcept {
  auto [b1, b2] = bucketsOf(h);
  for (;;) {
    // A seqlock read: an entry moving from one of the key's buckets to the other could be
    // missed by a scan that reads the destination before the copy and the source after
    // the clear, so a scan that overlapped a move is done again.
    const uint64_t seq = move_seq_.load(std::memory_order_acquire);
    if (seq & 1) {
      cpuRelax();
      continue;
    }
    sl_conn* c = findIn(b1, key);
    if (!c && b2 != b1) c = findIn(b2, key);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (move_seq_.load(std::memory_order_relaxed) == seq) return c;
  }
}

sl_conn* ConnTable::lookup(const sl_conn_key& key, uint64_t h, Nanos now) noexcept {
  if (key.family == SL_AF_NONE || num_buckets_ == 0) return nullptr;  // never match empties
  sl_conn* c = findAll(key, h);
  if (!c || !expired(*c, now)) return c;
  // Reaping or re-arming changes the table: under the writer lock, on the entry as it is
  // once we hold it (another thread may have refreshed, moved or reaped it meanwhile).
  WriterLock lock = lockWriter();
  c = findAll(key, h);
  if (!c) return nullptr;
  return reap(slotOf(c), now) ? nullptr : c;
}

sl_conn* ConnTable::insert(const sl_conn_key& key, Nanos now) noexcept {
  if (key.family == SL_AF_NONE || num_buckets_ == 0) return nullptr;
  WriterLock lock = lockWriter();
  auto [b1, b2] = bucketsOf(hash(key));
  sl_conn* first_free[2] = {nullptr, nullptr};
  size_t nfree[2] = {0, 0};
  size_t buckets[2] = {b1, b2};
  for (int k = 0; k < (b2 == b1 ? 1 : 2); ++k) {
    for (size_t s = 0; s < kBucketSlots; ++s) {
      size_t i = buckets[k] * kBucketSlots + s;
      if (occupied(i) && expired(slots_[i], now)) reap(i, now);
      if (!occupied(i)) {
        if (!first_free[k]) first_free[k] = &slots_[i];
        ++nfree[k];
      }
    }
  }
  sl_conn* c = nfree[1] > nfree[0] ? first_free[1] : first_free[0];
  if (!c) c = makeRoom(b1, b2, now);
  if (!c) {
    ++stats_.full;
    return nullptr;
  }
  // Locked before the key is written: a fast path that matches the key sees the lock and
  // leaves the packet to the slow path until the owner has filled the entry in and
  // called unlockEntry() (conn_ops does, at the end of createConn/createTemplate). Taken
  // with lockEntry, not stored: a worker holding a stale pointer to this free slot may
  // hold its lock for an instant (lockIfStill), and must let go before the slot is reused.
  lockEntry(*c);
  std::memset(c, 0, kBeforeWord);
  wordOf(*c).store(kLockBit, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  c->last_seen_ns = now;  // before the key: a lookup that matches it sees a live entry
  c->key = key;
  ++size_;
  if (isReplyTwin(*c)) ++twins_;
  return c;
}

size_t ConnTable::freeSlotIn(size_t bucket, Nanos now) noexcept {
  for (size_t s = 0; s < kBucketSlots; ++s) {
    size_t i = bucket * kBucketSlots + s;
    if (occupied(i) && expired(slots_[i], now)) reap(i, now);
    if (!occupied(i)) return i;
  }
  return kNoSlot;
}

sl_conn* ConnTable::makeRoom(size_t b1, size_t b2, Nanos now) noexcept {
  // Breadth-first search over "move the entry in slot s of bucket B to its other bucket":
  // the first bucket found with a free slot ends the shortest chain of moves, which is
  // then applied from its far end so every entry is always in one of its two buckets.
  struct Node {
    size_t bucket;
    int parent;    // index into nodes, -1 for the two roots
    uint8_t slot;  // slot of the parent bucket whose entry moves into `bucket`
  };
  Node nodes[kMaxSearch];
  int count = 0;
  nodes[count++] = {b1, -1, 0};
  if (b2 != b1) nodes[count++] = {b2, -1, 0};
  const int roots = count;
  for (int head = 0; head < count; ++head) {
    const Node n = nodes[head];
    if (head >= roots) {
      size_t dst = freeSlotIn(n.bucket, now);
      if (dst != kNoSlot) {
        // Odd while moving: lock-free lookups overlapping the moves scan again.
        const uint64_t seq = move_seq_.load(std::memory_order_relaxed);
        move_seq_.store(seq + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        for (int cur = head; nodes[cur].parent >= 0; cur = nodes[cur].parent) {
          size_t src = nodes[nodes[cur].parent].bucket * kBucketSlots + nodes[cur].slot;
          move(src, dst);
          dst = src;
        }
        move_seq_.store(seq + 2, std::memory_order_release);
        return &slots_[dst];
      }
    }
    for (size_t s = 0; s < kBucketSlots && count < int(kMaxSearch); ++s) {
      size_t i = n.bucket * kBucketSlots + s;
      if (!occupied(i) || isTemplate(i)) continue;  // templates stay put: handles
      auto [x, y] = bucketsOf(hash(slots_[i].key));
      size_t alt = x == n.bucket ? y : x;
      if (alt == n.bucket) continue;
      nodes[count++] = {alt, head, uint8_t(s)};
    }
  }
  return nullptr;
}

void ConnTable::move(size_t src, size_t dst) noexcept {
  // Publish the copy before clearing the original: a concurrent reader may see the
  // entry twice for a moment, never zero times when it scans the destination second.
  // Both copies are locked meanwhile, so the fast path updates neither (it sends such
  // packets to the slow path); a last_seen it wrote just before the lock may be lost.
  // Both locks are taken: a worker may be updating the entry (src) or hold a stale
  // pointer to the free slot (dst) for an instant. The words are written atomically, the
  // copy carrying src's lock, so dst is never unlocked before it is whole.
  lockEntry(slots_[src]);
  lockEntry(slots_[dst]);
  std::memcpy(&slots_[dst], &slots_[src], kBeforeWord);
  ext_[dst] = ext_[src];  // before the word: whoever sees dst whole sees its record too
  wordOf(slots_[dst]).store(wordOf(slots_[src]).load(std::memory_order_relaxed),
                            std::memory_order_release);
  meta_[dst] = meta_[src];
  meta_[src] = 0;
  std::memset(&slots_[src], 0, kBeforeWord);
  ext_[src] = sl_conn_ext{};
  wordOf(slots_[src]).store(0, std::memory_order_release);
  unlockEntry(slots_[dst]);
  ++stats_.moved;
}

bool ConnTable::reap(size_t i, Nanos now) noexcept {
  // Decided again under the entry's lock: a worker may have refreshed last_seen between
  // the caller's look and the lock, and a connection that just carried a packet stays.
  lockEntry(slots_[i]);
  if (!checkExpiry(i, now)) {
    unlockEntry(slots_[i]);
    return false;
  }
  freeLocked(i, true);
  return true;
}

void ConnTable::free(size_t i, bool expired) noexcept {
  lockEntry(slots_[i]);  // from here the fast path leaves it alone; unbind sees its final flags
  freeLocked(i, expired);
}

void ConnTable::freeLocked(size_t i, bool expired) noexcept {
  sl_conn& c = slots_[i];
  const bool twin = isReplyTwin(c);
  // A NAT or FULLNAT connection takes its reply twin with it, whatever path frees it; a
  // FULLNAT connection gives its local port back.
  const bool conn = !twin && c.key.kind == SL_KEY_CONN && !(c.flags & SL_CONN_F_TEMPLATE);
  const bool has_twin = conn && hasReplyTwin(c.fwd) && reply_keys_;
  const sl_conn gone = has_twin ? c : sl_conn{};
  const sl_conn_ext gone_ext = ext_[i];
  if (conn && c.fwd == SL_FWD_FULLNAT && release_) release_->released(c, gone_ext);
  ext_[i] = sl_conn_ext{};
  if (dests_ && !twin) dests_->unbind(c);  // a twin was never counted
  if (isTemplate(i)) {
    if (meta_[i] != 0) {
      // Erased while still controlling: its connections must not point at a slot that a
      // new entry may take.
      for (size_t j = 0; j < capacity_; ++j)
        if (j != i && occupied(j) && !isTemplate(j) && meta_[j] == i + 1) meta_[j] = 0;
    }
  } else if (meta_[i] != 0) {
    uint32_t& n = meta_[meta_[i] - 1];
    if (n) --n;
  }
  meta_[i] = 0;
  std::memset(&c, 0, kBeforeWord);
  wordOf(c).store(0, std::memory_order_release);  // empty, and unlocked
  --size_;
  if (twin) {
    --twins_;
  } else if (expired) {
    ++stats_.expired;
  }
  if (has_twin) freeTwinOf(gone, gone_ext);
}

void ConnTable::freeTwinOf(const sl_conn& c, const sl_conn_ext& e) noexcept {
  sl_conn_key k;
  if (!reply_keys_->twinKeyOf(c, e, &k)) return;  // found and freed by the sweep instead
  sl_conn* t = findAll(k, hash(k));
  // A twin with another dest belongs to a newer connection that reused the tuple.
  if (t && t->dest_id == c.dest_id) free(slotOf(t), false);
}

bool ConnTable::orphanTwin(size_t i) noexcept {
  const sl_conn& t = slots_[i];
  sl_conn_key k;
  if (reply_keys_->connKeyOf(t, ext_[i], &k)) {
    const sl_conn* c = findAll(k, hash(k));
    if (c && c->dest_id == t.dest_id && c->fwd == t.fwd) return false;
  }
  free(i, false);
  return true;
}

bool ConnTable::eraseOrphanTwin(const sl_conn_key& twin_key) noexcept {
  if (!reply_keys_ || twin_key.kind != SL_KEY_REPLY || num_buckets_ == 0) return false;
  WriterLock lock = lockWriter();
  sl_conn* t = findAll(twin_key, hash(twin_key));
  return t && orphanTwin(slotOf(t));
}

void ConnTable::erase(sl_conn* c) noexcept {
  if (!c || c < slots_ || c >= slots_ + capacity_) return;
  WriterLock lock = lockWriter();
  size_t i = slotOf(c);
  if (occupied(i)) free(i, false);
}

bool ConnTable::erase(const sl_conn_key& key) noexcept {
  if (key.family == SL_AF_NONE || num_buckets_ == 0) return false;
  WriterLock lock = lockWriter();
  sl_conn* c = findAll(key, hash(key));
  if (!c) return false;
  free(slotOf(c), false);
  return true;
}

size_t ConnTable::expireSome(Nanos now, size_t max_slots) noexcept {
  WriterLock lock = lockWriter();
  return expireLocked(now, max_slots);
}

size_t ConnTable::tryExpireSome(Nanos now, size_t max_slots) noexcept {
  WriterLock lock(writer_mu_, std::try_to_lock);
  return lock.owns_lock() ? expireLocked(now, max_slots) : 0;
}

size_t ConnTable::expireLocked(Nanos now, size_t max_slots) noexcept {
  size_t reaped = 0;
  if (capacity_ == 0) return 0;
  for (size_t n = 0; n < max_slots; ++n) {
    size_t i = cursor_;
    cursor_ = cursor_ + 1 == capacity_ ? 0 : cursor_ + 1;
    if (!occupied(i)) continue;
    if (isReplyTwin(slots_[i])) {
      if (reply_keys_ && orphanTwin(i)) ++reaped;
      continue;
    }
    if (expired(slots_[i], now) && reap(i, now)) ++reaped;
  }
  return reaped;
}

void ConnTable::attachToTemplate(sl_conn& conn, sl_conn& tmpl, Nanos now) noexcept {
  size_t ci = slotOf(&conn), ti = slotOf(&tmpl);
  if (ci >= capacity_ || ti >= capacity_ || ci == ti || !isTemplate(ti) || isTemplate(ci)) return;
  WriterLock lock = lockWriter();
  if (meta_[ci] != 0) {  // re-attach: release the old template first
    uint32_t& old = meta_[meta_[ci] - 1];
    if (old) --old;
  }
  meta_[ci] = uint32_t(ti + 1);
  ++meta_[ti];
  tmpl.last_seen_ns = now;
}

uint32_t ConnTable::controlled(const sl_conn& tmpl) const noexcept {
  size_t i = size_t(&tmpl - slots_);
  return i < capacity_ && isTemplate(i) ? meta_[i] : 0;
}

sl_conn* ConnTable::templateOf(const sl_conn& conn) noexcept {
  size_t i = size_t(&conn - slots_);
  if (i >= capacity_ || isTemplate(i) || meta_[i] == 0) return nullptr;
  return &slots_[meta_[i] - 1];
}

}  // namespace sluice::conn
