// The config file at work: sluiced -f FILE. Loads a keepalived.conf or ldirectord.cf
// (config/load.h), runs its checkers (health/runner.h), and keeps the service table at what
// the file and the checkers' verdicts say (config/desired.h), through the Director's one
// mutation path. A reload (SIGHUP or sluiceadm --reload) re-reads the file and applies only
// the difference; a file with errors is refused whole and the running configuration stays.
//
// Threads: verdicts arrive on the checkers' thread and are queued; this driver's own thread
// applies them (a service-table change writes BPF maps and the state file, which must not
// hold up the checks). Reloads run on the caller's thread (control socket, signal handler
// thread) under the same lock, so a reload and a verdict never interleave.
//
// What an operator sees: one log line per real-server transition, in keepalived's words
// ("Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.100]:tcp:80: <reason>"), one per
// quorum change, notify_up/notify_down and quorum_up/quorum_down commands run (no shell),
// lvs_notify_fifo lines as keepalived writes them, and the health view (sluiceadm --health).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/desired.h"
#include "config/model.h"
#include "ctl/backend.h"
#include "metrics/exposition.h"

namespace sluice::health {
class Runner;
struct Verdict;
}  // namespace sluice::health

namespace sluice::daemon {

class Director;

class ConfigDriver {
 public:
  ConfigDriver(Director& director, std::string path, config::Format format);
  ~ConfigDriver();
  ConfigDriver(const ConfigDriver&) = delete;
  ConfigDriver& operator=(const ConfigDriver&) = delete;

  // Loads the file, applies it and starts the checkers. A file with errors: every problem,
  // one "FILE:LINE: message" per line, and nothing applied.
  Status start();
  // Stops the checkers and the driver's thread; lvs_flush_on_stop removes the file's services;
  // omega runs quorum_down for the blocks that hold quorum.
  void stop();
  // Re-reads the file and applies the difference. Any thread.
  Result<std::string> reload();
  // The file's real servers (and sorry servers), in file order. Any thread.
  std::vector<ctl::HealthInfo> health() const;
  // The same, as /metrics renders it (sorry servers left out: they have no checkers).
  std::vector<metrics::RealServerHealth> metricsHealth() const;

  const std::string& path() const { return path_; }
  // In a cluster (a sluice_cluster block here or in --cluster), virtual servers with no
  // scheduler written get mh. Before start().
  void setClusterDefaults(bool on) { cluster_defaults_ = on; }

 private:
  struct TargetKey {
    std::string vs;
    net::Endpoint rs;
    size_t index = 0;
    friend auto operator<=>(const TargetKey&, const TargetKey&) = default;
  };
  struct TargetState {
    config::RsId rs;
    int32_t base_weight = 1;  // the real server's configured weight
    bool up = true;
    std::optional<int32_t> weight;  // dynamic weight, already absolute
    std::string reason;
  };
  struct RsMeta {
    uint64_t last_transition_unix_ns = 0;
    std::string reason;
  };

  Status install(config::Config cfg, bool first);  // under mu_
  void reconcile();                                // under mu_
  void onVerdict(const health::Verdict& v);        // checkers' thread
  void loop();
  void runCommand(const std::string& cmd, const std::string& what);  // under mu_
  void reapChildren(bool force);                                     // under mu_
  void notifyFifo(const std::string& line);                          // under mu_

  Director& director_;
  const std::string path_;
  const config::Format format_;

  mutable std::mutex mu_;
  config::Config cfg_;
  config::Desired applied_;
  std::map<TargetKey, uint64_t> ids_;
  std::map<uint64_t, TargetState> targets_;
  uint64_t next_id_ = 1;
  config::HealthMap rs_health_;
  std::map<config::RsId, RsMeta> rs_meta_;
  config::QuorumMap quorum_;
  std::vector<std::pair<pid_t, uint64_t>> children_;  // commands run, with their start (ns)
  bool started_ = false;
  bool cluster_defaults_ = false;

  std::mutex q_mu_;
  std::condition_variable q_cv_;
  struct Queued {
    uint64_t id = 0;
    bool up = true;
    std::optional<int32_t> weight;
    bool weight_is_offset = false;
    std::string reason;
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::thread thread_;

  std::unique_ptr<health::Runner> runner_;
};

}  // namespace sluice::daemon
