// Session sync's view of this director's connection table: where entries from peers are
// installed (DirectorSyncStore, the cluster::SyncStore the SyncNode calls) and where this
// director's own connections come from (SyncFeed: new connections as the slow path creates
// them, and a periodic refresh so that a long-lived flow does not expire on the peers).
//
// Installing binds an entry to this director's own ids: the service by <proto, vip,
// svc_port> or fwmark and the real server by address and port, both in the current snapshot.
// An entry for a service or server this director does not have is skipped and counted (the
// configs disagree, for a moment during a rolling reload or for good: the counter says which).
// A synced entry is bound as the slow path binds a new one (conn/conn_ops.h): the dest's
// counts, SL_CONN_F_INACTIVE from the state, and the template link when its template is here.
//
// A key already in the table is this director's business first: when it is bound to another
// real server (both directors scheduled the flow, e.g. across an ECMP change), the local
// binding stays, since packets here already went there; it is counted as a conflict. When it
// is bound to the same real server, the peer's entry only extends it (state and timeout
// taken when they leave the entry more time), which is what a peer's refresh is for.
// Threading: install() and walk() on the sync thread; the table locks itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "cluster/sync_node.h"
#include "daemon/director.h"
#include "dp/conn_events.h"

namespace sluice::daemon {

struct SyncStoreStats {
  uint64_t installed = 0;
  uint64_t refreshed = 0;  // an existing entry extended by the peer's
  uint64_t unknown_service = 0;
  uint64_t unknown_dest = 0;
  uint64_t conflict = 0;    // the key is here, established with another real server: kept
  uint64_t superseded = 0;  // the key was here, an earlier connection (closed): replaced
  uint64_t stale = 0;       // a refresh of a connection that has ended here: ignored
  uint64_t table_full = 0;
  uint64_t unlinked = 0;      // installed without its template, which is not here (yet)
  uint64_t walk_skipped = 0;  // local entries that cannot be synced (no service/dest, FULLNAT)
};

class DirectorSyncStore final : public cluster::SyncStore {
 public:
  explicit DirectorSyncStore(Director& director) : director_(director) {}

  void install(const cluster::SyncEntry& e) override;
  // Templates first, then connections, so that a receiver links each connection to its
  // template as it installs it.
  void walk(const std::function<void(const cluster::SyncEntry&)>& fn) override;

  SyncStoreStats stats() const;

 private:
  void refreshExisting(sl_conn& c, const cluster::SyncEntry& e, Nanos now);

  Director& director_;
  struct Counters {
    std::atomic<uint64_t> installed{0}, refreshed{0}, unknown_service{0}, unknown_dest{0},
        conflict{0}, superseded{0}, stale{0}, table_full{0}, unlinked{0}, walk_skipped{0};
  };
  Counters c_;
};

// What this director tells its peers. connCreated() runs on a worker thread: it resolves the
// entry's service and real server in the current snapshot (one shared_ptr copy under the
// publisher's cold mutex) and pushes the template, then the connection, as critical updates.
// refresh() is for a housekeeping thread: each call pushes one slice of the table (by key
// hash, kRefreshSlices slices) as refreshes, so a whole table is refreshed every
// kRefreshSlices calls without one burst larger than the node's push buffer. Call it every
// second: every entry is then refreshed every 30 s, well inside every timeout worth syncing.
class SyncFeed final : public dp::ConnEventSink {
 public:
  static constexpr uint32_t kRefreshSlices = 30;
  using Push = std::function<void(const cluster::SyncEntry&, cluster::Urgency)>;

  // `push` is normally SyncNode::push; it must not block.
  SyncFeed(Director& director, Push push) : director_(director), push_(std::move(push)) {}

  void connCreated(const sl_conn& conn, const sl_conn* tmpl,
                   const sl_conn_ext& ext) noexcept override;
  // A connection's end (FIN, RST) or its reopening by a SYN, critical too: the peers' copies
  // go to the closing state and its timeout, so the next connection on the same ports is
  // scheduled afresh there; a reopened one replaces their closing copy.
  void connStateChanged(const sl_conn& conn, const sl_conn_ext& ext) noexcept override;
  void refresh();

  uint64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  // `c` as a sync entry, pushed; or counted as skipped when it cannot travel.
  void send(const svc::Snapshot& snap, const sl_conn& c, const sl_conn* tmpl,
            const sl_conn_ext& ext, Nanos now, cluster::Urgency urgency);

  Director& director_;
  Push push_;
  uint32_t slice_ = 0;  // refresh()'s, one caller
  std::atomic<uint64_t> skipped_{0};
};

}  // namespace sluice::daemon
