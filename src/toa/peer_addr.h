// Between the socket API's addresses and the lookup protocol's: the connection's tuple
// from its two sockaddrs, and the client's address written back where the application
// asked for its peer.
//
// v4-mapped addresses are normalised: an IPv4 connection accepted on a dual-stack IPv6
// socket has ::ffff:a.b.c.d on both ends, and is looked up as the IPv4 connection it is,
// which is how the sockops program keys it (abi/toa.h). The answer goes back in the
// socket's own family: an IPv4 client on an IPv6 socket as ::ffff:a.b.c.d, as the kernel
// would have given it. Like wire.h, nothing here allocates: the preload library uses it.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "toa/wire.h"

namespace sluice::toa {

// The tuple of a connected AF_INET or AF_INET6 socket; nullopt for other families, for
// sockaddrs shorter than their family needs, or when the two ends' families differ.
std::optional<Tuple> tupleFromSockaddrs(const sockaddr* local, socklen_t local_len,
                                        const sockaddr* peer, socklen_t peer_len);

enum class Rewrite {
  kDone,
  kUnrepresentable,  // an IPv6 client on an IPv4 socket, or a family this code does not know
};

// Writes `client` as a sockaddr of `socket_family` into the caller's buffer the way the
// kernel does: at most `capacity` bytes (the *addrlen the caller passed in), and *addrlen
// set to the full size, so a truncated buffer is visible to the caller. On
// kUnrepresentable nothing is written.
Rewrite writeClient(int socket_family, const Client& client, sockaddr* addr, socklen_t capacity,
                    socklen_t* addrlen);

}  // namespace sluice::toa
