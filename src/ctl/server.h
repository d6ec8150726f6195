// The daemon's end of the control socket. One thread (the caller's, or one start() makes)
// polls the listening socket, an eventfd used to stop it, and every connected client;
// each complete request line is answered through ctl::handleRequestLine. Serving all
// clients from one poll loop means a client that connects and stalls cannot lock out
// the operator's next sluiceadm, and every Backend call happens on that one thread, so
// the daemon only has to make Backend safe against its own other threads.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "common/result.h"
#include "ctl/backend.h"

namespace sluice::ctl {

class CtlServer {
 public:
  // At most this many clients at once; further connections are closed at once.
  static constexpr size_t kMaxClients = 32;

  CtlServer(std::string path, Backend& backend);
  ~CtlServer();
  CtlServer(const CtlServer&) = delete;
  CtlServer& operator=(const CtlServer&) = delete;

  // Creates the parent directory, removes a stale socket file (refusing if a live server
  // answers there, or if the path is not a socket), binds, restricts it to the owner
  // (0600) and listens.
  Status open();
  // Serves until requestStop(). open() must have succeeded. For a thread the daemon owns.
  void run();
  // open() and run() on a thread of its own.
  Status start();
  // Makes run() return soon; safe from any thread (one eventfd write).
  void requestStop();
  // requestStop(), joins the thread start() made, closes the socket and removes the file.
  // When run() was called on the daemon's own thread, join that thread before stop().
  void stop();

  const std::string& path() const { return path_; }

 private:
  void closeAll();

  std::string path_;
  Backend& backend_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  bool bound_ = false;
  std::thread thread_;
};

}  // namespace sluice::ctl
