// Per-real-server connection counts (ActiveConn / InActConn / PersistConn) and the -x/-y
// overload flag, kept exactly as IPVS keeps them in ip_vs_conn.c (ip_vs_bind_dest,
// ip_vs_unbind_dest) and ip_vs_proto_tcp.c (set_tcp_state).
//
// The counts live in a caller-provided array of sl_dest_counts indexed by dest_id: the
// schedulers read it, and later the XDP program will update it too, so every access goes
// through std::atomic_ref. The thresholds live in a parallel array the control plane edits
// through setLimits(). An id outside either array is simply not accounted.
#pragma once

#include <cstdint>
#include <span>

#include "abi/records.h"

namespace sluice::conn {

// ipvsadm -x (upper) and -y (lower) connection thresholds of one real server; 0 = none.
struct DestLimits {
  uint32_t u_threshold = 0;
  uint32_t l_threshold = 0;
};

class DestAccounting {
 public:
  DestAccounting() = default;  // accounts nothing
  DestAccounting(std::span<sl_dest_counts> counts, std::span<DestLimits> limits) noexcept
      : counts_(counts), limits_(limits) {}

  // A new entry bound to c.dest_id: a template counts in `persist`, a connection in
  // `inactive` when it carries SL_CONN_F_INACTIVE, else in `active`. Then, as IPVS, the
  // dest becomes overloaded when u_threshold && active + inactive >= u_threshold.
  void bind(const sl_conn& c) noexcept;
  // The entry goes away: undo bind(), then clear the overload flag once the dest is under
  // -y (or, without -y, under 3/4 of -x; without -x at all, unconditionally).
  void unbind(const sl_conn& c) noexcept;
  // The connection's state changed: move it between active and inactive when its
  // activity changed, and keep SL_CONN_F_INACTIVE in step (IPVS set_tcp_state).
  void noteActivity(sl_conn& c, bool active) noexcept;

  // ipvsadm -e ... -x/-y. As IPVS, removing or raising -x clears the overload flag now;
  // lowering it takes effect at the next new connection.
  void setLimits(uint32_t dest_id, DestLimits l) noexcept;
  DestLimits limits(uint32_t dest_id) const noexcept;

  // A consistent-enough copy for display (each field read atomically on its own).
  sl_dest_counts read(uint32_t dest_id) const noexcept;
  bool overloaded(uint32_t dest_id) const noexcept;
  size_t size() const noexcept { return counts_.size(); }

 private:
  sl_dest_counts* at(uint32_t id) const noexcept {
    return id < counts_.size() ? &counts_[id] : nullptr;
  }

  std::span<sl_dest_counts> counts_;
  std::span<DestLimits> limits_;
};

}  // namespace sluice::conn
