// Client calls and the Unix-socket transport. Every wait on the socket is bounded by a
// timeout, so a wedged daemon gives the operator an error instead of a hung shell.
#include "ctl/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sluice::ctl {

namespace {

// An answer can hold every connection in the table; beyond this something is wrong.
constexpr size_t kMaxAnswerBytes = size_t(1) << 30;

bool waitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

Request makeRequest(Op op) {
  Request r;
  r.op = op;
  return r;
}

}  // namespace

Result<std::unique_ptr<UnixTransport>> UnixTransport::connect(const std::string& path, int timeout_ms) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path))
    return makeError("Could not connect to sluiced at {}: path too long", path);
  std::memcpy(sa.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError("Could not connect to sluiced at {}: {}", path, std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    ::close(fd);
    return makeError("Could not connect to sluiced at {}: {}", path, std::strerror(e));
  }
  return std::unique_ptr<UnixTransport>(new UnixTransport(fd, path, timeout_ms));
}

UnixTransport::~UnixTransport() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> UnixTransport::roundTrip(const std::string& line) {
  std::string msg = line + '\n';
  size_t off = 0;
  while (off < msg.size()) {
    if (!waitFor(fd_, POLLOUT, timeout_ms_))
      return makeError("sluiced at {} did not accept the request within {} ms", path_, timeout_ms_);
    ssize_t n = ::send(fd_, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return makeError("lost the connection to sluiced at {}: {}", path_, std::strerror(errno));
    }
    off += size_t(n);
  }
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string answer = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return answer;
    }
    if (pending_.size() > kMaxAnswerBytes)
      return makeError("sluiced at {} sent an answer over {} bytes", path_, kMaxAnswerBytes);
    if (!waitFor(fd_, POLLIN, timeout_ms_))
      return makeError("sluiced at {} did not answer within {} ms", path_, timeout_ms_);
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return makeError("lost the connection to sluiced at {}: {}", path_, std::strerror(errno));
    }
    if (n == 0) return makeError("sluiced at {} closed the connection without answering", path_);
    pending_.append(buf, size_t(n));
  }
}

Result<std::string> DirectTransport::roundTrip(const std::string& line) {
  return handleRequestLine(backend_, line);
}

Result<Json> Client::call(const Request& r) {
  auto answer = t_.roundTrip(dumpJson(encodeRequest(r)));
  if (!answer) return answer.error();
  return parseResponse(*answer);
}

Status Client::simple(const Request& r) {
  auto j = call(r);
  if (!j) return j.error();
  return {};
}

Status Client::addService(const svc::ServiceConfig& s) {
  Request r = makeRequest(Op::kAddService);
  r.service = s;
  return simple(r);
}

Status Client::editService(const svc::ServiceConfig& s) {
  Request r = makeRequest(Op::kEditService);
  r.service = s;
  return simple(r);
}

Status Client::delService(const svc::ServiceKey& k) {
  Request r = makeRequest(Op::kDelService);
  r.key = k;
  return simple(r);
}

Status Client::clear() { return simple(makeRequest(Op::kClear)); }

Status Client::addDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  Request r = makeRequest(Op::kAddDest);
  r.key = k;
  r.dest = d;
  return simple(r);
}

Status Client::editDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  Request r = makeRequest(Op::kEditDest);
  r.key = k;
  r.dest = d;
  return simple(r);
}

Status Client::delDest(const svc::ServiceKey& k, const net::Endpoint& rs) {
  Request r = makeRequest(Op::kDelDest);
  r.key = k;
  r.rs = rs;
  return simple(r);
}

Status Client::addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  Request r = makeRequest(Op::kAddLaddr);
  r.key = k;
  r.laddr = l;
  return simple(r);
}

Status Client::delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  Request r = makeRequest(Op::kDelLaddr);
  r.key = k;
  r.laddr = l;
  return simple(r);
}

Status Client::zero(const std::optional<svc::ServiceKey>& k) {
  Request r = makeRequest(Op::kZero);
  r.key = k;
  return simple(r);
}

