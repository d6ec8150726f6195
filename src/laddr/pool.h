// FULLNAT local address and port pools (DPVS's sa_pool): the <LIP, lport> a FULLNAT
// connection's requests leave from, each held by one connection at a time, taken when the
// connection is created and given back when the table frees it, whatever path frees it
// (conn::ConnRelease).
//
// One bitmap of the 65536 ports per local address, shared by every service that names the
// address (an address is one host address: a port on it must not serve two connections,
// whichever service made them). The port range is cut into one slice per worker, and each
// worker takes ports only from its own slice, scanning from where it last stopped: workers
// never compete for a port, and no lock is taken (bits are set and cleared with atomic
// operations, so a port freed by another thread's sweep is seen at once). The trade-off
// against DPVS's free lists: a taken port costs a scan of a bitmap word (64 ports) per step
// instead of a list pop, and a nearly full slice costs up to its whole length (about 1000
// words) before the connection is refused, bounded and without a lock.
//
// The range leaves out the kernel's ephemeral ports by default (1024-32767 against Linux's
// 32768-60999): the director's own connections from a local address (health checks) must
// never look like a FULLNAT connection's reply. In a cluster each director takes a
// disjoint part of the range (PortRange::slice by node id), so entries synced between
// directors never collide.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "abi/records.h"
#include "conn/conn_table.h"
#include "net/addr.h"

namespace sluice::laddr {

struct PortRange {
  uint16_t lo = 1024;
  uint16_t hi = 32767;  // inclusive
  // Part `index` of `count` equal parts (the last takes the rest); an empty part when the
  // range has fewer ports than parts.
  PortRange slice(unsigned index, unsigned count) const noexcept;
  uint32_t size() const noexcept { return hi >= lo ? uint32_t(hi - lo) + 1 : 0; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

class Pools final : public conn::ConnRelease {
 public:
  static constexpr size_t kMaxAddrs = 4096;  // distinct local addresses ever used
  static constexpr unsigned kMaxWorkers = 64;

  // `workers` slices of `range` (clamped to 1..kMaxWorkers).
  Pools(unsigned workers, PortRange range);
  ~Pools();
  Pools(const Pools&) = delete;
  Pools& operator=(const Pools&) = delete;

  // A free <LIP, lport> for `worker`, from the first of `laddrs` (tried round robin from
  // this worker's last choice) that has one in the worker's slice: written to out->addr and
  // out->port (network byte order). false: every address's slice is full.
  bool allocate(unsigned worker, std::span<const net::IpAddr> laddrs, sl_conn_ext* out) noexcept;
  // Gives a port back (the table's release hook, or a creation that failed after taking it).
  void release(uint8_t family, const sl_conn_ext& local) noexcept;
  void released(const sl_conn& c, const sl_conn_ext& e) noexcept override {
    release(c.key.family, e);
  }
  // Marks a port taken without choosing it: a connection found in the table at start
  // (pinned state of a previous daemon) or installed by session sync. false: it already was.
  bool take(uint8_t family, const sl_conn_ext& local) noexcept;
  // Every FULLNAT connection of `table` holds its port again (after a restart over pinned
  // state). Under the table's writer lock.
  void adopt(conn::ConnTable& table, Nanos now);

  // Ports of `addr` in use now (ipvsadm --get-laddr's CONNS), any service.
  uint64_t inUse(const net::IpAddr& addr) const noexcept;
  const PortRange& range() const noexcept { return range_; }
  PortRange workerRange(unsigned worker) const noexcept;

 private:
  struct Addr;
  Addr* find(uint8_t family, const uint8_t* bytes) const noexcept;
  Addr* findOrAdd(const net::IpAddr& a) noexcept;

  unsigned workers_;
  PortRange range_;
  std::unique_ptr<std::atomic<Addr*>[]> addrs_;  // open addressing, never removed
  std::mutex add_mu_;                            // adding an address (its first use)
  struct alignas(64) WorkerState {
    uint32_t next_addr = 0;  // round robin over the service's addresses
  };
  std::unique_ptr<WorkerState[]> worker_;
};

}  // namespace sluice::laddr
