// The health checkers' event loop: one epoll set and one timer queue, driven by one thread.
// Every checker is a small state machine that registers its sockets (or pidfds) here and
// arms a deadline; nothing blocks, so thousands of checks share the thread.
//
// Trade-off: handlers are looked up by a token that is never reused (not by fd), so an event
// still queued for a closed fd can never reach the handler of a new socket that got the same
// number; the price is a hash lookup per event, negligible next to the syscalls.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace sluice::health {

class Loop {
 public:
  using FdHandler = std::function<void(uint32_t events)>;
  using TimerFn = std::function<void()>;
  using TimerId = uint64_t;  // 0 = none
  using WatchId = uint64_t;  // 0 = none

  explicit Loop(const Clock& clock);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Status init();  // the epoll set and the wake eventfd
  Nanos now() const { return clock_.now(); }

  // fd stays owned by the caller; unwatch() before closing it.
  Result<WatchId> watch(int fd, uint32_t events, FdHandler h);
  Status modify(WatchId w, uint32_t events);
  void unwatch(WatchId w);

  TimerId after(Nanos delay, TimerFn fn);
  void cancel(TimerId t);

  // A child that must be reaped though nobody waits for it any more (its checker was
  // stopped after killing it): the loop waits on the pidfd and closes it.
  void adoptChild(int pidfd);

  // Runs due timers and ready handlers, waiting at most max_wait for one.
  void runOnce(Nanos max_wait);
  // Thread-safe: makes a runOnce() in progress return.
  void wake();

  size_t watchedCount() const { return watches_.size(); }
  size_t timerCount() const { return timers_.size(); }

 private:
  struct Watch {
    int fd;
    FdHandler handler;
  };
  const Clock& clock_;
  int epfd_ = -1;
  int wakefd_ = -1;
  uint64_t next_token_ = 1;
  std::unordered_map<WatchId, Watch> watches_;
  std::map<std::pair<Nanos, TimerId>, TimerFn> timers_;
  std::unordered_map<TimerId, Nanos> timer_due_;
};

}  // namespace sluice::health
