// The sync transport and its thread; see sync_node.h.
#include "cluster/sync_node.h"

#include <poll.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <set>

#include "cluster/sync_bulk.h"
#include "common/log.h"

namespace sluice::cluster {
namespace {

constexpr log::Logger kLog("sync");
// Datagrams read per turn of the loop before the timers get their turn again.
constexpr size_t kMaxReceivePerTurn = 256;

size_t typeIndex(MsgType t) { return size_t(t) - 1; }

}  // namespace

struct SyncNode::Peer {
  Peer(const SyncPeerConfig& c, const Clock& clock, const SyncQueueConfig& q)
      : cfg(c), queue(clock, q) {}

  SyncPeerConfig cfg;
  SyncQueue queue;  // updates for this peer
  // What its datagrams told us.
  bool heard = false;
  Nanos last_heard = 0;
  uint64_t epoch = 0;
  bool ready_flag = false;
  std::vector<net::MacAddr> macs;
  // Joining: the copy this node asked this peer for.
  std::optional<BulkReceiver> bulk_rx;
  bool bulk_done = false;
  Nanos bulk_progress = 0;  // the request, or the last chunk accepted
  // Answering: the chunks of this peer's request not sent yet.
  std::deque<Message> bulk_tx;
  uint32_t bulk_tx_id = 0;
  bool bulk_tx_open = false;

