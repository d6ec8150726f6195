// The connection table: fixed-size plain records (sl_conn, one cache line each) that the
// C++ slow path and the XDP fast path share (the storage can be an mmap'ed BPF map). No pointers, no allocation per flow.
//
// Layout and hashing. Slots are grouped in buckets of 4 (256 bytes). A key may live in
// one of two buckets chosen by the two 32-bit halves of one 64-bit hash ("two-choice"
// bucketised cuckoo hashing). Lookup compares the key against at most 8 slots; insert puts
// the key in whichever of its two buckets has more free slots. When both are full of live
// entries, insert moves entries to their other bucket (a breadth-first search over at
// most 128 buckets, shortest chain of moves applied back to front) to free a slot. Without
// those moves the first refusal comes at ~50% load (the fullest of m buckets runs
// ln ln m / ln 2 above the mean); with them at ~94% (conn_table_test.cc measures it).
// Because a key is only ever in one of its own two buckets, removing an entry just empties
// its slot: no tombstones, no rehash.
//
// Moves have two consequences. A sl_conn* is valid only until the next insert(), which
// may move other connections (lookup, erase, expireSome never move anything; with several
// threads, see "Threading" for how a pointer is kept valid). Templates
// never move, so a template's slot is a stable handle and a template pointer stays valid
// until the template is freed.
//
// Expiry. An entry is expired when now > last_seen + timeout. Nothing runs on a timer:
// lookup() reaps an expired hit, insert() reaps expired entries it meets in its two
// buckets, and expireSome() walks a cursor over the table reaping a bounded number of
// slots per call, so dead entries neither linger in the counts nor keep the table full.
// Reaping or erasing an entry always goes through DestAccounting::unbind(), so the
// ActiveConn/InActConn/PersistConn counts and the overload flag stay exact whatever path
// frees the entry: the table is the one place entries die, so it is the one place that
// undoes their counts.
//
// Full-table policy. When both buckets of a new key hold only live entries, insert()
// fails (nullptr; Stats::full counts it) and the caller drops the packet with
// kConnTableFull. Live connections are never evicted to make room: evicting one would
// silently break an established flow, while refusing a SYN only delays a client that will
// retransmit, by which time expiry has usually made room. Random keys fill 94% of the
// slots before the first refusal and 97% after a thousand; size tables for about 80%.
//
// Persistence templates. A template must outlive the connections it controls (IPVS
// n_control). A side array, one uint32 per slot and private to user space, holds for a
// connection the slot of its template (+1, 0 = none) and for a template the number of
// connections it controls. An expired template that still controls connections is
// re-armed for 60 s instead of reaped, as ip_vs_conn_expire() does.
//
// Threading: several user-space threads (the slow-path workers, the control plane) and the
// XDP fast path share the table. The trade-off chosen is one writer lock for the rare
// operations and none for the per-packet ones:
//  * Structure changes (insert, and the moves it makes; erase; reaping by lookup or
//    expireSome; re-arming templates; the template side array) happen under one writer
//    lock, lockWriter(). A worker takes it only on the miss path of a packet that may open
//    a connection, and there it looks the key up again before inserting, so two workers
//    racing with the same new key can never both insert it: no duplicate entry. A worker
//    sweeps expired entries with tryExpireSome(), which skips a sweep rather than wait.
//    The lock is recursive only so that the miss path can hold it across lookup, template
//    and insert calls that also take it by themselves (single-threaded callers, tests,
//    need not know about it).
//  * Lookups take no lock. A move bumps a sequence count (odd while moving), and lookup()
//    scans again if the count changed under it, so a miss is never caused by an entry in
//    flight between its buckets. A hit is only a candidate: another thread's insert may
//    move or free it the next instant. Before reading or changing it, the caller takes the
//    entry's lock with lockIfStill(), which re-checks the key under it; a no means look up
//    again. Every writer holds an entry's lock while it moves, frees or fills it, so a
//    locked entry whose key matched stays where it is until unlocked.
//  * The entry lock (the `lock` byte) is a spin lock between user-space threads, held for a
//    few stores: an update by a worker, or a writer moving/freeing/filling the entry. Lock
//    order: the writer lock before any entry lock; nobody waits for the writer lock while
//    holding an entry lock (a worker unlocks its entry first), so the two cannot deadlock.
// The kernel never takes the lock: it only updates entries it found, changes the state
// word (state, flags) with a compare-and-swap that fails while `lock` is set, and leaves a
// locked entry to the slow path. The counts are atomic because the kernel updates them too.
// What remains: lookups read keys while a writer may be rewriting them (as the kernel
// does); a torn read can only give a false candidate, which lockIfStill() rejects. A move
// can hide an entry from the fast path for an instant (that packet takes the slow path,
// which finds it). A last_seen the kernel writes just as user space locks the entry can be
// lost (the connection then expires up to one packet-interval early). A thread preempted
// while holding an entry lock makes others that want that entry spin until it runs again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>

