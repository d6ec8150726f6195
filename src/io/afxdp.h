// PacketIo over AF_XDP: one socket per (interface, rx queue) it serves, all sharing one
// UMEM, so a frame received on one interface is transmitted out of another by handing its
// descriptor to the other socket's TX ring: no copy in user space.
//
// Copy mode (XDP_COPY) with XDP_USE_NEED_WAKEUP: works on every driver including veth; the
// kernel copies each frame once into the UMEM. Syscalls are made only when a ring's
// need_wakeup flag asks for them; an idle worker sleeps in poll() with a timeout.
// One AfXdpIo serves one worker. A multi-queue NIC's queues are split between workers, each
// with its own AfXdpIo and UMEM (a queue can be bound to one UMEM only). A frame goes out
// through this instance's first socket on the egress interface, so to transmit out of an
// interface a worker must serve at least one of its queues.
//
// pass(): a frame already redirected into AF_XDP cannot be handed back to the kernel stack,
// so pass() counts and drops it. The steering program keeps such frames rare: only
// (address, protocol, port) tuples of configured services are redirected at all.
// deliverLocal() does reach the stack, through a raw socket (io/local_inject.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.h"
#include "io/local_inject.h"
#include "io/packet_io.h"

struct xsk_umem;
struct xsk_socket;

namespace sluice::io {

class SteerProgram;

// One socket: an interface and one of its rx queues.
struct XskPort {
  uint32_t ifindex = 0;
  uint32_t queue = 0;
};

struct AfXdpOptions {
  std::vector<XskPort> ports;       // the sockets; when empty, `queue` of every `ifindexes`
  std::vector<uint32_t> ifindexes;  // data-plane interfaces, one socket each
  uint32_t queue = 0;               // the queue of every interface this instance serves
  uint32_t ring_size = 4096;        // rx, tx, fill and completion rings (power of two)
  uint32_t frame_size = 4096;       // UMEM chunk (power of two, 2048 or 4096)
  uint32_t num_frames = 0;          // 0: enough for every ring plus one ring of loans
  bool zero_copy = false;           // XDP_ZEROCOPY instead of XDP_COPY
};

class AfXdpIo final : public PacketIo {
 public:
  // Headroom in front of every received or allocated frame, for encapsulation.
  static constexpr uint32_t kMinHeadroom = 256;

  // Creates the UMEM and the sockets. With `steer`, every socket is put in its XSKMAP slot
  // (and taken out again on destruction); `steer` must then outlive this object and must
  // already be attached to the interfaces.
  static Result<std::unique_ptr<AfXdpIo>> open(const AfXdpOptions& opts,
                                               SteerProgram* steer = nullptr);
  ~AfXdpIo() override;
  AfXdpIo(const AfXdpIo&) = delete;
  AfXdpIo& operator=(const AfXdpIo&) = delete;

  size_t rxBurst(std::span<Packet> out) noexcept override;
  size_t txBurst(std::span<Packet> pkts) noexcept override;
  void drop(std::span<Packet> pkts) noexcept override;
  void pass(std::span<Packet> pkts) noexcept override;
  void deliverLocal(std::span<Packet> pkts) noexcept override;
  bool alloc(Packet& out) noexcept override;
  bool waitRx(int timeout_ms) noexcept override;
  const IoStats& stats() const noexcept override { return stats_; }

  // The AF_XDP socket fd for an interface's queue (-1 if not ours), e.g. for an XSKMAP.
  int socketFd(uint32_t ifindex, uint32_t queue = 0) const noexcept;
  // The sockets, in the order they were opened.
  std::vector<XskPort> ports() const;
  size_t freeFrames() const noexcept { return free_.size(); }
  uint32_t numFrames() const noexcept { return num_frames_; }

 private:
  struct Sock;
  AfXdpIo() = default;
  Sock* sockFor(uint32_t ifindex) noexcept;
  void refill(Sock& s) noexcept;
  void reapCompletions() noexcept;
  void kickTx(Sock& s) noexcept;
  void recycle(uint64_t addr) noexcept { free_.push_back(addr & ~uint64_t(frame_size_ - 1)); }
  bool ownsFrame(const Packet& p) const noexcept;

  uint8_t* area_ = nullptr;
  size_t area_size_ = 0;
  uint32_t frame_size_ = 0;
  uint32_t num_frames_ = 0;
  uint32_t ring_size_ = 0;
  xsk_umem* umem_ = nullptr;
  std::vector<std::unique_ptr<Sock>> socks_;
  std::vector<uint64_t> free_;  // chunk addresses owned by user space and not on loan
  size_t rx_next_ = 0;          // round-robin start so one busy interface cannot starve others
  SteerProgram* steer_ = nullptr;
  std::optional<LocalInjector> local_;
  IoStats stats_;
};

}  // namespace sluice::io
