#include "daemon/cluster_role.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "cluster/cluster_key.h"
#include "cluster/sync_wire.h"
#include "common/log.h"
#include "daemon/director.h"
#include "daemon/sync_store.h"

namespace sluice::daemon {

namespace {
const log::Logger kLog("cluster");
}  // namespace

namespace {

std::optional<net::IpAddr> addressOf(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    return net::IpAddr::fromV4Bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return net::IpAddr::fromV6Bytes(sin6->sin6_addr.s6_addr);
  }
  return std::nullopt;
}

// Calls fn(interface name, address) for every address on this host's interfaces.
Status forEachAddress(const std::function<void(const char*, const net::IpAddr&)>& fn) {
  ifaddrs* ifa = nullptr;
  if (getifaddrs(&ifa) != 0)
    return makeError("reading the interfaces' addresses: {}", std::strerror(errno));
  for (ifaddrs* i = ifa; i; i = i->ifa_next)
    if (auto a = addressOf(i->ifa_addr)) fn(i->ifa_name, *a);
  freeifaddrs(ifa);
  return {};
}

}  // namespace

Result<std::vector<net::IpAddr>> localAddresses() {
  std::vector<net::IpAddr> out;
  if (Status st = forEachAddress([&](const char*, const net::IpAddr& a) { out.push_back(a); }); !st)
    return st.error();
  return out;
}

Result<std::string> interfaceWithAddress(const net::IpAddr& addr) {
  std::string name;
  Status st = forEachAddress([&](const char* ifname, const net::IpAddr& a) {
    if (name.empty() && a == addr) name = ifname;
  });
  if (!st) return st.error();
  return name;
}

Result<std::unique_ptr<ClusterRole>> ClusterRole::start(Director& director,
                                                        const config::ClusterConfig& cfg,
                                                        const config::ClusterDirector& self,
                                                        std::unique_ptr<cluster::VipDevice> dev) {
  std::unique_ptr<ClusterRole> r(new ClusterRole(director, cfg, self, std::move(dev)));
  // From here on every change to the services re-evaluates which VIPs are available.
  director.setServicesWatcher([role = r.get()](const svc::Snapshot& snap) {
    std::set<net::IpAddr> vips = cluster::availableVips(snap);
    std::lock_guard lock(role->mu_);
    role->announcer_.setAvailable(std::move(vips));
  });
  r->thread_ = std::thread([role = r.get()] { role->loop(); });
  kLog.info("director {} of {} ({}), VIP device {}; announcing once ready", self.node_id,
            cfg.directors.size(), self.addr.str(), cfg.vip_interface);
  return r;
}

ClusterRole::ClusterRole(Director& director, config::ClusterConfig cfg,
                         config::ClusterDirector self, std::unique_ptr<cluster::VipDevice> dev)
    : director_(director),
      cfg_(std::move(cfg)),
      self_(std::move(self)),
      dev_(std::move(dev)),
      announcer_(*dev_) {}

ClusterRole::~ClusterRole() {
  director_.setServicesWatcher(nullptr);
  director_.setConnEventSink(nullptr);
  if (node_) node_->stop();
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // dev_ goes last: closing it removes the device and whatever is still on it.
}

void ClusterRole::setReadySource(std::function<bool()> ready) {
  std::lock_guard lock(mu_);
  ready_source_ = std::move(ready);
}

Status ClusterRole::startSync(const Clock& clock, std::vector<net::MacAddr> local_macs) {
  auto shared = cluster::loadClusterKey(cfg_.shared_key_file);
  if (!shared) return makeError("shared_key_file: {}", shared.error().message);
  auto key = cluster::SyncKey::derive(*shared);
  if (!key) return makeError("shared_key_file {}: {}", cfg_.shared_key_file, key.error().message);
  cluster::SyncNodeConfig nc;
  nc.node_id = self_.node_id;
  nc.key = std::move(*key);
  for (const config::ClusterDirector& d : cfg_.directors)
    if (d.node_id != self_.node_id)
      nc.peers.push_back(cluster::SyncPeerConfig{d.node_id, net::Endpoint{d.addr, cfg_.sync_port}});
  if (local_macs.size() > cluster::kMaxHeartbeatMacs) local_macs.resize(cluster::kMaxHeartbeatMacs);
  nc.local_macs = std::move(local_macs);
  nc.queue.bytes_per_second = cfg_.sync_bandwidth;
  nc.join_timeout = Nanos(cfg_.join_timeout_ms) * 1'000'000;
  auto sock = cluster::SyncSocket::bind(net::Endpoint{self_.addr, cfg_.sync_port});
  if (!sock)
    return makeError("sync socket {}:{}: {}", self_.addr.str(), cfg_.sync_port, sock.error().message);
  store_ = std::make_unique<DirectorSyncStore>(director_);
  auto node = cluster::SyncNode::start(
      std::move(nc), std::move(*sock), *store_, clock,
      [this](const std::vector<net::MacAddr>& macs) {
        // The sync thread: the Director takes its own locks, none of ours is held.
        if (Status st = director_.setPeerMacs(macs); !st)
          kLog.error("the peer directors' MACs: {}", st.error().message);
        else
          kLog.info("{} peer director MAC(s) known: their frames to a VIP go to the local stack",
                    macs.size());
      });
  if (!node) return makeError("session sync: {}", node.error().message);
  cluster::SyncNode* n = node->get();
  auto feed = std::make_unique<SyncFeed>(
      director_, [n](const cluster::SyncEntry& e, cluster::Urgency u) { n->push(e, u); });
  director_.setConnEventSink(feed.get());
  {
    std::lock_guard lock(mu_);  // the role's thread reads these
    node_ = std::move(*node);
    feed_ = std::move(feed);
    ready_source_ = [n] { return n->ready(); };
  }
  kLog.info("session sync on {}:{} with {} peer(s); waiting up to {} ms for their tables",
            self_.addr.str(), cfg_.sync_port, cfg_.directors.size() - 1, cfg_.join_timeout_ms);
  return {};
}

