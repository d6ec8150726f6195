// flowhold: the measuring tool of the cluster lab (tests/lab/cluster_lab.sh). It answers one
// question a director failover must pass: do established TCP connections survive, and how
// many new ones fail while the cluster changes?
//
//   flowhold serve --listen ADDR:PORT [--listen ...]
//       an echo server for thousands of connections (IPv4 and IPv6), silent per connection.
//   flowhold hold --to ADDR:PORT --conns N --duration S [--interval-ms 100] [--ramp-s R]
//       [--new-rate PER_S] [--echo-timeout-ms 2000] [--status FILE] [--bind-src ADDR]...
//       holds N long-lived connections, each sending a numbered line every interval and
//       expecting exactly that line back; one that sees a RST, an EOF, an error, a wrong echo
//       or no echo within the timeout is *broken*, once, and never reopened. Meanwhile it
//       opens PER_S short connections a second (connect, one line, its echo, close) and
//       counts them per second. SIGUSR1 and the end write a JSON status to FILE (tmp +
//       rename); the exit status is 0 whatever happened, since the lab judges, not the tool.
//
// Trade-off: one thread, non-blocking sockets and one epoll, with every deadline checked by
// a scan of all connections each 10 ms tick instead of a timer heap. That is O(N) per tick,
// nothing for the few thousand connections a lab holds, and it keeps the timing rules in one
// place. The echo deadline is measured from the send, so a stall shows up as latency first
// (echo_max_ms) and as a break only past the timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Ms = int64_t;  // milliseconds on CLOCK_MONOTONIC

Ms nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ms{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "flowhold: %s\n", msg.c_str());
  std::exit(2);
}

std::string errName(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : "E" + std::to_string(err);
}

// ---- addresses ----------------------------------------------------------------------------

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
};

// "10.0.0.1:80", "[2001:db8::1]:80"; port 0 when with_port is false and none is given.
std::optional<SockAddr> parseAddr(const std::string& text, bool with_port) {
  std::string host = text, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':');
             colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);  // exactly one colon: IPv4 with a port
    port = text.substr(colon + 1);
  }
  if (with_port && port.empty()) return std::nullopt;
  int p = 0;
  if (!port.empty()) {
    char* end = nullptr;
    long v = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v > 65535) return std::nullopt;
    p = static_cast<int>(v);
  }
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(p));
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(p));
    a.len = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  return a;
}

void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// SIGUSR1 (status now), SIGTERM/SIGINT (finish now) arrive on a descriptor in the epoll set.
int signalFd() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGTERM, SIGINT}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) die(std::string("signalfd: ") + std::strerror(errno));
  return fd;
}

void epollAdd(int ep, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
}

void epollMod(int ep, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

// ---- serve --------------------------------------------------------------------------------

// Echoes bytes as they come (which echoes lines). When the peer does not read, the unsent
// rest is kept and reading stops until it is gone, so memory per connection stays bounded.
int serve(const std::vector<SockAddr>& listens) {
  raiseFdLimit();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int sfd = signalFd();
  constexpr uint64_t kSignalTag = ~uint64_t{0};
  epollAdd(ep, sfd, EPOLLIN, kSignalTag);
  std::vector<int> listeners;
  for (const auto& a : listens) {
    int fd = socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0)
      die(std::string("bind: ") + std::strerror(errno));
    if (listen(fd, 4096) != 0) die(std::string("listen: ") + std::strerror(errno));
    listeners.push_back(fd);
    epollAdd(ep, fd, EPOLLIN, uint64_t{1} << 32 | static_cast<uint32_t>(fd));
  }
  std::printf("serving\n");
  std::fflush(stdout);
  std::unordered_map<int, std::string> pending;  // fd -> bytes not yet echoed
  std::vector<epoll_event> evs(256);
  char buf[16384];
  for (;;) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag == kSignalTag) {
        signalfd_siginfo si{};
        while (read(sfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo != SIGUSR1) return 0;
        }
        continue;
      }
      int fd = static_cast<int>(tag & 0xffffffffu);
      if (tag >> 32 == 1) {
        for (;;) {
          int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;  // EAGAIN, or EMFILE and the like: try again on the next event
          epollAdd(ep, c, EPOLLIN | EPOLLRDHUP, static_cast<uint32_t>(c));
        }
        continue;
      }
      auto drop = [&] {
        pending.erase(fd);
        close(fd);  // also removes it from the epoll set
      };
      if (auto it = pending.find(fd); it != pending.end()) {
        ssize_t w = send(fd, it->second.data(), it->second.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { drop(); continue; }
        if (w > 0) it->second.erase(0, static_cast<size_t>(w));
        if (!it->second.empty()) continue;
        pending.erase(it);
        epollMod(ep, fd, EPOLLIN | EPOLLRDHUP, static_cast<uint32_t>(fd));
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) { drop(); continue; }
      if (r < 0) continue;
      ssize_t w = send(fd, buf, static_cast<size_t>(r), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) { drop(); continue; }
      if (w < r) {
        pending[fd].assign(buf + std::max<ssize_t>(w, 0), buf + r);
        epollMod(ep, fd, EPOLLOUT | EPOLLRDHUP, static_cast<uint32_t>(fd));
      }
    }
  }
}

