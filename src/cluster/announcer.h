// Which VIPs this director announces, and when: the policy in front of the VIP device.
//
// A VIP is on the device (and so announced by the routing daemon) when all three hold:
//  * some virtual service on that address can take a new flow: at least one of its real
//    servers has a weight above 0. A service whose real servers are all down (removed, or
//    weight 0 under inhibit_on_failure) no longer counts; when no service of the VIP
//    counts, this director withdraws the VIP and the router sends its flows to the
//    directors that can still serve them. A sorry server in use counts: it is what the
//    operator asked to serve with (keepalived's quorum rules);
//  * this director is ready: session sync has its peers' tables (or the join timeout
//    passed), so the flows the router moves here are found or re-hashed to the same place;
//  * it is not draining: a graceful stop withdraws everything first and keeps forwarding
//    for drain_time while the router moves the traffic away.
//
// Each change is one address added to or removed from the device (VipDevice), so the
// routing daemon sees one route appear or go, and no other VIP's route is touched.
// Firewall-mark services have no address to announce and are left out.
//
// Not thread-safe by itself: the daemon calls it under one lock (cluster/cluster_node.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cluster/vip_device.h"
#include "net/addr.h"
#include "svc/snapshot.h"

namespace sluice::cluster {

// The addresses of the services in `snap` that can take a new flow (see above).
std::set<net::IpAddr> availableVips(const svc::Snapshot& snap);

class Announcer {
 public:
  explicit Announcer(VipDevice& dev) : dev_(dev) {}

  void setAvailable(std::set<net::IpAddr> vips);
  void setReady(bool ready);
  // Withdraws every VIP and keeps them off until the process ends.
  void drain();

  bool ready() const { return ready_; }
  bool draining() const { return draining_; }
  // What is on the device now, and what would be if nothing were held back.
  std::vector<net::IpAddr> announced() const { return dev_.addresses(); }
  const std::set<net::IpAddr>& available() const { return available_; }
  // Errors from the device since the last call (each is also logged).
  std::vector<std::string> takeErrors();

 private:
  void apply();
  VipDevice& dev_;
  std::set<net::IpAddr> available_;
  bool ready_ = false;
  bool draining_ = false;
  std::vector<std::string> errors_;
};

}  // namespace sluice::cluster
