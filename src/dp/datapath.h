// The packet core as a pure step: one frame in, a verdict out (the frame rewritten in
// place), counters bumped. No NIC, no root, no clock of its own: the AF_XDP worker, the
// in-memory backend, the golden tests, the fuzzers and the micro-benchmarks all drive
// this same function, and the XDP fast path must agree with it byte for byte.
//
// One Datapath per worker thread: its counters and stats writer are its own (readers sum
// them); the connection table, the dest table and the snapshot are shared. An established
// flow's packet takes no lock but its connection's entry lock; only a packet that may open
// a connection (or reopen one) takes the table's writer lock (conn/conn_table.h,
// "Threading").
//
// The step follows ip_vs_in(): parse; find the connection; on a miss, find the virtual
// service, consult the persistence template, schedule, create the connection with its
// forwarding method bound once (ip_vs_bind_xmit); then forward by that method.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/tcp_state.h"
#include "dp/conn_events.h"
#include "dp/counters.h"
#include "dp/dest_table.h"
#include "dp/peer_macs.h"
#include "net/icmp_quote.h"
#include "net/packet.h"
#include "dp/snapshot_view.h"
#include "dp/stats_writer.h"
#include "laddr/pool.h"

namespace sluice::dp {

enum class Action : uint8_t {
  kDrop,  // the frame is freed; `reason` names the counter bumped
  kPass,  // not ours: give it to the kernel stack untouched
  kTx,    // rewritten in place; transmit out of `ifindex`
  // A connection whose real server is this host (SL_DEST_F_LOCAL): deliver the frame,
  // unchanged but for a finished checksum, to the local stack (IPVS's LOCALNODE). Unlike
  // kPass it is ours, so a backend that cannot pass frames must inject it.
  kLocal,
  // Rewritten in place, for the kernel to route on (a NAT reply, or an ICMP error about a
  // NAT connection's request, on its way to the client): the director is the real
  // servers' gateway, so the kernel's routes reach the client, not a dest record. The
  // backend injects the IP packet as for kLocal; the kernel routes it by its destination.
  kRoute,
};

struct Verdict {
  Action action = Action::kDrop;
  uint32_t ifindex = 0;              // kTx: egress; 0 = back out of the receiving interface
  Counter reason = Counter::kCount;  // for kDrop
  uint16_t len = 0;                  // kTx: the frame's new length when the step rebuilt it
                                     // (an ICMP error in place of the packet); 0: unchanged
};

class Datapath {
 public:
  // Called (from the data path, so it must not block) when a dest's next hop is not
  // resolved yet; the control plane then asks the kernel to resolve it.
  using ResolveRequest = std::function<void(uint32_t dest_id)>;

  Datapath(conn::ConnTable& conns, const DestTable& dests, StatsWriter stats)
      : conns_(conns), dests_(dests), stats_(stats) {}