// ---- hold ---------------------------------------------------------------------------------

struct HoldOptions {
  SockAddr to;
  int conns = 0;
  Ms interval = 100;
  Ms duration = 0;
  Ms ramp = 1000;
  double new_rate = 0;
  Ms echo_timeout = 2000;
  std::string status_path;
  std::vector<SockAddr> bind_src;
};

enum class LongState { kPending, kConnecting, kOpen, kBroken };

struct LongConn {
  int fd = -1;
  LongState state = LongState::kPending;
  Ms start_at = 0;      // when to connect (the ramp)
  Ms connect_at = 0;    // when connect() was called
  Ms next_send = 0;
  Ms sent_at = -1;      // -1: no line awaiting its echo
  uint64_t seq = 0;
  std::string expect;   // the line awaiting its echo
  std::string in;
  Ms max_echo = 0;
};

struct ShortConn {
  int fd = -1;
  Ms started = 0;
  int64_t second = 0;  // the per-second bucket its attempt counts in
  std::string expect;
  std::string in;
  bool sent = false;
};

class Holder {
 public:
  explicit Holder(HoldOptions o) : o_(std::move(o)) {}
  int run();

 private:
  static constexpr uint64_t kSignalTag = ~uint64_t{0};
  static constexpr uint64_t kShortBit = uint64_t{1} << 32;

  int openSocket(size_t n);
  void startLong(size_t i, Ms now);
  void breakLong(size_t i, const std::string& reason, Ms now);
  void onLong(size_t i, uint32_t events, Ms now);
  void sendLine(size_t i, Ms now);
  void startShort(Ms now);
  void onShort(size_t slot, uint32_t events, Ms now);
  void endShort(size_t slot, const std::string& failure);
  void tickLongs(Ms now);
  void tickShorts(Ms now);
  void writeStatus(Ms now, bool done);
  int64_t secondOf(Ms t) const { return (t - t0_) / 1000; }
  static void bump(std::vector<uint64_t>& series, int64_t sec) {
    if (sec < 0) sec = 0;
    if (series.size() <= static_cast<size_t>(sec)) series.resize(static_cast<size_t>(sec) + 1, 0);
    ++series[static_cast<size_t>(sec)];
  }

  HoldOptions o_;
  int ep_ = -1;
  Ms t0_ = 0;
  int64_t t0_unix_ms_ = 0;  // t0_ on the wall clock, so a lab can place its events in the series
  std::vector<LongConn> longs_;
  std::map<std::string, uint64_t> broken_reasons_;
  std::vector<uint64_t> broken_series_;
  uint64_t broken_ = 0;
  uint64_t ever_open_ = 0;
  Ms echo_max_ = 0;
  uint64_t echo_lines_ = 0;

  std::vector<ShortConn> shorts_;
  std::vector<size_t> free_shorts_;
  size_t shorts_active_ = 0;
  uint64_t new_attempted_ = 0, new_ok_ = 0, new_failed_ = 0, short_seq_ = 0;
  std::map<std::string, uint64_t> new_failed_reasons_;
  std::vector<uint64_t> new_attempted_series_, new_failed_series_;
  uint64_t status_writes_ = 0;
};

