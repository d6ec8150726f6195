// The running side of session sync: one SyncNode per director, one UDP socket and one thread.
//
// The thread waits in poll() on the socket and an eventfd (push() and stop() wake it), with
// a timeout that is the next thing due: a heartbeat, a bulk retry, the join timeout, or,
// while updates or bulk chunks wait for the token bucket, a short pacing tick. Nothing spins.
// Each turn it drains at most kMaxReceivePerTurn datagrams, so a flood on the socket delays
// the timers by a bounded amount rather than starving them.
//
// Receive path, cheapest refusal first: a datagram whose source address is not a listed
// peer's endpoint is dropped before any cryptography (unknown_sender); then Opener::open()
// (size, header, replay window with epochs, tag, payload; one DropReason counter each); then
// the authenticated sender id must be the peer listed at that address (misaddressed).
//
// Outgoing updates come from the workers through push(): a mutex-guarded buffer with a fixed
// capacity, reserved once (no allocation on the packet path; the lock is held for one copy;
// full means counted and dropped), drained by the thread into one SyncQueue per peer, whose
// coalescing and token bucket decide what leaves and when (sync_queue.h).
//
// Bulk copy (sync_bulk.h). Answering a BULK_REQUEST walks the store once into encoded
// chunks and sends them paced from the thread; the trade-off is memory: one copy of the
// table per peer that is joining at that moment (at most one per peer: a new request
// replaces an unfinished answer), in exchange for a store interface that needs no resumable
// cursor and a table walk that happens once, not once per chunk. Joining, the node asks
// every peer at start and again, with a new request id, when a copy makes no progress for
// bulk_retry_after. ready() latches.
//
// Peers' MACs (from heartbeats) are kept after a peer stops being heard: its frames may
// still be in flight, and a director that comes back usually has the same interfaces; a
// peer's list is replaced only by a newer heartbeat of its own.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/sync_auth.h"
#include "cluster/sync_entry.h"
#include "cluster/sync_queue.h"
#include "cluster/sync_socket.h"
#include "common/clock.h"
#include "common/result.h"
#include "net/addr.h"

namespace sluice::cluster {

// Where synced entries go and where a bulk answer comes from (daemon/sync_store.h over the
// Director; a fake in tests). Both are called on the sync thread only.
class SyncStore {
 public:
  virtual ~SyncStore() = default;
  virtual void install(const SyncEntry& e) = 0;
  virtual void walk(const std::function<void(const SyncEntry&)>& fn) = 0;
};

struct SyncPeerConfig {
  uint32_t node_id = 0;
  net::Endpoint endpoint;  // its sync socket: datagrams go there and must come from there
};

struct SyncNodeConfig {
  uint32_t node_id = 0;
  std::vector<SyncPeerConfig> peers;
  SyncKey key;
  std::vector<net::MacAddr> local_macs;  // at most kMaxHeartbeatMacs
  SyncQueueConfig queue;
  Nanos heartbeat_interval = 200 * kSecond / 1000;
  Nanos peer_dead_after = 1 * kSecond;
  Nanos join_timeout = 5 * kSecond;
  Nanos bulk_retry_after = 1 * kSecond;  // a bulk copy without progress this long is asked again
  size_t push_capacity = 65536;          // updates waiting between push() and the thread
  size_t bulk_chunks_per_tick = 32;      // bulk answer pacing: chunks per pacing tick
  Nanos pacing_tick = 5 * kSecond / 1000;
  uint64_t epoch = 0;  // 0: makeEpoch(wall-clock seconds now, random)
};

struct SyncNodeStats {
  static constexpr size_t kTypes = 4;  // by MsgType - 1
  std::array<uint64_t, kTypes> sent{};
  std::array<uint64_t, kTypes> received{};  // opened and accepted
  uint64_t entries_installed = 0;
  // Refused by Opener (sync_auth.h), by reason.
  uint64_t bad_mac = 0, replay = 0, old_epoch = 0, truncated = 0, oversized = 0, bad_version = 0,
           unknown_peer = 0, malformed = 0;
  // Refused or lost for other causes.
  uint64_t unknown_sender = 0;  // source address not a listed peer's (before crypto)
  uint64_t misaddressed = 0;    // authentic, but the sender id is not the peer at that address
  uint64_t receive_errors = 0;
  uint64_t send_errors = 0;
  uint64_t push_dropped = 0;   // push() found its buffer full
  uint64_t queue_dropped = 0;  // SyncQueue: refreshes dropped and newcomers refused, all peers
  uint64_t encode_errors = 0;  // an entry that would not encode (a damaged local entry)
  uint64_t bulk_requests_sent = 0;
  uint64_t bulk_retries = 0;
  uint64_t bulk_completed = 0;       // copies received whole
  uint64_t bulk_served = 0;          // answers sent whole
  uint64_t bulk_truncated = 0;       // answers cut at kMaxBulkChunks (the table is larger)
  uint64_t bulk_chunks_refused = 0;  // duplicates, other requests, out of range
  uint64_t peer_restarts = 0;        // a peer seen with a newer epoch
  uint64_t peers_alive = 0;
  bool ready = false;
};

// The names /metrics and `sluiceadm -L --daemon --json` give these counters, so the two
// cannot drift: the message types by MsgType - 1, and every drop reason with its count.
constexpr std::array<const char*, SyncNodeStats::kTypes> kSyncMsgTypeNames = {
    "conn_update", "bulk_request", "bulk_chunk", "heartbeat"};
constexpr size_t kSyncDropReasons = 17;
std::array<std::pair<const char*, uint64_t>, kSyncDropReasons> droppedByReason(const SyncNodeStats& s);

class SyncNode {
 public:
  using MacsChanged = std::function<void(const std::vector<net::MacAddr>&)>;

