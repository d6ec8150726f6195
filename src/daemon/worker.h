// A slow-path worker: one thread's loop over its own PacketIo (its share of the AF_XDP
// sockets) and its own Datapath, against the tables the Director shares between workers.
//
// Nothing here is shared with another worker but through the Director's tables, which
// lock themselves per entry (conn/conn_table.h): a batch takes no lock of its own. The
// config snapshot is read through the worker's own SnapshotReader (one atomic load per
// batch), and the timeouts are copied in when their version moves.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "daemon/director.h"
#include "io/packet_io.h"
#include "svc/snapshot.h"

namespace sluice::daemon {

class Worker {
 public:
  static constexpr size_t kBatch = 64;

  // Worker `index` (below director.workers()) of `director`, receiving from `io`; both
  // must outlive it.
  Worker(Director& director, unsigned index, io::PacketIo& io);

  // Processes one received batch and hands every frame back to the PacketIo.
  void processBatch(std::span<io::Packet> pkts);
  // Runs until `stop` is set: rx, process, tx; expires idle connections.
  void run(const std::atomic<bool>& stop);

  unsigned index() const { return index_; }

 private:
  Director& director_;
  unsigned index_;
  dp::Datapath& dp_;
  conn::ConnTable& conns_;
  const Clock& clock_;
  io::PacketIo& io_;
  svc::SnapshotReader snapshot_;
  uint64_t timeouts_seen_ = 0;
};

}  // namespace sluice::daemon