#include "common/clock.h"
#include "conn/dest_counts.h"
#include "abi/records.h"

namespace sluice::conn {

// How a NAT connection and its reply twin (SL_KEY_REPLY, abi/records.h) name each other.
// The keys need the real server's address and port and the service's address and port,
// which live in the forwarding records, not in the entries; dp/nat_reply.h answers from
// them. false: the record is gone, the pair can no longer be named.
// A FULLNAT pair also needs each entry's extension record (sl_conn_ext: the local end of
// the connection, the client end of the twin), which the table passes along.
class ReplyKeys {
 public:
  virtual bool twinKeyOf(const sl_conn& conn, const sl_conn_ext& ext,
                         sl_conn_key* out) const noexcept = 0;
  virtual bool connKeyOf(const sl_conn& twin, const sl_conn_ext& ext,
                         sl_conn_key* out) const noexcept = 0;

 protected:
  ~ReplyKeys() = default;
};

// Told, under the writer lock, about every FULLNAT connection the table frees (expiry,
// erase, reuse, flush), with its extension record, so the local port it held goes back to
// its pool (laddr/pool.h) whatever path freed it. Must not call back into the table.
class ConnRelease {
 public:
  virtual void released(const sl_conn& conn, const sl_conn_ext& ext) noexcept = 0;

 protected:
  ~ConnRelease() = default;
};

// Whether a connection has a reply twin (NAT and FULLNAT: the director sees the replies).
constexpr bool hasReplyTwin(uint8_t fwd) noexcept {
  return fwd == SL_FWD_NAT || fwd == SL_FWD_FULLNAT;
}

class ConnTable {
 public:
  static constexpr size_t kBucketSlots = 4;
  static constexpr uint32_t kTemplateRearmSeconds = 60;  // ip_vs_conn_expire: expire_later
  static constexpr uint64_t kDefaultSeed = 0x5eed0f5e1ce0c0deull;

  struct Stats {
    uint64_t expired = 0;  // entries reaped because their timeout passed
    uint64_t rearmed = 0;  // expired templates kept alive for their connections
    uint64_t full = 0;     // inserts refused: no room even after moving entries
    uint64_t moved = 0;    // entries moved to their other bucket to make room
    uint64_t recovered = 0;  // entries found locked in storage handed over at construction
  };

  // Over caller-provided storage (e.g. an mmap'ed BPF array), used in whole buckets:
  // capacity() is storage.size() rounded down to a multiple of 4. `dests` may be null:
  // nothing is counted. The storage may already hold entries (pinned maps that outlived a
  // daemon, built with the same seed): they are counted, and entries left locked by a
  // writer that died are recovered (Stats::recovered). Their counts are already in the
  // dest counts, which live beside them. What lives only in this object starts afresh: a
  // template's count of the connections it controls is zero, so a surviving template
  // expires on its own timeout instead of being re-armed while its connections live.
  // `ext`: the extension records (sl_conn_ext), one per slot of `storage` (the `conn_ext`
  // map); empty or too short: the table allocates its own.
  ConnTable(std::span<sl_conn> storage, DestAccounting* dests, uint64_t seed = kDefaultSeed,
            std::span<sl_conn_ext> ext = {});
  // Owns its storage: `capacity` rounded up to a multiple of 4 slots, allocated once.
  explicit ConnTable(size_t capacity, DestAccounting* dests = nullptr,
                     uint64_t seed = kDefaultSeed);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  // --- data path (noexcept, no allocation) ---

