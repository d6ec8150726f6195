// SyncNode over loopback: nodes on 127.0.0.1 ephemeral ports with in-memory stores, and raw
// sockets standing in for peers where a test needs to send exactly chosen bytes. Waits poll
// for a condition a bounded number of times; a condition never met fails the test. Where a
// test is about time (the join timeout), the nodes run on a clock the test moves.
#include "cluster/sync_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "cluster/sync_bulk.h"
#include "unit/cluster/entries.h"

namespace sluice::cluster {
namespace {

using namespace testing;

class StepClock final : public Clock {
 public:
  Nanos now() const noexcept override { return now_.load(); }
  void advance(Nanos d) { now_ += d; }

 private:
  std::atomic<Nanos> now_{1000 * kSecond};
};

class FakeStore final : public SyncStore {
 public:
  explicit FakeStore(std::vector<SyncEntry> table = {}) : table_(std::move(table)) {}
  void install(const SyncEntry& e) override {
    std::lock_guard lock(mu_);
    installed_.push_back(e);
  }
  void walk(const std::function<void(const SyncEntry&)>& fn) override {
    ++walks_;
    for (const SyncEntry& e : table_) fn(e);
  }
  std::vector<SyncEntry> installed() const {
    std::lock_guard lock(mu_);
    return installed_;
  }
  bool has(const SyncEntry& e) const {
    auto v = installed();
    return std::find(v.begin(), v.end(), e) != v.end();
  }
  std::atomic<int> walks_{0};

