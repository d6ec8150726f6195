// Session sync over the Director's tables; see sync_store.h.
#include "daemon/sync_store.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "cluster/sync_conn.h"
#include "conn/conn_ops.h"
#include "conn/tcp_state.h"
#include "dp/dest_table.h"
#include "dp/nat_reply.h"
#include "net/packet.h"

namespace sluice::daemon {
namespace {

using cluster::SyncEntry;

// The synced form of a local entry (`ext`: its extension record, FULLNAT's local end), or
// nullopt when it cannot travel: its service or real server is gone from the snapshot, or
// it fails the wire's rules.
std::optional<SyncEntry> entryOf(const svc::Snapshot& snap, const sl_conn& c, const sl_conn* tmpl,
                                 const sl_conn_ext& ext, Nanos now) {
  if (c.key.pad != 0) return std::nullopt;  // an invalidated template: unreachable here too
  const svc::ServiceRt* s = snap.findServiceById(c.svc_id);
  const svc::DestRt* d = snap.findDest(c.dest_id);
  if (!s || !d) return std::nullopt;
  cluster::ConnContext ctx;
  ctx.dest = d->cfg.ep;
  ctx.svc_fwmark = s->cfg.key.fwmark;
  ctx.svc_port = s->cfg.key.fwmark ? 0 : s->cfg.key.port;
  if (tmpl && tmpl->key.pad == 0) ctx.tmpl = &tmpl->key;
  if (c.fwd == SL_FWD_FULLNAT && c.key.kind == SL_KEY_CONN) {
    const net::IpAddr laddr = c.key.family == SL_AF_V4 ? net::IpAddr::fromV4Bytes(ext.addr)
                                                       : net::IpAddr::fromV6Bytes(ext.addr);
    ctx.local = net::Endpoint{laddr, ntohs(ext.port)};
  }
  SyncEntry e = cluster::entryFromConn(c, ctx, now);
  if (!cluster::validateEntry(e)) return std::nullopt;
  return e;
}

const svc::ServiceRt* serviceOf(const svc::Snapshot& snap, const SyncEntry& e) {
  if (e.svc_fwmark) return snap.findFwmark(e.family(), e.svc_fwmark);
  const svc::ServiceRt* s = snap.findService(e.proto, e.vip.addr, e.svc_port);
  // findService falls back to a port-0 service; the peer named its service exactly.
  return s && s->cfg.key.port == e.svc_port ? s : nullptr;
}

// Whether the peer's entry, bound elsewhere, is a later connection on the same tuple than the
// local one, which then goes. A client reuses a port only once its connection is over, so a
// local TCP entry that is closing or closed (TIME_WAIT, CLOSE, FIN_WAIT...) is an earlier
// connection; so is one that never got past its handshake here when the peer saw it
// established. An established local entry is kept (a real conflict: counted), and so are
// templates and UDP, where nothing tells which is the later.
bool supersedes(const SyncEntry& e, const sl_conn& local) {
  if (e.kind != SL_KEY_CONN || e.proto != net::kProtoTcp) return false;
  if (local.flags & SL_CONN_F_TEMPLATE) return false;
  if (!conn::isActiveState(local.state)) return true;
  return local.state != SL_TCP_ESTABLISHED && e.state == SL_TCP_ESTABLISHED;
}

uint8_t localFlags(const SyncEntry& e) {
  uint8_t f = e.flags & cluster::kSyncedConnFlags;
  if (e.kind == SL_KEY_CONN && !conn::isActiveState(e.state)) f |= SL_CONN_F_INACTIVE;
  return f;
}

}  // namespace

void DirectorSyncStore::install(const SyncEntry& e) {
  const std::shared_ptr<const svc::Snapshot> snap = director_.services().snapshot();
  const svc::ServiceRt* s = serviceOf(*snap, e);
  if (!s) {
    c_.unknown_service.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const svc::DestRt* d = nullptr;
  for (const svc::DestRt& r : s->dest_rt)
    if (r.cfg.ep == e.dest && !r.trashed) d = &r;
  if (!d) {
    c_.unknown_dest.fetch_add(1, std::memory_order_relaxed);
    return;
  }

  conn::ConnTable& table = director_.conns();
  const Nanos now = director_.clock().now();
  const sl_conn_key key = cluster::connKeyOf(e);
  // Lookup, insert and the template link under one writer lock: no worker inserts the same
  // key in between, and nothing moves the entries found.
  conn::ConnTable::WriterLock lock = table.lockWriter();
  if (sl_conn* old = table.lookup(key, now)) {
    if (old->dest_id == d->dest_id && old->svc_id == s->svc_id) {
      refreshExisting(*old, e, now);
      return;
    }
    // Bound elsewhere here. Kept, the flow would go to the wrong real server (which
    // resets it) the moment the router moves it to this director.
    if (!supersedes(e, *old)) {
      c_.conflict.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    table.erase(old);  // its counts and its reply twin go with it
    c_.superseded.fetch_add(1, std::memory_order_relaxed);
  }
  sl_conn* tmpl = nullptr;
  if (auto tkey = cluster::templateKeyOf(e)) {
    tmpl = table.lookup(*tkey, now);
    if (tmpl && tmpl->dest_id != d->dest_id) tmpl = nullptr;  // a template of another binding
  }
  // A NAT or FULLNAT connection needs its reply twin, or the real server's replies would
  // find nothing here after a failover; the twin first, as the data path does (the
  // connection's insert may move it otherwise). A FULLNAT connection keeps the peer's local
  // end (a port of the peer's part of the range: never one this director hands out), which
  // is held here too until the entry goes.
  sl_conn_ext local{};
  const bool fnat = e.fwd == SL_FWD_FULLNAT && e.kind == SL_KEY_CONN;
  if (fnat) {
    std::memcpy(local.addr, e.local.addr.bytes.data(), 16);
    local.port = htons(e.local.port);
    if (!director_.localPorts().take(uint8_t(e.family()), local)) {
      c_.conflict.fetch_add(1, std::memory_order_relaxed);  // the port is in use here
      return;
    }
  }
  if ((e.fwd == SL_FWD_NAT || fnat) && e.kind == SL_KEY_CONN) {
    const sl_dest rec = dp::makeDestRecord(d->cfg.ep, e.fwd);
    const sl_conn_ext client = dp::fnatTwinExt(key);
    if (!conn::createTwin(table, fnat ? dp::fnatTwinKeyOf(key, local, rec) : dp::twinKeyOf(key, rec),
                          conn::Binding{s->svc_id, d->dest_id, e.fwd}, now,
                          fnat ? &client : nullptr)) {
      if (fnat) director_.localPorts().release(uint8_t(e.family()), local);
      c_.table_full.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  sl_conn* c = table.insert(key, now);  // locked; may move other connections, never templates
  if (!c) {
    if (fnat) director_.localPorts().release(uint8_t(e.family()), local);
    c_.table_full.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  table.ext(*c) = local;  // before the entry is unlocked
  c->svc_id = s->svc_id;
  c->dest_id = d->dest_id;
  c->fwd = e.fwd;  // the method bound where the flow was scheduled
  c->state = e.state;
  c->timeout_s = e.timeout_s;
  c->flags = localFlags(e);
  if (!tmpl) c->flags &= uint8_t(~SL_CONN_F_CONTROLLED);
  if (conn::DestAccounting* acc = table.dests()) acc->bind(*c);
  conn::ConnTable::unlockEntry(*c);
  if (tmpl) {
    table.attachToTemplate(*c, *tmpl, now);
  } else if (e.has_template) {
    c_.unlinked.fetch_add(1, std::memory_order_relaxed);
  }
  c_.installed.fetch_add(1, std::memory_order_relaxed);
}

void DirectorSyncStore::refreshExisting(sl_conn& c, const SyncEntry& e, Nanos now) {
  conn::ConnTable::lockEntry(c);
  // A peer saw the connection end (FIN, RST): its closing state and shorter timeout are
  // taken as they are, where a refresh only ever extends. And a connection that ended here
  // is not brought back by a peer's refresh of its copy (the copy was sent before the end
  // reached that peer): only a new connection on the same ports, still in its handshake,
  // replaces it.
  const bool tcp_conn = e.kind == SL_KEY_CONN && e.proto == net::kProtoTcp;
  const bool ending = tcp_conn && e.state != c.state && !conn::isActiveState(e.state);
  const bool ended_here = tcp_conn && !conn::isActiveState(c.state);
  const bool reopening = ended_here && (e.state == SL_TCP_SYN_RECV || e.state == SL_TCP_SYN_SENT);
  if (ended_here && !ending && !reopening) {
    conn::ConnTable::unlockEntry(c);
    c_.stale.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (ending || reopening || conn::ConnTable::remaining(c, now) < Nanos(e.timeout_s) * kSecond) {
    if (c.state != e.state && e.kind == SL_KEY_CONN) {
      if (conn::DestAccounting* acc = director_.conns().dests())
        acc->noteActivity(c, conn::isActiveState(e.state));
      c.state = e.state;
    }
    c.timeout_s = e.timeout_s;
    c.last_seen_ns = now;
    c_.refreshed.fetch_add(1, std::memory_order_relaxed);
  }
  conn::ConnTable::unlockEntry(c);
}

void DirectorSyncStore::walk(const std::function<void(const SyncEntry&)>& fn) {
  const std::shared_ptr<const svc::Snapshot> snap = director_.services().snapshot();
  conn::ConnTable& table = director_.conns();
  const Nanos now = director_.clock().now();
  for (bool templates : {true, false}) {
    table.forEach(now, [&](const sl_conn& c) {
      // A twin is not a connection: the receiver makes its own from the NAT connection.
      if (conn::ConnTable::isReplyTwin(c)) return;
      if (bool(c.flags & SL_CONN_F_TEMPLATE) != templates) return;
      // forEach holds the writer lock, which templateOf() needs.
      const sl_conn* tmpl = templates ? nullptr : table.templateOf(c);
      if (auto e = entryOf(*snap, c, tmpl, table.ext(c), now))
        fn(*e);
      else
        c_.walk_skipped.fetch_add(1, std::memory_order_relaxed);
    });
  }
}

SyncStoreStats DirectorSyncStore::stats() const {
  auto r = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return SyncStoreStats{r(c_.installed),  r(c_.refreshed),    r(c_.unknown_service),
                        r(c_.unknown_dest), r(c_.conflict), r(c_.superseded),
                        r(c_.stale),      r(c_.table_full),   r(c_.unlinked),
                        r(c_.walk_skipped)};
}

void SyncFeed::send(const svc::Snapshot& snap, const sl_conn& c, const sl_conn* tmpl,
                    const sl_conn_ext& ext, Nanos now, cluster::Urgency urgency) {
  if (auto e = entryOf(snap, c, tmpl, ext, now))
    push_(*e, urgency);
  else
    skipped_.fetch_add(1, std::memory_order_relaxed);
}

void SyncFeed::connCreated(const sl_conn& conn, const sl_conn* tmpl,
                           const sl_conn_ext& ext) noexcept {
  const std::shared_ptr<const svc::Snapshot> snap = director_.services().snapshot();
  const Nanos now = director_.clock().now();
  // The template first: a peer links the connection to it as it installs the connection.
  if (tmpl) send(*snap, *tmpl, nullptr, sl_conn_ext{}, now, cluster::Urgency::kCritical);
  send(*snap, conn, tmpl, ext, now, cluster::Urgency::kCritical);
}

void SyncFeed::connStateChanged(const sl_conn& conn, const sl_conn_ext& ext) noexcept {
  const std::shared_ptr<const svc::Snapshot> snap = director_.services().snapshot();
  send(*snap, conn, nullptr, ext, director_.clock().now(), cluster::Urgency::kCritical);
}

void SyncFeed::refresh() {
  const uint32_t slice = slice_++ % kRefreshSlices;
  const std::shared_ptr<const svc::Snapshot> snap = director_.services().snapshot();
  conn::ConnTable& table = director_.conns();
  const Nanos now = director_.clock().now();
  table.forEach(now, [&](const sl_conn& c) {
    if (conn::ConnTable::isReplyTwin(c)) return;
    if (table.hash(c.key) % kRefreshSlices != slice) return;
    // What a peer needs kept alive: templates, established TCP, UDP. A handshake or a
    // closing connection is short-lived and its state change is already critical.
    const bool keep =
        (c.flags & SL_CONN_F_TEMPLATE) || c.state == SL_TCP_ESTABLISHED || c.state == SL_STATE_UDP;
    if (!keep) return;
    const sl_conn* tmpl = (c.flags & SL_CONN_F_TEMPLATE) ? nullptr : table.templateOf(c);
    send(*snap, c, tmpl, table.ext(c), now, cluster::Urgency::kRefresh);
  });
}

}  // namespace sluice::daemon