  void setTimeouts(const conn::TimeoutTable& t) noexcept { timeouts_ = t; }
  const conn::TimeoutTable& timeouts() const noexcept { return timeouts_; }
  void onUnresolved(ResolveRequest r) { resolve_ = std::move(r); }
  // expire_nodest_conn (the IPVS sysctl): a packet of a connection whose real server was
  // deleted also removes the connection, instead of only being dropped.
  void setExpireNodestConn(bool on) noexcept { expire_nodest_conn_ = on; }
  // Cluster mode (IPVS's sloppy_tcp): a TCP segment of a service with no connection here
  // that is neither a SYN nor a RST is scheduled like a SYN and its connection created in
  // the state the segment gives a new one (an ACK: ESTABLISHED), counted in
  // kAdoptedMidflow. ECMP routers move flows between directors when one dies; with the
  // consistent-hash scheduler (mh) every director picks the same real server, so the flow
  // survives the move. Off (default): such a segment goes to the kernel (kNoConnNotSyn).
  // Any thread, at any time.
  void setAdoptMidflow(bool on) noexcept { adopt_midflow_.store(on, std::memory_order_relaxed); }
  // The other directors' MACs (see dp/peer_macs.h): a TCP/UDP frame to a VIP from one of
  // them goes to the local stack before any lookup, counted in kPeerBalanced. Any thread;
  // the worker sees the new set from its next process()/processBatch() call.
  void setPeerMacs(std::span<const net::MacAddr> macs) { peer_macs_.publish(macs); }
  // Told about every connection this step creates (dp/conn_events.h); nullptr: nobody.
  // Any thread; the sink must outlive this Datapath or be detached first.
  void setConnEventSink(ConnEventSink* sink) noexcept {
    conn_sink_.store(sink, std::memory_order_release);
  }
  // FULLNAT's local ports (laddr/pool.h), and which worker's slice this step takes from.
  // Set once, before traffic; without it FULLNAT connections are refused
  // (kFnatPortsExhausted).
  void setLocalPorts(laddr::Pools* pools, unsigned worker) noexcept {
    laddrs_ = pools;
    worker_ = worker;
  }
  // The ICMP errors the step sends itself (see leave()): at most this many a second, in
  // bursts of at most kIcmpBurst, like the kernel's icmp_msgs_per_sec / icmp_msgs_burst.
  static constexpr uint32_t kIcmpPerSecond = 1000;
  static constexpr uint32_t kIcmpBurst = 50;

  // `room`: bytes the frame's buffer has after frame.end(), which the step may use to
  // answer in place (an ICMP error is longer than a bare SYN).
  Verdict process(std::span<uint8_t> frame, const SnapshotView& snap, Nanos now,
                  size_t room = 0) noexcept;
  // The same for a batch, with the connection-table buckets of every frame prefetched
  // before the first is decided; out[i] is frames[i]'s verdict, room[i] (if given) its room.
  static constexpr size_t kMaxBatch = 64;
  void processBatch(std::span<const std::span<uint8_t>> frames, const SnapshotView& snap,
                    Nanos now, Verdict* out, const uint32_t* room = nullptr) noexcept;

