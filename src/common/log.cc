#include "common/log.h"

#include <ctime>
#include <mutex>

namespace sluice::log {

namespace {
std::atomic<int> g_level{int(Level::kInfo)};
std::mutex g_mu;
constexpr std::string_view kNames[] = {"debug", "info ", "warn ", "error"};
}  // namespace

void setLevel(Level l) { g_level.store(int(l)); }
Level level() { return Level(g_level.load(std::memory_order_relaxed)); }

void write(Level l, std::string_view component, std::string_view msg) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {}: {}\n",
                                 t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                                 t.tm_sec, ts.tv_nsec / 1000000, kNames[int(l)], component, msg);
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

uint64_t RateLimit::allow() {
  int64_t sec = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (window_.exchange(sec) != sec) in_window_.store(0);
  if (in_window_.fetch_add(1) < per_second_) return suppressed_.exchange(0) + 1;
  suppressed_.fetch_add(1);
  return 0;
}

}  // namespace sluice::log