int Holder::openSocket(size_t n) {
  int fd = socket(o_.to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!o_.bind_src.empty()) {
    const SockAddr& src = o_.bind_src[n % o_.bind_src.size()];
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src.ss), src.len) != 0) {
      int err = errno;
      close(fd);
      return -err;
    }
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&o_.to.ss), o_.to.len) != 0 &&
      errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

void Holder::startLong(size_t i, Ms now) {
  LongConn& c = longs_[i];
  c.connect_at = now;
  int fd = openSocket(i);
  if (fd < 0) {
    breakLong(i, "connect_" + errName(-fd), now);
    return;
  }
  c.fd = fd;
  c.state = LongState::kConnecting;
  epollAdd(ep_, fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, i);
}

void Holder::breakLong(size_t i, const std::string& reason, Ms now) {
  LongConn& c = longs_[i];
  if (c.state == LongState::kBroken) return;
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  c.state = LongState::kBroken;
  ++broken_;
  ++broken_reasons_[reason];
  bump(broken_series_, secondOf(now));
}

void Holder::sendLine(size_t i, Ms now) {
  LongConn& c = longs_[i];
  c.expect = "c" + std::to_string(i) + " " + std::to_string(++c.seq) + "\n";
  // One line in flight per connection: the send buffer holds at most these few bytes, so a
  // short write means the socket is unusable, not that it is busy.
  ssize_t w = send(c.fd, c.expect.data(), c.expect.size(), MSG_NOSIGNAL);
  if (w != static_cast<ssize_t>(c.expect.size())) {
    breakLong(i, w < 0 ? (errno == ECONNRESET ? "rst" : "send_" + errName(errno)) : "short_write", now);
    return;
  }
  c.sent_at = now;
  c.next_send = now + o_.interval;
}

void Holder::onLong(size_t i, uint32_t events, Ms now) {
  LongConn& c = longs_[i];
  if (c.state == LongState::kBroken || c.fd < 0) return;
  if (c.state == LongState::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) { breakLong(i, "connect_" + errName(err), now); return; }
    if (!(events & EPOLLOUT)) return;
    c.state = LongState::kOpen;
    ++ever_open_;
    epollMod(ep_, c.fd, EPOLLIN | EPOLLRDHUP, i);
    sendLine(i, now);
    return;
  }
  char buf[4096];
  for (;;) {
    ssize_t r = read(c.fd, buf, sizeof buf);
    if (r == 0) { breakLong(i, "eof", now); return; }
    if (r < 0) {
      if (errno == EAGAIN) break;
      breakLong(i, errno == ECONNRESET ? "rst" : "read_" + errName(errno), now);
      return;
    }
    c.in.append(buf, static_cast<size_t>(r));
  }
  while (c.state == LongState::kOpen) {
    auto nl = c.in.find('\n');
    if (nl == std::string::npos) break;
    if (c.sent_at < 0 || c.in.compare(0, nl + 1, c.expect) != 0) {
      breakLong(i, "wrong_echo", now);
      return;
    }
    c.in.erase(0, nl + 1);
    Ms lat = now - c.sent_at;
    c.max_echo = std::max(c.max_echo, lat);
    echo_max_ = std::max(echo_max_, lat);
    ++echo_lines_;
    c.sent_at = -1;
  }
  if (c.in.size() > 256) breakLong(i, "wrong_echo", now);  // no line of ours is that long
}

void Holder::startShort(Ms now) {
  ++new_attempted_;
  int64_t sec = secondOf(now);
  bump(new_attempted_series_, sec);
  uint64_t id = ++short_seq_;
  int fd = openSocket(static_cast<size_t>(id));
  if (fd < 0) {
    ++new_failed_;
    ++new_failed_reasons_["connect_" + errName(-fd)];
    bump(new_failed_series_, sec);
    return;
  }
  size_t slot;
  if (!free_shorts_.empty()) {
    slot = free_shorts_.back();
    free_shorts_.pop_back();
  } else {
    slot = shorts_.size();
    shorts_.emplace_back();
  }
  ShortConn& s = shorts_[slot];
  s = ShortConn{};
  s.fd = fd;
  s.started = now;
  s.second = sec;
  s.expect = "n" + std::to_string(id) + "\n";
  ++shorts_active_;
  epollAdd(ep_, fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, kShortBit | slot);
}

