#include "toa/lookup_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::toa {

namespace {

std::string errStr(int err) { return std::strerror(err < 0 ? -err : err); }

Result<sockaddr_un> unixAddr(const std::string& path) {
  sockaddr_un a{};
  if (path.empty() || path.size() >= sizeof(a.sun_path))
    return makeError("socket path '{}' is empty or longer than {} bytes", path,
                     sizeof(a.sun_path) - 1);
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// A socket file nobody accepts on (a daemon that was killed) is ours to replace.
Status clearStale(const std::string& path, const sockaddr_un& a) {
  struct stat st{};
  if (lstat(path.c_str(), &st) != 0) return {};  // nothing there
  if (!S_ISSOCK(st.st_mode))
    return makeError("{} exists and is not a socket: remove it or choose another --socket", path);
  const int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (probe < 0) return makeError("socket: {}", errStr(errno));
  const bool alive = connect(probe, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
  close(probe);
  if (alive) return makeError("another sluice-toa answers on {}", path);
  if (unlink(path.c_str()) != 0)
    return makeError("cannot remove the stale socket {}: {}", path, errStr(errno));
  return {};
}

}  // namespace

Result<std::unique_ptr<LookupServer>> LookupServer::listen(const std::string& path,
                                                           Lookup lookup,
                                                           size_t max_connections) {
  auto a = unixAddr(path);
  if (!a) return a.error();
  if (Status st = clearStale(path, *a); !st) return st.error();
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError("socket: {}", errStr(errno));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&*a), sizeof(*a)) != 0) {
    const int err = errno;
    close(fd);
    return makeError("cannot bind {}: {}", path, errStr(err));
  }
  if (chmod(path.c_str(), 0666) != 0 || ::listen(fd, 128) != 0) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    return makeError("cannot listen on {}: {}", path, errStr(err));
  }
  if (max_connections == 0) max_connections = 1;
  return std::unique_ptr<LookupServer>(
      new LookupServer(path, fd, std::move(lookup), max_connections));
}

LookupServer::~LookupServer() {
  for (int c : conns_) close(c);
  close(listen_fd_);
  unlink(path_.c_str());
}

void LookupServer::closeConn(size_t index) {
  close(conns_[index]);
  conns_.erase(conns_.begin() + std::ptrdiff_t(index));
}

void LookupServer::acceptOne() {
  const int c = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) return;  // EAGAIN, or the client gave up: nothing to do
  if (conns_.size() >= max_connections_) {
    closeConn(0);
    ++stats_.dropped;
  }
  conns_.push_back(c);
}

bool LookupServer::answerOne(int fd) {
  uint8_t buf[kRequestSize + 1];
  // MSG_TRUNC: the message's real length, so an oversized one is not taken for its prefix.
  const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  const DecodedRequest req = decodeRequest(buf, size_t(n));
  Answer ans;
  if (req.error != DecodeError::kNone) {
    ans.status = statusForError(req.error);
    ++stats_.bad_requests;
  } else if (auto c = lookup_(req.tuple)) {
    ans.status = AnswerStatus::kFound;
    ans.client = *c;
    ++stats_.found;
  } else {
    ans.status = AnswerStatus::kUnknown;
    ++stats_.unknown;
  }
  const auto out = encodeAnswer(ans);
  if (send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL) != ssize_t(out.size())) {
    ++stats_.dropped;
    return false;
  }
  return true;
}

Status LookupServer::serve(int stop_fd) {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (int c : conns_) fds.push_back({c, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return makeError("poll: {}", errStr(errno));
    }
    if (fds[0].revents) return {};
    // Connections first, from the back so that closing one keeps the others' indices; at
    // most one message each per round, so a client that floods waits its turn.
    for (size_t i = fds.size(); i-- > 2;) {
      const short ev = fds[i].revents;
      if (ev == 0) continue;
      const size_t index = i - 2;
      if ((ev & POLLIN) ? !answerOne(conns_[index]) : true) closeConn(index);
    }
    if (fds[1].revents & POLLIN) acceptOne();
  }
}

}  // namespace sluice::toa