std::optional<cluster::SyncNodeStats> ClusterRole::syncStats() const {
  std::lock_guard lock(mu_);
  if (!node_) return std::nullopt;
  return node_->stats();
}

ctl::SyncDaemonInfo ClusterRole::syncDaemon() const {
  ctl::SyncDaemonInfo info;
  auto ifname = interfaceWithAddress(self_.addr);
  if (ifname) info.interface = std::move(*ifname);  // else "": listed as the address itself
  info.addr = self_.addr;
  info.syncid = self_.node_id;
  info.port = cfg_.sync_port;
  info.maxlen = uint32_t(cluster::kMaxDatagram);
  info.peers = uint32_t(cfg_.directors.size() - 1);
  const std::optional<cluster::SyncNodeStats> st = syncStats();
  if (!st) return info;  // startSync() not called yet
  const cluster::SyncNodeStats& s = *st;
  info.ready = s.ready;
  info.peers_alive = uint32_t(s.peers_alive);
  // The names /metrics uses (sluice_sync_*), flattened.
  for (size_t i = 0; i < cluster::SyncNodeStats::kTypes; ++i) {
    info.counters[fmt::format("sent_{}", cluster::kSyncMsgTypeNames[i])] = s.sent[i];
    info.counters[fmt::format("received_{}", cluster::kSyncMsgTypeNames[i])] = s.received[i];
  }
  for (const auto& [reason, n] : cluster::droppedByReason(s)) info.counters[fmt::format("dropped_{}", reason)] = n;
  info.counters["entries_installed"] = s.entries_installed;
  info.counters["bulk_requests_sent"] = s.bulk_requests_sent;
  info.counters["bulk_retries"] = s.bulk_retries;
  info.counters["bulk_received"] = s.bulk_completed;
  info.counters["bulk_served"] = s.bulk_served;
  info.counters["peer_restarts"] = s.peer_restarts;
  return info;
}

void ClusterRole::drain() {
  std::lock_guard lock(mu_);
  announcer_.drain();
}

ClusterView ClusterRole::view() const {
  std::lock_guard lock(mu_);
  ClusterView v;
  v.node_id = self_.node_id;
  v.vip_interface = cfg_.vip_interface;
  v.ready = announcer_.ready();
  v.draining = announcer_.draining();
  v.announced = announcer_.announced();
  v.available.assign(announcer_.available().begin(), announcer_.available().end());
  return v;
}

void ClusterRole::loop() {
  std::unique_lock slock(stop_mu_);
  auto next_refresh = std::chrono::steady_clock::now();
  while (!stop_) {
    slock.unlock();
    // Long-lived flows' entries on the peers are refreshed, a slice of the table a second.
    SyncFeed* feed = nullptr;
    {
      std::lock_guard lock(mu_);
      feed = feed_.get();
    }
    if (feed && std::chrono::steady_clock::now() >= next_refresh) {
      feed->refresh();
      next_refresh = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    {
      std::lock_guard lock(mu_);
      if (!announcer_.ready()) {
        const bool ready = ready_source_ && ready_source_();
        if (ready) {
          if (node_) {
            const cluster::SyncNodeStats st = node_->stats();
            kLog.info("session sync ready: {} bulk cop(ies) received, {} entries installed, {} "
                      "peer(s) alive", st.bulk_completed, st.entries_installed, st.peers_alive);
            // What the store made of those entries: a lab that breaks flows after a rejoin
            // needs to tell "never arrived" from "arrived and refused".
            if (store_) {
              const SyncStoreStats ss = store_->stats();
              kLog.info("sync store: {} inserted, {} refreshed, {} conflicting (kept ours), {} "
                        "superseded (ours was over), {} stale refreshes ignored, {} unknown "
                        "service, {} unknown real server, {} table full; table holds {}",
                        ss.installed, ss.refreshed, ss.conflict, ss.superseded, ss.stale,
                        ss.unknown_service, ss.unknown_dest, ss.table_full,
                        director_.conns().size());
            }
          }
          announcer_.setReady(true);
        }
      }
    }
    slock.lock();
    stop_cv_.wait_for(slock, std::chrono::milliseconds(50), [this] { return stop_; });
  }
}

}  // namespace sluice::daemon
