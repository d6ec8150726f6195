#include "dp/datapath.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "conn/conn_ops.h"
#include "conn/tcp_state.h"
#include "conn/tuple_key.h"
#include "abi/predicates.h"
#include "dp/nat_reply.h"
#include "fwd/dr.h"
#include "fwd/fullnat.h"
#include "fwd/nat.h"
#include "fwd/tun.h"
#include "net/checksum.h"
#include "net/icmp_error.h"

namespace sluice::dp {

namespace {
// A copy of an entry taken under its lock, without the lock byte: what a reader of the copy
// (session sync) sees is the entry as it stands, not who held it.
sl_conn unlockedCopy(const sl_conn& c) noexcept {
  sl_conn copy = c;
  copy.word &= 0x00ffffffu;  // the lock byte (conn::ConnTable::lockEntry)
  return copy;
}
}  // namespace

sl_conn_key connKeyOf(const net::Parsed& p) noexcept {
  return conn::tupleKey(p.family, p.proto, p.saddr, p.sport, p.daddr, p.dport, SL_KEY_CONN);
}

sl_conn_key connKeyOf(const net::IcmpQuote& q) noexcept {
  // The quoted packet went from the service to the client: its ends swapped.
  return conn::tupleKey(q.family, q.proto, q.daddr, q.dport, q.saddr, q.sport, SL_KEY_CONN);
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
    pd.keyed = true;
  } else if (pd.pr.status == net::ParseStatus::kOk && net::isIcmpError(pd.pr.pkt)) {
    // Parsed here, before it is known to be for a VIP, so its bucket is prefetched with the
    // batch's others; ICMP errors are rare enough that the wasted parse costs nothing.
    pd.icmp_error = true;
    pd.quote = net::parseIcmpQuote(frame, pd.pr.pkt);
    if (pd.quote.status == net::QuoteStatus::kOk) {
      pd.key = connKeyOf(pd.quote.quote);
      pd.hash = conns_.hash(pd.key);
      pd.keyed = true;
    }
  }
  return pd;
}

Verdict Datapath::process(std::span<uint8_t> frame, const SnapshotView& snap, Nanos now,
                          size_t room) noexcept {
  peer_macs_.refresh();
  Pending pd = prepare(frame);
  return finish(frame, room, pd, snap, now);
}

void Datapath::processBatch(std::span<const std::span<uint8_t>> frames, const SnapshotView& snap,
                            Nanos now, Verdict* out, const uint32_t* room) noexcept {
  // Two passes, as VPP's lb node does: parse and hash every frame and prefetch both of
  // its buckets, then decide each one. In a large table the buckets are cache misses, and
  // this way they overlap instead of stalling one after another.
  peer_macs_.refresh();
  std::array<Pending, kMaxBatch> pending;
  for (size_t base = 0; base < frames.size(); base += kMaxBatch) {
    const size_t n = std::min(kMaxBatch, frames.size() - base);
    for (size_t i = 0; i < n; ++i) {
      pending[i] = prepare(frames[base + i]);
      if (pending[i].keyed) conns_.prefetch(pending[i].hash);
    }
    for (size_t i = 0; i < n; ++i)
      out[base + i] = finish(frames[base + i], room ? room[base + i] : 0, pending[i], snap, now);
  }
}