 private:
  mutable std::mutex mu_;
  std::vector<SyncEntry> installed_;
  std::vector<SyncEntry> table_;
};

// Polls `cond` up to 2000 times, 5 ms apart.
bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 2000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

const SyncKey& key() {
  static const SyncKey k = *SyncKey::derive("sync node test key, 32 bytes long");
  return k;
}

net::MacAddr mac(uint8_t a, uint8_t b) { return {0x02, 0, 0, 0, a, b}; }

SyncSocket bindLoopback() {
  auto s = SyncSocket::bind(ep("127.0.0.1", 0));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(*s);
}

SyncNodeConfig config(uint32_t id, std::vector<SyncPeerConfig> peers) {
  SyncNodeConfig c;
  c.node_id = id;
  c.peers = std::move(peers);
  c.key = key();
  c.local_macs = {mac(uint8_t(id), 1), mac(uint8_t(id), 2)};
  c.heartbeat_interval = 20 * kSecond / 1000;
  c.peer_dead_after = 200 * kSecond / 1000;
  c.join_timeout = 600 * kSecond;  // readiness through bulk copies only, unless a test says
  c.bulk_retry_after = 200 * kSecond / 1000;
  return c;
}

// n nodes, all peers of each other, each with its own store.
struct Cluster {
  explicit Cluster(size_t n, const std::function<void(size_t, SyncNodeConfig&)>& edit = {},
                   const Clock* clock = nullptr) {
    static MonotonicClock mono;
    std::vector<SyncSocket> sockets;
    for (size_t i = 0; i < n; ++i) sockets.push_back(bindLoopback());
    for (size_t i = 0; i < n; ++i) stores.push_back(std::make_unique<FakeStore>());
    for (size_t i = 0; i < n; ++i) {
      std::vector<SyncPeerConfig> peers;
      for (size_t j = 0; j < n; ++j)
        if (j != i) peers.push_back({uint32_t(j + 1), sockets[j].localEndpoint()});
      SyncNodeConfig c = config(uint32_t(i + 1), peers);
      if (edit) edit(i, c);
      configs.push_back(c);
    }
    for (size_t i = 0; i < n; ++i) {
      auto node = SyncNode::start(configs[i], std::move(sockets[i]), *stores[i], clock ? *clock : mono);
      EXPECT_TRUE(node.ok()) << node.error().message;
      nodes.push_back(std::move(*node));
    }
  }
  std::vector<SyncNodeConfig> configs;
  std::vector<std::unique_ptr<FakeStore>> stores;
  std::vector<std::unique_ptr<SyncNode>> nodes;
};

size_t idx(MsgType t) { return size_t(t) - 1; }

TEST(SyncNode, UpdatesArriveAndAreInstalledOnEveryPeer) {
  Cluster c(3);
  SyncEntry a = drConn(40001), b = templateEntry(), u = udpFwmarkConn();
  c.nodes[0]->push(a, Urgency::kCritical);
  c.nodes[0]->push(b, Urgency::kCritical);
  c.nodes[0]->push(u, Urgency::kRefresh);
  for (size_t i : {1, 2})
    ASSERT_TRUE(eventually([&] { return c.stores[i]->has(a) && c.stores[i]->has(b) && c.stores[i]->has(u); }))
        << "node " << i + 1;
  EXPECT_FALSE(c.stores[0]->has(a)) << "a node does not install its own updates";
  EXPECT_TRUE(eventually([&] { return c.nodes[0]->stats().sent[idx(MsgType::kConnUpdate)] >= 2; }));
  EXPECT_TRUE(eventually([&] { return c.nodes[1]->stats().entries_installed >= 3; }));
}

TEST(SyncNode, BulkCopyMakesAJoinerReadyAndCarriesTheTable) {
  std::vector<SyncEntry> table;
  for (uint16_t p = 1; p <= 3 * kMaxChunkEntries + 2; ++p) table.push_back(drConn(p));  // 4 chunks
  table.push_back(templateEntry());
  FakeStore seeded(table);
  // Node 1 runs with a table; node 2 joins. Neither may become ready by the join timeout.
  SyncSocket s1 = bindLoopback(), s2 = bindLoopback();
  SyncNodeConfig c1 = config(1, {{2, s2.localEndpoint()}}), c2 = config(2, {{1, s1.localEndpoint()}});
  MonotonicClock clock;
  auto n1 = SyncNode::start(c1, std::move(s1), seeded, clock);
  ASSERT_TRUE(n1.ok()) << n1.error().message;
  FakeStore joiner;
  EXPECT_FALSE((*n1)->ready()) << "its peer has not answered yet";
  auto n2 = SyncNode::start(c2, std::move(s2), joiner, clock);
  ASSERT_TRUE(n2.ok()) << n2.error().message;

  ASSERT_TRUE(eventually([&] { return (*n2)->ready(); }));
  for (const SyncEntry& e : table) EXPECT_TRUE(joiner.has(e));
  EXPECT_EQ((*n2)->stats().bulk_completed, 1u);
  EXPECT_GE((*n1)->stats().bulk_served, 1u);
  // Node 1 asked node 2 too (an empty table: one empty last chunk) and is ready as well.
  ASSERT_TRUE(eventually([&] { return (*n1)->ready(); }));
  EXPECT_TRUE(seeded.installed().empty());
  // Heartbeats now say ready.
  EXPECT_TRUE(eventually([&] { return (*n1)->stats().sent[idx(MsgType::kHeartbeat)] > 0; }));
}

// Reads what node 1 sends to a raw socket: the next BULK_REQUEST, within the bounded wait.
std::optional<Message> nextBulkRequest(const SyncSocket& raw, Opener& opener) {
  std::optional<Message> req;
  std::vector<uint8_t> buf(2048);
  bool found = eventually([&] {
    bool err = false;
    while (auto r = raw.receive(buf, &err)) {
      Opened o = opener.open(std::span<const uint8_t>(buf.data(), r->size));
      if (o && o->type == MsgType::kBulkRequest) {
        req = *o;
        return true;
      }
    }
    return false;
  });
  return found ? req : std::nullopt;
}

TEST(SyncNode, ACopyWithAGapIsAskedForAgainWithANewRequest) {
  // The test plays peer 2: it answers the first request without chunk 1, then the second
  // request in full.
  SyncSocket raw = bindLoopback(), s1 = bindLoopback();
  net::Endpoint node_ep = s1.localEndpoint();
  MonotonicClock clock;
  FakeStore joiner;
  SyncNodeConfig c = config(1, {{2, raw.localEndpoint()}});
  c.bulk_retry_after = 2 * kSecond;  // room for the test's answer to arrive before a retry
  auto n = SyncNode::start(c, std::move(s1), joiner, clock);
  ASSERT_TRUE(n.ok());
  const uint32_t ids[] = {1};
  Opener opener(key(), ids);
  Sealer sealer(key(), 2, makeEpoch(1'700'000'000, 5));
  std::vector<SyncEntry> table;
  for (uint16_t p = 1; p <= 2 * kMaxChunkEntries + 3; ++p) table.push_back(drConn(p));  // 3 chunks
  auto answer = [&](uint32_t id, bool skip_one) {
    BulkWriter w(id);
    std::vector<Message> chunks;
    for (const SyncEntry& e : table)
      if (auto c = w.add(e)) chunks.push_back(*c);
    chunks.push_back(w.finish());
    ASSERT_EQ(chunks.size(), 3u);
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (skip_one && i == 1) continue;
      auto d = sealer.seal(chunks[i]);
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE(raw.sendTo(*d, node_ep));
    }
  };
  auto first = nextBulkRequest(raw, opener);
  ASSERT_TRUE(first);
  answer(first->request_id, true);
  auto second = nextBulkRequest(raw, opener);
  ASSERT_TRUE(second);
  EXPECT_NE(second->request_id, first->request_id);
  EXPECT_FALSE((*n)->ready()) << "a copy with a gap does not make it ready";
  answer(second->request_id, false);
  ASSERT_TRUE(eventually([&] { return (*n)->ready(); }));
  for (const SyncEntry& e : table) EXPECT_TRUE(joiner.has(e));
  EXPECT_EQ((*n)->stats().bulk_completed, 1u);
  EXPECT_GE((*n)->stats().bulk_retries, 1u);
}

TEST(SyncNode, UnreachablePeerMakesItReadyOnlyAfterTheJoinTimeout) {
  StepClock clock;
  SyncSocket silent = bindLoopback();  // bound, so nothing bounces, and never answers
  SyncSocket s1 = bindLoopback();
  SyncNodeConfig c = config(1, {{2, silent.localEndpoint()}});
  c.join_timeout = 10 * kSecond;
  FakeStore store;
  auto n = SyncNode::start(c, std::move(s1), store, clock);
  ASSERT_TRUE(n.ok()) << n.error().message;
  // Each step moves the clock one heartbeat; the node sends one per step, which proves it
  // looked at the time after the step. The first heartbeat goes at the node's first turn.
  ASSERT_TRUE(eventually([&] { return (*n)->stats().sent[idx(MsgType::kHeartbeat)] >= 1; }));
  for (int step = 1; step <= 5; ++step) {
    clock.advance(c.heartbeat_interval);
    ASSERT_TRUE(eventually([&] { return (*n)->stats().sent[idx(MsgType::kHeartbeat)] >= uint64_t(step + 1); }));
    EXPECT_FALSE((*n)->ready()) << "step " << step;
  }
  clock.advance(c.join_timeout);
  ASSERT_TRUE(eventually([&] { return (*n)->ready(); }));
  EXPECT_EQ((*n)->stats().bulk_completed, 0u);
  EXPECT_EQ((*n)->stats().peers_alive, 0u);
  EXPECT_GE((*n)->stats().bulk_requests_sent, 1u);
}

TEST(SyncNode, APeerWithoutPeersIsReadyAtOnce) {
  MonotonicClock clock;
  FakeStore store;
  auto n = SyncNode::start(config(1, {}), bindLoopback(), store, clock);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(eventually([&] { return (*n)->ready(); }));
}

TEST(SyncNode, LearnsPeersMacsFromHeartbeatsAndKeepsThemWhenAPeerDies) {
  std::mutex mu;
  std::vector<std::vector<net::MacAddr>> seen;
  MonotonicClock clock;
  std::vector<SyncSocket> s;
  for (int i = 0; i < 3; ++i) s.push_back(bindLoopback());
  std::vector<std::unique_ptr<FakeStore>> stores;
  std::vector<std::unique_ptr<SyncNode>> nodes;
  for (uint32_t i = 0; i < 3; ++i) {
    std::vector<SyncPeerConfig> peers;
    for (uint32_t j = 0; j < 3; ++j)
      if (j != i) peers.push_back({j + 1, s[j].localEndpoint()});
    stores.push_back(std::make_unique<FakeStore>());
    SyncNode::MacsChanged cb;
    if (i == 0)
      cb = [&](const std::vector<net::MacAddr>& m) {
        std::lock_guard lock(mu);
        seen.push_back(m);
      };
    auto n = SyncNode::start(config(i + 1, peers), std::move(s[i]), *stores.back(), clock, cb);
    ASSERT_TRUE(n.ok()) << n.error().message;
    nodes.push_back(std::move(*n));
  }
  std::vector<net::MacAddr> want = {mac(2, 1), mac(2, 2), mac(3, 1), mac(3, 2)};
  ASSERT_TRUE(eventually([&] { return nodes[0]->peerMacs() == want; }));
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), want) << "the callback saw the final set";
  }
  ASSERT_TRUE(eventually([&] { return nodes[0]->stats().peers_alive == 2; }));
  nodes[2]->stop();
  ASSERT_TRUE(eventually([&] { return nodes[0]->stats().peers_alive == 1; }));
  EXPECT_EQ(nodes[0]->peerMacs(), want) << "a dead peer's frames may still be in flight";
}