// failure empty: the echo came back whole.
void Holder::endShort(size_t slot, const std::string& failure) {
  ShortConn& s = shorts_[slot];
  close(s.fd);
  s.fd = -1;
  --shorts_active_;
  free_shorts_.push_back(slot);
  if (failure.empty()) {
    ++new_ok_;
  } else {
    ++new_failed_;
    ++new_failed_reasons_[failure];
    bump(new_failed_series_, s.second);
  }
}

void Holder::onShort(size_t slot, uint32_t events, Ms) {
  ShortConn& s = shorts_[slot];
  if (s.fd < 0) return;
  if (!s.sent) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return endShort(slot, "connect_" + errName(err));
    if (!(events & EPOLLOUT)) return;
    if (send(s.fd, s.expect.data(), s.expect.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(s.expect.size()))
      return endShort(slot, "send_" + errName(errno));
    s.sent = true;
    epollMod(ep_, s.fd, EPOLLIN | EPOLLRDHUP, kShortBit | slot);
    return;
  }
  char buf[512];
  for (;;) {
    ssize_t r = read(s.fd, buf, sizeof buf);
    if (r == 0) return endShort(slot, "eof");
    if (r < 0) {
      if (errno == EAGAIN) break;
      return endShort(slot, errno == ECONNRESET ? "rst" : "read_" + errName(errno));
    }
    s.in.append(buf, static_cast<size_t>(r));
    if (s.in.size() >= s.expect.size()) break;
  }
  if (s.in.size() < s.expect.size()) return;
  endShort(slot, s.in == s.expect ? "" : "wrong_echo");
}

void Holder::tickLongs(Ms now) {
  for (size_t i = 0; i < longs_.size(); ++i) {
    LongConn& c = longs_[i];
    switch (c.state) {
      case LongState::kPending:
        if (now >= c.start_at) startLong(i, now);
        break;
      case LongState::kConnecting:
        if (now - c.connect_at > o_.echo_timeout) breakLong(i, "connect_timeout", now);
        break;
      case LongState::kOpen:
        if (c.sent_at >= 0) {
          if (now - c.sent_at > o_.echo_timeout) breakLong(i, "echo_timeout", now);
        } else if (now >= c.next_send) {
          sendLine(i, now);
        }
        break;
      case LongState::kBroken:
        break;
    }
  }
}

void Holder::tickShorts(Ms now) {
  for (size_t slot = 0; slot < shorts_.size(); ++slot) {
    if (shorts_[slot].fd >= 0 && now - shorts_[slot].started > o_.echo_timeout)
      endShort(slot, shorts_[slot].sent ? "echo_timeout" : "connect_timeout");
  }
}

std::string jsonMap(const std::map<std::string, uint64_t>& m) {
  std::string s = "{";
  for (const auto& [k, v] : m) {
    if (s.size() > 1) s += ", ";
    s += "\"" + k + "\": " + std::to_string(v);  // keys are our own [a-z_A-Z0-9] names
  }
  return s + "}";
}