  // Validates the config (peers listed once, not this node, in the socket's family; at
  // most kMaxHeartbeatMacs MACs) and starts the thread. `store` and `clock` must outlive the
  // node; `on_macs` is called on the sync thread whenever peerMacs() changes.
  static Result<std::unique_ptr<SyncNode>> start(SyncNodeConfig cfg, SyncSocket socket,
                                                 SyncStore& store, const Clock& clock,
                                                 MacsChanged on_macs = {});
  ~SyncNode();
  SyncNode(const SyncNode&) = delete;
  SyncNode& operator=(const SyncNode&) = delete;

  // Any thread; never blocks for long, never allocates. A full buffer drops and counts.
  void push(const SyncEntry& e, Urgency u) noexcept;

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::vector<net::MacAddr> peerMacs() const;
  SyncNodeStats stats() const;
  uint64_t epoch() const { return epoch_; }
  const net::Endpoint& localEndpoint() const { return socket_.localEndpoint(); }

  // Joins the thread; idempotent. The destructor calls it.
  void stop();

 private:
  struct Peer;
  struct Pending {
    SyncEntry entry;
    Urgency urgency;
  };

  SyncNode(SyncNodeConfig cfg, SyncSocket socket, SyncStore& store, const Clock& clock,
           MacsChanged on_macs, int event_fd);
  void run();
  Nanos turn(Nanos now);  // one round of due work; returns how long poll may sleep
  void receiveSome(Nanos now);
  void onDatagram(std::span<const uint8_t> bytes, const net::Endpoint& from, Nanos now);
  void onMessage(Peer& p, Message& m, Nanos now);
  void onHeartbeat(Peer& p, const Message& m);
  void onBulkRequest(Peer& p, const Message& m);
  void onBulkChunk(Peer& p, const Message& m, Nanos now);
  void install(const std::vector<SyncEntry>& entries);
  void drainPushed();
  bool sendUpdates(Nanos now);  // true while something still waits
  bool sendBulkChunks();        // true while something still waits
  void requestBulk(Peer& p, Nanos now);
  void heartbeat();
  void checkReady(Nanos now);
  void send(Peer& p, Message m);
  void publish(Nanos now);
  void wake() noexcept;

  const SyncNodeConfig cfg_;
  SyncSocket socket_;
  SyncStore& store_;
  const Clock& clock_;
  MacsChanged on_macs_;
  int event_fd_;
  uint64_t epoch_;
  Nanos started_;
  Sealer sealer_;
  Opener opener_;
  std::vector<std::unique_ptr<Peer>> peers_;
  uint32_t next_request_id_;
  Nanos next_heartbeat_ = 0;
  std::vector<uint8_t> rx_buf_;

  // push() -> thread.
  std::mutex push_mu_;
  std::vector<Pending> pushed_;    // capacity cfg_.push_capacity, reserved
  std::vector<Pending> draining_;  // the thread's, swapped with pushed_
  std::atomic<uint64_t> push_dropped_{0};

  // Thread -> readers.
  mutable std::mutex pub_mu_;
  SyncNodeStats stats_;  // the thread's working copy
  SyncNodeStats published_;
  std::vector<net::MacAddr> peer_macs_;
  std::atomic<bool> ready_{false};

  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sluice::cluster
