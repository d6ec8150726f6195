// The kernel's neighbour (ARP/ND) table as the data path sees it: (ifindex, IP) -> MAC.
//
// A watcher thread follows rtnetlink (dump at start, then RTM_NEWNEIGH/RTM_DELNEIGH events)
// and publishes immutable snapshots; workers read through a NeighbourReader that only
// touches the shared snapshot pointer when the version counter moved, so a lookup is one
// atomic load and a hash probe, no lock and no allocation. The cost is a full copy of the
// map per batch of kernel events, which is fine for the hundreds of next hops an LB has.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/result.h"
#include "io/netlink.h"
#include "net/addr.h"

namespace sluice::io {

struct NeighKey {
  uint32_t ifindex = 0;
  net::IpAddr addr;
  friend bool operator==(const NeighKey&, const NeighKey&) = default;
};

struct NeighKeyHash {
  size_t operator()(const NeighKey& k) const noexcept {
    return net::IpAddrHash{}(k.addr) ^ (size_t(k.ifindex) * 0x9e3779b97f4a7c15ull);
  }
};

class NeighbourSnapshot {
 public:
  using Map = std::unordered_map<NeighKey, net::MacAddr, NeighKeyHash>;
  NeighbourSnapshot() = default;
  explicit NeighbourSnapshot(Map m) : map_(std::move(m)) {}
  std::optional<net::MacAddr> lookup(uint32_t ifindex, const net::IpAddr& a) const noexcept {
    auto it = map_.find(NeighKey{ifindex, a});
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const noexcept { return map_.size(); }
  const Map& entries() const noexcept { return map_; }

 private:
  Map map_;
};

// Applies one kernel message to a working map: usable entries in, everything else out.
// Returns whether the map changed.
bool applyNeighUpdate(NeighbourSnapshot::Map& m, const NeighUpdate& u);

class NeighbourTable {
 public:
  NeighbourTable() : snap_(std::make_shared<const NeighbourSnapshot>()) {}
  std::shared_ptr<const NeighbourSnapshot> snapshot() const { return snap_.load(); }
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const NeighbourSnapshot> s) {
    snap_.store(std::move(s));
    version_.fetch_add(1, std::memory_order_release);
  }
  // For the control plane; workers use a NeighbourReader.
  std::optional<net::MacAddr> lookup(uint32_t ifindex, const net::IpAddr& a) const {
    return snapshot()->lookup(ifindex, a);
  }

 private:
  std::atomic<std::shared_ptr<const NeighbourSnapshot>> snap_;
  std::atomic<uint64_t> version_{0};
};

// A worker's handle: keeps its own reference to the current snapshot.
class NeighbourReader {
 public:
  explicit NeighbourReader(const NeighbourTable& t) : table_(&t) { refresh(); }
  std::optional<net::MacAddr> lookup(uint32_t ifindex, const net::IpAddr& a) noexcept {
    if (table_->version() != seen_) refresh();
    return snap_->lookup(ifindex, a);
  }

 private:
  void refresh() noexcept {
    seen_ = table_->version();
    snap_ = table_->snapshot();
  }
  const NeighbourTable* table_;
  std::shared_ptr<const NeighbourSnapshot> snap_;
  uint64_t seen_ = 0;
};

// Keeps a NeighbourTable in step with the kernel of the network namespace it was started in.
class NeighbourWatcher {
 public:
  // Subscribes, dumps the current table (published before this returns), then follows
  // events on its own thread. `table` must outlive the watcher.
  static Result<std::unique_ptr<NeighbourWatcher>> start(NeighbourTable& table);
  ~NeighbourWatcher();  // stop()
  void stop();
  uint64_t resyncs() const { return resyncs_.load(); }  // full dumps after event overflow

 private:
  NeighbourWatcher() = default;
  void run();
  Status dumpInto(NeighbourSnapshot::Map& m);

  NeighbourTable* table_ = nullptr;
  mnl_socket* events_ = nullptr;
  int stop_fd_ = -1;  // eventfd
  NeighbourSnapshot::Map work_;  // the watcher thread's private copy
  std::thread thread_;
  std::atomic<uint64_t> resyncs_{0};
};

}  // namespace sluice::io
