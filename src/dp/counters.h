// Data-plane counters: every drop has a named reason, and each reason is a counter.
// The list is an X-macro so names, the enum, the Prometheus export and the BPF program's
// counter indices (bpf/ includes this file) can never disagree.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "abi/counters_list.h"

namespace sluice::dp {

enum class Counter : uint16_t {
#define SLUICE_X(e, n, d) e,
  SLUICE_COUNTERS(SLUICE_X)
#undef SLUICE_X
      kCount
};

constexpr size_t kNumCounters = size_t(Counter::kCount);

constexpr std::array<std::string_view, kNumCounters> kCounterNames = {
#define SLUICE_X(e, n, d) n,
    SLUICE_COUNTERS(SLUICE_X)
#undef SLUICE_X
};

constexpr std::array<bool, kNumCounters> kCounterIsDrop = {
#define SLUICE_X(e, n, d) bool(d),
    SLUICE_COUNTERS(SLUICE_X)
#undef SLUICE_X
};

constexpr std::string_view counterName(Counter c) { return kCounterNames[size_t(c)]; }

// One worker's counters; the daemon sums workers for export. Tests compare deltas.
// One writer (its worker) and readers on other threads (the listings): the writer adds with
// a relaxed load and store, no locked instruction, and readers take snapshot(), so each
// value is read whole without a lock on the data path.
struct Counters {
  std::array<uint64_t, kNumCounters> v{};
  void inc(Counter c, uint64_t n = 1) noexcept {
    std::atomic_ref<uint64_t> r(v[size_t(c)]);
    r.store(r.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // A copy safe to take while the writer runs (each counter read atomically on its own).
  Counters snapshot() const noexcept {
    Counters out;
    for (size_t i = 0; i < kNumCounters; ++i)
      out.v[i] = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(v[i])).load(std::memory_order_relaxed);
    return out;
  }
  uint64_t operator[](Counter c) const noexcept { return v[size_t(c)]; }
  Counters& operator+=(const Counters& o) noexcept {
    for (size_t i = 0; i < kNumCounters; ++i) v[i] += o.v[i];
    return *this;
  }
};

}  // namespace sluice::dp