Verdict Datapath::finish(std::span<uint8_t> frame, size_t room, const Pending& pd,
                         const SnapshotView& snap, Nanos now) noexcept {
  counters_.inc(Counter::kRxPackets);
  const net::ParseResult& pr = pd.pr;
  if (pr.status == net::ParseStatus::kNotIp) {
    return pass();
  }
  if (pr.status == net::ParseStatus::kDrop) return drop(pr.drop);
  const net::Parsed& p = pr.pkt;

  if (pd.icmp_error) return icmpError(frame, room, pd, snap, now);
  // Only TCP and UDP to a virtual service are ours; everything else belongs to the host.
  if (p.proto != net::kProtoTcp && p.proto != net::kProtoUdp) {
    return pass();
  }
  // A peer director balanced this frame to us as one of its real servers (its source MAC
  // says so): ours to deliver, never to balance again, whatever connection its tuple has
  // here. Decided on the VIP alone, so fragments go to the local stack too.
  if (!peer_macs_.empty() && peer_macs_.contains(frame.data() + 6) && snap.isVip(p.daddr)) {
    counters_.inc(Counter::kPeerBalanced);
    return pass();
  }
  if (p.fragment) {
    if (!snap.isVip(p.daddr)) {
      return pass();
    }
    // Reassembly is not done here yet: a fragmented datagram to a VIP cannot be
    // matched to its connection without its ports.
    return drop(p.family == net::Family::kV4 ? Counter::kIpv4Fragment : Counter::kIpv6Fragment);
  }

  const sl_conn_key& key = pd.key;
  const bool tcp = p.proto == net::kProtoTcp;
  // Established flows take no table lock: a lock-free lookup, then the entry's own lock,
  // which also proves the entry was not moved or freed by another worker meanwhile.
  sl_conn* c = lockedLookup(key, pd.hash, now);
  // No connection: with NAT connections about, it may be one's reply (before the service
  // lookup, as the XDP program does).
  if (!c && conns_.replyTwins() != 0) {
    if (std::optional<Verdict> v = natReply(frame, p, now)) return *v;
  }
  ConnEventSink* sink = nullptr;  // set when this packet created the connection
  sl_conn tmpl_copy{};
  bool has_tmpl = false;
  // A SYN that may reuse a finished connection, and a connection of a deleted real server
  // under expire_nodest_conn, are decided under the writer lock (reopen()).
  if (c && ((tcp && sl_syn_may_reuse(p.tcp_flags, c->state)) ||
            ((expire_nodest_conn_ || (tcp && sl_opens_connection(p.tcp_flags))) &&
             !destAvailable(c->dest_id)))) {
    conn::ConnTable::unlockEntry(*c);
    c = reopen(key, pd.hash, p, now);
  }
  if (!c) {
    const ServiceView* svc = snap.serviceView(p.proto, p.daddr, p.dport);
    if (!svc) {
      return pass();
    }
    // Only a SYN opens a TCP connection (IPVS without sloppy_tcp). Anything else goes to
    // the kernel, which answers it with a reset, as it would without a director: the
    // client learns at once that its connection is gone instead of retransmitting. In
    // cluster mode any segment but a RST is adopted (setAdoptMidflow).
    const bool adopt = adopt_midflow_.load(std::memory_order_relaxed);
    if (tcp && !sl_may_schedule(p.tcp_flags, adopt)) {
      counters_.inc(Counter::kNoConnNotSyn);
      return pass();
    }
    // The miss path of a packet that may open a connection, under the writer lock: the
    // key is looked up again there, so another worker that just created it is found
    // instead of a duplicate being inserted.
    conn::ConnTable::WriterLock lock = conns_.lockWriter();
    c = conns_.lookup(key, pd.hash, now);
    if (c && tcp && sl_syn_may_reuse(p.tcp_flags, c->state) && !conns_.templateOf(*c)) {
      conns_.erase(c);
      c = nullptr;
      counters_.inc(Counter::kConnReused);
    }
    if (!c) {
      Counter why = Counter::kCount;
      c = newConnection(p, key, snap, *svc, now, &why);
      if (!c) {
        if (why == Counter::kNoRealServer) return leave(frame, room, p, now);
        return drop(why);
      }
      if (tcp && !sl_opens_connection(p.tcp_flags)) counters_.inc(Counter::kAdoptedMidflow);
      sink = conn_sink_.load(std::memory_order_acquire);
      // Templates are reached under the writer lock, held here.
      if (sl_conn* t = sink ? conns_.templateOf(*c) : nullptr) {
        conn::ConnTable::lockEntry(*t);
        tmpl_copy = unlockedCopy(*t);
        conn::ConnTable::unlockEntry(*t);
        has_tmpl = true;
      }
    }
    // Locked before the writer lock goes, so no other insert can move it meanwhile.
    conn::ConnTable::lockEntry(*c);
  }
  // The method was bound when the connection was created; the real server's record gives
  // only where it is now (next hop). A deleted real server (IP_VS_DEST_F_AVAILABLE clear)
  // gets nothing more: its connections' packets are dropped without refreshing their
  // timers (ip_vs_in: "the destination server is not available").
  const std::optional<sl_dest> d = dests_.read(c->dest_id);
  if (!d || !(d->flags & SL_DEST_F_AVAILABLE)) {
    conn::ConnTable::unlockEntry(*c);
    if (!d) conns_.erase(key);  // no record at all: nothing will ever take it again
    return drop(Counter::kDestGone);
  }
  // Under the entry's lock: a concurrent fast path leaves it alone, and so does every
  // other worker. What forward() needs is copied out, since the entry may move once
  // it is unlocked.
  const uint8_t state_before = c->state;
  const bool assure = conn::updateConn(conns_, *c, conn::Direction::kInput, p.tcp_flags, timeouts_, now);
  Bound b{c->svc_id, c->dest_id, c->flags, c->fwd};
  if (b.fwd == SL_FWD_FULLNAT) {
    b.ext = conns_.ext(*c);
    // Every client segment past the SYN carries TOA until the real server has answered
    // one (natReply clears the flag): whichever of them establishes its socket has it.
    b.toa = (b.ext.flags & SL_EXT_F_TOA) && tcp && (p.tcp_flags & net::kTcpAck) &&
            !(p.tcp_flags & (net::kTcpSyn | net::kTcpRst));
  }
  // The new connection as its first packet left it (an adopted ACK: ESTABLISHED).
  const sl_conn created = sink ? unlockedCopy(*c) : sl_conn{};
  ConnEventSink* changed = sink ? nullptr : stateSink(*c, state_before);
  const sl_conn now_state = changed ? unlockedCopy(*c) : sl_conn{};
  const sl_conn_ext ext_copy = sink || changed ? conns_.ext(*c) : sl_conn_ext{};
  conn::ConnTable::unlockEntry(*c);
  if (assure) conn::assureTemplate(conns_, key, now);
  if (sink) sink->connCreated(created, has_tmpl ? &tmpl_copy : nullptr, ext_copy);
  if (changed) changed->connStateChanged(now_state, ext_copy);
  stats_.inPacket(b.svc_id, b.dest_id, p.ip_len);
  return forward(frame, room, p, key, pd.hash, b, *d, now);
}

