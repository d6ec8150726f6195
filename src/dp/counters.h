// Data-plane counters: every drop has a named reason, and each reason is a counter.
// The list is an X-macro so names, the enum, the Prometheus export and the BPF program's
// counter indices (bpf/ includes this file) can never disagree.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "dp/counters_list.h"

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
struct Counters {
  std::array<uint64_t, kNumCounters> v{};
  void inc(Counter c, uint64_t n = 1) noexcept { v[size_t(c)] += n; }
  uint64_t operator[](Counter c) const noexcept { return v[size_t(c)]; }
  Counters& operator+=(const Counters& o) noexcept {
    for (size_t i = 0; i < kNumCounters; ++i) v[i] += o.v[i];
    return *this;
  }
};

}  // namespace sluice::dp
