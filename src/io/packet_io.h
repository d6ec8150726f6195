// The worker's view of packet I/O: receive a batch, then give every frame back exactly once,
// by transmitting it (out of any data-plane interface), dropping it, passing it, or
// delivering it to the local stack.
//
// One PacketIo belongs to one worker thread and is not thread-safe. It is an abstract class
// with one virtual call per batch (not per packet): AF_XDP in production, an in-memory
// backend in tests. Frames stay in the backend's buffers, so a worker rewrites in place and
// may grow a frame into its headroom (encapsulation) or tailroom without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice::io {

// A frame on loan from the backend. `data`/`len` may be changed by the worker within
// [buf_start, buf_end); the rest is the backend's.
struct Packet {
  uint8_t* data = nullptr;      // first byte of the Ethernet frame
  uint32_t len = 0;
  uint32_t ifindex = 0;         // on rx: where it arrived; for tx: set it to the egress
  uint8_t* buf_start = nullptr; // the buffer this frame lives in
  uint8_t* buf_end = nullptr;
  uint64_t handle = 0;          // the backend's name for the buffer; do not touch

  std::span<uint8_t> bytes() const noexcept { return {data, len}; }
  size_t headroom() const noexcept { return size_t(data - buf_start); }
  size_t tailroom() const noexcept { return size_t(buf_end - (data + len)); }
  // Prepends n bytes (uninitialised) in front of the frame; false if there is no room.
  bool pushFront(size_t n) noexcept {
    if (n > headroom()) return false;
    data -= n;
    len += uint32_t(n);
    return true;
  }
  // Removes n bytes from the front (decapsulation); false if the frame is shorter.
  bool pullFront(size_t n) noexcept {
    if (n > len) return false;
    data += n;
    len -= uint32_t(n);
    return true;
  }
  // Sets the length; false if it does not fit in the buffer.
  bool resize(size_t n) noexcept {
    if (n > size_t(buf_end - data)) return false;
    len = uint32_t(n);
    return true;
  }
};

// Backend-side counters (the worker counts its own verdicts in dp::Counters).
struct IoStats {
  uint64_t rx = 0;            // frames handed to the worker
  uint64_t tx = 0;            // frames queued for transmission
  uint64_t tx_ring_full = 0;  // dropped: the egress TX ring had no room
  uint64_t tx_bad_iface = 0;  // dropped: egress ifindex is not one of ours
  uint64_t tx_bad_frame = 0;  // dropped: data/len outside the frame's buffer
  uint64_t dropped = 0;       // given back with drop()
  uint64_t passed = 0;        // given back with pass()
  uint64_t local = 0;         // handed to the local stack with deliverLocal()
  uint64_t local_failed = 0;  // given to deliverLocal() but refused by the kernel
  uint64_t alloc_failed = 0;  // alloc() found no free buffer
  uint64_t fill_starved = 0;  // rx fill ring could not be topped up (no free buffers)
  uint64_t wakeups = 0;       // syscalls made because the kernel asked (need_wakeup)
};

class PacketIo {
 public:
  virtual ~PacketIo() = default;

  // Receives up to out.size() frames from all interfaces without blocking; returns how many
  // were written to out[0..n). Each must later go to exactly one of tx/drop/pass.
  virtual size_t rxBurst(std::span<Packet> out) noexcept = 0;
  // Transmits each frame out of its `ifindex`. Ownership returns to the backend for every
  // frame, sent or not; returns how many were queued (the rest are counted in IoStats).
  virtual size_t txBurst(std::span<Packet> pkts) noexcept = 0;
  // Gives frames back unsent.
  virtual void drop(std::span<Packet> pkts) noexcept = 0;
  // Frames the worker wants the kernel stack to handle. AF_XDP cannot reinject a frame into
  // the stack, so that backend counts and drops them (see afxdp.h); the steering program
  // keeps such frames rare by passing everything that is not a service in the kernel.
  virtual void pass(std::span<Packet> pkts) noexcept = 0;
  // Frames of connections to a real server on this host (dp::Action::kLocal): unlike pass(),
  // they must reach the local stack, so every backend delivers them. Gives them back.
  virtual void deliverLocal(std::span<Packet> pkts) noexcept = 0;
  // A fresh buffer for a frame the worker builds itself (SYN-proxy replies, ICMP errors):
  // data at the default headroom, len 0, ifindex 0. false if none is free.
  virtual bool alloc(Packet& out) noexcept = 0;
  // Blocks up to timeout_ms until rxBurst may return something (true) or the time is up
  // (false), so an idle worker sleeps yet still notices its stop flag.
  virtual bool waitRx(int timeout_ms) noexcept = 0;

  virtual const IoStats& stats() const noexcept = 0;
};

}  // namespace sluice::io