ConnEventSink* Datapath::stateSink(const sl_conn& c, uint8_t state_before) const noexcept {
  if (c.key.proto != net::kProtoTcp || c.state == state_before) return nullptr;
  if (conn::isActiveState(c.state) && conn::isActiveState(state_before)) return nullptr;
  return conn_sink_.load(std::memory_order_acquire);
}

bool Datapath::destAvailable(uint32_t dest_id) const noexcept {
  const std::optional<sl_dest> d = dests_.read(dest_id);
  return d && (d->flags & SL_DEST_F_AVAILABLE);
}

sl_conn* Datapath::reopen(const sl_conn_key& key, uint64_t hash, const net::Parsed& p,
                          Nanos now) noexcept {
  conn::ConnTable::WriterLock lock = conns_.lockWriter();
  sl_conn* c = conns_.lookup(key, hash, now);
  if (!c) return nullptr;
  // A SYN on a finished connection opens a new one, unless a persistence template controls
  // the old one (the client stays with its real server through the template).
  if (p.proto == net::kProtoTcp && sl_syn_may_reuse(p.tcp_flags, c->state) &&
      !conns_.templateOf(*c)) {
    conns_.erase(c);
    counters_.inc(Counter::kConnReused);
    return nullptr;
  }
  // expire_nodest_conn: the entry goes at once and this packet is treated as new, so a
  // client's SYN is scheduled afresh (ip_vs_in since 5.9). A SYN on a connection whose real
  // server was deleted is scheduled afresh even without it: that connection is over (its
  // server is gone) and the client is starting a new one on a reused port; IPVS drops such
  // a SYN unless expire_nodest_conn is set, and the client's connect times out.
  if ((expire_nodest_conn_ || (p.proto == net::kProtoTcp && sl_opens_connection(p.tcp_flags))) &&
      !destAvailable(c->dest_id)) {
    conns_.erase(c);
    counters_.inc(Counter::kNodestExpired);
    return nullptr;
  }
  conn::ConnTable::lockEntry(*c);
  return c;
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
                                 const SnapshotView& snap, const ServiceView& svc, Nanos now,
                                 Counter* why) noexcept {
  sl_conn* tmpl = nullptr;
  sl_conn_key tkey{};
  if (svc.persistent) {
    tkey = conn::templateKey(key, svc.persistence_prefix, svc.any_port);
    tmpl = conn::findTemplate(conns_, tkey, now);
    if (tmpl) {
      // ip_vs_check_template: a template whose real server was deleted is dropped and
      // the client is scheduled afresh. A quiescent (weight 0) server keeps its clients.
      const DestView* d = snap.destView(tmpl->dest_id);
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
    dest_id = svc.dests[size_t(idx)].dest_id;
    fwd = svc.fwd[size_t(idx)];
    if (svc.persistent) {
      tmpl = conn::createTemplate(conns_, tkey, conn::Binding{svc.svc_id, dest_id, fwd},
                                  svc.persistence_timeout, now);
      if (!tmpl) {
        *why = Counter::kConnTableFull;
        return nullptr;
      }
      counters_.inc(Counter::kTemplateNew);
    }
  }
  // FULLNAT: a local address and port of the service's, held until the table frees the
  // connection.
  sl_conn_ext local{};
  if (fwd == SL_FWD_FULLNAT) {
    if (svc.laddrs.empty()) {
      *why = Counter::kFnatNoLaddr;
      return nullptr;
    }
    if (!laddrs_ || !laddrs_->allocate(worker_, svc.laddrs, &local)) {
      *why = Counter::kFnatPortsExhausted;
      return nullptr;
    }
    if (p.proto == net::kProtoTcp && svc.client_addr == SL_CA_TOA) local.flags |= SL_EXT_F_TOA;
  }
  // NAT and FULLNAT: the reply twin first (we hold the writer lock), so a reply never meets
  // the connection without it; and before the connection, since an insert may move entries.
  sl_conn_key tw{};
  bool twin = false;
  if (conn::hasReplyTwin(fwd)) {
    if (const std::optional<sl_dest> d = dests_.read(dest_id)) {
      const sl_conn_ext client = fnatTwinExt(key);
      tw = fwd == SL_FWD_FULLNAT ? fnatTwinKeyOf(key, local, *d) : twinKeyOf(key, *d);
      if (!conn::createTwin(conns_, tw, conn::Binding{svc.svc_id, dest_id, fwd}, now,
                            fwd == SL_FWD_FULLNAT ? &client : nullptr)) {
        if (fwd == SL_FWD_FULLNAT) laddrs_->release(key.family, local);
        *why = Counter::kConnTableFull;
        return nullptr;
      }
      twin = true;
    }
  }
  sl_conn* c = conn::createConn(conns_, key, conn::Binding{svc.svc_id, dest_id, fwd}, timeouts_,
                                now, tmpl, fwd == SL_FWD_FULLNAT ? &local : nullptr);
  if (!c) {
    if (twin) conns_.eraseOrphanTwin(tw);
    if (fwd == SL_FWD_FULLNAT) laddrs_->release(key.family, local);
    *why = Counter::kConnTableFull;
    return nullptr;
  }
  if (svc.one_packet && p.proto == net::kProtoUdp) {
    conn::ConnTable::lockEntry(*c);
    c->flags |= SL_CONN_F_ONE_PACKET;
    conn::ConnTable::unlockEntry(*c);
  }
  counters_.inc(Counter::kConnNew);
  stats_.conn(svc.svc_id, dest_id);
  return c;
}

// As ip_vs_in_icmp: an error about a connection's packet goes to that connection's real
// server, whose TCP needs "fragmentation needed" / "packet too big" for path MTU discovery;
// the director has no socket to give it to. Forwarded by the connection's method like its
// packets (the connection's state is not touched: an error is not the client speaking).
Verdict Datapath::icmpError(std::span<uint8_t> frame, size_t room, const Pending& pd,
                            const SnapshotView& snap, Nanos now) noexcept {
  const net::Parsed& p = pd.pr.pkt;
  if (!snap.isVip(p.daddr)) {
    // About a NAT connection's request, from its real server's side: to the client.
    if (pd.quote.status == net::QuoteStatus::kOk && conns_.replyTwins() != 0)
      if (std::optional<Verdict> v = natIcmpReply(frame, pd, now)) return *v;
    // Errors to the host's own addresses are the host's business, even malformed ones.
    return pass();
  }
  if (pd.quote.status == net::QuoteStatus::kDrop) return drop(pd.quote.drop);
  if (pd.quote.status == net::QuoteStatus::kNotOurs) return pass();
  sl_conn* c = lockedLookup(pd.key, pd.hash, now);
  // No connection: about a packet the host itself sent from the VIP, or long gone.
  if (!c) return pass();
  // An error does not end a one-packet connection: it is not the client's packet.
  const Bound b{c->svc_id, c->dest_id, uint8_t(c->flags & ~SL_CONN_F_ONE_PACKET), c->fwd};
  conn::ConnTable::unlockEntry(*c);
  const std::optional<sl_dest> d = dests_.read(b.dest_id);
  if (!d || !(d->flags & SL_DEST_F_AVAILABLE)) return drop(Counter::kDestGone);
  stats_.inPacket(b.svc_id, b.dest_id, p.ip_len);
  Verdict v = forward(frame, room, p, pd.key, pd.hash, b, *d, now, &pd.quote.quote);
  if (v.action == Action::kTx) counters_.inc(Counter::kIcmpForwarded);
  return v;
}

sl_conn* Datapath::twinConn(const sl_conn_key& twin_key, Nanos now, sl_dest* d,
                            sl_conn_key* ckey, uint8_t* fwd) noexcept {
  sl_conn* t = lockedLookup(twin_key, conns_.hash(twin_key), now);
  if (!t) return nullptr;
  const sl_conn twin = *t;
  const sl_conn_ext twin_ext = conns_.ext(*t);
  conn::ConnTable::unlockEntry(*t);
  const uint32_t dest_id = twin.dest_id;
  *fwd = twin.fwd;
  sl_conn* c = nullptr;
  if (const std::optional<sl_dest> rec = dests_.read(dest_id)) {
    *d = *rec;
    *ckey = connKeyOfTwin(twin, twin_ext, *rec);
    c = lockedLookup(*ckey, conns_.hash(*ckey), now);
    if (c && (c->dest_id != dest_id || c->fwd != twin.fwd)) {
      conn::ConnTable::unlockEntry(*c);
      c = nullptr;
    }
  }
  // The twin outlived its connection (or the tuple is another connection's now): the
  // table's sweep would free it too; this packet is then not a reply we know.
  if (!c) {
    counters_.inc(Counter::kNatTwinStale);
    conns_.eraseOrphanTwin(twin_key);
  }
  return c;
}

// As ip_vs_out / handle_response: the connection's OUTPUT transitions (a SYN-ACK from the
// real server, its FIN), its timeout and the outgoing stats, then the source becomes the
// service again. The kernel routes the result to the client (Action::kRoute).
std::optional<Verdict> Datapath::natReply(std::span<uint8_t> frame, const net::Parsed& p,
                                          Nanos now) noexcept {
  const sl_conn_key tkey = replyKeyOf(p);
  sl_dest d;
  sl_conn_key ckey;
  uint8_t fwd = SL_FWD_NAT;
  sl_conn* c = twinConn(tkey, now, &d, &ckey, &fwd);
  if (!c) {
    // A twin that was stale is gone now; whether or not there was one, the frame is not
    // a reply we know: on to the rest of the step (service lookup, else the kernel).
    return std::nullopt;
  }
  const uint8_t state_before = c->state;
  const bool assure =
      conn::updateConn(conns_, *c, conn::Direction::kOutput, p.tcp_flags, timeouts_, now);
  const uint32_t svc_id = c->svc_id, dest_id = c->dest_id;
  bool lower_mss = false;
  if (fwd == SL_FWD_FULLNAT && p.proto == net::kProtoTcp) {
    sl_conn_ext& e = conns_.ext(*c);
    if (e.flags & SL_EXT_F_TOA) {
      // The SYN-ACK: room for TOA in the client's segments. Anything later: the real
      // server has accepted a segment of the client's, which carried TOA.
      if (p.tcp_flags & net::kTcpSyn) lower_mss = true;
      else e.flags &= uint8_t(~SL_EXT_F_TOA);
    }
  }
  ConnEventSink* changed = stateSink(*c, state_before);
  const sl_conn now_state = changed ? unlockedCopy(*c) : sl_conn{};
  const sl_conn_ext ext_copy = changed ? conns_.ext(*c) : sl_conn_ext{};
  conn::ConnTable::unlockEntry(*c);
  if (assure) conn::assureTemplate(conns_, ckey, now);
  if (changed) changed->connStateChanged(now_state, ext_copy);
  stats_.outPacket(svc_id, dest_id, p.ip_len);
  if (net::finishPartialChecksum(p.saddr, p.daddr, p.proto, frame.subspan(p.l4_off, p.l4_len)))
    counters_.inc(Counter::kCsumFinished);
  if (fwd == SL_FWD_FULLNAT) {
    if (lower_mss && fwd::lowerMss(frame, p, uint16_t(fwd::toaLength(p.family))))
      counters_.inc(Counter::kMssAdjusted);
    fwd::fullNatReply(frame, p, d.vaddr, ckey.vport, ckey.caddr, ckey.cport);
    counters_.inc(Counter::kFnatReplies);
    return Verdict{Action::kRoute};
  }
  fwd::natReply(frame, p, d.vaddr, ckey.vport);
  counters_.inc(Counter::kNatReplies);
  return Verdict{Action::kRoute};
}

std::optional<Verdict> Datapath::natIcmpReply(std::span<uint8_t> frame, const Pending& pd,
                                              Nanos now) noexcept {
  // The quote is the client's request as the real server got it: CIP:cport -> RIP:rport,
  // which is the reply twin's key as it stands.
  const net::IcmpQuote& q = pd.quote.quote;
  const sl_conn_key tkey =
      conn::tupleKey(q.family, q.proto, q.saddr, q.sport, q.daddr, q.dport, SL_KEY_REPLY);
  sl_dest d;
  sl_conn_key ckey;
  uint8_t fwd = SL_FWD_NAT;
  sl_conn* c = twinConn(tkey, now, &d, &ckey, &fwd);
  if (!c) return std::nullopt;
  // An error is not the real server speaking for the connection: its state stays.
  conn::ConnTable::unlockEntry(*c);
  // FULLNAT's errors are not translated yet: the kernel gets it (about a local address).
  if (fwd == SL_FWD_FULLNAT) return std::nullopt;
  fwd::natIcmpToClient(frame, pd.pr.pkt, q, d.vaddr, ckey.vport);
  counters_.inc(Counter::kNatIcmpReplies);
  return Verdict{Action::kRoute};
}

Verdict Datapath::leave(std::span<uint8_t> frame, size_t room, const net::Parsed& p,
                        Nanos now) noexcept {
  counters_.inc(Counter::kNoRealServer);
  if (!takeIcmpToken(now)) return drop(Counter::kIcmpRateLimited);
  const size_t len = net::buildPortUnreachable(
      std::span<uint8_t>(frame.data(), frame.size() + room), frame.size(), p);
  if (len == 0) return drop(Counter::kIcmpNoRoom);
  --icmp_tokens_;
  counters_.inc(Counter::kIcmpUnreachSent);
  counters_.inc(Counter::kTxPackets);
  return Verdict{Action::kTx, 0, Counter::kCount, uint16_t(len)};
}

bool Datapath::takeIcmpToken(Nanos now) noexcept {
  const Nanos elapsed = now - icmp_tokens_at_;
  if (now < icmp_tokens_at_ || elapsed >= kSecond) {
    icmp_tokens_ = kIcmpBurst;
    icmp_tokens_at_ = now;
  } else if (const uint64_t add = uint64_t(elapsed) * kIcmpPerSecond / uint64_t(kSecond); add) {
    icmp_tokens_ = uint32_t(std::min<uint64_t>(kIcmpBurst, icmp_tokens_ + add));
    icmp_tokens_at_ += Nanos(add * uint64_t(kSecond) / kIcmpPerSecond);
  }
  return icmp_tokens_ != 0;  // the caller spends it once its answer is built
}

// IPVS's pmtu_disc for a tunnel (ip_vs_tunnel_xmit -> __mtu_check_toobig_v6 /
// ensure_mtu_is_adequate): the client learns the path MTU minus the tunnel's overhead
// from the VIP, as from the kernel's own icmp_send, and its TCP sends smaller segments.
// An IPv4 datagram without DF would be fragmented by the kernel; this director cannot
// fragment (nor the fast path), so it is dropped and counted (tun_too_big), as is a
// forwarded ICMP error that no longer fits (an error is never answered with an error).
Verdict Datapath::tunTooBig(std::span<uint8_t> frame, size_t room, const net::Parsed& p,
                            uint16_t mtu, Nanos now) noexcept {
  const bool df = p.family == net::Family::kV6 || (frame[p.l3_off + 6] & 0x40);
  const bool error = p.proto == net::kProtoIcmp || p.proto == net::kProtoIcmp6;
  if (!df || error) return drop(Counter::kTunTooBig);
  if (!takeIcmpToken(now)) return drop(Counter::kIcmpRateLimited);
  const size_t len = net::buildTooBig(std::span<uint8_t>(frame.data(), frame.size() + room),
                                      frame.size(), p, mtu);
  if (len == 0) return drop(Counter::kIcmpNoRoom);
  --icmp_tokens_;
  counters_.inc(Counter::kIcmpFragNeededSent);
  counters_.inc(Counter::kTxPackets);
  return Verdict{Action::kTx, 0, Counter::kCount, uint16_t(len)};
}

Verdict Datapath::forward(std::span<uint8_t> frame, size_t room, const net::Parsed& p,
                          const sl_conn_key& key, uint64_t hash, const Bound& b,
                          const sl_dest& d, Nanos now, const net::IcmpQuote* quote) noexcept {
  const uint32_t dest_id = b.dest_id;
  const uint8_t method = b.fwd;
  if (b.flags & SL_CONN_F_ONE_PACKET) conns_.erase(key);  // -o: the entry lives for one packet
  // A real server on this host: in DR its MAC is ours, and a frame sent out to it would
  // never come back (a switch does not hairpin), so it goes up the local stack instead,
  // whatever the connection's method. The checksum is finished first, as the stack will
  // verify it and a frame from AF_XDP has lost the "left to the NIC" mark.
  if (d.flags & SL_DEST_F_LOCAL) {
    if (net::finishPartialChecksum(p.saddr, p.daddr, p.proto, frame.subspan(p.l4_off, p.l4_len)))
      counters_.inc(Counter::kCsumFinished);
    counters_.inc(Counter::kLocalDelivered);
    return Verdict{Action::kLocal};
  }
  if (!(d.flags & SL_DEST_F_RESOLVED)) {
    if (resolve_) resolve_(dest_id);
    return drop(Counter::kNoNeighbour);
  }
  // A frame that reached us through AF_XDP has lost the kernel's "checksum left to the
  // NIC" mark; if its sender offloaded the checksum (veth, virtio), finish it before any
  // method touches the packet, or the real server drops the segment.
  if (net::finishPartialChecksum(p.saddr, p.daddr, p.proto, frame.subspan(p.l4_off, p.l4_len)))
    counters_.inc(Counter::kCsumFinished);
  switch (method) {
    case SL_FWD_DR:
      fwd::xmitDr(frame, d);
      break;
    case SL_FWD_TUN: {
      const fwd::TunResult t = fwd::xmitTun(
          std::span<uint8_t>(frame.data(), frame.size() + room), frame.size(), p, d, hash);
      switch (t.status) {
        case fwd::TunStatus::kOk:
          counters_.inc(Counter::kTxPackets);
          return Verdict{Action::kTx, d.ifindex, Counter::kCount, t.len};
        case fwd::TunStatus::kTooBig: return tunTooBig(frame, room, p, t.mtu, now);
        case fwd::TunStatus::kNoRoom: return drop(Counter::kTunNoRoom);
        case fwd::TunStatus::kNoSource: return drop(Counter::kTunNoSource);
        case fwd::TunStatus::kUnsupported: return drop(Counter::kFwdUnsupported);
      }
      return drop(Counter::kFwdUnsupported);
    }
    case SL_FWD_NAT:
      if (quote) fwd::natIcmpToServer(frame, p, *quote, d);
      else fwd::xmitNat(frame, p, d);
      break;
    case SL_FWD_FULLNAT: {
      if (quote) return drop(Counter::kFwdUnsupported);  // not translated yet
      fwd::xmitFullNat(frame, p, d, b.ext);
      if (b.toa) {
        const fwd::ToaResult t =
            fwd::insertToa(std::span<uint8_t>(frame.data(), frame.size() + room), frame.size(), p,
                           key.caddr, key.cport);
        if (t.status == fwd::ToaStatus::kInserted) {
          counters_.inc(Counter::kToaInserted);
          counters_.inc(Counter::kTxPackets);
          return Verdict{Action::kTx, d.ifindex, Counter::kCount, t.len};
        }
        counters_.inc(Counter::kToaNoRoom);
      }
      break;
    }
    default:
      return drop(Counter::kFwdUnsupported);
  }
  counters_.inc(Counter::kTxPackets);
  return Verdict{Action::kTx, d.ifindex};
}

}  // namespace sluice::dp
