// PacketIo over plain memory, for tests and tools: frames are injected by the test, and
// what the worker transmits, passes or delivers locally is collected with its egress interface.
//
// It behaves like the AF_XDP backend where workers could go wrong: fixed buffers with
// headroom, ownership that must be returned exactly once (misuse is counted, not hidden),
// and only known interfaces can transmit. It is not meant to be fast.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "io/packet_io.h"

namespace sluice::io {

class MemIo final : public PacketIo {
 public:
  struct Options {
    size_t buffers = 256;
    size_t buf_size = 4096;
    size_t headroom = 256;
    std::vector<uint32_t> ifindexes;  // interfaces that can transmit; empty = any
  };
  struct Frame {
    uint32_t ifindex = 0;
    std::vector<uint8_t> bytes;
  };

  MemIo() : MemIo(Options{}) {}
  explicit MemIo(Options opts);

  // Queues a received frame; false if it does not fit or no buffer is free.
  bool inject(uint32_t ifindex, std::span<const uint8_t> frame);
  std::vector<Frame> takeTransmitted();
  std::vector<Frame> takePassed();
  std::vector<Frame> takeDeliveredLocal();
  size_t pendingRx() const { return rx_queue_.size(); }
  size_t buffersOnLoan() const { return on_loan_; }  // handed to the worker, not yet returned
  uint64_t misuse() const { return misuse_; }        // unknown handle or returned twice
  // Drops the next n frames given to txBurst as if the TX ring were full.
  void failNextTx(size_t n) { fail_tx_ = n; }

  size_t rxBurst(std::span<Packet> out) noexcept override;
  size_t txBurst(std::span<Packet> pkts) noexcept override;
  void drop(std::span<Packet> pkts) noexcept override;
  void pass(std::span<Packet> pkts) noexcept override;
  void deliverLocal(std::span<Packet> pkts) noexcept override;
  bool alloc(Packet& out) noexcept override;
  bool waitRx(int timeout_ms) noexcept override { return !rx_queue_.empty(); }
  const IoStats& stats() const noexcept override { return stats_; }

 private:
  enum class State : uint8_t { kFree, kQueued, kLoaned };
  struct Rx {
    uint32_t buf;
    uint32_t ifindex;
    uint32_t len;
  };
  uint8_t* bufStart(uint32_t b) { return storage_.data() + size_t(b) * opts_.buf_size; }
  Packet loan(uint32_t b, uint32_t ifindex, uint32_t len);
  // Takes the buffer back from the worker; false (and counts misuse) if it was not on loan.
  bool giveBack(const Packet& p) noexcept;
  bool validFrame(const Packet& p) const noexcept;
  bool knownIface(uint32_t ifindex) const noexcept;

  Options opts_;
  std::vector<uint8_t> storage_;
  std::vector<State> state_;
  std::vector<uint32_t> free_;
  std::deque<Rx> rx_queue_;
  std::vector<Frame> transmitted_;
  std::vector<Frame> passed_;
  std::vector<Frame> local_;
  IoStats stats_;
  size_t on_loan_ = 0;
  uint64_t misuse_ = 0;
  size_t fail_tx_ = 0;
};

}  // namespace sluice::io