std::string jsonSeries(const std::vector<uint64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void Holder::writeStatus(Ms now, bool done) {
  ++status_writes_;
  // Every second so far gets its entry, zeros too, so a reader can index the series by time.
  const auto seconds = static_cast<size_t>(std::max<int64_t>(secondOf(now), 0)) + 1;
  for (auto* series : {&broken_series_, &new_attempted_series_, &new_failed_series_})
    if (series->size() < seconds) series->resize(seconds, 0);
  uint64_t open = 0, connecting = 0, pending = 0, awaiting = 0, over500 = 0, over1000 = 0;
  Ms oldest_wait = 0;
  for (const auto& c : longs_) {
    if (c.state == LongState::kOpen) ++open;
    if (c.state == LongState::kConnecting) ++connecting;
    if (c.state == LongState::kPending) ++pending;
    if (c.state == LongState::kOpen && c.sent_at >= 0) {
      ++awaiting;
      oldest_wait = std::max(oldest_wait, now - c.sent_at);
    }
    if (c.max_echo > 500) ++over500;
    if (c.max_echo > 1000) ++over1000;
  }
  char head[1024];
  std::snprintf(head, sizeof head,
                "{\n  \"done\": %s,\n  \"writes\": %llu,\n  \"elapsed_ms\": %lld,\n"
                "  \"conns\": %d,\n  \"established_ok\": %llu,\n  \"established_ever\": %llu,\n"
                "  \"connecting\": %llu,\n  \"not_started\": %llu,\n  \"broken\": %llu,\n",
                done ? "true" : "false", static_cast<unsigned long long>(status_writes_),
                static_cast<long long>(now - t0_), o_.conns, static_cast<unsigned long long>(open),
                static_cast<unsigned long long>(ever_open_),
                static_cast<unsigned long long>(connecting), static_cast<unsigned long long>(pending),
                static_cast<unsigned long long>(broken_));
  std::string j = head;
  j += "  \"start_unix_ms\": " + std::to_string(t0_unix_ms_) + ",\n";
  j += "  \"broken_reasons\": " + jsonMap(broken_reasons_) + ",\n";
  j += "  \"broken_series\": " + jsonSeries(broken_series_) + ",\n";
  j += "  \"echo_lines\": " + std::to_string(echo_lines_) + ",\n";
  j += "  \"echo_max_ms\": " + std::to_string(echo_max_) + ",\n";
  j += "  \"echo_waiting_now\": " + std::to_string(awaiting) + ",\n";
  j += "  \"echo_oldest_wait_ms\": " + std::to_string(oldest_wait) + ",\n";
  j += "  \"conns_echo_over_500ms\": " + std::to_string(over500) + ",\n";
  j += "  \"conns_echo_over_1000ms\": " + std::to_string(over1000) + ",\n";
  j += "  \"new_attempted\": " + std::to_string(new_attempted_) + ",\n";
  j += "  \"new_ok\": " + std::to_string(new_ok_) + ",\n";
  j += "  \"new_failed\": " + std::to_string(new_failed_) + ",\n";
  j += "  \"new_in_flight\": " + std::to_string(shorts_active_) + ",\n";
  j += "  \"new_failed_reasons\": " + jsonMap(new_failed_reasons_) + ",\n";
  j += "  \"new_attempted_series\": " + jsonSeries(new_attempted_series_) + ",\n";
  j += "  \"new_failed_series\": " + jsonSeries(new_failed_series_) + "\n}\n";
  if (o_.status_path.empty()) {
    if (done) std::fputs(j.c_str(), stdout);
    return;
  }
  std::string tmp = o_.status_path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "flowhold: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
    return;
  }
  bool ok = std::fputs(j.c_str(), f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), o_.status_path.c_str()) != 0)
    std::fprintf(stderr, "flowhold: cannot write %s: %s\n", o_.status_path.c_str(), std::strerror(errno));
}

int Holder::run() {
  raiseFdLimit();
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  int sfd = signalFd();
  epollAdd(ep_, sfd, EPOLLIN, kSignalTag);
  t0_ = nowMs();
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  t0_unix_ms_ = int64_t{wall.tv_sec} * 1000 + wall.tv_nsec / 1000000;
  longs_.resize(static_cast<size_t>(o_.conns));
  for (size_t i = 0; i < longs_.size(); ++i)
    longs_[i].start_at = t0_ + o_.ramp * static_cast<Ms>(i) / std::max(o_.conns, 1);
  const Ms end = t0_ + o_.duration;
  // Short connections still in flight at the end get their full timeout, no more.
  const Ms hard_end = end + o_.echo_timeout + 100;
  std::vector<epoll_event> evs(512);
  Ms next_tick = t0_;
  bool stop = false;
  while (!stop) {
    Ms now = nowMs();
    if (now >= end && (shorts_active_ == 0 || now >= hard_end)) break;
    if (now >= next_tick) {
      // After the end only the short connections in flight still have deadlines; the long
      // ones are judged as they stand.
      if (now < end) {
        tickLongs(now);
        if (o_.new_rate > 0) {
          auto due = static_cast<uint64_t>(static_cast<double>(now - t0_) * o_.new_rate / 1000.0);
          while (new_attempted_ < due) startShort(now);
        }
      }
      tickShorts(now);
      next_tick = now + 10;
    }
    int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()),
                       static_cast<int>(std::max<Ms>(next_tick - nowMs(), 0)));
    if (n < 0 && errno == EINTR) continue;
    now = nowMs();
    for (int k = 0; k < n; ++k) {
      uint64_t tag = evs[k].data.u64;
      if (tag == kSignalTag) {
        signalfd_siginfo si{};
        while (read(sfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGUSR1) writeStatus(now, false);
          else stop = true;
        }
      } else if (tag & kShortBit) {
        onShort(static_cast<size_t>(tag & 0xffffffffu), evs[k].events, now);
      } else if (nowMs() < end) {
        onLong(static_cast<size_t>(tag), evs[k].events, now);
      }
    }
  }
  Ms now = nowMs();
  // Shorts cut off by a signal count as neither ok nor failed: they were not given their time.
  writeStatus(now, true);
  std::printf("flowhold: %llu/%d established, %llu broken, new %llu attempted %llu failed, echo max %lld ms\n",
              static_cast<unsigned long long>(ever_open_ - std::min(ever_open_, broken_)), o_.conns,
              static_cast<unsigned long long>(broken_), static_cast<unsigned long long>(new_attempted_),
              static_cast<unsigned long long>(new_failed_), static_cast<long long>(echo_max_));
  return 0;
}

