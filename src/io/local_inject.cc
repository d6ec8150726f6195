#include "io/local_inject.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::io {

namespace {
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinQ = 0x88a8;

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
}  // namespace

Result<LocalInjector> LocalInjector::open() {
  int fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
  if (fd4 < 0)
    return makeError(
        "cannot open a raw IPv4 socket to deliver packets of local real servers "
        "({}): sluiced needs CAP_NET_RAW",
        std::strerror(errno));
  int fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
  if (fd6 < 0) {
    const int err = errno;
    ::close(fd4);
    return makeError(
        "cannot open a raw IPv6 socket to deliver packets of local real servers "
        "({}): sluiced needs CAP_NET_RAW",
        std::strerror(err));
  }
  return LocalInjector(fd4, fd6);
}

LocalInjector& LocalInjector::operator=(LocalInjector&& o) noexcept {
  if (this != &o) {
    if (fd4_ >= 0) ::close(fd4_);
    if (fd6_ >= 0) ::close(fd6_);
    fd4_ = o.fd4_;
    fd6_ = o.fd6_;
    o.fd4_ = o.fd6_ = -1;
  }
  return *this;
}

LocalInjector::~LocalInjector() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}

bool LocalInjector::inject(std::span<const uint8_t> frame) const noexcept {
  size_t off = 12;
  if (frame.size() < off + 2) return false;
  uint16_t type = be16(frame.data() + off);
  for (int tags = 0; (type == kEthVlan || type == kEthQinQ) && tags < 2; ++tags) {
    off += 4;
    if (frame.size() < off + 2) return false;
    type = be16(frame.data() + off);
  }
  off += 2;
  const uint8_t* ip = frame.data() + off;
  const size_t len = frame.size() - off;
  if (type == kEthIpv4 && len >= 20) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, ip + 16, 4);
    // The IP header's own length: Ethernet padding after the datagram is not sent.
    const size_t ip_len = std::min<size_t>(len, be16(ip + 2));
    return sendto(fd4_, ip, ip_len, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == ssize_t(ip_len);
  }
  if (type == kEthIpv6 && len >= 40) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, ip + 24, 16);
    const size_t ip_len = std::min<size_t>(len, 40 + size_t(be16(ip + 4)));
    return sendto(fd6_, ip, ip_len, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == ssize_t(ip_len);
  }
  return false;
}

}  // namespace sluice::io