  // The key's 64-bit hash. Simple enough to re-implement in BPF C: five 64-bit loads of
  // the key (host byte order), each mixed by xor / multiply / shift, then the murmur3
  // 64-bit finaliser; the low half picks bucket 1, the high half bucket 2.
  // Kernel/user concurrency (see the state word in abi/records.h). The XDP fast path changes a
  // connection's state word only with a compare-and-swap and never touches an entry whose
  // lock byte is set; user space sets it before it moves, frees or rewrites an entry. The
  // fast path never holds the lock, so lockEntry() spins only while a CAS races it.
  static constexpr uint32_t kLockBit = 0x01000000u;  // the `lock` byte of the state word
  // Spins while another user-space thread holds the entry (the kernel never does).
  static void lockEntry(sl_conn& c) noexcept {
    std::atomic_ref<uint32_t> w(c.word);
    uint32_t v = w.load(std::memory_order_relaxed);
    for (;;) {
      if (v & 0xff000000u) {
        cpuRelax();
        v = w.load(std::memory_order_relaxed);
        continue;
      }
      if (w.compare_exchange_weak(v, v | kLockBit, std::memory_order_acquire)) return;
    }
  }
  static void unlockEntry(sl_conn& c) noexcept {
    std::atomic_ref<uint32_t>(c.word).fetch_and(~0xff000000u, std::memory_order_release);
  }
  // Locks `c`, a lookup's candidate, if it still holds `key`: true with the lock held, or
  // false (unlocked) when another thread moved or freed it meanwhile: look it up again.
  static bool lockIfStill(sl_conn& c, const sl_conn_key& key) noexcept;

  // The writer lock (see "Threading"): held across a lookup-then-insert that must not race
  // another writer, and by readers that walk the whole table (forEach).
  using WriterLock = std::unique_lock<std::recursive_mutex>;
  [[nodiscard]] WriterLock lockWriter() const { return WriterLock(writer_mu_); }

  uint64_t hash(const sl_conn_key& key) const noexcept;
  // Touch both buckets of a key whose packet comes next in the batch.
  void prefetch(uint64_t hash) const noexcept;

  // The live entry for `key`, or nullptr. An expired hit is reaped (nullptr); an expired
  // template that still controls connections is re-armed and returned. Takes no lock
  // unless it has to reap or re-arm. Without the writer lock held, the result is a
  // candidate another thread may move at once: lock it with lockIfStill() before use.
  // With the writer lock held, nothing moves and the answer is exact.
  sl_conn* lookup(const sl_conn_key& key, Nanos now) noexcept { return lookup(key, hash(key), now); }
  sl_conn* lookup(const sl_conn_key& key, uint64_t hash, Nanos now) noexcept;

  // A zeroed entry with `key` set and last_seen = now, or nullptr when no room can be made
  // (or the key's family is SL_AF_NONE). The key must not be in the table already: look it
  // up first with the writer lock held across both calls when other threads insert too.
  // The caller fills the rest and then binds it (conn_ops.h does both); the entry comes
  // back locked (lockEntry), and the caller unlocks it. May move other non-template
  // entries: earlier sl_conn* to them are stale afterwards.
  sl_conn* insert(const sl_conn_key& key, Nanos now) noexcept;

  // Removes an entry now, undoing its counts. Erasing a template that still controls
  // connections detaches them (a scan of the whole table: control plane only). `c` must
  // come from a lookup made under the writer lock the caller still holds, or from a
  // single-threaded caller; erase(key) is for everyone else. Never with c's lock held.
  void erase(sl_conn* c) noexcept;
  // Removes the entry of `key` if there is one (under the writer lock); true if it did.
  bool erase(const sl_conn_key& key) noexcept;

