// An in-memory ctl::Backend for control-socket and CLI tests: keeps services and real
// servers in insertion order, answers with the daemon's (ipvsadm's) error wording, and
// counts calls so tests can see what reached it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ctl/backend.h"

namespace sluice::testing {

class FakeBackend : public ctl::Backend {
 public:
  Status addService(const svc::ServiceConfig& s) override;
  Status editService(const svc::ServiceConfig& s) override;
  Status delService(const svc::ServiceKey& k) override;
  Status clear() override;
  Status addDest(const svc::ServiceKey& k, const svc::DestConfig& d) override;
  Status editDest(const svc::ServiceKey& k, const svc::DestConfig& d) override;
  Status delDest(const svc::ServiceKey& k, const net::Endpoint& rs) override;
  Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override;
  Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override;
  Status zero(const std::optional<svc::ServiceKey>& k) override;
  Status setTimeouts(const svc::Timeouts& t) override;
  svc::Timeouts timeouts() const override { return timeouts_; }
  Result<std::vector<ctl::ServiceInfo>> listServices(const std::optional<svc::ServiceKey>& k) const override;
  std::vector<ctl::ConnInfo> listConns() const override { return conns; }
  uint32_t connTableSize() const override { return table_size; }
  std::vector<ctl::CounterInfo> counters() const override { return counter_values; }
  Result<std::optional<ctl::SyncDaemonInfo>> syncDaemons() const override { return sync; }

  ctl::ServiceInfo* find(const svc::ServiceKey& k);

  std::vector<ctl::ServiceInfo> services;
  std::vector<ctl::ConnInfo> conns;
  uint32_t table_size = 4096;
  std::vector<ctl::CounterInfo> counter_values;
  std::optional<ctl::SyncDaemonInfo> sync;  // set: a cluster director's session sync
  int calls = 0;
  int zero_calls = 0;
  std::optional<svc::ServiceKey> last_zero_key;

 private:
  svc::Timeouts timeouts_;
};

}  // namespace sluice::testing
