// The one writer of the real servers' forwarding records (sl_dest in dp::DestTable, shared
// with the XDP program under a seqlock): from the configuration snapshot (which servers,
// available or deleted) and the kernel's next hops (egress interface and MACs). Workers
// only read the records; one that meets an unresolved server flags it (want(), atomics
// only, safe on the data path) and housekeeping refreshes soon after. Trade-off: records
// are rewritten whole from the snapshot on every change (a scan of every server) rather
// than patched per operation, so no change can leave a stale record behind.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "common/clock.h"
#include "dp/dest_table.h"
#include "net/addr.h"
#include "svc/snapshot.h"

namespace sluice::daemon {

// Where a real server's frames go: egress interface, its MAC, the next hop's MAC; or, for a
// real server whose address is this host's own (`local`, IPVS's LOCALNODE), nowhere: its
// packets go to the local stack and the other fields are unused.
// A TUN real server also needs the outer header's source (`src`: the route's preferred
// source, else the egress interface's first address of the family; zero when none, and
// then the data path drops its packets as tun_no_source) and the egress MTU the
// encapsulated packet must fit (0: unknown). TUN real servers may sit behind a router:
// dmac is the route's gateway's MAC then, as for any next hop.
struct NextHop {
  uint32_t ifindex = 0;
  net::MacAddr smac{};
  net::MacAddr dmac{};
  bool local = false;
  net::IpAddr src{};
  uint32_t mtu = 0;
};

// How the director learns next hops (netlink in the daemon, a table in tests).
class NextHopSource {
 public:
  virtual ~NextHopSource() = default;
  // nullopt: not resolvable now (no route, or no neighbour entry yet). A local address
  // resolves to a NextHop with `local` set.
  virtual std::optional<NextHop> resolve(const net::IpAddr& rs) = 0;
  // Ask for resolution of `rs` (e.g. trigger ARP); the answer shows up in a later resolve().
  virtual void request(const net::IpAddr& rs) = 0;
  // Changes whenever resolve() may answer differently (neighbour table version).
  virtual uint64_t version() const = 0;
};

class DestWriter {
 public:
  static constexpr Nanos kRefreshEvery = 2 * kSecond;

  DestWriter(const Clock& clock, NextHopSource& next_hops, dp::DestTable& table,
             uint32_t max_dests);

  // Any thread, data path included: a worker found dest_id's next hop unresolved.
  void want(uint32_t dest_id) noexcept;
  // Rewrites every record from `snap` now (after a configuration change).
  void refresh(const svc::Snapshot& snap);
  // Housekeeping: refreshes if a worker asked, the neighbour table or the configuration
  // changed, or kRefreshEvery passed.
  void maybeRefresh(const svc::Snapshot& snap);

 private:
  const Clock& clock_;
  NextHopSource& next_hops_;
  dp::DestTable& table_;
  const uint32_t max_dests_;
  std::mutex mu_;
  uint64_t seen_version_ = ~0ull;
  uint64_t seen_snapshot_ = ~0ull;
  Nanos last_refresh_ = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> wanted_;  // per dest_id: a worker lacked it
  std::atomic<bool> any_wanted_{false};
};

}  // namespace sluice::daemon
