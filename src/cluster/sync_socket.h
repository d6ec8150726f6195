// The UDP socket session sync speaks through: bound to one local address and port, either
// family, non-blocking. Apart from SyncNode so that the socket is bound (and its port
// known, when the caller asked for an ephemeral one) before the nodes that must name each
// other as peers are built, and so that a bind error reaches the operator with the address
// and the cause before any thread starts.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "net/addr.h"

namespace sluice::cluster {

class SyncSocket {
 public:
  // socket + bind; port 0 picks an ephemeral port (localEndpoint() says which).
  static Result<SyncSocket> bind(const net::Endpoint& local);

  SyncSocket(SyncSocket&& o) noexcept : fd_(o.fd_), local_(o.local_) { o.fd_ = -1; }
  SyncSocket& operator=(SyncSocket&& o) noexcept;
  SyncSocket(const SyncSocket&) = delete;
  SyncSocket& operator=(const SyncSocket&) = delete;
  ~SyncSocket();

  int fd() const { return fd_; }
  const net::Endpoint& localEndpoint() const { return local_; }

  // One datagram; false when the kernel refused it (errno kept), which sync counts and
  // shrugs off: the next heartbeat or update repeats what matters.
  bool sendTo(std::span<const uint8_t> datagram, const net::Endpoint& to) const noexcept;

  struct Received {
    size_t size;  // the datagram's real length, even when it did not fit `buf`
    net::Endpoint from;
  };
  // One datagram into `buf`, or nullopt when none waits (or on an error, counted by the
  // caller through `*error`).
  std::optional<Received> receive(std::span<uint8_t> buf, bool* error) const noexcept;

 private:
  SyncSocket(int fd, net::Endpoint local) : fd_(fd), local_(local) {}
  int fd_ = -1;
  net::Endpoint local_;
};

}  // namespace sluice::cluster
