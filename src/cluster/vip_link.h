// The kernel half of the VIP device: a TUN interface that exists exactly as long as one file
// descriptor, and its addresses, changed over rtnetlink one at a time.
//
// Why a TUN device and not a dummy interface or `lo`: a dummy or lo address outlives the
// process that put it there, so a crashed sluiced would go on attracting traffic until someone
// cleaned up. A non-persistent TUN device is removed by the kernel when its last descriptor
// closes (exit, SIGKILL, OOM kill, segfault alike), and the routing daemon, which follows
// netlink, withdraws the routes at once. The price: the descriptor must never leak into a
// child (O_CLOEXEC), or the child would keep the VIPs announced after sluiced died.
//
// Nothing reads the descriptor. The VIPs are local addresses, so traffic to them goes through
// the local table and never into the device; what little the kernel might send out of it (a
// route someone points at it) is dropped at once because the transmit queue length is 0
// (measured: 20,000 packets routed in, 20,000 counted as tx_dropped, nothing held; with the
// default 500 the ring keeps 500 packets, bounded but useless). IPv6 address generation is
// off, so the device has no link-local address and sends no router solicitations or MLD.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/addr.h"

namespace sluice::cluster {

// What VipDevice needs from the kernel; the TUN implementation below, a recording fake in
// the tests. Both calls change only the one address they name.
class VipLink {
 public:
  virtual ~VipLink() = default;
  // Adds `addr` as a host address (/32 or /128). Already present: success, nothing changes.
  virtual Status addAddress(const net::IpAddr& addr) = 0;
  // Removes `addr`. Already absent: success.
  virtual Status removeAddress(const net::IpAddr& addr) = 0;
};

// A TUN device owned by this process: created (never adopted), configured and brought up by
// open(); removed by the kernel with everything on it when the object is destroyed or the
// process dies.
class TunLink final : public VipLink {
 public:
  // `name` must pass validateVipDeviceName(). Fails, with the fix in the message, when an
  // interface of that name already exists (see vip_device.h for why we refuse to adopt it),
  // without CAP_NET_ADMIN, or without /dev/net/tun.
  static Result<std::unique_ptr<TunLink>> open(const std::string& name);
  ~TunLink() override;
  TunLink(const TunLink&) = delete;
  TunLink& operator=(const TunLink&) = delete;

  Status addAddress(const net::IpAddr& addr) override;
  Status removeAddress(const net::IpAddr& addr) override;

  uint32_t ifindex() const { return ifindex_; }
  const std::string& name() const { return name_; }

 private:
  TunLink(int fd, uint32_t ifindex, std::string name)
      : fd_(fd), ifindex_(ifindex), name_(std::move(name)) {}
  int fd_;
  uint32_t ifindex_;
  std::string name_;
};

// The kernel's rules for interface names (non-empty, at most 15 bytes, not "." or "..", no
// '/', ':' or whitespace), plus ours: printable ASCII only, and no '%' (the TUN driver would
// read "%d" as a template and pick a name we did not ask for).
Status validateVipDeviceName(std::string_view name);

// A VIP must be a unicast address another host can reach: not unspecified, loopback,
// multicast, IPv4 broadcast, IPv6 link-local or IPv4-mapped.
Status validateVip(const net::IpAddr& addr);

}  // namespace sluice::cluster
