#include "dp/datapath.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "conn/conn_ops.h"

namespace sluice::dp {

namespace {

constexpr bool isSyn(uint8_t flags) { return (flags & (net::kTcpSyn | net::kTcpAck | net::kTcpRst)) == net::kTcpSyn; }

// A SYN on a connection that is closing opens a new one (IPVS conn_reuse_mode=1).
bool closingState(uint8_t s) {
  return s == SL_TCP_FIN_WAIT || s == SL_TCP_TIME_WAIT || s == SL_TCP_CLOSE ||
         s == SL_TCP_CLOSE_WAIT || s == SL_TCP_LAST_ACK;
}

}  // namespace

sl_conn_key connKeyOf(const net::Parsed& p) noexcept {
  sl_conn_key k{};
  std::memcpy(k.caddr, p.saddr.bytes.data(), 16);
  std::memcpy(k.vaddr, p.daddr.bytes.data(), 16);
  k.cport = htons(p.sport);
  k.vport = htons(p.dport);
  k.proto = p.proto;
  k.family = uint8_t(p.family);
  k.kind = SL_KEY_CONN;
  return k;
}

bool Datapath::Pending::wantsLookup() const noexcept {
  const net::Parsed& p = pr.pkt;
  return pr.status == net::ParseStatus::kOk && !p.fragment &&
         (p.proto == net::kProtoTcp || p.proto == net::kProtoUdp);
}

Datapath::Pending Datapath::prepare(std::span<const uint8_t> frame) const noexcept {
  Pending pd;
  pd.pr = net::parseFrame(frame);
  if (pd.wantsLookup()) {
    pd.key = connKeyOf(pd.pr.pkt);
    pd.hash = conns_.hash(pd.key);
  }
  return pd;
}

Verdict Datapath::process(std::span<uint8_t> frame, const svc::Snapshot& snap, Nanos now) noexcept {
  Pending pd = prepare(frame);
  return finish(frame, pd, snap, now);
}

void Datapath::processBatch(std::span<const std::span<uint8_t>> frames, const svc::Snapshot& snap,
                            Nanos now, Verdict* out) noexcept {
  // Two passes, as VPP's lb node does: parse and hash every frame and prefetch both of
  // its buckets, then decide each one. In a large table the buckets are cache misses, and
  // this way they overlap instead of stalling one after another.
  std::array<Pending, kMaxBatch> pending;
  for (size_t base = 0; base < frames.size(); base += kMaxBatch) {
    const size_t n = std::min(kMaxBatch, frames.size() - base);
    for (size_t i = 0; i < n; ++i) {
      pending[i] = prepare(frames[base + i]);
      if (pending[i].wantsLookup()) conns_.prefetch(pending[i].hash);
    }
    for (size_t i = 0; i < n; ++i) out[base + i] = finish(frames[base + i], pending[i], snap, now);
  }
}

Verdict Datapath::finish(std::span<uint8_t> frame, const Pending& pd, const svc::Snapshot& snap,
                         Nanos now) noexcept {
  counters_.inc(Counter::kRxPackets);
  const net::ParseResult& pr = pd.pr;
  if (pr.status == net::ParseStatus::kNotIp) {
    counters_.inc(Counter::kPassPackets);
    return Verdict{Action::kPass};
  }
  if (pr.status == net::ParseStatus::kDrop) return drop(pr.drop);
  const net::Parsed& p = pr.pkt;

  // Only TCP and UDP to a virtual service are ours; everything else belongs to the host.
  if (p.proto != net::kProtoTcp && p.proto != net::kProtoUdp) {
    counters_.inc(Counter::kPassPackets);
    return Verdict{Action::kPass};
  }
  if (p.fragment) {
    if (!snap.isVip(p.daddr)) {
      counters_.inc(Counter::kPassPackets);
      return Verdict{Action::kPass};
    }
    // Reassembly is not done here yet: a fragmented datagram to a VIP cannot be
    // matched to its connection without its ports.
    return drop(p.family == net::Family::kV4 ? Counter::kIpv4Fragment : Counter::kIpv6Fragment);
  }

  const sl_conn_key& key = pd.key;
  const bool syn = p.proto == net::kProtoTcp && isSyn(p.tcp_flags);
  // Established flows take no table lock: a lock-free lookup, then the entry's own lock,
  // which also proves the entry was not moved or freed by another worker meanwhile.
  sl_conn* c = lockedLookup(key, pd.hash, now);
  if (c && syn && closingState(c->state)) {
    conn::ConnTable::unlockEntry(*c);  // reopened under the writer lock below
    c = nullptr;
  }
  if (!c) {
    const svc::ServiceRt* svc = snap.findService(p.proto, p.daddr, p.dport);
    if (!svc) {
      counters_.inc(Counter::kPassPackets);
      return Verdict{Action::kPass};
    }
    // As IPVS without sloppy_tcp: only a SYN opens a TCP connection.
    if (p.proto == net::kProtoTcp && !syn) return drop(Counter::kNoConnNotSyn);
    // The miss path of a packet that may open a connection, under the writer lock: the
    // key is looked up again there, so another worker that just created it is found
    // instead of a duplicate being inserted.
    conn::ConnTable::WriterLock lock = conns_.lockWriter();
    c = conns_.lookup(key, pd.hash, now);
    if (c && syn && closingState(c->state)) {
      // A SYN on a closing connection opens a new one (IPVS conn_reuse_mode=1).
      conns_.erase(c);
      c = nullptr;
      counters_.inc(Counter::kConnReused);
    }
    if (!c) {
      Counter why = Counter::kCount;
      c = newConnection(p, key, snap, *svc, now, &why);
      if (!c) return drop(why);
    }
    // Locked before the writer lock goes, so no other insert can move it meanwhile.
    conn::ConnTable::lockEntry(*c);
  }
  // Under the entry's lock: a concurrent fast path leaves it alone, and so does every
  // other worker. What forward() needs is copied out, since the entry may move once
  // it is unlocked.
  conn::updateConn(conns_, *c, conn::Direction::kInput, p.tcp_flags, timeouts_, now);
  const Bound b{c->svc_id, c->dest_id, c->flags};
  conn::ConnTable::unlockEntry(*c);
  stats_.inPacket(b.svc_id, b.dest_id, p.ip_len);
  return forward(frame, key, b);
}

sl_conn* Datapath::lockedLookup(const sl_conn_key& key, uint64_t hash, Nanos now) noexcept {
  // A candidate moved or freed by another worker between lookup and lock is looked up
  // again; each retry means another worker changed the table under us, so a few suffice
  // before the caller's miss path, which looks again under the writer lock, takes over.
  for (int tries = 0; tries < 4; ++tries) {
    sl_conn* c = conns_.lookup(key, hash, now);
    if (!c) return nullptr;
    if (conn::ConnTable::lockIfStill(*c, key)) return c;
  }
  return nullptr;
}

sl_conn* Datapath::newConnection(const net::Parsed& p, const sl_conn_key& key,
                                 const svc::Snapshot& snap, const svc::ServiceRt& svc, Nanos now,
                                 Counter* why) noexcept {
  const svc::ServiceConfig& cfg = svc.cfg;
  sl_conn* tmpl = nullptr;
  sl_conn_key tkey{};
  if (cfg.persistent) {
    tkey = conn::templateKey(key, cfg.persistence_prefix, cfg.key.port == 0);
    tmpl = conn::findTemplate(conns_, tkey, now);
    if (tmpl) {
      // ip_vs_check_template: a template whose real server was deleted is dropped and
      // the client is scheduled afresh. A quiescent (weight 0) server keeps its clients.
      const svc::DestRt* d = snap.findDest(tmpl->dest_id);
      if (!d || d->trashed || d->svc_id != svc.svc_id) {
        conn::ConnTable::lockEntry(*tmpl);  // keys change only under their entry's lock
        conn::invalidateTemplate(*tmpl);
        conn::ConnTable::unlockEntry(*tmpl);
        tmpl = nullptr;
      }
    }
  }

  uint32_t dest_id;
  uint8_t fwd;
  if (tmpl) {
    dest_id = tmpl->dest_id;
    fwd = tmpl->fwd;
  } else {
    sched::SchedInput in{p.saddr, p.sport, p.daddr, p.dport};
    int idx = svc.schedule(in);
    if (idx < 0) {
      *why = Counter::kNoRealServer;
      return nullptr;
    }
    const svc::DestRt& d = svc.dest_rt[size_t(idx)];
    dest_id = d.dest_id;
    fwd = uint8_t(d.cfg.fwd);
    if (cfg.persistent) {
      tmpl = conn::createTemplate(conns_, tkey, conn::Binding{svc.svc_id, dest_id, fwd},
                                  cfg.persistence_timeout, now);
      if (!tmpl) {
        *why = Counter::kConnTableFull;
        return nullptr;
      }
      counters_.inc(Counter::kTemplateNew);
    }
  }
  sl_conn* c = conn::createConn(conns_, key, conn::Binding{svc.svc_id, dest_id, fwd}, timeouts_,
                                now, tmpl);
  if (!c) {
    *why = Counter::kConnTableFull;
    return nullptr;
  }
  if (cfg.one_packet && p.proto == net::kProtoUdp) {
    conn::ConnTable::lockEntry(*c);
    c->flags |= SL_CONN_F_ONE_PACKET;
    conn::ConnTable::unlockEntry(*c);
  }
  counters_.inc(Counter::kConnNew);
  stats_.conn(svc.svc_id, dest_id);
  return c;
}

Verdict Datapath::forward(std::span<uint8_t> frame, const sl_conn_key& key, const Bound& b) noexcept {
  const uint32_t dest_id = b.dest_id;
  std::optional<sl_dest> d = dests_.read(dest_id);
  if (!d) {
    conns_.erase(key);
    return drop(Counter::kDestGone);
  }
  if (b.flags & SL_CONN_F_ONE_PACKET) conns_.erase(key);  // -o: the entry lives for one packet
  switch (d->fwd) {
    case SL_FWD_DR: {
      if (!(d->flags & SL_DEST_F_RESOLVED)) {
        if (resolve_) resolve_(dest_id);
        return drop(Counter::kNoNeighbour);
      }
      // Direct routing: the IP packet is untouched; only the Ethernet header changes.
      std::memcpy(frame.data(), d->dmac, 6);
      std::memcpy(frame.data() + 6, d->smac, 6);
      counters_.inc(Counter::kTxPackets);
      return Verdict{Action::kTx, d->ifindex};
    }
    default:
      return drop(Counter::kFwdUnsupported);
  }
}

}  // namespace sluice::dp
