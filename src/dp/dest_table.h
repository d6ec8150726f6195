// The forwarding view of real servers, indexed by dest_id: address, method, egress
// interface and next-hop MACs. The control plane writes an entry when the dest is
// configured or its route/neighbour changes; workers read it per packet. Entries are
// plain sl_dest records (abi/records.h) so the XDP fast path can later read the same bytes.
//
// One writer (the control thread), many readers: a per-entry seqlock, so readers never
// block and never see a half-written MAC.
#pragma once

#include <arpa/inet.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "abi/records.h"
#include "net/addr.h"

namespace sluice::dp {

// A real server's forwarding record: live, available unless it was deleted (it lives on,
// unavailable, while connections still refer to it), and resolved when its next hop is
// known.
inline sl_dest makeDestRecord(const net::Endpoint& ep, uint8_t fwd,
                              const net::MacAddr* smac = nullptr,
                              const net::MacAddr* dmac = nullptr, uint32_t ifindex = 0,
                              bool available = true) noexcept {
  sl_dest e{};
  std::memcpy(e.addr, ep.addr.bytes.data(), 16);
  e.port = htons(ep.port);
  e.family = uint8_t(ep.addr.family);
  e.fwd = fwd;
  e.flags = SL_DEST_F_LIVE | (available ? SL_DEST_F_AVAILABLE : 0);
  if (smac && dmac) {
    e.ifindex = ifindex;
    std::memcpy(e.smac, smac->data(), 6);
    std::memcpy(e.dmac, dmac->data(), 6);
    e.flags |= SL_DEST_F_RESOLVED;
  }
  return e;
}

// A TUN real server's tunnel (ipvsadm --tun-type/--tun-port/--tun-*csum) and what the
// outer header needs: its source (the route's preferred source toward the real server) and
// the egress MTU the encapsulated packet must fit (0: unknown, nothing refused).
inline void setTunnel(sl_dest& e, uint8_t tun_type, uint16_t tun_port, uint8_t tun_flags,
                      const net::IpAddr& laddr, uint16_t mtu) noexcept {
  e.tun_type = tun_type;
  e.tun_port = htons(tun_port);
  e.tun_flags = tun_flags;
  std::memcpy(e.laddr, laddr.bytes.data(), 16);
  e.mtu = mtu;
}

// The virtual service a real server's record belongs to (sl_dest.vaddr/vport): written for
// every method, so a connection keeps its reply path whatever its real server becomes.
inline void setServiceOf(sl_dest& e, const net::IpAddr& vaddr, uint16_t vport) noexcept {
  std::memcpy(e.vaddr, vaddr.bytes.data(), 16);
  e.vport = htons(vport);
}

class DestTable {
 public:
  explicit DestTable(size_t capacity) : owned_(capacity), entries_(owned_) {}
  // Over shared storage, which may hold a previous daemon's records (pinned maps): a
  // writer that died mid-write left an odd seq that readers would wait on forever, so the
  // new writer closes it (the record itself is rewritten at the next next-hop refresh).
  explicit DestTable(std::span<sl_dest> storage) : entries_(storage) {
    for (sl_dest& e : entries_) {
      std::atomic_ref<uint32_t> seq(e.seq);
      uint32_t s = seq.load(std::memory_order_relaxed);
      if (s & 1) seq.store(s + 1, std::memory_order_release);
    }
  }

  size_t capacity() const noexcept { return entries_.size(); }

  // Reader side: a consistent copy, or nullopt when out of range / not live.
  std::optional<sl_dest> read(uint32_t dest_id) const noexcept {
    if (dest_id >= entries_.size()) return std::nullopt;
    const sl_dest& e = entries_[dest_id];
    sl_dest copy;
    for (;;) {
      uint32_t s1 = std::atomic_ref<const uint32_t>(e.seq).load(std::memory_order_acquire);
      if (s1 & 1) continue;
      std::memcpy(&copy, &e, sizeof copy);
      std::atomic_thread_fence(std::memory_order_acquire);
      uint32_t s2 = std::atomic_ref<const uint32_t>(e.seq).load(std::memory_order_relaxed);
      if (s1 == s2) break;
    }
    if (!(copy.flags & SL_DEST_F_LIVE)) return std::nullopt;
    return copy;
  }

  // Writer side (one thread only).
  void write(uint32_t dest_id, const sl_dest& value) noexcept {
    if (dest_id >= entries_.size()) return;
    sl_dest& e = entries_[dest_id];
    std::atomic_ref<uint32_t> seq(e.seq);
    uint32_t s = seq.load(std::memory_order_relaxed);
    seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    sl_dest v = value;
    // Copy everything after the seq word.
    std::memcpy(reinterpret_cast<char*>(&e) + sizeof(uint32_t),
                reinterpret_cast<const char*>(&v) + sizeof(uint32_t), sizeof v - sizeof(uint32_t));
    seq.store(s + 2, std::memory_order_release);
  }

  void clear(uint32_t dest_id) noexcept { write(dest_id, sl_dest{}); }

 private:
  std::vector<sl_dest> owned_;
  std::span<sl_dest> entries_;
};

}  // namespace sluice::dp