  // Visits up to `max_slots` slots from where the last call stopped and reaps the expired
  // ones. Returns how many it reaped. Call it from the worker's idle loop / timer tick.
  size_t expireSome(Nanos now, size_t max_slots) noexcept;
  // The same, unless another thread holds the writer lock: then it returns 0 at once. The
  // workers sweep this way, so one worker's sweep never stalls the others' packets.
  size_t tryExpireSome(Nanos now, size_t max_slots) noexcept;

  // Makes `conn` controlled by template `tmpl` (both in this table), refreshing the
  // template's last_seen as IPVS does when a connection is created through it. The
  // template side array is the writer lock's: these three are for callers holding it.
  void attachToTemplate(sl_conn& conn, sl_conn& tmpl, Nanos now) noexcept;
  // Connections a template controls (0 for a non-template).
  uint32_t controlled(const sl_conn& tmpl) const noexcept;
  // The template controlling `conn`, or nullptr.
  sl_conn* templateOf(const sl_conn& conn) noexcept;

  // NAT reply twins. A twin lives exactly as long as its connection: freeing a NAT
  // connection (expiry, erase, reuse, flush) frees its twin in the same step, and the sweep
  // (expireSome) frees a twin whose connection is gone, should a record have been missing
  // when the connection went. Twins never expire on their own (kTwinTimeout), are not
  // counted in any dest's counts, and every walk that lists connections skips them
  // (isReplyTwin). Set once, before traffic; nullptr: twins are left to their timeout.
  static constexpr uint32_t kTwinTimeout = 0xffffffffu;
  void setReplyKeys(const ReplyKeys* keys) noexcept { reply_keys_ = keys; }
  static bool isReplyTwin(const sl_conn& c) noexcept { return c.key.kind == SL_KEY_REPLY; }
  // FULLNAT connections freed (see ConnRelease). Set once, before traffic.
  void setReleaseHook(ConnRelease* hook) noexcept { release_ = hook; }

  // The extension record of an entry of this table (same locking rules as the entry: write
  // it while holding the entry's lock, before the entry is first unlocked).
  sl_conn_ext& ext(const sl_conn& c) noexcept { return ext_[slotOf(&c)]; }
  const sl_conn_ext& ext(const sl_conn& c) const noexcept { return ext_[size_t(&c - slots_)]; }
  // Twins in the table now (a reply lookup is pointless while 0).
  size_t replyTwins() const noexcept { return twins_.load(std::memory_order_relaxed); }
  // Frees the twin of `twin_key` if its connection is gone or is another real server's
  // (decided again under the writer lock: a connection being created is not missed).
  // true if it did.
  bool eraseOrphanTwin(const sl_conn_key& twin_key) noexcept;

  // --- control plane ---

  // Calls fn(const sl_conn&) for every live entry (templates and reply twins included:
  // callers that list connections skip isReplyTwin()), in slot order,
  // under the writer lock (entries do not move meanwhile; workers may still update them).
  template <class Fn>
  void forEach(Nanos now, Fn&& fn) const {
    WriterLock lock = lockWriter();
    for (size_t i = 0; i < capacity_; ++i)
      if (occupied(i) && !dead(i, now)) fn(static_cast<const sl_conn&>(slots_[i]));
  }
  // Erases every entry (live or not) for which pred(const sl_conn&) holds; returns how many.
  // Connections go first, so templates erased with their connections need no detach scan.
  template <class Pred>
  size_t eraseIf(Pred&& pred) {
    WriterLock lock = lockWriter();
    size_t n = 0;
    for (int templates = 0; templates < 2; ++templates) {
      for (size_t i = 0; i < capacity_; ++i) {
        if (occupied(i) && isTemplate(i) == bool(templates) &&
            pred(static_cast<const sl_conn&>(slots_[i]))) {
          erase(&slots_[i]);
          ++n;
        }
      }
    }
    return n;
  }

  // Occupied slots, including expired entries not yet reaped.
  size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  size_t capacity() const noexcept { return capacity_; }
  // Bytes of memory per slot: the shared record plus the private side array.
  static constexpr size_t bytesPerSlot() noexcept {
    return sizeof(sl_conn) + sizeof(sl_conn_ext) + sizeof(uint32_t);
  }
  // Written under the writer lock: read it there, or when no other thread writes.
  const Stats& stats() const noexcept { return stats_; }
  DestAccounting* dests() const noexcept { return dests_; }
  uint64_t seed() const noexcept { return seed_; }

