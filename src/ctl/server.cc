// Non-blocking, single-threaded line server. Per client: an input buffer cut into lines,
// an output buffer drained as the socket allows. While a client has unsent output it is
// not read from, so a client that never reads cannot make the daemon buffer without
// bound. A line over kMaxRequestBytes gets one error answer and the connection closes.
#include "ctl/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "ctl/protocol.h"

namespace sluice::ctl {

namespace {

struct ClientConn {
  int fd = -1;
  std::string in;
  size_t scanned = 0;   // bytes of `in` already known to hold no newline
  std::string out;
  bool closing = false; // close once `out` is sent
};

Result<sockaddr_un> unixAddr(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path))
    return makeError("control socket path '{}' must be 1 to {} bytes", path, sizeof(sa.sun_path) - 1);
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

// Splits complete lines off the client's input and queues the answers.
void serveLines(ClientConn& c, Backend& backend) {
  for (;;) {
    size_t nl = c.in.find('\n', c.scanned);
    if (nl == std::string::npos) {
      c.scanned = c.in.size();
      break;
    }
    std::string_view line(c.in.data(), nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) {
      c.out += handleRequestLine(backend, line);
      c.out += '\n';
    }
    c.in.erase(0, nl + 1);
    c.scanned = 0;
  }
  if (c.in.size() > kMaxRequestBytes) {
    c.out += dumpJson(errorResponse(
        fmt::format("request line longer than {} bytes; closing the connection", kMaxRequestBytes)));
    c.out += '\n';
    c.in.clear();
    c.scanned = 0;
    c.closing = true;
  }
}

// Returns false when the client is finished with (closed or broken).
bool readClient(ClientConn& c, Backend& backend) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, size_t(n));
      serveLines(c, backend);
      if (c.closing || !c.out.empty()) return true;  // answer before reading more
      continue;
    }
    if (n == 0) {
      // Peer finished sending: answer what was complete, drop a partial line.
      c.in.clear();
      c.closing = true;
      return true;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

bool writeClient(ClientConn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

}  // namespace

CtlServer::CtlServer(std::string path, Backend& backend) : path_(std::move(path)), backend_(backend) {}

CtlServer::~CtlServer() { stop(); }

Status CtlServer::open() {
  if (listen_fd_ >= 0) return makeError("control socket {} is already open", path_);
  auto sa = unixAddr(path_);
  if (!sa) return sa.error();

  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return makeError("cannot create directory {} for the control socket: {}", parent.string(), ec.message());
  }

  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return makeError("{} exists and is not a socket; refusing to replace it", path_);
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return makeError("socket(): {}", std::strerror(errno));
    bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&*sa), sizeof(sockaddr_un)) == 0;
    ::close(probe);
    if (live) return makeError("another process is already serving the control socket {}", path_);
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
      return makeError("cannot remove the stale socket {}: {}", path_, std::strerror(errno));
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return makeError("socket(): {}", std::strerror(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof(sockaddr_un)) != 0) {
    int e = errno;
    ::close(fd);
    return makeError("cannot bind the control socket {}: {}", path_, std::strerror(e));
  }
  bound_ = true;
  // The socket changes the load balancer: only its owner (root, normally) may use it.
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path_.c_str());
    bound_ = false;
    return makeError("cannot set up the control socket {}: {}", path_, std::strerror(e));
  }
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path_.c_str());
    bound_ = false;
    return makeError("eventfd(): {}", std::strerror(e));
  }
  listen_fd_ = fd;
  stop_fd_ = efd;
  return {};
}

void CtlServer::run() {
  if (listen_fd_ < 0 || stop_fd_ < 0) return;
  std::vector<ClientConn> clients;
  std::vector<pollfd> pfds;
  for (;;) {
    pfds.clear();
    pfds.push_back({stop_fd_, POLLIN, 0});
    pfds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& c : clients) {
      short ev = !c.out.empty() ? POLLOUT : (c.closing ? 0 : POLLIN);
      pfds.push_back({c.fd, ev, 0});
    }
    int n = ::poll(pfds.data(), pfds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pfds[0].revents) break;

    // Serve existing clients first; indices in pfds match `clients` before accepting.
    for (size_t i = 0; i < clients.size(); ++i) {
      auto& c = clients[i];
      short re = pfds[i + 2].revents;
      bool keep = true;
      if (re & POLLOUT) keep = writeClient(c);
      else if (re & POLLIN) keep = readClient(c, backend_);
      else if (re & (POLLHUP | POLLERR | POLLNVAL)) keep = false;
      if (keep && !c.out.empty()) keep = writeClient(c);  // answer at once when possible
      if (keep && c.closing && c.out.empty()) keep = false;
      if (!keep) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(clients, [](const ClientConn& c) { return c.fd < 0; });

    if (pfds[1].revents & POLLIN) {
      for (;;) {
        int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) break;
        if (clients.size() >= kMaxClients) {
          ::close(cfd);
          continue;
        }
        ClientConn c;
        c.fd = cfd;
        clients.push_back(std::move(c));
      }
    }
  }
  for (auto& c : clients) ::close(c.fd);
}

Status CtlServer::start() {
  if (thread_.joinable()) return makeError("control server {} already started", path_);
  if (auto s = open(); !s) return s;
  thread_ = std::thread([this] { run(); });
  return {};
}

void CtlServer::requestStop() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t r = ::write(stop_fd_, &one, sizeof one);
    (void)r;
  }
}

void CtlServer::stop() {
  requestStop();
  if (thread_.joinable()) thread_.join();
  closeAll();
}

void CtlServer::closeAll() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
  if (bound_) ::unlink(path_.c_str());
  bound_ = false;
}

}  // namespace sluice::ctl
