// The sync UDP socket; see sync_socket.h.
#include "cluster/sync_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::cluster {
namespace {

socklen_t toSockaddr(const net::Endpoint& ep, sockaddr_storage& ss) noexcept {
  std::memset(&ss, 0, sizeof ss);
  if (ep.addr.isV4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(ep.port);
    std::memcpy(&sin->sin_addr, ep.addr.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(ep.port);
  std::memcpy(&sin6->sin6_addr, ep.addr.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

net::Endpoint fromSockaddr(const sockaddr_storage& ss) noexcept {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    return {net::IpAddr::fromV4Bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr)),
            ntohs(sin->sin_port)};
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    return {net::IpAddr::fromV6Bytes(sin6->sin6_addr.s6_addr), ntohs(sin6->sin6_port)};
  }
  return {};
}

}  // namespace

Result<SyncSocket> SyncSocket::bind(const net::Endpoint& local) {
  if (!local.addr.isV4() && !local.addr.isV6())
    return makeError("sync: no address to bind the sync socket to");
  int fd = ::socket(local.addr.isV4() ? AF_INET : AF_INET6,
                    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError("sync: socket(): {}", std::strerror(errno));
  if (local.addr.isV6()) {
    int one = 1;  // an IPv6 socket speaks IPv6 only: peers are listed in one family
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  sockaddr_storage ss;
  socklen_t len = toSockaddr(local, ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    return makeError(
        "sync: cannot bind {}: {} (is the address configured on this host, and "
        "the port free?)",
        local.str(), std::strerror(err));
  }
  len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    int err = errno;
    ::close(fd);
    return makeError("sync: getsockname(): {}", std::strerror(err));
  }
  return SyncSocket(fd, fromSockaddr(ss));
}

SyncSocket& SyncSocket::operator=(SyncSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    local_ = o.local_;
    o.fd_ = -1;
  }
  return *this;
}

SyncSocket::~SyncSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool SyncSocket::sendTo(std::span<const uint8_t> datagram, const net::Endpoint& to) const noexcept {
  sockaddr_storage ss;
  socklen_t len = toSockaddr(to, ss);
  return ::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                  reinterpret_cast<sockaddr*>(&ss), len) == ssize_t(datagram.size());
}

std::optional<SyncSocket::Received> SyncSocket::receive(std::span<uint8_t> buf,
                                                        bool* error) const noexcept {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  // MSG_TRUNC: the real length of a datagram larger than buf, so it is refused as oversized
  // rather than read as a shorter, truncated one.
  ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC,
                         reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0) {
    *error = errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return std::nullopt;
  }
  *error = false;
  return Received{size_t(n), fromSockaddr(ss)};
}

}  // namespace sluice::cluster