  Counters& counters() noexcept { return counters_; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  // A frame parsed and, when it may have a connection, keyed and hashed. An ICMP error's
  // key is that of the connection its quote names.
  struct Pending {
    net::ParseResult pr;
    sl_conn_key key{};
    uint64_t hash = 0;
    bool keyed = false;       // key and hash are set
    bool icmp_error = false;  // net::isIcmpError(pr.pkt); `quote` is its parse
    net::QuoteResult quote;
    bool wantsLookup() const noexcept;
  };
  Pending prepare(std::span<const uint8_t> frame) const noexcept;
  Verdict finish(std::span<uint8_t> frame, size_t room, const Pending& pd,
                 const SnapshotView& snap, Nanos now) noexcept;
  Verdict drop(Counter c) noexcept {
    counters_.inc(c);
    return Verdict{Action::kDrop, 0, c};
  }
  Verdict pass() noexcept {
    counters_.inc(Counter::kPassPackets);
    return Verdict{Action::kPass};
  }
  Verdict icmpError(std::span<uint8_t> frame, size_t room, const Pending& pd,
                    const SnapshotView& snap, Nanos now) noexcept;
  // A frame that matched no connection may be a NAT connection's reply (dp/nat_reply.h):
  // its verdict when it is (or was: a stale twin), nullopt when it is not.
  std::optional<Verdict> natReply(std::span<uint8_t> frame, const net::Parsed& p,
                                  Nanos now) noexcept;
  // An ICMP error about a NAT connection's request, on its way from the real server's side
  // to the client; nullopt when the quote names no reply twin.
  std::optional<Verdict> natIcmpReply(std::span<uint8_t> frame, const Pending& pd,
                                      Nanos now) noexcept;
  // The NAT connection a reply twin leads to, locked, with the real server's record; or
  // nullptr when the twin is stale (then erased).
  sl_conn* twinConn(const sl_conn_key& twin_key, Nanos now, sl_dest* d, sl_conn_key* ckey,
                    uint8_t* fwd) noexcept;
  sl_conn* newConnection(const net::Parsed& p, const sl_conn_key& key, const SnapshotView& snap,
                         const ServiceView& svc, Nanos now, Counter* why) noexcept;
  // What forward() needs of a connection, copied out under the entry's lock.
  struct Bound {
    uint32_t svc_id;
    uint32_t dest_id;
    uint8_t flags;
    uint8_t fwd;  // the method bound at creation
    sl_conn_ext ext{};  // FULLNAT: the local end
    bool toa = false;   // FULLNAT: this segment carries the client's end in TOA
  };
  // The entry of `key`, locked (lockIfStill), or nullptr.
  sl_conn* lockedLookup(const sl_conn_key& key, uint64_t hash, Nanos now) noexcept;
  // Under the writer lock: erases the entry of `key` if this packet reuses it (a SYN in
  // TIME_WAIT/CLOSE, no template) or its real server is gone under expire_nodest_conn, and
  // returns nullptr; otherwise returns the entry, locked.
  sl_conn* reopen(const sl_conn_key& key, uint64_t hash, const net::Parsed& p, Nanos now) noexcept;
  bool destAvailable(uint32_t dest_id) const noexcept;
  // The sink to tell that `c` (locked) has just stepped from `state_before` into a closing
  // TCP state or out of one (ConnEventSink::connStateChanged), or nullptr (no such step, or
  // nobody listening).
  ConnEventSink* stateSink(const sl_conn& c, uint8_t state_before) const noexcept;
  // `room` and `hash` (the connection's table hash) are for methods that grow the frame
  // (TUN); `now` for the ICMP errors a method may answer with. `quote`: the frame is an
  // ICMP error about the connection, quoting this (NAT translates the quote too).
  Verdict forward(std::span<uint8_t> frame, size_t room, const net::Parsed& p,
                  const sl_conn_key& key, uint64_t hash, const Bound& b, const sl_dest& d,
                  Nanos now, const net::IcmpQuote* quote = nullptr) noexcept;
  // TUN: the frame did not fit the tunnel (fwd::TunStatus::kTooBig); `mtu` is what fits.
  Verdict tunTooBig(std::span<uint8_t> frame, size_t room, const net::Parsed& p, uint16_t mtu,
                    Nanos now) noexcept;
  // One token of the ICMP error rate limit (kIcmpPerSecond, bursts of kIcmpBurst).
  bool takeIcmpToken(Nanos now) noexcept;
  // No real server can take a new connection (ip_vs_leave): answer the client with an ICMP
  // port unreachable so it fails at once instead of retrying into silence, at most
  // kIcmpPerSecond a second (bursts of kIcmpBurst), like the kernel's icmp_msgs_per_sec.
  Verdict leave(std::span<uint8_t> frame, size_t room, const net::Parsed& p, Nanos now) noexcept;

  conn::ConnTable& conns_;
  const DestTable& dests_;
  StatsWriter stats_;
  conn::TimeoutTable timeouts_;
  ResolveRequest resolve_;
  bool expire_nodest_conn_ = false;
  std::atomic<bool> adopt_midflow_{false};
  std::atomic<ConnEventSink*> conn_sink_{nullptr};
  PeerMacs peer_macs_;
  laddr::Pools* laddrs_ = nullptr;
  unsigned worker_ = 0;
  Nanos icmp_tokens_at_ = 0;  // token bucket for leave(): last refill and tokens left
  uint32_t icmp_tokens_ = kIcmpBurst;
  Counters counters_;
};

// The connection key of a parsed client->service packet.
sl_conn_key connKeyOf(const net::Parsed& p) noexcept;
// The key of the connection an ICMP error's quoted packet (service->client) belongs to.
sl_conn_key connKeyOf(const net::IcmpQuote& q) noexcept;

}  // namespace sluice::dp
