// libsluice_toa.so: LD_PRELOAD into an unmodified server so that accept(), accept4() and
// getpeername() return the FULLNAT client's address (from the director's TOA option, as
// read by sluice-toa's sockops program) instead of the director's local address.
//
// The first rule is to never hurt the application. Each wrapper calls the real function
// first and returns its result unchanged unless every step of the lookup succeeds: a
// socket that is not TCP over IPv4/IPv6, a daemon that is absent, refuses, is slow (one
// non-blocking connect, then at most kTimeoutMs for the answer), or answers "unknown" all
// leave the kernel's address as it was. errno is preserved; nothing allocates; there is no
// shared state after start-up (one connection per lookup), so threads and fork() need no
// care. The price of a connection per lookup is a few system calls and a daemon wake-up per
// accept(); a server that accepts with a null address pays nothing until it asks.
//
// Socket path: $SLUICE_TOA_SOCKET, read once when the library loads; default
// /run/sluice-toa.sock.
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "toa/peer_addr.h"
#include "toa/wire.h"

namespace {

using namespace sluice::toa;

constexpr int kTimeoutMs = 20;
constexpr char kDefaultSocket[] = "/run/sluice-toa.sock";

using AcceptFn = int (*)(int, sockaddr*, socklen_t*);
using Accept4Fn = int (*)(int, sockaddr*, socklen_t*, int);
using GetpeernameFn = int (*)(int, sockaddr*, socklen_t*);

std::atomic<AcceptFn> real_accept{nullptr};
std::atomic<Accept4Fn> real_accept4{nullptr};
std::atomic<GetpeernameFn> real_getpeername{nullptr};

sockaddr_un daemon_addr{};
socklen_t daemon_addr_len = 0;  // 0: no usable path, lookups are off

template <class Fn>
Fn resolve(std::atomic<Fn>& slot, const char* name) {
  Fn f = slot.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    slot.store(f, std::memory_order_release);
  }
  return f;
}

__attribute__((constructor)) void init() {
  resolve(real_accept, "accept");
  resolve(real_accept4, "accept4");
  resolve(real_getpeername, "getpeername");
  const char* path = std::getenv("SLUICE_TOA_SOCKET");
  if (path == nullptr || *path == '\0') path = kDefaultSocket;
  const size_t n = std::strlen(path);
  if (n >= sizeof(daemon_addr.sun_path)) return;  // too long for a unix address: off
  daemon_addr.sun_family = AF_UNIX;
  std::memcpy(daemon_addr.sun_path, path, n + 1);
  daemon_addr_len = socklen_t(offsetof(sockaddr_un, sun_path) + n + 1);
}

int64_t nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// One lookup on its own connection. nullopt: no answer to use, whatever the reason (the
// reasons are the daemon's to count, not the application's to see).
std::optional<Client> askDaemon(const Tuple& t) {
  if (daemon_addr_len == 0) return std::nullopt;
  const int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return std::nullopt;
  std::optional<Client> found;
  const auto req = encodeRequest(t);
  if (connect(s, reinterpret_cast<const sockaddr*>(&daemon_addr), daemon_addr_len) == 0 &&
      send(s, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
    const int64_t deadline = nowMs() + kTimeoutMs;
    pollfd p{s, POLLIN, 0};
    for (;;) {
      const int64_t left = deadline - nowMs();
      if (left <= 0) break;
      const int r = poll(&p, 1, int(left));
      if (r < 0 && errno == EINTR) continue;
      if (r != 1) break;
      uint8_t buf[kAnswerSize + 1];
      const ssize_t got = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got < 0) break;
      DecodedAnswer a = decodeAnswer(buf, size_t(got));
      if (a.error == DecodeError::kNone && a.answer.status == AnswerStatus::kFound) {
        found = a.answer.client;
      }
      break;
    }
  }
  close(s);
  return found;
}

// Replaces what the kernel wrote to (addr, *addrlen) for connection `fd` by the client
// behind it, when there is one. `capacity` is the *addrlen the caller passed in.
void substitute(int fd, sockaddr* addr, socklen_t capacity, socklen_t* addrlen) {
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return;
  const int family = local.ss_family;
  if (family != AF_INET && family != AF_INET6) return;
  int proto = 0;
  socklen_t proto_len = sizeof(proto);
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &proto_len) != 0 || proto != IPPROTO_TCP)
    return;
  GetpeernameFn gp = resolve(real_getpeername, "getpeername");
  if (gp == nullptr || gp(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return;
  auto t = tupleFromSockaddrs(reinterpret_cast<sockaddr*>(&local), local_len,
                              reinterpret_cast<sockaddr*>(&peer), peer_len);
  if (!t) return;
  if (auto c = askDaemon(*t)) writeClient(family, *c, addr, capacity, addrlen);
}

void afterCall(int fd, sockaddr* addr, socklen_t capacity, socklen_t* addrlen) {
  const int saved = errno;
  substitute(fd, addr, capacity, addrlen);
  errno = saved;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int accept(int fd, sockaddr* addr, socklen_t* addrlen) {
  AcceptFn real = resolve(real_accept, "accept");
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  // The caller's capacity, read before the call as the kernel reads it; without an
  // address to fill there is nothing to substitute (getpeername() is wrapped too).
  const bool wants = addr != nullptr && addrlen != nullptr;
  const socklen_t capacity = wants ? *addrlen : 0;
  const int c = real(fd, addr, addrlen);
  if (c >= 0 && wants) afterCall(c, addr, capacity, addrlen);
  return c;
}

__attribute__((visibility("default"))) int accept4(int fd, sockaddr* addr, socklen_t* addrlen,
                                                   int flags) {
  Accept4Fn real = resolve(real_accept4, "accept4");
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const bool wants = addr != nullptr && addrlen != nullptr;
  const socklen_t capacity = wants ? *addrlen : 0;
  const int c = real(fd, addr, addrlen, flags);
  if (c >= 0 && wants) afterCall(c, addr, capacity, addrlen);
  return c;
}

__attribute__((visibility("default"))) int getpeername(int fd, sockaddr* addr,
                                                       socklen_t* addrlen) {
  GetpeernameFn real = resolve(real_getpeername, "getpeername");
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const bool wants = addr != nullptr && addrlen != nullptr;
  const socklen_t capacity = wants ? *addrlen : 0;
  const int r = real(fd, addr, addrlen);
  if (r == 0 && wants) afterCall(fd, addr, capacity, addrlen);
  return r;
}

}  // extern "C"
