#include "health/loop.h"

#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::health {

Loop::Loop(const Clock& clock) : clock_(clock) {}

Loop::~Loop() {
  // Timer callbacks may own finished tries whose destructors call cancel()/unwatch(): run
  // those destructors while the maps are still alive.
  auto timers = std::move(timers_);
  timers_.clear();
  timers.clear();
  if (wakefd_ >= 0) close(wakefd_);
  if (epfd_ >= 0) close(epfd_);
}

Status Loop::init() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return makeError("health: epoll_create1: {}", strerror(errno));
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) return makeError("health: eventfd: {}", strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // token 0 is the wake fd
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0)
    return makeError("health: epoll_ctl(wake): {}", strerror(errno));
  return {};
}

Result<Loop::WatchId> Loop::watch(int fd, uint32_t events, FdHandler h) {
  WatchId id = next_token_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return makeError("epoll_ctl: {}", strerror(errno));
  watches_.emplace(id, Watch{fd, std::move(h)});
  return id;
}

Status Loop::modify(WatchId w, uint32_t events) {
  auto it = watches_.find(w);
  if (it == watches_.end()) return makeError("epoll: unknown watch");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = w;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, it->second.fd, &ev) != 0)
    return makeError("epoll_ctl: {}", strerror(errno));
  return {};
}

void Loop::unwatch(WatchId w) {
  auto it = watches_.find(w);
  if (it == watches_.end()) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  watches_.erase(it);
}

Loop::TimerId Loop::after(Nanos delay, TimerFn fn) {
  TimerId id = next_token_++;
  Nanos due = now() + delay;
  timers_.emplace(std::make_pair(due, id), std::move(fn));
  timer_due_.emplace(id, due);
  return id;
}

void Loop::cancel(TimerId t) {
  auto it = timer_due_.find(t);
  if (it == timer_due_.end()) return;
  timers_.erase({it->second, t});
  timer_due_.erase(it);
}

void Loop::adoptChild(int pidfd) {
  // Waits for the (already killed) child to exit, then reaps it.
  auto id = std::make_shared<WatchId>(0);
  auto w = watch(pidfd, EPOLLIN, [this, pidfd, id](uint32_t) {
    siginfo_t si{};
    if (waitid(P_PIDFD, pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0) return;  // not yet
    unwatch(*id);
    close(pidfd);
  });
  if (!w.ok()) {
    close(pidfd);  // cannot wait here; the child becomes a zombie until we exit
    return;
  }
  *id = *w;
}

void Loop::runOnce(Nanos max_wait) {
  Nanos t = now();
  Nanos wait = max_wait;
  if (!timers_.empty()) {
    Nanos due = timers_.begin()->first.first;
    wait = due <= t ? 0 : std::min(wait, due - t);
  }
  epoll_event evs[256];
  int timeout_ms = int((wait + 999'999) / 1'000'000);
  int n = epoll_wait(epfd_, evs, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    WatchId id = evs[i].data.u64;
    if (id == 0) {
      uint64_t v;
      [[maybe_unused]] ssize_t r = read(wakefd_, &v, sizeof v);
      continue;
    }
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;  // unwatched by an earlier handler in this batch
    FdHandler h = it->second.handler;    // a copy: the handler may unwatch itself
    h(evs[i].events);
  }
  // Timers due now; ones armed by these callbacks for "now" run on the next pass.
  t = now();
  std::vector<TimerId> due;
  for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= t; ++it)
    due.push_back(it->first.second);
  for (TimerId id : due) {
    auto d = timer_due_.find(id);
    if (d == timer_due_.end()) continue;  // cancelled by an earlier timer
    auto node = timers_.extract({d->second, id});
    timer_due_.erase(d);
    node.mapped()();
  }
}

void Loop::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(wakefd_, &one, sizeof one);
}

}  // namespace sluice::health
