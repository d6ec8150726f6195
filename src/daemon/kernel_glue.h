// The daemon's adapters between the Director and the kernel: next hops from rtnetlink
// (route lookup + the watched neighbour table) and the XDP steering map kept in step with
// the configured virtual services.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#include "daemon/director.h"
#include "io/neighbour_table.h"
#include "io/netlink.h"
#include "io/xdp_loader.h"

namespace sluice::daemon {

class NetlinkNextHops final : public NextHopSource {
 public:
  // `links`: the data-plane interfaces; only routes out of one of them are usable.
  NetlinkNextHops(std::vector<io::LinkInfo> links, const io::NeighbourTable& neigh,
                  const Clock& clock)
      : links_(std::move(links)), neigh_(neigh), clock_(clock) {}

  std::optional<NextHop> resolve(const net::IpAddr& rs) override;
  void request(const net::IpAddr& rs) override;
  uint64_t version() const override { return neigh_.version(); }

 private:
  const io::LinkInfo* link(uint32_t ifindex) const;

  std::vector<io::LinkInfo> links_;
  const io::NeighbourTable& neigh_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<net::IpAddr, Nanos> last_request_;  // at most one kernel request per second each
};

class SteerSync final : public ServiceListener {
 public:
  explicit SteerSync(io::SteerProgram& prog) : prog_(prog) {}
  // Installs what is missing and removes what went; entries the kernel refused stay out of
  // `installed_`, so the next change tries them again. Every refusal is in the error.
  Status servicesChanged(const svc::Snapshot& snap) override;
  // The `peer_macs` map and its count in the config record.
  Status peerMacsChanged(std::span<const net::MacAddr> macs) override;

 private:
  using Key = std::tuple<net::IpAddr, uint8_t, uint16_t>;
  io::SteerProgram& prog_;
  std::mutex mu_;
  std::set<Key> installed_;
  std::set<net::IpAddr> vips_;
};

// Attaches the steering program to one data-plane interface in the mode io::chooseXdpMode
// picks for it from the operator's --xdp-mode (auto: generic on veth, native elsewhere),
// turns the fast path's half-done-checksum test on where that mode needs it, and logs the
// mode, why, and every warning with its fix. A pinned link taken over under auto keeps its
// mode, and that mode is what is judged.
Status attachSteering(io::SteerProgram& prog, const io::LinkInfo& link, io::XdpMode requested);

}  // namespace sluice::daemon
