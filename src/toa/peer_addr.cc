#include "toa/peer_addr.h"

#include <netinet/in.h>

#include <cstring>

namespace sluice::toa {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct End {
  uint8_t family;
  std::array<uint8_t, 16> addr;
  uint16_t port;
};

std::optional<End> endFrom(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr || len < socklen_t(sizeof(sa_family_t))) return std::nullopt;
  End e{};
  if (sa->sa_family == AF_INET) {
    if (len < socklen_t(sizeof(sockaddr_in))) return std::nullopt;
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof(in));
    e.family = kFamilyV4;
    std::memcpy(e.addr.data(), &in.sin_addr, 4);
    e.port = ntohs(in.sin_port);
    return e;
  }
  if (sa->sa_family == AF_INET6) {
    if (len < socklen_t(sizeof(sockaddr_in6))) return std::nullopt;
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof(in6));
    e.port = ntohs(in6.sin6_port);
    if (std::memcmp(&in6.sin6_addr, kMappedPrefix, 12) == 0) {
      e.family = kFamilyV4;
      std::memcpy(e.addr.data(), reinterpret_cast<const uint8_t*>(&in6.sin6_addr) + 12, 4);
    } else {
      e.family = kFamilyV6;
      std::memcpy(e.addr.data(), &in6.sin6_addr, 16);
    }
    return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Tuple> tupleFromSockaddrs(const sockaddr* local, socklen_t local_len,
                                        const sockaddr* peer, socklen_t peer_len) {
  auto l = endFrom(local, local_len);
  auto p = endFrom(peer, peer_len);
  if (!l || !p || l->family != p->family) return std::nullopt;
  Tuple t;
  t.family = l->family;
  t.local = l->addr;
  t.peer = p->addr;
  t.local_port = l->port;
  t.peer_port = p->port;
  return t;
}

Rewrite writeClient(int socket_family, const Client& client, sockaddr* addr, socklen_t capacity,
                    socklen_t* addrlen) {
  sockaddr_storage ss{};
  socklen_t full = 0;
  if (socket_family == AF_INET) {
    if (client.family != kFamilyV4) return Rewrite::kUnrepresentable;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(client.port);
    std::memcpy(&in.sin_addr, client.addr.data(), 4);
    std::memcpy(&ss, &in, sizeof(in));
    full = sizeof(in);
  } else if (socket_family == AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(client.port);
    auto* a = reinterpret_cast<uint8_t*>(&in6.sin6_addr);
    if (client.family == kFamilyV4) {
      std::memcpy(a, kMappedPrefix, 12);
      std::memcpy(a + 12, client.addr.data(), 4);
    } else if (client.family == kFamilyV6) {
      std::memcpy(a, client.addr.data(), 16);
    } else {
      return Rewrite::kUnrepresentable;
    }
    std::memcpy(&ss, &in6, sizeof(in6));
    full = sizeof(in6);
  } else {
    return Rewrite::kUnrepresentable;
  }
  // move_addr_to_user(): the first min(capacity, full) bytes, and the full length back.
  const socklen_t n = capacity < full ? capacity : full;
  if (addr != nullptr && n > 0) std::memcpy(addr, &ss, n);
  if (addrlen != nullptr) *addrlen = full;
  return Rewrite::kDone;
}

}  // namespace sluice::toa