Status Client::setTimeouts(const svc::Timeouts& t) {
  Request r = makeRequest(Op::kSetTimeouts);
  r.timeouts = t;
  return simple(r);
}

Result<svc::Timeouts> Client::timeouts() {
  auto j = call(makeRequest(Op::kGetTimeouts));
  if (!j) return j.error();
  if (!j->contains("timeouts")) return makeError("sluiced's answer has no 'timeouts'");
  return fromJson<svc::Timeouts>((*j)["timeouts"], "timeouts");
}

Result<ListReply> Client::list(const std::optional<svc::ServiceKey>& k) {
  Request r = makeRequest(Op::kList);
  r.key = k;
  auto j = call(r);
  if (!j) return j.error();
  ListReply reply;
  const Json& size = (*j)["conn_table_size"];
  if (!size.is_number_unsigned() || size.get<uint64_t>() > UINT32_MAX)
    return makeError("sluiced's answer has no valid 'conn_table_size'");
  reply.conn_table_size = size.get<uint32_t>();
  const Json& arr = (*j)["services"];
  if (!arr.is_array()) return makeError("sluiced's answer has no 'services' array");
  for (size_t i = 0; i < arr.size(); ++i) {
    auto s = fromJson<ServiceInfo>(arr[i], fmt::format("services[{}]", i));
    if (!s) return s.error();
    reply.services.push_back(std::move(*s));
  }
  return reply;
}

Result<std::vector<ConnInfo>> Client::listConns() {
  auto j = call(makeRequest(Op::kListConns));
  if (!j) return j.error();
  const Json& arr = (*j)["conns"];
  if (!arr.is_array()) return makeError("sluiced's answer has no 'conns' array");
  std::vector<ConnInfo> conns;
  conns.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto c = fromJson<ConnInfo>(arr[i], fmt::format("conns[{}]", i));
    if (!c) return c.error();
    conns.push_back(std::move(*c));
  }
  return conns;
}

Result<std::vector<CounterInfo>> Client::counters() {
  auto j = call(makeRequest(Op::kCounters));
  if (!j) return j.error();
  const Json& arr = (*j)["counters"];
  if (!arr.is_array()) return makeError("sluiced's answer has no 'counters' array");
  std::vector<CounterInfo> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto c = fromJson<CounterInfo>(arr[i], fmt::format("counters[{}]", i));
    if (!c) return c.error();
    out.push_back(std::move(*c));
  }
  return out;
}

Result<std::string> Client::reload() {
  auto j = call(makeRequest(Op::kReload));
  if (!j) return j.error();
  const Json& s = (*j)["summary"];
  if (!s.is_string()) return makeError("sluiced's answer has no 'summary' string");
  return s.get<std::string>();
}

Result<std::vector<HealthInfo>> Client::health() {
  auto j = call(makeRequest(Op::kHealth));
  if (!j) return j.error();
  const Json& arr = (*j)["health"];
  if (!arr.is_array()) return makeError("sluiced's answer has no 'health' array");
  std::vector<HealthInfo> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto h = fromJson<HealthInfo>(arr[i], fmt::format("health[{}]", i));
    if (!h) return h.error();
    out.push_back(std::move(*h));
  }
  return out;
}

Result<std::optional<SyncDaemonInfo>> Client::syncDaemons() {
  auto j = call(makeRequest(Op::kSyncDaemons));
  if (!j) return j.error();
  auto it = j->find("sync");
  if (it == j->end()) return makeError("sluiced's answer has no 'sync' field");
  if (it->is_null()) return std::optional<SyncDaemonInfo>();
  auto info = fromJson<SyncDaemonInfo>(*it, "sync");
  if (!info) return info.error();
  return std::optional<SyncDaemonInfo>(std::move(*info));
}

Status Client::startDaemon(const SyncDaemonArgs& a) {
  Request r = makeRequest(Op::kStartDaemon);
  r.daemon = a;
  return simple(r);
}

Status Client::stopDaemon(const SyncDaemonArgs& a) {
  Request r = makeRequest(Op::kStopDaemon);
  r.daemon = a;
  return simple(r);
}

}  // namespace sluice::ctl
