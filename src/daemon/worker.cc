// The worker loop; see worker.h.
#include "daemon/worker.h"

#include <algorithm>
#include <array>

namespace sluice::daemon {

namespace {

// The expiry sweep's slots per received packet while busy, and per idle wake-up. Busy, it
// only has to keep the counts honest (inserts reap the expired entries they meet, so a
// full table does not depend on it) and each slot it visits in a large table is a cache
// miss charged to forwarding; idle, it catches up. The sweep is shared by all workers (one
// cursor): a worker skips its turn while another holds the table's writer lock rather
// than wait for it, so N workers sweep about as much as one busy worker would.
constexpr size_t kExpirePerPacket = 2;
constexpr size_t kExpireIdle = 16384;

}  // namespace

Worker::Worker(Director& director, unsigned index, io::PacketIo& io)
    : director_(director),
      index_(index),
      dp_(director.datapath(index)),
      conns_(director.conns()),
      clock_(director.clock()),
      io_(io),
      snapshot_(director.services().publisher()) {}

void Worker::processBatch(std::span<io::Packet> all) {
  director_.syncTimeouts(timeouts_seen_, dp_);
  for (size_t base = 0; base < all.size(); base += kBatch) {
    std::span<io::Packet> pkts = all.subspan(base, std::min(kBatch, all.size() - base));
    std::array<io::Packet, kBatch> tx, drop, pass, local;
    std::array<std::span<uint8_t>, kBatch> frames;
    std::array<dp::Verdict, kBatch> verdicts;
    std::array<uint32_t, kBatch> room;  // what each frame may grow into (ICMP answers)
    size_t ntx = 0, ndrop = 0, npass = 0, nlocal = 0;
    for (size_t i = 0; i < pkts.size(); ++i) {
      frames[i] = pkts[i].bytes();
      room[i] = uint32_t(pkts[i].tailroom());
    }
    // The worker's own handle: one atomic load per batch unless the config changed.
    const svc::Snapshot& snap = snapshot_.acquire();
    Nanos now = clock_.now();
    dp_.processBatch(std::span(frames.data(), pkts.size()), snap, now, verdicts.data(),
                     room.data());
    for (size_t i = 0; i < pkts.size(); ++i) {
      io::Packet& p = pkts[i];
      const dp::Verdict& v = verdicts[i];
      switch (v.action) {
        case dp::Action::kTx:
          if (v.ifindex) p.ifindex = v.ifindex;  // 0: back out where it came in
          if (v.len) p.len = v.len;
          tx[ntx++] = p;
          break;
        case dp::Action::kPass:
          pass[npass++] = p;
          break;
        case dp::Action::kLocal:
        // Injected the same way: the raw socket's sendto routes by the packet's destination,
        // a local address (kLocal) or the client behind a NAT reply (kRoute).
        case dp::Action::kRoute:
          local[nlocal++] = p;
          break;
        case dp::Action::kDrop:
          drop[ndrop++] = p;
          break;
      }
    }
    // What the backend could not queue (a full TX ring, an interface that is not ours) was
    // counted as sent by the step: tx_failed says how many of those never left.
    if (ntx) {
      const size_t sent = io_.txBurst(std::span(tx.data(), ntx));
      if (sent < ntx) dp_.counters().inc(dp::Counter::kTxFailed, ntx - sent);
    }
    if (ndrop) io_.drop(std::span(drop.data(), ndrop));
    if (npass) io_.pass(std::span(pass.data(), npass));
    if (nlocal) io_.deliverLocal(std::span(local.data(), nlocal));
    conns_.tryExpireSome(now, pkts.size() * kExpirePerPacket);
  }
}

void Worker::run(const std::atomic<bool>& stop) {
  std::array<io::Packet, kBatch> pkts;
  while (!stop.load(std::memory_order_relaxed)) {
    size_t n = io_.rxBurst(pkts);
    if (n == 0) {
      // Sweep only when the wait ran out: an empty ring between two bursts under load
      // is not idleness, and a large sweep there would be charged to forwarding.
      if (!io_.waitRx(100)) conns_.tryExpireSome(clock_.now(), kExpireIdle);
      continue;
    }
    processBatch(std::span(pkts.data(), n));
  }
}

}  // namespace sluice::daemon
