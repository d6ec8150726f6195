// sluice-toa's answering side: a unix seqpacket socket where each message is one lookup
// request (wire.h) and gets exactly one answer on the same connection.
//
// One thread, one poll() over the listener, a stop fd and every connection: a client that
// connects and never sends, or never reads its answers, holds only its own connection.
// Seqpacket keeps message boundaries, so there are no per-connection buffers: a message
// is a request or it is answered kBadRequest (and the connection stays usable). A client
// whose answer cannot be sent at once (it stopped reading) is disconnected, and when
// `max_connections` are open the oldest is closed to make room: the preload library opens
// a connection per lookup and closes it at once, so only an idle or stuck client is hurt.
// The lookup itself is injected (the daemon gives the BPF map's; tests give a table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "toa/wire.h"

namespace sluice::toa {

struct LookupStats {
  uint64_t found = 0;
  uint64_t unknown = 0;
  uint64_t bad_requests = 0;
  uint64_t dropped = 0;  // connections closed because full or not reading their answers
};

class LookupServer {
 public:
  using Lookup = std::function<std::optional<Client>(const Tuple&)>;

  // Listens on `path`: a socket file left by a daemon that died is replaced; one that
  // still answers is an error (another sluice-toa runs there). Mode 0666: every local
  // application under the preload library must be able to ask.
  static Result<std::unique_ptr<LookupServer>> listen(const std::string& path, Lookup lookup,
                                                      size_t max_connections = 256);
  ~LookupServer();  // closes every connection and removes the socket file
  LookupServer(const LookupServer&) = delete;
  LookupServer& operator=(const LookupServer&) = delete;

  // Answers until `stop_fd` is readable (a signalfd, an eventfd).
  Status serve(int stop_fd);
  LookupStats stats() const { return stats_; }

 private:
  LookupServer(std::string path, int fd, Lookup lookup, size_t max_connections)
      : path_(std::move(path)), listen_fd_(fd), lookup_(std::move(lookup)),
        max_connections_(max_connections) {}
  void acceptOne();
  // false: the connection is finished (closed by the peer, or dropped).
  bool answerOne(int fd);
  void closeConn(size_t index);

  std::string path_;
  int listen_fd_;
  Lookup lookup_;
  size_t max_connections_;
  std::deque<int> conns_;  // accept order: the front is the oldest
  LookupStats stats_;
};

}  // namespace sluice::toa
