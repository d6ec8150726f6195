// Time as the data plane sees it: nanoseconds on CLOCK_MONOTONIC, the same clock that
// bpf_ktime_get_ns() reads in the XDP program, so entries written by either side compare.
// Injected everywhere (never read directly) so tests control time.
#pragma once

#include <cstdint>
#include <ctime>

namespace sluice {

using Nanos = uint64_t;
constexpr Nanos kSecond = 1'000'000'000ull;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() const noexcept = 0;
};

class MonotonicClock final : public Clock {
 public:
  Nanos now() const noexcept override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Nanos(ts.tv_sec) * kSecond + Nanos(ts.tv_nsec);
  }
};

// For tests: time moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = 1000 * kSecond) : now_(start) {}
  Nanos now() const noexcept override { return now_; }
  void advance(Nanos d) { now_ += d; }
  void set(Nanos t) { now_ = t; }

 private:
  Nanos now_;
};

}  // namespace sluice
