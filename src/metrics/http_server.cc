// The /metrics server's socket handling: one poll loop, per-connection state machines.
#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace sluice::metrics {

namespace {

constexpr log::Logger kLog("metrics");
using Clock = std::chrono::steady_clock;

struct Conn {
  enum class Phase { kReading, kWriting, kDraining };
  int fd = -1;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  size_t sent = 0;
  Clock::time_point deadline;
};

// After the response, the server half-closes and reads until the client closes: closing
// with unread request bytes would reset the connection and could destroy the response
// before the client read it (the 431 case). The deadline still bounds it.
void finishWrite(Conn& c) {
  ::shutdown(c.fd, SHUT_WR);
  c.phase = Conn::Phase::kDraining;
  c.out.clear();
  c.out.shrink_to_fit();
}

// Returns false when the connection is done (close it).
bool onReadable(Conn& c, const HttpServerOptions& o, const std::function<std::string()>& render) {
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) return false;  // the client closed (or half-closed before a full request)
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (c.phase != Conn::Phase::kReading) continue;  // draining: discard
    c.in.append(buf, size_t(n));
    RequestHead head = parseRequestHead(c.in, o.max_head);
    if (head.state == RequestHead::State::kIncomplete) continue;
    c.in.clear();
    c.in.shrink_to_fit();
    c.out = respond(head, [&render]() -> std::string {
      try {
        return render();
      } catch (const std::exception& e) {
        kLog.warn("rendering /metrics failed: {}", e.what());
        return "# rendering failed\n";
      }
    });
    c.phase = Conn::Phase::kWriting;
    return true;  // poll for POLLOUT next
  }
}

bool onWritable(Conn& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += size_t(n);
  }
  finishWrite(c);
  return true;
}

// A bound, listening, non-blocking socket for `a`.
Result<int> listenOn(const ListenAddress& a) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET6;
  if (a.any) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_any;
    s6->sin6_port = htons(a.port);
    len = sizeof *s6;
  } else if (a.host.find(':') != std::string::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    if (::inet_pton(AF_INET6, a.host.c_str(), &s6->sin6_addr) != 1) return makeError("'{}' is not an IPv6 address", a.host);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a.port);
    if (::inet_pton(AF_INET, a.host.c_str(), &s4->sin_addr) != 1) return makeError("'{}' is not an IPv4 address", a.host);
    len = sizeof *s4;
    family = AF_INET;
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 && a.any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
    // IPv6 disabled on this host: every IPv4 address instead.
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    ss = {};
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_ANY);
    s4->sin_port = htons(a.port);
    len = sizeof *s4;
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return makeError("socket(): {}", std::strerror(errno));
  int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.any && ss.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    int e = errno;
    ::close(fd);
    return makeError("cannot bind the metrics port: {}{}", std::strerror(e),
                     e == EADDRINUSE ? " (another process listens there; choose another --metrics port)"
                     : e == EADDRNOTAVAIL ? " (no local interface has that address)"
                                          : "");
  }
  if (::listen(fd, 64) < 0) {
    int e = errno;
    ::close(fd);
    return makeError("listen(): {}", std::strerror(e));
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

Result<ListenAddress> parseListenAddress(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return makeError("--metrics '{}': {}; expected 127.0.0.1:9100, [::1]:9100 or :9100", s, why);
  };
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
  ListenAddress a;
  if (port.empty()) return bad("no port");
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p > 65535) return bad("the port is not 0..65535");
  a.port = uint16_t(p);
  if (host.empty()) {
    a.any = true;
    return a;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
    in6_addr tmp;
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &tmp) != 1) return bad("not an IPv6 address");
  } else {
    in_addr tmp;
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address needs brackets");
    if (::inet_pton(AF_INET, std::string(host).c_str(), &tmp) != 1) return bad("not a numeric IPv4 address");
  }
  a.host = std::string(host);
  return a;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(std::string_view addr_port, std::function<std::string()> render,
                                                      HttpServerOptions options) {
  auto addr = parseListenAddress(addr_port);
  if (!addr) return addr.error();
  auto fd = listenOn(*addr);
  if (!fd) return fd.error();
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int e = errno;
    ::close(*fd);
    return makeError("eventfd(): {}", std::strerror(e));
  }
  std::unique_ptr<HttpServer> s(new HttpServer(*fd, efd, boundPort(*fd), std::move(render), options));
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

HttpServer::HttpServer(int listen_fd, int stop_fd, uint16_t port, std::function<std::string()> render,
                       HttpServerOptions options)
    : listen_fd_(listen_fd), stop_fd_(stop_fd), port_(port), render_(std::move(render)), options_(options) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) < 0) kLog.warn("cannot wake the metrics thread: {}", std::strerror(errno));
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void HttpServer::run() {
  std::vector<Conn> conns;
  std::vector<pollfd> pfds;
  // Out of file descriptors: the listening socket stays readable, so accepting pauses a
  // little instead of spinning (and logs once per pause).
  auto accept_paused_until = Clock::time_point::min();
  auto closeConn = [](Conn& c) {
    ::close(c.fd);
    c.fd = -1;
  };
  while (true) {
    auto now = Clock::now();
    for (auto& c : conns) {
      if (c.deadline > now) continue;
      // Abortive close: a graceful one would leave the kernel still trickling the rest
      // of the page to a reader that stopped reading, long after the deadline.
      linger abort{1, 0};
      ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      closeConn(c);
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });

    pfds.clear();
    pfds.push_back({stop_fd_, POLLIN, 0});
    // At the cap, new clients wait in the listen backlog until a slot frees.
    bool accepting = conns.size() < options_.max_connections && now >= accept_paused_until;
    pfds.push_back({listen_fd_, short(accepting ? POLLIN : 0), 0});
    auto next = now < accept_paused_until ? accept_paused_until : Clock::time_point::max();
    for (const auto& c : conns) {
      pfds.push_back({c.fd, short(c.phase == Conn::Phase::kWriting ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    int timeout = -1;
    if (next != Clock::time_point::max()) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
      timeout = int(std::clamp<int64_t>(ms, 0, 60000));
    }
    int n = ::poll(pfds.data(), pfds.size(), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      kLog.error("metrics server stops: poll(): {}", std::strerror(errno));
      break;
    }
    if (pfds[0].revents) break;

    // Clients first (pfds[2..] match conns as they were when polled); accepting appends.
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      short re = pfds[i + 2].revents;
      if (!re) continue;
      bool keep = true;
      if (c.phase == Conn::Phase::kWriting) {
        keep = !(re & (POLLERR | POLLHUP)) && onWritable(c);
      } else {
        keep = onReadable(c, options_, render_);
        // A response is usually small enough to go out at once, without another poll.
        if (keep && c.phase == Conn::Phase::kWriting) keep = onWritable(c);
      }
      if (!keep) closeConn(c);
    }
    if (pfds[1].revents & POLLIN) {
      while (conns.size() < options_.max_connections) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            kLog.warn("accept() on the metrics port: {}; pausing for 100 ms", std::strerror(errno));
            accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
          }
          break;
        }
        Conn c;
        c.fd = fd;
        c.deadline = Clock::now() + options_.deadline;
        conns.push_back(std::move(c));
      }
    }
  }
  for (auto& c : conns)
    if (c.fd >= 0) ::close(c.fd);
}

}  // namespace sluice::metrics