  // now > last_seen + timeout (a clock behind last_seen never expires anything).
  static bool expired(const sl_conn& c, Nanos now) noexcept {
    return now > c.last_seen_ns && now - c.last_seen_ns > Nanos(c.timeout_s) * kSecond;
  }
  // What ipvsadm -Lnc shows as "expire": time left before the entry expires, 0 if past.
  static Nanos remaining(const sl_conn& c, Nanos now) noexcept {
    Nanos end = c.last_seen_ns + Nanos(c.timeout_s) * kSecond;
    return end > now ? end - now : 0;
  }

 private:
  struct Buckets {
    size_t b1, b2;
  };
  Buckets bucketsOf(uint64_t h) const noexcept;
  bool occupied(size_t i) const noexcept { return slots_[i].key.family != SL_AF_NONE; }
  bool isTemplate(size_t i) const noexcept { return slots_[i].flags & SL_CONN_F_TEMPLATE; }
  // Expired and not kept alive by controlled connections.
  bool dead(size_t i, Nanos now) const noexcept {
    return expired(slots_[i], now) && !(isTemplate(i) && meta_[i] != 0);
  }
  // Expired but controlling: re-arm. Returns true when the entry must be reaped. Under
  // the writer lock and the entry's lock.
  bool checkExpiry(size_t i, Nanos now) noexcept;
  sl_conn* findIn(size_t bucket, const sl_conn_key& key) noexcept;
  size_t slotOf(const sl_conn* c) const noexcept { return size_t(c - slots_); }
  void free(size_t i, bool expired) noexcept;
  void freeLocked(size_t i, bool expired) noexcept;  // the caller holds the entry's lock
  // Frees slot i if it is still expired once its lock is held (a template that controls
  // connections is re-armed instead); true if it was freed. Under the writer lock.
  bool reap(size_t i, Nanos now) noexcept;
  static constexpr size_t kNoSlot = ~size_t(0);
  static constexpr size_t kMaxSearch = 128;  // buckets visited by one makeRoom()
  size_t freeSlotIn(size_t bucket, Nanos now) noexcept;
  sl_conn* makeRoom(size_t b1, size_t b2, Nanos now) noexcept;
  void move(size_t src, size_t dst) noexcept;
  sl_conn* findAll(const sl_conn_key& key, uint64_t h) noexcept;  // both buckets, seq-checked
  size_t expireLocked(Nanos now, size_t max_slots) noexcept;
  static void cpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  void init(std::span<sl_conn> storage, std::span<sl_conn_ext> ext);
  bool recoverLocked(size_t i) noexcept;  // true: a duplicate, removed

  sl_conn* slots_ = nullptr;
  size_t capacity_ = 0;
  size_t num_buckets_ = 0;
  std::atomic<size_t> size_{0};  // changed under the writer lock, read anywhere
  size_t cursor_ = 0;
  // Odd while insert() moves entries between buckets: lock-free lookups retry across it.
  std::atomic<uint64_t> move_seq_{0};
  mutable std::recursive_mutex writer_mu_;
  uint64_t seed_;
  DestAccounting* dests_;
  std::unique_ptr<uint32_t[]> meta_;  // see "Persistence templates" above
  void* owned_ = nullptr;             // mmap'ed storage when the table owns it
  size_t owned_bytes_ = 0;
  Stats stats_;
  const ReplyKeys* reply_keys_ = nullptr;
  ConnRelease* release_ = nullptr;
  sl_conn_ext* ext_ = nullptr;                 // one per slot: shared storage, or own_ext_
  std::unique_ptr<sl_conn_ext[]> own_ext_;
  std::atomic<size_t> twins_{0};  // changed under the writer lock
  void freeTwinOf(const sl_conn& c, const sl_conn_ext& e) noexcept;  // under the writer lock
  bool orphanTwin(size_t i) noexcept;          // under the writer lock
};

}  // namespace sluice::conn
