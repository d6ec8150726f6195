// This director's part in an active-active cluster (the sluice_cluster block): it owns the
// VIP device and the announcement policy (cluster/announcer.h), follows the service table
// to announce or withdraw each VIP as its services gain or lose real servers, waits for
// session sync before the first announcement, and on a graceful stop withdraws everything
// and keeps forwarding while the routers move the traffic away.
//
// Threads: the service watcher runs on whichever thread changed the services (under the
// Director's mutation lock); the role's own thread follows readiness and the peers' MACs.
// Both go through mu_; the role never calls into the Director while holding it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/announcer.h"
#include "cluster/sync_node.h"
#include "cluster/vip_device.h"
#include "common/clock.h"
#include "common/result.h"
#include "config/model.h"
#include "ctl/sync_daemon.h"

namespace sluice::daemon {

class Director;
class DirectorSyncStore;
class SyncFeed;

// The addresses on this host's interfaces (the director recognises itself by them).
Result<std::vector<net::IpAddr>> localAddresses();
// The interface that carries `addr` now ("" when none does).
Result<std::string> interfaceWithAddress(const net::IpAddr& addr);

struct ClusterView {
  uint32_t node_id = 0;
  std::string vip_interface;
  bool ready = false;
  bool draining = false;
  std::vector<net::IpAddr> announced;
  std::vector<net::IpAddr> available;
};

class ClusterRole {
 public:
  // Takes the VIP device (cluster::VipDevice::create, which refuses an existing one) and
  // starts following `director`'s services. Nothing is announced until ready() says so.
  // The daemon creates the device before anything else: a process that dies has its
  // descriptors closed in ascending order, so the device (and the VIPs' local routes) must
  // go before the AF_XDP sockets and the XDP link, or the kernel would answer the packets
  // of that instant with resets.
  static Result<std::unique_ptr<ClusterRole>> start(Director& director,
                                                    const config::ClusterConfig& cfg,
                                                    const config::ClusterDirector& self,
                                                    std::unique_ptr<cluster::VipDevice> dev);
  ~ClusterRole();
  ClusterRole(const ClusterRole&) = delete;
  ClusterRole& operator=(const ClusterRole&) = delete;

  // Where readiness comes from (session sync's bulk copies; startSync sets it). Until one is
  // set the role is not ready and announces nothing. Polled by the role's thread.
  void setReadySource(std::function<bool()> ready);

  // Session sync with the other directors (cluster/sync_node.h): loads the key, binds the
  // sync socket on this director's address, feeds the connections the workers create to
  // the peers, installs theirs, teaches the data path the peers' MACs (no DR loop), and
  // holds the first announcement until the peers' tables are in. `local_macs`: the
  // data-plane interfaces' MACs, sent in heartbeats. Before the workers start.
  Status startSync(const Clock& clock, std::vector<net::MacAddr> local_macs);
  std::optional<cluster::SyncNodeStats> syncStats() const;
  // Session sync as ipvsadm's sync daemons (sluiceadm -L --daemon): the interface carrying
  // this director's sync address, its node id as the sync id, the port, the largest
  // datagram, the peers and the counters. Any thread.
  ctl::SyncDaemonInfo syncDaemon() const;

  // Graceful stop, first half: withdraws every VIP and returns; the caller keeps forwarding
  // for drainTime() before it stops the workers.
  void drain();
  uint32_t drainMs() const { return cfg_.drain_ms; }

  ClusterView view() const;
  const config::ClusterConfig& config() const { return cfg_; }
  uint32_t nodeId() const { return self_.node_id; }

 private:
  ClusterRole(Director& director, config::ClusterConfig cfg, config::ClusterDirector self,
              std::unique_ptr<cluster::VipDevice> dev);
  void loop();

  Director& director_;
  const config::ClusterConfig cfg_;
  const config::ClusterDirector self_;
  std::unique_ptr<cluster::VipDevice> dev_;
  std::unique_ptr<DirectorSyncStore> store_;
  std::unique_ptr<SyncFeed> feed_;
  std::unique_ptr<cluster::SyncNode> node_;

  mutable std::mutex mu_;
  cluster::Announcer announcer_;
  std::function<bool()> ready_source_ = [] { return false; };

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::daemon
