#include "dp/fastpath_config.h"

#include <atomic>

namespace sluice::dp {

namespace {
// One representative flag set per event index of sl_tcp_event().
constexpr uint8_t kEventFlags[SL_TCP_EVENTS] = {0x02 /*syn*/, 0x01 /*fin*/, 0x10 /*ack*/,
                                               0x04 /*rst*/, 0x00 /*none*/};
}  // namespace

void setFastPathTimeouts(sl_dp_config& cfg, const conn::TimeoutTable& timeouts) noexcept {
  for (uint8_t s = 0; s < SL_STATE_COUNT; ++s)
    std::atomic_ref<uint32_t>(cfg.timeout_s[s]).store(timeouts.seconds(s), std::memory_order_relaxed);
}

void fillFastPathConfig(sl_dp_config& cfg, uint64_t conn_seed, uint32_t conn_buckets,
                        uint32_t max_dests, uint32_t stat_slots,
                        const conn::TimeoutTable& timeouts) noexcept {
  // Off while the table geometry changes. A record that already describes this table (a
  // restarted daemon over pinned maps) stays on: the kernel is forwarding established
  // connections with it right now, and a frame it sent to the slow path in that instant
  // would meet no daemon socket and draw a reset from the kernel stack.
  const bool same_table = std::atomic_ref<uint32_t>(cfg.enabled).load(std::memory_order_acquire) &&
                          cfg.conn_seed == conn_seed && cfg.conn_buckets == conn_buckets &&
                          cfg.max_dests == max_dests && cfg.stat_slots == stat_slots;
  if (!same_table) std::atomic_ref<uint32_t>(cfg.enabled).store(0, std::memory_order_release);
  cfg.conn_seed = conn_seed;
  cfg.conn_buckets = conn_buckets;
  cfg.max_dests = max_dests;
  cfg.stat_slots = stat_slots;
  setFastPathTimeouts(cfg, timeouts);
  for (uint8_t s = 0; s < SL_TCP_STATE_COUNT; ++s)
    for (int e = 0; e < SL_TCP_EVENTS; ++e) {
      cfg.tcp_next[s][e] = conn::nextTcpState(s, conn::Direction::kInputOnly, kEventFlags[e]);
      cfg.tcp_in[s][e] = conn::nextTcpState(s, conn::Direction::kInput, kEventFlags[e]);
      cfg.tcp_out[s][e] = conn::nextTcpState(s, conn::Direction::kOutput, kEventFlags[e]);
    }
  for (uint8_t s = 0; s < SL_STATE_COUNT; ++s) cfg.active[s] = conn::isActiveState(s);
  std::atomic_ref<uint32_t>(cfg.forward).store(1, std::memory_order_relaxed);
  std::atomic_ref<uint32_t>(cfg.enabled).store(1, std::memory_order_release);
}

}  // namespace sluice::dp