  bool alive(Nanos now, Nanos dead_after) const {
    return heard && (now < last_heard || now - last_heard <= dead_after);
  }
};

Result<std::unique_ptr<SyncNode>> SyncNode::start(SyncNodeConfig cfg, SyncSocket socket,
                                                  SyncStore& store, const Clock& clock,
                                                  MacsChanged on_macs) {
  const net::Family family = socket.localEndpoint().addr.family;
  std::set<uint32_t> ids;
  std::set<net::Endpoint> endpoints;
  for (const SyncPeerConfig& p : cfg.peers) {
    if (p.node_id == cfg.node_id)
      return makeError("sync: peer {} has this director's own node id {}", p.endpoint.str(),
                       p.node_id);
    if (!ids.insert(p.node_id).second) return makeError("sync: node id {} listed twice", p.node_id);
    if (!endpoints.insert(p.endpoint).second)
      return makeError("sync: peer address {} listed twice", p.endpoint.str());
    if (p.endpoint.addr.family != family || p.endpoint.port == 0 || p.endpoint.addr.isZero())
      return makeError(
          "sync: peer {} ({}) is not an address and port of the sync socket's family ({})",
          p.node_id, p.endpoint.str(), socket.localEndpoint().str());
  }
  if (cfg.local_macs.size() > kMaxHeartbeatMacs)
    return makeError("sync: {} data-plane MAC addresses, a heartbeat carries at most {}",
                     cfg.local_macs.size(), kMaxHeartbeatMacs);
  if (cfg.heartbeat_interval == 0 || cfg.pacing_tick == 0 || cfg.push_capacity == 0 ||
      cfg.bulk_chunks_per_tick == 0 || cfg.peer_dead_after < cfg.heartbeat_interval)
    return makeError(
        "sync: intervals, capacities and pacing must be positive, and a peer's "
        "dead-after at least one heartbeat interval");
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return makeError("sync: eventfd(): {}", std::strerror(errno));
  std::unique_ptr<SyncNode> n(
      new SyncNode(std::move(cfg), std::move(socket), store, clock, std::move(on_macs), efd));
  n->thread_ = std::thread([node = n.get()] { node->run(); });
  return n;
}

namespace {
std::vector<uint32_t> peerIds(const SyncNodeConfig& cfg) {
  std::vector<uint32_t> ids;
  for (const SyncPeerConfig& p : cfg.peers) ids.push_back(p.node_id);
  return ids;
}
}  // namespace

SyncNode::SyncNode(SyncNodeConfig cfg, SyncSocket socket, SyncStore& store, const Clock& clock,
                   MacsChanged on_macs, int event_fd)
    : cfg_(std::move(cfg)),
      socket_(std::move(socket)),
      store_(store),
      clock_(clock),
      on_macs_(std::move(on_macs)),
      event_fd_(event_fd),
      epoch_(cfg_.epoch ? cfg_.epoch : makeEpoch(uint32_t(::time(nullptr)), randombytes_random())),
      started_(clock.now()),
      sealer_(cfg_.key, cfg_.node_id, epoch_),
      opener_(cfg_.key, peerIds(cfg_)),
      next_request_id_(randombytes_random() | 1),
      rx_buf_(kMaxDatagram + 1) {
  for (const SyncPeerConfig& p : cfg_.peers)
    peers_.push_back(std::make_unique<Peer>(p, clock_, cfg_.queue));
  pushed_.reserve(cfg_.push_capacity);
  draining_.reserve(cfg_.push_capacity);
}

SyncNode::~SyncNode() {
  stop();
  ::close(event_fd_);
}

void SyncNode::stop() {
  stopping_.store(true, std::memory_order_release);
  wake();
  if (thread_.joinable()) thread_.join();
}

void SyncNode::wake() noexcept {
  uint64_t one = 1;
  ssize_t r = ::write(event_fd_, &one, sizeof one);
  (void)r;  // EAGAIN: the counter is already non-zero, the thread wakes anyway
}

void SyncNode::push(const SyncEntry& e, Urgency u) noexcept {
  bool was_empty;
  {
    std::lock_guard lock(push_mu_);
    if (pushed_.size() >= cfg_.push_capacity) {
      push_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = pushed_.empty();
    pushed_.push_back(Pending{e, u});  // within the reserved capacity: no allocation
  }
  if (was_empty) wake();
}

std::vector<net::MacAddr> SyncNode::peerMacs() const {
  std::lock_guard lock(pub_mu_);
  return peer_macs_;
}

std::array<std::pair<const char*, uint64_t>, kSyncDropReasons> droppedByReason(const SyncNodeStats& s) {
  return {{{"bad_mac", s.bad_mac},
           {"replay", s.replay},
           {"old_epoch", s.old_epoch},
           {"truncated", s.truncated},
           {"oversized", s.oversized},
           {"bad_version", s.bad_version},
           {"unknown_peer", s.unknown_peer},
           {"malformed", s.malformed},
           {"unknown_sender", s.unknown_sender},
           {"misaddressed", s.misaddressed},
           {"receive_error", s.receive_errors},
           {"send_error", s.send_errors},
           {"push_full", s.push_dropped},
           {"queue_full", s.queue_dropped},
           {"encode_error", s.encode_errors},
           {"bulk_chunk_refused", s.bulk_chunks_refused},
           {"bulk_truncated", s.bulk_truncated}}};
}

SyncNodeStats SyncNode::stats() const {
  std::lock_guard lock(pub_mu_);
  return published_;
}

void SyncNode::run() {
  pollfd fds[2] = {{socket_.fd(), POLLIN, 0}, {event_fd_, POLLIN, 0}};
  while (!stopping_.load(std::memory_order_acquire)) {
    Nanos sleep = turn(clock_.now());
    int ms = int(std::clamp<Nanos>((sleep + 999'999) / 1'000'000, 1, 1000));
    int n = ::poll(fds, 2, ms);
    if (n < 0) {
      if (errno != EINTR) kLog.error("poll(): {}", std::strerror(errno));
      continue;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      ssize_t r = ::read(event_fd_, &v, sizeof v);
      (void)r;
    }
    if (fds[0].revents & POLLIN) receiveSome(clock_.now());
  }
  publish(clock_.now());
}

Nanos SyncNode::turn(Nanos now) {
  drainPushed();
  if (now >= next_heartbeat_) {
    heartbeat();
    next_heartbeat_ = now + cfg_.heartbeat_interval;
  }
  for (auto& p : peers_) {
    if (p->bulk_done) continue;
    if (!p->bulk_rx || now - p->bulk_progress >= cfg_.bulk_retry_after) {
      if (p->bulk_rx) {
        ++stats_.bulk_retries;
        // Each retry is a whole new copy: many of them mean chunks are being lost (a
        // receive buffer overrun, a bandwidth cap below the table's size per retry period).
        kLog.info("bulk copy from peer {}: {} of its chunks in, none for {} ms; asking again",
                  p->cfg.node_id, p->bulk_rx->received(),
                  (now - p->bulk_progress) / 1000000);
      }
      requestBulk(*p, now);
    }
  }
  checkReady(now);
  bool more = sendUpdates(now);
  more = sendBulkChunks() || more;
  publish(now);

  Nanos sleep = next_heartbeat_ > now ? next_heartbeat_ - now : 0;
  if (more) sleep = std::min(sleep, cfg_.pacing_tick);
  Nanos join_deadline = started_ + cfg_.join_timeout;
  if (!ready() && join_deadline > now) sleep = std::min(sleep, join_deadline - now);
  return sleep;
}

void SyncNode::receiveSome(Nanos now) {
  for (size_t i = 0; i < kMaxReceivePerTurn; ++i) {
    bool error = false;
    auto r = socket_.receive(rx_buf_, &error);
    if (!r) {
      if (error) ++stats_.receive_errors;
      return;
    }
    // A datagram larger than the buffer is seen as kMaxDatagram + 1 bytes: oversized.
    onDatagram(std::span<const uint8_t>(rx_buf_.data(), std::min(r->size, rx_buf_.size())), r->from,
               now);
  }
}

void SyncNode::onDatagram(std::span<const uint8_t> bytes, const net::Endpoint& from, Nanos now) {
  auto it = std::find_if(peers_.begin(), peers_.end(),
                         [&](const auto& p) { return p->cfg.endpoint == from; });
  if (it == peers_.end()) {
    ++stats_.unknown_sender;  // before any cryptography: a stranger costs one lookup
    return;
  }
  Peer& p = **it;
  Opened o = opener_.open(bytes);
  if (!o) return;  // counted by the Opener, under its reason
  if (o->node_id != p.cfg.node_id) {
    ++stats_.misaddressed;
    return;
  }
  onMessage(p, *o, now);
}

void SyncNode::onMessage(Peer& p, Message& m, Nanos now) {
  ++stats_.received[typeIndex(m.type)];
  if (p.heard && m.epoch > p.epoch) {
    ++stats_.peer_restarts;
    kLog.info("peer {} ({}) restarted", p.cfg.node_id, p.cfg.endpoint.str());
    // What we were still sending it answered its previous life. (Its answer to our own
    // request died with that life too; the bulk retry asks again if it was unfinished.)
    p.bulk_tx.clear();
    p.bulk_tx_open = false;
  }
  if (!p.heard) kLog.info("peer {} ({}) heard", p.cfg.node_id, p.cfg.endpoint.str());
  p.heard = true;
  p.epoch = std::max(p.epoch, m.epoch);
  p.last_heard = now;
  switch (m.type) {
    case MsgType::kHeartbeat:
      onHeartbeat(p, m);
      break;
    case MsgType::kConnUpdate:
      install(m.entries);
      break;
    case MsgType::kBulkRequest:
      onBulkRequest(p, m);
      break;
    case MsgType::kBulkChunk:
      onBulkChunk(p, m, now);
      break;
  }
}

void SyncNode::onHeartbeat(Peer& p, const Message& m) {
  p.ready_flag = m.heartbeat_flags & kHeartbeatReady;
  if (p.macs == m.macs) return;
  p.macs = m.macs;
  std::vector<net::MacAddr> all;
  for (const auto& q : peers_) all.insert(all.end(), q->macs.begin(), q->macs.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  {
    std::lock_guard lock(pub_mu_);
    if (all == peer_macs_) return;
    peer_macs_ = all;
  }
  if (on_macs_) on_macs_(all);
}

void SyncNode::onBulkRequest(Peer& p, const Message& m) {
  if (p.bulk_tx_open && p.bulk_tx_id == m.request_id) return;  // a repeat of the one in hand
  p.bulk_tx.clear();
  p.bulk_tx_id = m.request_id;
  p.bulk_tx_open = true;
  BulkWriter w(m.request_id);
  uint64_t cut = 0;  // entries past what one copy carries
  store_.walk([&](const SyncEntry& e) {
    // The last index a copy may use is left for the chunk marked last.
    if (w.chunksMade() + 1 >= kMaxBulkChunks) {
      ++cut;
      return;
    }
    // A chunk that would not seal would leave a gap the joiner asks about for ever.
    if (!validateEntry(e)) {
      ++stats_.encode_errors;
      return;
    }
    if (auto chunk = w.add(e)) p.bulk_tx.push_back(std::move(*chunk));
  });
  p.bulk_tx.push_back(w.finish());
  if (cut) {
    ++stats_.bulk_truncated;
    kLog.warn("bulk answer to peer {} cut at {} chunks: {} entries left out (refreshes carry them)",
              p.cfg.node_id, kMaxBulkChunks, cut);
  }
}

void SyncNode::onBulkChunk(Peer& p, const Message& m, Nanos now) {
  if (!p.bulk_rx || p.bulk_done) {
    ++stats_.bulk_chunks_refused;
    return;
  }
  if (p.bulk_rx->onChunk(m) != BulkVerdict::kAccepted) {
    ++stats_.bulk_chunks_refused;
    return;
  }
  install(m.entries);
  p.bulk_progress = now;
  if (p.bulk_rx->complete()) {
    p.bulk_done = true;
    ++stats_.bulk_completed;
    kLog.info("bulk copy from peer {} complete ({} chunks)", p.cfg.node_id, p.bulk_rx->received());
    checkReady(now);
  }
}

void SyncNode::install(const std::vector<SyncEntry>& entries) {
  for (const SyncEntry& e : entries) store_.install(e);
  stats_.entries_installed += entries.size();
}

void SyncNode::drainPushed() {
  {
    std::lock_guard lock(push_mu_);
    if (pushed_.empty()) return;
    pushed_.swap(draining_);  // both keep their reserved capacity
  }
  for (const Pending& x : draining_)
    for (auto& p : peers_) p->queue.push(x.entry, x.urgency);
  draining_.clear();
}

bool SyncNode::sendUpdates(Nanos) {
  bool more = false;
  for (auto& p : peers_) {
    for (;;) {
      std::vector<SyncEntry> batch = p->queue.takeBatch(kMaxUpdateEntries);
      if (batch.empty()) break;
      Message m;
      m.type = MsgType::kConnUpdate;
      m.entries = std::move(batch);
      send(*p, std::move(m));
    }
    more = more || p->queue.pending() > 0;
  }
  return more;
}

bool SyncNode::sendBulkChunks() {
  bool more = false;
  for (auto& p : peers_) {
    for (size_t i = 0; i < cfg_.bulk_chunks_per_tick && !p->bulk_tx.empty(); ++i) {
      bool last = p->bulk_tx.front().last_chunk;
      send(*p, std::move(p->bulk_tx.front()));
      p->bulk_tx.pop_front();
      if (last) ++stats_.bulk_served;
    }
    more = more || !p->bulk_tx.empty();
  }
  return more;
}

void SyncNode::requestBulk(Peer& p, Nanos now) {
  uint32_t id = next_request_id_++;
  p.bulk_rx.emplace(id);
  p.bulk_progress = now;
  Message m;
  m.type = MsgType::kBulkRequest;
  m.request_id = id;
  send(p, std::move(m));
  ++stats_.bulk_requests_sent;
}

void SyncNode::heartbeat() {
  for (auto& p : peers_) {
    Message m;
    m.type = MsgType::kHeartbeat;
    m.heartbeat_flags = ready() ? kHeartbeatReady : 0;
    m.macs = cfg_.local_macs;
    send(*p, std::move(m));
  }
}

void SyncNode::checkReady(Nanos now) {
  if (ready()) return;
  const bool timed_out = now >= started_ + cfg_.join_timeout;
  for (const auto& p : peers_)
    if (!p->bulk_done && !(timed_out && !p->alive(now, cfg_.peer_dead_after))) return;
  ready_.store(true, std::memory_order_release);
  kLog.info("ready: {} of {} peers' tables copied", stats_.bulk_completed, peers_.size());
}

void SyncNode::send(Peer& p, Message m) {
  MsgType type = m.type;
  auto d = sealer_.seal(std::move(m));
  if (!d) {
    ++stats_.encode_errors;
    kLog.warn("not sent: {}", d.error().message);
    return;
  }
  if (socket_.sendTo(*d, p.cfg.endpoint))
    ++stats_.sent[typeIndex(type)];
  else
    ++stats_.send_errors;
}

void SyncNode::publish(Nanos now) {
  const DropCounters& c = opener_.counters();
  auto r = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  stats_.bad_mac = r(c.bad_mac);
  stats_.replay = r(c.replay);
  stats_.old_epoch = r(c.old_epoch);
  stats_.truncated = r(c.truncated);
  stats_.oversized = r(c.oversized);
  stats_.bad_version = r(c.bad_version);
  stats_.unknown_peer = r(c.unknown_peer);
  stats_.malformed = r(c.malformed);
  stats_.push_dropped = push_dropped_.load(std::memory_order_relaxed);
  stats_.queue_dropped = 0;
  stats_.peers_alive = 0;
  for (const auto& p : peers_) {
    stats_.queue_dropped += p->queue.stats().dropped_oldest + p->queue.stats().refused_full;
    stats_.peers_alive += p->alive(now, cfg_.peer_dead_after);
  }
  stats_.ready = ready();
  std::lock_guard lock(pub_mu_);
  published_ = stats_;
}

}  // namespace sluice::cluster
