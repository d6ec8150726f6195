// In-memory PacketIo; see mem_backend.h.
#include "io/mem_backend.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sluice::io {

MemIo::MemIo(Options opts) : opts_(std::move(opts)) {
  opts_.headroom = std::min(opts_.headroom, opts_.buf_size);
  storage_.resize(opts_.buffers * opts_.buf_size);
  state_.assign(opts_.buffers, State::kFree);
  free_.reserve(opts_.buffers);
  for (size_t i = opts_.buffers; i-- > 0;) free_.push_back(uint32_t(i));
}

bool MemIo::inject(uint32_t ifindex, std::span<const uint8_t> frame) {
  if (free_.empty() || frame.size() > opts_.buf_size - opts_.headroom) return false;
  uint32_t b = free_.back();
  free_.pop_back();
  state_[b] = State::kQueued;
  std::memcpy(bufStart(b) + opts_.headroom, frame.data(), frame.size());
  rx_queue_.push_back({b, ifindex, uint32_t(frame.size())});
  return true;
}

std::vector<MemIo::Frame> MemIo::takeTransmitted() { return std::exchange(transmitted_, {}); }
std::vector<MemIo::Frame> MemIo::takePassed() { return std::exchange(passed_, {}); }
std::vector<MemIo::Frame> MemIo::takeDeliveredLocal() { return std::exchange(local_, {}); }

Packet MemIo::loan(uint32_t b, uint32_t ifindex, uint32_t len) {
  state_[b] = State::kLoaned;
  ++on_loan_;
  Packet p;
  p.buf_start = bufStart(b);
  p.buf_end = p.buf_start + opts_.buf_size;
  p.data = p.buf_start + opts_.headroom;
  p.len = len;
  p.ifindex = ifindex;
  p.handle = b;
  return p;
}

size_t MemIo::rxBurst(std::span<Packet> out) noexcept {
  size_t n = 0;
  while (n < out.size() && !rx_queue_.empty()) {
    Rx r = rx_queue_.front();
    rx_queue_.pop_front();
    out[n++] = loan(r.buf, r.ifindex, r.len);
  }
  stats_.rx += n;
  return n;
}

bool MemIo::giveBack(const Packet& p) noexcept {
  if (p.handle >= state_.size() || state_[p.handle] != State::kLoaned) {
    ++misuse_;
    return false;
  }
  state_[p.handle] = State::kFree;
  free_.push_back(uint32_t(p.handle));
  --on_loan_;
  return true;
}

bool MemIo::validFrame(const Packet& p) const noexcept {
  const uint8_t* start = storage_.data() + p.handle * opts_.buf_size;
  return p.data >= start && p.data + p.len <= start + opts_.buf_size && p.len > 0;
}

bool MemIo::knownIface(uint32_t ifindex) const noexcept {
  if (opts_.ifindexes.empty()) return ifindex != 0;
  return std::find(opts_.ifindexes.begin(), opts_.ifindexes.end(), ifindex) !=
         opts_.ifindexes.end();
}

size_t MemIo::txBurst(std::span<Packet> pkts) noexcept {
  size_t sent = 0;
  for (Packet& p : pkts) {
    if (p.handle >= state_.size() || state_[p.handle] != State::kLoaned) {
      ++misuse_;
      continue;
    }
    if (!validFrame(p)) {
      ++stats_.tx_bad_frame;
    } else if (!knownIface(p.ifindex)) {
      ++stats_.tx_bad_iface;
    } else if (fail_tx_ > 0) {
      --fail_tx_;
      ++stats_.tx_ring_full;
    } else {
      transmitted_.push_back({p.ifindex, std::vector<uint8_t>(p.data, p.data + p.len)});
      ++sent;
    }
    giveBack(p);
  }
  stats_.tx += sent;
  return sent;
}

void MemIo::drop(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts)
    if (giveBack(p)) ++stats_.dropped;
}

void MemIo::pass(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts) {
    if (p.handle >= state_.size() || state_[p.handle] != State::kLoaned) {
      ++misuse_;
      continue;
    }
    if (validFrame(p)) passed_.push_back({p.ifindex, std::vector<uint8_t>(p.data, p.data + p.len)});
    giveBack(p);
    ++stats_.passed;
  }
}

void MemIo::deliverLocal(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts) {
    if (p.handle >= state_.size() || state_[p.handle] != State::kLoaned) {
      ++misuse_;
      continue;
    }
    if (validFrame(p)) {
      local_.push_back({p.ifindex, std::vector<uint8_t>(p.data, p.data + p.len)});
      ++stats_.local;
    } else {
      ++stats_.local_failed;
    }
    giveBack(p);
  }
}

bool MemIo::alloc(Packet& out) noexcept {
  if (free_.empty()) {
    ++stats_.alloc_failed;
    return false;
  }
  uint32_t b = free_.back();
  free_.pop_back();
  out = loan(b, 0, 0);
  return true;
}

}  // namespace sluice::io
