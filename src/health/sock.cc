#include "health/sock.h"

#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sluice::health {

socklen_t toSockaddr(const net::Endpoint& ep, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (ep.addr.isV6()) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(ep.port);
    std::memcpy(&s6->sin6_addr, ep.addr.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(ep.port);
  std::memcpy(&s4->sin_addr, ep.addr.bytes.data(), 4);
  return sizeof(sockaddr_in);
}

net::Endpoint fromSockaddr(const sockaddr_storage& ss) {
  net::Endpoint ep;
  if (ss.ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ep.addr = net::IpAddr::fromV6Bytes(reinterpret_cast<const uint8_t*>(&s6->sin6_addr));
    ep.port = ntohs(s6->sin6_port);
  } else if (ss.ss_family == AF_INET) {
    auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    ep.addr = net::IpAddr::fromV4Bytes(reinterpret_cast<const uint8_t*>(&s4->sin_addr));
    ep.port = ntohs(s4->sin_port);
  }
  return ep;
}

std::string errnoText(int err) { return strerror(err); }

Result<int> openSocket(const config::CheckerConfig& c, const net::Endpoint& to, int type,
                       int protocol, bool connect_to) {
  int family = to.addr.isV6() ? AF_INET6 : AF_INET;
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return makeError("socket: {}", errnoText(errno));
  auto fail = [fd](std::string what) {
    int e = errno;
    close(fd);
    return Error{fmt::format("{}: {}", what, errnoText(e))};
  };
  if (!c.bind_if.empty() &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c.bind_if.data(), socklen_t(c.bind_if.size())) != 0)
    return fail(fmt::format("bind_if {}", c.bind_if));
  if (c.fwmark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &c.fwmark, sizeof c.fwmark) != 0)
    return fail(fmt::format("fwmark {}", c.fwmark));
  if (c.bindto || c.bind_port != 0) {
    net::Endpoint src;
    if (c.bindto) {
      if (c.bindto->isV6() != to.addr.isV6())
        return (close(fd), makeError("bindto {} is not of the family of {}", c.bindto->str(), to.addr.str()));
      src.addr = *c.bindto;
    } else {
      src.addr.family = to.addr.family;
    }
    src.port = c.bind_port;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss;
    socklen_t len = toSockaddr(src, ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail(fmt::format("bind {}", src.str()));
  }
  if (connect_to) {
    sockaddr_storage ss;
    socklen_t len = toSockaddr(to, ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
      return fail("connect");
  }
  return fd;
}

Status Watched::attach(Loop& loop, int fd, uint32_t events, Loop::FdHandler h) {
  reset();
  loop_ = &loop;
  fd_ = fd;
  auto w = loop.watch(fd, events, std::move(h));
  if (!w.ok()) {
    Error e = w.error();
    reset();
    return e;
  }
  id_ = *w;
  return {};
}

Status Watched::want(uint32_t events) { return loop_->modify(id_, events); }

void Watched::reset() {
  if (loop_ && id_) loop_->unwatch(id_);
  if (fd_ >= 0) close(fd_);
  id_ = 0;
  fd_ = -1;
}

int Watched::release() {
  if (loop_ && id_) loop_->unwatch(id_);
  int fd = fd_;
  id_ = 0;
  fd_ = -1;
  return fd;
}

void Timer::arm(Loop& loop, Nanos delay, Loop::TimerFn fn) {
  reset();
  loop_ = &loop;
  id_ = loop.after(delay, std::move(fn));
}

void Timer::reset() {
  if (loop_ && id_) loop_->cancel(id_);
  id_ = 0;
}

std::string secondsText(Nanos d) {
  if (d % kSecond == 0) return fmt::format("{} s", d / kSecond);
  return fmt::format("{:g} s", double(d) / double(kSecond));
}

}  // namespace sluice::health
