// What the control socket can ask of the daemon. The ctl server (ctl/server.*) decodes
// requests and calls this interface; the daemon implements it over the ServiceTable, the
// connection table and the stats. Tests implement it with a fake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "abi/records.h"
#include "ctl/sync_daemon.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::ctl {

// Per-second rates, as IPVS's estimator reports them (ipvsadm --rate).
struct Rate {
  uint64_t cps = 0;
  uint64_t inpps = 0;
  uint64_t outpps = 0;
  uint64_t inbps = 0;   // bytes per second, like IPVS
  uint64_t outbps = 0;
};

struct DestInfo {
  svc::DestConfig cfg;
  uint32_t active = 0;
  uint32_t inactive = 0;
  uint32_t persist = 0;
  sl_stats stats{};
  Rate rate;
};

// One FULLNAT local address of a service (sluiceadm -G, DPVS's CONNS column): `conns` is
// how many of its ports the data path has in use now.
struct LaddrInfo {
  svc::LocalAddress laddr;
  uint64_t conns = 0;
};

struct ServiceInfo {
  svc::ServiceConfig cfg;
  sl_stats stats{};
  Rate rate;
  std::vector<DestInfo> dests;
  std::vector<LaddrInfo> laddrs;  // in the order they were added
};

struct ConnInfo {
  uint8_t proto = 6;           // IPPROTO_TCP / IPPROTO_UDP
  std::string state;           // "ESTABLISHED", "SYN_RECV", "UDP", "NONE" (templates), ...
  uint32_t expire_s = 0;       // seconds until it expires
  net::Endpoint client;        // templates: masked client address, port 0
  net::Endpoint vip;           // templates of port-0 services: port 0
  net::Endpoint dest;
  svc::FwdMethod fwd = svc::FwdMethod::kDr;
  bool is_template = false;
};

// One data-plane counter (abi/counters_list.h), split by the path that counted it: `slow`
// by the daemon's workers, `fast` by the XDP program (0 when there is none). A packet is
// counted by exactly one path, so slow + fast is the director's total.
struct CounterInfo {
  std::string name;
  bool drop = false;
  uint64_t slow = 0;
  uint64_t fast = 0;
};

// One checker of one real server (sluiceadm --health).
struct CheckerInfo {
  std::string kind;          // "TCP_CHECK", "HTTP_GET", ...
  net::Endpoint target;      // where it connects
  bool up = false;
  std::string reason;
  uint64_t checks = 0;
  uint64_t failures = 0;
  uint64_t last_transition_unix_ns = 0;
};

// One real server of one virtual service, as the config file and its checkers see it.
struct HealthInfo {
  svc::ServiceKey svc;
  std::string vs;            // the config block: "10.0.0.1 80", "group WEB", ...
  net::Endpoint rs;
  bool up = true;
  bool sorry = false;        // the block's sorry server (ldirectord fallback)
  bool in_table = false;     // present in the service table now
  int32_t weight = 0;        // its weight in the table (when present)
  bool quorum = true;        // its block holds quorum
  std::string reason;        // why it is in its state (the failing checker's reason)
  uint64_t last_transition_unix_ns = 0;
  std::vector<CheckerInfo> checkers;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Status addService(const svc::ServiceConfig& s) = 0;
  virtual Status editService(const svc::ServiceConfig& s) = 0;
  virtual Status delService(const svc::ServiceKey& k) = 0;
  virtual Status clear() = 0;
  virtual Status addDest(const svc::ServiceKey& k, const svc::DestConfig& d) = 0;
  virtual Status editDest(const svc::ServiceKey& k, const svc::DestConfig& d) = 0;
  virtual Status delDest(const svc::ServiceKey& k, const net::Endpoint& rs) = 0;
  // DPVS's ipvsadm -P / -Q (listed with the services: ServiceInfo::laddrs).
  virtual Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) = 0;
  virtual Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) = 0;
  // Zero the counters of one service (or all when nullopt).
  virtual Status zero(const std::optional<svc::ServiceKey>& k) = 0;
  // 0 in a field leaves that timeout unchanged (ipvsadm --set).
  virtual Status setTimeouts(const svc::Timeouts& t) = 0;
  virtual svc::Timeouts timeouts() const = 0;
  // Services in the order they were added; one service when `k` is given (error if absent).
  virtual Result<std::vector<ServiceInfo>> listServices(const std::optional<svc::ServiceKey>& k) const = 0;
  virtual std::vector<ConnInfo> listConns() const = 0;
  // The "size=" in ipvsadm's header: the connection table's capacity.
  virtual uint32_t connTableSize() const = 0;
  // Every data-plane counter, in dp::kCounterNames order.
  virtual std::vector<CounterInfo> counters() const = 0;
  // Re-reads the config file (sluiced -f) and applies the difference: a summary line, or
  // every problem of a refused file. Daemons started without -f refuse it.
  virtual Result<std::string> reload() {
    return makeError("sluiced was started without a config file (-f): nothing to reload");
  }
  // The health of the config file's real servers, in file order.
  virtual Result<std::vector<HealthInfo>> health() const {
    return makeError("sluiced was started without a config file (-f): no health checks run");
  }
  // Session sync as ipvsadm's sync daemons see it (ctl/sync_daemon.h): nullopt on a
  // director without a sluice_cluster block.
  virtual Result<std::optional<SyncDaemonInfo>> syncDaemons() const {
    return std::optional<SyncDaemonInfo>();
  }
  // --start-daemon / --stop-daemon never change what runs (sync follows the sluice_cluster
  // block); they answer from syncDaemons() with ctl/sync_daemon.h's rules.
  Status startDaemon(const SyncDaemonArgs& args) const {
    auto running = syncDaemons();
    if (!running) return running.error();
    return checkStartDaemon(*running, args);
  }
  Status stopDaemon(const SyncDaemonArgs& args) const {
    auto running = syncDaemons();
    if (!running) return running.error();
    return checkStopDaemon(*running, args);
  }
};

}  // namespace sluice::ctl