// ---- command line -------------------------------------------------------------------------

int usage() {
  std::fprintf(stderr,
               "usage: flowhold serve --listen ADDR:PORT [--listen ADDR:PORT]...\n"
               "       flowhold hold --to ADDR:PORT --conns N --duration S [--interval-ms 100]\n"
               "                     [--ramp-s R (1)] [--new-rate PER_S (0)] [--echo-timeout-ms 2000]\n"
               "                     [--status FILE] [--bind-src ADDR]...\n");
  return 2;
}

double number(const char* opt, const char* v, double lo, double hi) {
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || d < lo || d > hi)
    die(std::string(opt) + ": '" + v + "' is not a number in [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "]");
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1];
  auto value = [&](int& i) -> const char* {
    if (i + 1 >= argc) die(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  if (mode == "serve") {
    std::vector<SockAddr> listens;
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--listen") != 0) return usage();
      const char* v = value(i);
      auto a = parseAddr(v, true);
      if (!a) die(std::string("--listen: '") + v + "' is not ADDR:PORT");
      listens.push_back(*a);
    }
    if (listens.empty()) return usage();
    return serve(listens);
  }
  if (mode != "hold") return usage();
  HoldOptions o;
  bool have_to = false, have_duration = false;
  for (int i = 2; i < argc; ++i) {
    std::string opt = argv[i];
    if (opt == "--to") {
      const char* v = value(i);
      auto a = parseAddr(v, true);
      if (!a) die(std::string("--to: '") + v + "' is not ADDR:PORT");
      o.to = *a;
      have_to = true;
    } else if (opt == "--conns") {
      o.conns = static_cast<int>(number("--conns", value(i), 0, 1000000));
    } else if (opt == "--interval-ms") {
      o.interval = static_cast<Ms>(number("--interval-ms", value(i), 1, 60000));
    } else if (opt == "--duration") {
      o.duration = static_cast<Ms>(number("--duration", value(i), 0.1, 86400) * 1000);
      have_duration = true;
    } else if (opt == "--ramp-s") {
      o.ramp = static_cast<Ms>(number("--ramp-s", value(i), 0, 3600) * 1000);
    } else if (opt == "--new-rate") {
      o.new_rate = number("--new-rate", value(i), 0, 100000);
    } else if (opt == "--echo-timeout-ms") {
      o.echo_timeout = static_cast<Ms>(number("--echo-timeout-ms", value(i), 1, 600000));
    } else if (opt == "--status") {
      o.status_path = value(i);
    } else if (opt == "--bind-src") {
      const char* v = value(i);
      auto a = parseAddr(v, false);
      if (!a) die(std::string("--bind-src: '") + v + "' is not an address");
      o.bind_src.push_back(*a);
    } else {
      return usage();
    }
  }
  if (!have_to || !have_duration) {
    std::fprintf(stderr, "flowhold: hold needs --to and --duration\n");
    return usage();
  }
  for (const auto& b : o.bind_src)
    if (b.family() != o.to.family()) die("--bind-src: not the address family of --to");
  return Holder(std::move(o)).run();
}
