// Test helpers for the health checkers: loopback servers on ephemeral ports, one-try
// execution on a private loop, and a verdict collector with bounded waits.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "health/checker.h"
#include "health/loop.h"
#include "health/runner.h"

namespace sluice::health::testing {

inline constexpr auto kWait = std::chrono::seconds(20);  // generous: only bounds a failure

inline config::CheckerConfig fastCheck(config::CheckKind kind) {
  config::CheckerConfig c;
  c.kind = kind;
  c.delay_loop = kSecond / 20;
  c.connect_timeout = kSecond;
  c.retry = 0;
  c.delay_before_retry = kSecond / 20;
  c.warmup = 0;
  return c;
}

inline net::Endpoint loopback(uint16_t port, bool v6 = false) {
  return net::Endpoint{*net::IpAddr::parse(v6 ? "::1" : "127.0.0.1"), port};
}

// Runs one try on a private loop until it reports (bounded).
inline Outcome tryOnce(const config::CheckerConfig& c, net::Endpoint rs,
                       svc::Proto proto = svc::Proto::kTcp) {
  signal(SIGPIPE, SIG_IGN);  // as sluiced does: a reset peer is a failed write, not a kill
  MonotonicClock clock;
  Loop loop(clock);
  if (!loop.init().ok()) return Outcome{false, "loop init failed", {}};
  Probe p{&c, rs, connectTarget(c, rs), proto};
  std::optional<Outcome> got;
  auto t = startTry(loop, p, [&](Outcome o) { got = std::move(o); });
  auto until = std::chrono::steady_clock::now() + kWait;
  while (!got && std::chrono::steady_clock::now() < until) loop.runOnce(kSecond / 10);
  t.reset();
  for (int i = 0; i < 20 && loop.watchedCount(); ++i) loop.runOnce(kSecond / 20);  // reap
  return got ? *got : Outcome{false, "test: no outcome", {}};
}

inline int listenOn(int type, bool v6, uint16_t* port) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return -1;
  if (type == SOCK_STREAM && listen(fd, 4096) != 0) return -1;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

// A port nobody listens on (bound, then closed).
// A port nothing listens on, below the ephemeral range: a checker's own connection never
// takes it as its source port, which on 127.0.0.1 would connect the socket to itself (TCP
// simultaneous open) and make the "closed" port answer: with an ephemeral port, the
// 2000-target test (1000 connections to it, each about 1 in 28,000) once saw 1001 verdicts.
inline uint16_t closedPort() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  for (int port = low - 1; port >= 1024; --port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (free) return uint16_t(port);
  }
  uint16_t port = 0;  // no such port: an ephemeral one, as before
  int fd = listenOn(SOCK_DGRAM, false, &port);
  close(fd);
  return port;
}

// Reads until `marker` was seen, EOF, or 5 s (bounded).
inline std::string readUntil(int fd, const std::string& marker) {
  std::string got;
  char buf[4096];
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.find(marker) == std::string::npos && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  return got;
}

inline void sendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += size_t(n);
  }
}

// A loopback TCP server: each accepted connection runs `handler` on its own thread.
class TcpServer {
 public:
  using Handler = std::function<void(int fd, const std::atomic<bool>& stop)>;
  explicit TcpServer(Handler h, bool v6 = false) : handler_(std::move(h)) {
    fd_ = listenOn(SOCK_STREAM, v6, &port_);
    thread_ = std::thread([this] { acceptLoop(); });
  }
  ~TcpServer() {
    stop_ = true;
    thread_.join();
    for (auto& t : conns_) t.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void acceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++accepted_;
      conns_.emplace_back([this, c] {
        handler_(c, stop_);
        close(c);
      });
    }
  }
  Handler handler_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

// Collects verdicts from a Runner; waits are bounded.
class Verdicts {
 public:
  Runner::OnVerdict sink() {
    return [this](const Verdict& v) {
      std::lock_guard lk(mu_);
      all_.push_back(v);
      cv_.notify_all();
    };
  }
  bool waitFor(const std::function<bool(const std::vector<Verdict>&)>& pred) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, kWait, [&] { return pred(all_); });
  }
  std::vector<Verdict> all() {
    std::lock_guard lk(mu_);
    return all_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Verdict> all_;
};

}  // namespace sluice::health::testing
