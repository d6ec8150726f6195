// The VIP device: the interface whose addresses the routing daemon announces (BIRD's
// `protocol direct`, FRR's `redistribute connected`, see lab/routing/). sluiced puts a VIP on
// it when the VIP should attract traffic and takes it off when it should not; the device and
// every address on it disappear with the process, so a dead director stops being announced
// without anyone's help.
//
// Each add() or remove() changes exactly one address, so the routing daemon sees one
// RTM_NEWADDR or RTM_DELADDR and the other VIPs' routes never flap; nothing is restarted or
// reconfigured.
//
// An interface that already has the name is refused, never adopted. Either another sluiced
// holds it (taking it over would leave two daemons announcing through one device, and the
// first one's death would withdraw the second one's VIPs), or it is a leftover or hand-made
// device (a persistent `ip tuntap`, a dummy) that would outlive us and keep announcing after
// a crash, which is the one thing this device exists to prevent. The error names the
// `ip link del` that clears a leftover.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/vip_link.h"
#include "common/result.h"
#include "net/addr.h"

namespace sluice::cluster {

class VipDevice {
 public:
  // Creates the TUN device `name` (e.g. "sluice-vip") in the caller's network namespace and
  // brings it up, with no address. Needs CAP_NET_ADMIN.
  static Result<std::unique_ptr<VipDevice>> create(std::string name);
  // The same bookkeeping over another link (tests).
  static Result<std::unique_ptr<VipDevice>> withLink(std::string name,
                                                     std::unique_ptr<VipLink> link);

  // Puts `vip` on the device as a /32 or /128. Adding one that is there already succeeds and
  // changes nothing (the kernel is asked again, which repairs an address removed by hand).
  Status add(const net::IpAddr& vip);
  // Takes `vip` off the device; one that is not there is not an error.
  Status remove(const net::IpAddr& vip);
  // The VIPs this object has put on the device, sorted.
  std::vector<net::IpAddr> addresses() const;
  const std::string& name() const { return name_; }

  // Closes the descriptor: the kernel removes the device with all its addresses at once.
  // A graceful stop that wants the traffic drained first remove()s the VIPs and waits before.
  ~VipDevice() = default;

 private:
  VipDevice(std::string name, std::unique_ptr<VipLink> link)
      : name_(std::move(name)), link_(std::move(link)) {}
  std::string name_;
  std::unique_ptr<VipLink> link_;
  std::set<net::IpAddr> vips_;
};

}  // namespace sluice::cluster
