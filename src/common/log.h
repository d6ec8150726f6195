// Logging: one named logger per component, lines to stderr as
//   2026-11-22T10:00:00.123Z info  ctl: message
// The data path logs only through RateLimit (operators alert on counters, not logs).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string_view>

#include <fmt/format.h>

namespace sluice::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLevel(Level l);
Level level();
void write(Level l, std::string_view component, std::string_view msg);

class Logger {
 public:
  constexpr explicit Logger(std::string_view component) : component_(component) {}
  template <class... A>
  void debug(fmt::format_string<A...> f, A&&... a) const { emit(Level::kDebug, f, std::forward<A>(a)...); }
  template <class... A>
  void info(fmt::format_string<A...> f, A&&... a) const { emit(Level::kInfo, f, std::forward<A>(a)...); }
  template <class... A>
  void warn(fmt::format_string<A...> f, A&&... a) const { emit(Level::kWarn, f, std::forward<A>(a)...); }
  template <class... A>
  void error(fmt::format_string<A...> f, A&&... a) const { emit(Level::kError, f, std::forward<A>(a)...); }

 private:
  template <class... A>
  void emit(Level l, fmt::format_string<A...> f, A&&... a) const {
    if (int(l) < int(level())) return;
    write(l, component_, fmt::format(f, std::forward<A>(a)...));
  }
  std::string_view component_;
};

// At most `per_second` events pass per second; the rest are counted and reported with
// the next one that passes.
class RateLimit {
 public:
  explicit RateLimit(unsigned per_second) : per_second_(per_second) {}
  // Returns how many were suppressed since the last allowed event, +1; 0 when suppressed.
  uint64_t allow();

 private:
  unsigned per_second_;
  std::atomic<int64_t> window_{0};
  std::atomic<unsigned> in_window_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace sluice::log
