// Sockets and deadlines for the checkers: opening a non-blocking socket with the checker's
// bindto/bind_port/bind_if/fwmark applied, and RAII holders that unwatch, close and cancel
// when a try ends or is destroyed, so no checker has its own cleanup path to get wrong.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/result.h"
#include "config/model.h"
#include "health/loop.h"
#include "net/addr.h"

namespace sluice::health {

socklen_t toSockaddr(const net::Endpoint& ep, sockaddr_storage& ss);
net::Endpoint fromSockaddr(const sockaddr_storage& ss);

// socket(family of `to`, type | NONBLOCK | CLOEXEC, protocol) with the checker's source
// options; then connect(to) when `connect_to` (EINPROGRESS is success).
Result<int> openSocket(const config::CheckerConfig& c, const net::Endpoint& to, int type,
                       int protocol, bool connect_to);

std::string errnoText(int err);  // "Connection refused"

// An fd registered with the loop; closes it on reset/destruction.
class Watched {
 public:
  Watched() = default;
  ~Watched() { reset(); }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;
  Status attach(Loop& loop, int fd, uint32_t events, Loop::FdHandler h);  // takes fd
  Status want(uint32_t events);
  void reset();
  int release();  // unwatches and hands the fd to the caller
  int fd() const { return fd_; }

 private:
  Loop* loop_ = nullptr;
  int fd_ = -1;
  Loop::WatchId id_ = 0;
};

// A one-shot timer cancelled on reset/destruction.
class Timer {
 public:
  Timer() = default;
  ~Timer() { reset(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void arm(Loop& loop, Nanos delay, Loop::TimerFn fn);
  void reset();

 private:
  Loop* loop_ = nullptr;
  Loop::TimerId id_ = 0;
};

std::string secondsText(Nanos d);  // "3 s", "0.05 s"

}  // namespace sluice::health
