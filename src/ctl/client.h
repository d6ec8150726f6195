// The client end of the control protocol: typed calls that become request lines, sent
// over a Transport. The Unix-socket transport is what sluiceadm uses; the direct one
// hands lines straight to handleRequestLine, so tests (and in-process tools) exercise the
// same encoding and decoding without a socket.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "ctl/backend.h"
#include "ctl/protocol.h"

namespace sluice::ctl {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request line (no newline) and returns the answer line (no newline).
  virtual Result<std::string> roundTrip(const std::string& line) = 0;
};

class UnixTransport final : public Transport {
 public:
  // "Could not connect to sluiced at PATH: REASON" when nobody listens there.
  static Result<std::unique_ptr<UnixTransport>> connect(const std::string& path, int timeout_ms = 30000);
  ~UnixTransport() override;
  Result<std::string> roundTrip(const std::string& line) override;

 private:
  UnixTransport(int fd, std::string path, int timeout_ms) : fd_(fd), path_(std::move(path)), timeout_ms_(timeout_ms) {}
  int fd_;
  std::string path_;
  int timeout_ms_;
  std::string pending_;  // bytes read past the last answer's newline
};

class DirectTransport final : public Transport {
 public:
  explicit DirectTransport(Backend& backend) : backend_(backend) {}
  Result<std::string> roundTrip(const std::string& line) override;

 private:
  Backend& backend_;
};

struct ListReply {
  uint32_t conn_table_size = 0;
  std::vector<ServiceInfo> services;
};

class Client {
 public:
  explicit Client(Transport& t) : t_(t) {}

  Status addService(const svc::ServiceConfig& s);
  Status editService(const svc::ServiceConfig& s);
  Status delService(const svc::ServiceKey& k);
  Status clear();
  Status addDest(const svc::ServiceKey& k, const svc::DestConfig& d);
  Status editDest(const svc::ServiceKey& k, const svc::DestConfig& d);
  Status delDest(const svc::ServiceKey& k, const net::Endpoint& rs);
  Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l);
  Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l);
  Status zero(const std::optional<svc::ServiceKey>& k);
  Status setTimeouts(const svc::Timeouts& t);
  Result<svc::Timeouts> timeouts();
  Result<ListReply> list(const std::optional<svc::ServiceKey>& k);
  Result<std::vector<ConnInfo>> listConns();
  Result<std::vector<CounterInfo>> counters();
  Result<std::string> reload();
  Result<std::vector<HealthInfo>> health();
  // nullopt: sluiced runs no session sync (no sluice_cluster block).
  Result<std::optional<SyncDaemonInfo>> syncDaemons();
  Status startDaemon(const SyncDaemonArgs& a);
  Status stopDaemon(const SyncDaemonArgs& a);

  // One request, the raw (successful) answer object.
  Result<Json> call(const Request& r);

 private:
  Status simple(const Request& r);
  Transport& t_;
};

}  // namespace sluice::ctl