// Node 1 listens; a raw socket is listed as its peer 2, another raw socket is a stranger.
struct Hostile : ::testing::Test {
  Hostile() {
    SyncSocket s1 = bindLoopback();
    node_ep = s1.localEndpoint();
    auto n = SyncNode::start(config(1, {{2, peer.localEndpoint()}}), std::move(s1), store, clock);
    EXPECT_TRUE(n.ok()) << n.error().message;
    node = std::move(*n);
  }
  void sendFrom(const SyncSocket& s, std::span<const uint8_t> d) { ASSERT_TRUE(s.sendTo(d, node_ep)); }
  std::vector<uint8_t> sealed(Sealer& s, Message m) {
    auto d = s.seal(std::move(m));
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : std::vector<uint8_t>{};
  }
  Message hb(net::MacAddr m) {
    Message h = heartbeat();
    h.macs = {m};
    return h;
  }

  MonotonicClock clock;
  FakeStore store;
  SyncSocket peer = bindLoopback();
  SyncSocket stranger = bindLoopback();
  net::Endpoint node_ep;
  std::unique_ptr<SyncNode> node;
  Sealer good{key(), 2, makeEpoch(1'700'000'000, 7)};
};

TEST_F(Hostile, RefusedDatagramsAreCountedAndChangeNothing) {
  auto d = sealed(good, hb(mac(9, 9)));
  sendFrom(peer, d);
  ASSERT_TRUE(eventually([&] { return node->peerMacs() == std::vector{mac(9, 9)}; }));

  // Another key: bad tag, whatever it says.
  Sealer forger(*SyncKey::derive("not the cluster key, but 32 bytes"), 2, makeEpoch(1'700'000'001, 1));
  sendFrom(peer, sealed(forger, hb(mac(6, 6))));
  sendFrom(peer, sealed(forger, update({drConn()})));
  // The same datagram again.
  sendFrom(peer, d);
  // Cut short, and too long.
  auto upd = sealed(good, update({drConn()}));
  sendFrom(peer, std::span<const uint8_t>(upd.data(), 40));
  std::vector<uint8_t> big(1500, 0);
  std::copy(upd.begin(), upd.end(), big.begin());
  sendFrom(peer, big);
  // Authentic, from an address that is not a peer's.
  sendFrom(stranger, sealed(good, hb(mac(5, 5))));
  sendFrom(stranger, sealed(good, update({drConn(1)})));
  // Authentic and from the peer's address, but naming a node that is not listed.
  Sealer other{key(), 3, makeEpoch(1'700'000'000, 7)};
  sendFrom(peer, sealed(other, update({drConn(2)})));

  ASSERT_TRUE(eventually([&] {
    SyncNodeStats s = node->stats();
    return s.bad_mac == 2 && s.replay == 1 && s.truncated == 1 && s.oversized == 1 &&
           s.unknown_sender == 2 && s.unknown_peer == 1;
  })) << "bad_mac " << node->stats().bad_mac << " replay " << node->stats().replay;
  // A last authentic update, so that everything sent before it has been read.
  sendFrom(peer, sealed(good, update({drConn(3)})));
  ASSERT_TRUE(eventually([&] { return store.has(drConn(3)); }));
  EXPECT_EQ(store.installed().size(), 1u);
  EXPECT_EQ(node->peerMacs(), std::vector{mac(9, 9)});
  SyncNodeStats s = node->stats();
  EXPECT_EQ(s.received[idx(MsgType::kHeartbeat)], 1u);
  EXPECT_EQ(s.received[idx(MsgType::kConnUpdate)], 1u);
  EXPECT_EQ(s.entries_installed, 1u);
}

TEST_F(Hostile, ARestartedPeerIsANewEpochAndItsOldLifeIsRefused) {
  auto before = sealed(good, hb(mac(1, 1)));
  auto late = sealed(good, hb(mac(1, 2)));
  sendFrom(peer, before);
  ASSERT_TRUE(eventually([&] { return node->peerMacs() == std::vector{mac(1, 1)}; }));
  Sealer restarted{key(), 2, makeEpoch(1'700'000'100, 1)};  // sequence 1 again
  sendFrom(peer, sealed(restarted, hb(mac(1, 3))));
  ASSERT_TRUE(eventually([&] { return node->peerMacs() == std::vector{mac(1, 3)}; }));
  sendFrom(peer, late);
  ASSERT_TRUE(eventually([&] { return node->stats().old_epoch == 1; }));
  EXPECT_EQ(node->peerMacs(), std::vector{mac(1, 3)});
  EXPECT_EQ(node->stats().peer_restarts, 1u);
}

TEST(SyncNode, ABulkRequestIsAnsweredWithTheWholeTable) {
  // A raw peer asks node 1 for its table and reads the chunks itself.
  std::vector<SyncEntry> table;
  for (uint16_t p = 1; p <= 25; ++p) table.push_back(drConn(p));
  FakeStore store(table);
  SyncSocket raw = bindLoopback(), s1 = bindLoopback();
  net::Endpoint node_ep = s1.localEndpoint();
  MonotonicClock clock;
  auto n = SyncNode::start(config(1, {{2, raw.localEndpoint()}}), std::move(s1), store, clock);
  ASSERT_TRUE(n.ok());
  Sealer sealer(key(), 2, makeEpoch(1'700'000'000, 3));
  Message req = heartbeat(0);
  req.type = MsgType::kBulkRequest;
  req.request_id = 77;
  auto d = sealer.seal(req);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(raw.sendTo(*d, node_ep));
  const uint32_t ids[] = {1};
  Opener opener(key(), ids);
  BulkReceiver rx(77);
  std::vector<SyncEntry> got;
  std::vector<uint8_t> buf(2048);
  ASSERT_TRUE(eventually([&] {
    bool err = false;
    while (auto r = raw.receive(buf, &err)) {
      Opened o = opener.open(std::span<const uint8_t>(buf.data(), r->size));
      if (o && o->type == MsgType::kBulkChunk && rx.onChunk(*o) == BulkVerdict::kAccepted)
        got.insert(got.end(), o->entries.begin(), o->entries.end());
    }
    return rx.complete();
  }));
  EXPECT_EQ(got.size(), table.size());
  for (const SyncEntry& e : table) EXPECT_NE(std::find(got.begin(), got.end(), e), got.end());
  EXPECT_EQ(store.walks_.load(), 1);
  // The same request again (a retransmission) is not walked again.
  d = sealer.seal(req);
  ASSERT_TRUE(raw.sendTo(*d, node_ep));
  ASSERT_TRUE(eventually([&] { return (*n)->stats().received[idx(MsgType::kBulkRequest)] == 2; }));
  EXPECT_EQ(store.walks_.load(), 1);
}

TEST(SyncNode, ConfigErrorsAreRefusedBeforeTheThreadStarts) {
  MonotonicClock clock;
  FakeStore store;
  auto self = SyncNode::start(config(1, {{1, ep("127.0.0.1", 9)}}), bindLoopback(), store, clock);
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("own node id"), std::string::npos);
  auto twice = SyncNode::start(config(1, {{2, ep("127.0.0.1", 9)}, {2, ep("127.0.0.1", 10)}}),
                               bindLoopback(), store, clock);
  EXPECT_FALSE(twice.ok());
  auto v6 = SyncNode::start(config(1, {{2, ep("::1", 9)}}), bindLoopback(), store, clock);
  EXPECT_FALSE(v6.ok());
  SyncNodeConfig many = config(1, {});
  many.local_macs.assign(kMaxHeartbeatMacs + 1, mac(1, 1));
  EXPECT_FALSE(SyncNode::start(many, bindLoopback(), store, clock).ok());
}

TEST(SyncNode, WorksOverIpv6) {
  auto a = SyncSocket::bind(ep("::1", 0));
  auto b = SyncSocket::bind(ep("::1", 0));
  if (!a.ok() || !b.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  MonotonicClock clock;
  FakeStore sa, sb;
  auto na = SyncNode::start(config(1, {{2, b->localEndpoint()}}), std::move(*a), sa, clock);
  auto nb = SyncNode::start(config(2, {{1, na.ok() ? (*na)->localEndpoint() : net::Endpoint{}}}),
                            std::move(*b), sb, clock);
  ASSERT_TRUE(na.ok() && nb.ok());
  (*na)->push(fullNatV6Controlled(), Urgency::kCritical);
  EXPECT_TRUE(eventually([&] { return sb.has(fullNatV6Controlled()); }));
}

}  // namespace
}  // namespace sluice::cluster
