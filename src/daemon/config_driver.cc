#include "daemon/config_driver.h"

#include "config/cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <set>

#include "common/log.h"
#include "config/load.h"
#include "daemon/director.h"
#include "health/runner.h"

extern char** environ;

namespace sluice::daemon {

namespace {

const log::Logger kLog("config");

// A command run for a notify_* / quorum_* line is killed after this long.
constexpr uint64_t kCommandLimitNs = 60ull * 1'000'000'000ull;
constexpr size_t kMaxChildren = 64;

uint64_t wallNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}
uint64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

const char* protoName(svc::Proto p) { return p == svc::Proto::kUdp ? "udp" : "tcp"; }

// keepalived's way of naming an endpoint of a service: [10.0.0.1]:tcp:80, or FWM 7.
std::string kaName(const svc::ServiceKey& k, const net::Endpoint& ep) {
  return fmt::format("[{}]:{}:{}", ep.addr.str(), protoName(k.proto), ep.port);
}
std::string kaService(const svc::ServiceKey& k) {
  if (k.fwmark) return fmt::format("FWM {}", k.fwmark);
  return kaName(k, net::Endpoint{k.addr, k.port});
}
std::string kaVs(const config::VirtualServerConfig& vs) {
  if (vs.services.size() == 1) return kaService(vs.services.front().key);
  return vs.name;
}

// Splits a command line into words: blanks separate, double and single quotes group,
// a backslash escapes the next character. No shell is involved.
std::vector<std::string> splitWords(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < s.size()) cur += s[++i];
      else cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      have = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      have = true;
    } else if (c == ' ' || c == '\t') {
      if (have) out.push_back(std::move(cur));
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(std::move(cur));
  return out;
}

std::string joinDiags(const config::Config& c) {
  std::string out;
  for (const auto& d : c.diags) {
    if (!d.error) continue;
    if (!out.empty()) out += '\n';
    out += config::formatDiag(d);
  }
  return out;
}

}  // namespace

ConfigDriver::ConfigDriver(Director& director, std::string path, config::Format format)
    : director_(director), path_(std::move(path)), format_(format) {}

ConfigDriver::~ConfigDriver() { stop(); }

Status ConfigDriver::start() {
  config::Config cfg = config::load(path_, format_);
  if (cluster_defaults_) config::useMhByDefault(cfg);
  for (const auto& d : cfg.diags)
    if (!d.error) kLog.warn("{}", config::formatDiag(d));
  if (!cfg.ok()) return makeError("{}", joinDiags(cfg));
  for (const auto& s : cfg.skipped) kLog.info("not Sluice's, skipped: {}", s);
  runner_ = std::make_unique<health::Runner>([this](const health::Verdict& v) { onVerdict(v); });
  {
    std::lock_guard lock(mu_);
    if (cfg.global.lvs_flush) {
      kLog.info("lvs_flush: clearing the service table");
      if (Status st = director_.clear(); !st) kLog.warn("lvs_flush: {}", st.error().message);
    }
    if (Status st = install(std::move(cfg), true); !st) return st;
    started_ = true;
  }
  thread_ = std::thread([this] { loop(); });
  runner_->start();
  return {};
}

void ConfigDriver::stop() {
  if (runner_) runner_->stop();
  {
    std::lock_guard lock(q_mu_);
    stopping_ = true;
  }
  q_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (!started_) return;
  started_ = false;
  for (const auto& vs : cfg_.virtual_servers) {
    auto q = quorum_.find(vs.name);
    if (vs.omega && !vs.quorum_down.empty() && (q == quorum_.end() || q->second))
      runCommand(vs.quorum_down, fmt::format("quorum_down of VS {} (omega, stopping)", kaVs(vs)));
  }
  if (cfg_.global.lvs_flush_on_stop) {
    std::vector<svc::Op> ops;
    for (const auto& [key, ds] : applied_) ops.push_back(svc::DelService{key});
    director_.applyAll(ops);
    kLog.info("lvs_flush_on_stop: removed the file's {} service(s)", ops.size());
  }
  reapChildren(true);
}

Result<std::string> ConfigDriver::reload() {
  config::Config cfg = config::load(path_, format_);
  if (cluster_defaults_) config::useMhByDefault(cfg);
  for (const auto& d : cfg.diags)
    if (!d.error) kLog.warn("{}", config::formatDiag(d));
  if (!cfg.ok()) {
    std::string errs = joinDiags(cfg);
    kLog.error("reload of {} refused, the running configuration stays:\n{}", path_, errs);
    return makeError("{} has errors; nothing changed:\n{}", path_, errs);
  }
  std::lock_guard lock(mu_);
  if (!started_) return makeError("the config driver is not running");
  const size_t before = cfg_.virtual_servers.size();
  if (!(cfg.cluster == cfg_.cluster))
    kLog.warn("{}: the sluice_cluster block changed; cluster membership, key and VIP device are "
              "read at start only: restart this director (one at a time) to apply it", path_);
  if (Status st = install(std::move(cfg), false); !st) return st.error();
  std::string summary = fmt::format("reloaded {}: {} virtual server(s) (was {})", path_,
                                    cfg_.virtual_servers.size(), before);
  kLog.info("{}", summary);
  return summary;
}

// Takes a checked config: checker targets (unchanged ones keep their ids, hence their
// state), timeouts, then the table.
Status ConfigDriver::install(config::Config cfg, bool first) {
  std::map<TargetKey, uint64_t> ids;
  std::map<uint64_t, TargetState> targets;
  std::vector<health::Target> list;
  for (const auto& vs : cfg.virtual_servers) {
    const svc::Proto proto = vs.services.empty() ? svc::Proto::kTcp : vs.services.front().key.proto;
    for (const auto& rs : vs.real_servers) {
      const net::Endpoint ep = config::rsEndpoint(vs, rs);
      for (size_t i = 0; i < rs.checkers.size(); ++i) {
        TargetKey k{vs.name, ep, i};
        auto it = ids_.find(k);
        uint64_t id = it != ids_.end() ? it->second : next_id_++;
        ids[k] = id;
        TargetState st;
        if (auto old = targets_.find(id); old != targets_.end()) st = old->second;
        else st.up = !rs.checkers[i].alpha;
        st.rs = config::RsId{vs.name, ep};
        st.base_weight = rs.dest.weight;
        targets[id] = st;
        config::CheckerConfig check = rs.checkers[i];
        check.log_all_failures = check.log_all_failures || cfg.global.checker_log_all_failures;
        list.push_back(health::Target{id, std::move(check), ep, proto});
      }
    }
  }
  ids_ = std::move(ids);
  targets_ = std::move(targets);
  // Real servers and blocks that are gone lose their state.
  std::set<config::RsId> keep;
  std::set<std::string> keep_vs;
  for (const auto& vs : cfg.virtual_servers) {
    keep_vs.insert(vs.name);
    for (const auto& rs : vs.real_servers) keep.insert(config::RsId{vs.name, config::rsEndpoint(vs, rs)});
  }
  std::erase_if(rs_health_, [&](const auto& kv) { return !keep.count(kv.first); });
  std::erase_if(rs_meta_, [&](const auto& kv) { return !keep.count(kv.first); });
  std::erase_if(quorum_, [&](const auto& kv) { return !keep_vs.count(kv.first); });
  cfg_ = std::move(cfg);
  if (cfg_.global.lvs_timeouts)
    if (Status st = director_.setTimeouts(*cfg_.global.lvs_timeouts); !st)
      kLog.warn("lvs_timeouts: {}", st.error().message);
  if (cfg_.global.autoreload)
    kLog.info("autoreload: sluiced reloads on SIGHUP and sluiceadm --reload, not by watching {}",
              path_);
  if (!cfg_.global.emailalert.empty())
    kLog.info("emailalert {}: sluiced sends no mail; transitions are logged and in /metrics",
              cfg_.global.emailalert);
  reconcile();
  if (runner_) runner_->set(std::move(list));
  (void)first;
  return {};
}

void ConfigDriver::onVerdict(const health::Verdict& v) {
  {
    std::lock_guard lock(q_mu_);
    if (queue_.size() >= 65536) queue_.pop_front();  // a later verdict for it follows anyway
    queue_.push_back(Queued{v.id, v.up, v.weight, v.weight_is_offset, v.reason});
  }
  q_cv_.notify_one();
}

void ConfigDriver::loop() {
  std::unique_lock qlock(q_mu_);
  while (!stopping_) {
    q_cv_.wait_for(qlock, std::chrono::seconds(1), [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    std::deque<Queued> batch;
    batch.swap(queue_);
    qlock.unlock();
    {
      std::lock_guard lock(mu_);
      bool any = false;
      for (const auto& v : batch) {
        auto it = targets_.find(v.id);
        if (it == targets_.end()) continue;  // a target a reload removed
        it->second.up = v.up;
        // FILE_CHECK gives an amount added to the configured weight (keepalived), MISC_CHECK
        // the weight itself; either way the table gets a weight in 0..65535.
        if (v.weight && v.weight_is_offset)
          it->second.weight = std::clamp<int64_t>(int64_t(it->second.base_weight) + *v.weight, 0,
                                                  svc::kMaxWeight);
        else if (v.weight)
          it->second.weight = std::clamp<int32_t>(*v.weight, 0, svc::kMaxWeight);
        else
          it->second.weight.reset();
        it->second.reason = v.reason;
        any = true;
      }
      if (any) reconcile();
      reapChildren(false);
    }
    qlock.lock();
  }
}

// From the checkers' states to the table: real-server health, quorum, then the operations.
void ConfigDriver::reconcile() {
  config::HealthMap health;
  std::map<config::RsId, std::string> reasons;
  for (const auto& vs : cfg_.virtual_servers)
    for (const auto& rs : vs.real_servers) health[config::RsId{vs.name, config::rsEndpoint(vs, rs)}] = {};
  for (const auto& [id, t] : targets_) {
    auto& h = health[t.rs];
    if (!t.up) {
      if (h.up) reasons[t.rs] = t.reason;
      h.up = false;
    }
    if (t.weight && !h.weight) h.weight = t.weight;
  }
  const uint64_t now = wallNs();
  for (const auto& vs : cfg_.virtual_servers) {
    for (const auto& rs : vs.real_servers) {
      config::RsId id{vs.name, config::rsEndpoint(vs, rs)};
      const config::RsHealth& h = health[id];
      auto old = rs_health_.find(id);
      const bool was_up = old == rs_health_.end() ? true : old->second.up;
      const bool first = old == rs_health_.end();
      if (!first && was_up == h.up && old->second.weight == h.weight) continue;
      if (!first && was_up == h.up) {
        kLog.info("Changing weight of service {} in VS {} to {}", kaName(vs.services.front().key, id.rs),
                  kaVs(vs), h.weight.value_or(rs.dest.weight));
        continue;
      }
      RsMeta& meta = rs_meta_[id];
      meta.last_transition_unix_ns = now;
      meta.reason = h.up ? "all checkers up" : reasons[id];
      if (first && h.up) continue;  // starts in service: nothing to say
      const std::string who = kaName(vs.services.front().key, id.rs);
      if (h.up)
        kLog.info("{} service {} to VS {}", rs.inhibit_on_failure ? "Enabling" : "Adding", who,
                  kaVs(vs));
      else
        kLog.info("{} service {} from VS {}: {}", rs.inhibit_on_failure ? "Disabling" : "Removing",
                  who, kaVs(vs), meta.reason.empty() ? "not checked yet (alpha)" : meta.reason);
      if (!first || !h.up) {
        const std::string& cmd = h.up ? rs.notify_up : rs.notify_down;
        if (!cmd.empty() && !first) runCommand(cmd, fmt::format("{} of {}", h.up ? "notify_up" : "notify_down", who));
        if (!first)
          notifyFifo(fmt::format("RS {} {} {}", who, kaVs(vs), h.up ? "UP" : "DOWN"));
      }
    }
  }
  rs_health_ = health;
  for (const auto& vs : cfg_.virtual_servers) {
    const int64_t lw = config::liveWeight(vs, rs_health_);
    auto it = quorum_.find(vs.name);
    std::optional<bool> before;
    if (it != quorum_.end()) before = it->second;
    const bool held = config::quorumHeld(vs, lw, before);
    quorum_[vs.name] = held;
    if (before && *before == held) continue;
    if (!before && held) continue;
    if (held) {
      kLog.info("Gained quorum {}+{}={} <= {} for VS {}", vs.quorum, vs.hysteresis,
                vs.quorum + vs.hysteresis, lw, kaVs(vs));
      if (vs.sorry_server)
        kLog.info("Removing sorry server {} from VS {}", kaName(vs.services.front().key, vs.sorry_server->ep), kaVs(vs));
      if (!vs.quorum_up.empty()) runCommand(vs.quorum_up, fmt::format("quorum_up of VS {}", kaVs(vs)));
      notifyFifo(fmt::format("VS {} UP", kaVs(vs)));
    } else {
      kLog.info("Lost quorum {}-{}={} > {} for VS {}", vs.quorum, vs.hysteresis,
                int64_t(vs.quorum) - int64_t(vs.hysteresis), lw, kaVs(vs));
      if (vs.sorry_server)
        kLog.info("Adding sorry server {} to VS {}", kaName(vs.services.front().key, vs.sorry_server->ep), kaVs(vs));
      if (!vs.quorum_down.empty() && (before || vs.omega))
        runCommand(vs.quorum_down, fmt::format("quorum_down of VS {}", kaVs(vs)));
      notifyFifo(fmt::format("VS {} DOWN", kaVs(vs)));
    }
  }
  config::Desired want = config::desired(cfg_, rs_health_, quorum_);
  std::vector<svc::Op> ops = config::diff(want, applied_, director_.services().list());
  if (!ops.empty()) {
    std::vector<Status> results = director_.applyAll(ops);
    for (size_t i = 0; i < ops.size(); ++i)
      if (!results[i]) kLog.error("{}: {}", svc::opName(ops[i]), results[i].error().message);
  }
  applied_ = std::move(want);
}

void ConfigDriver::runCommand(const std::string& cmd, const std::string& what) {
  reapChildren(false);
  if (children_.size() >= kMaxChildren) {
    kLog.warn("{}: not run, {} commands still running", what, children_.size());
    return;
  }
  std::vector<std::string> words = splitWords(cmd);
  if (words.empty()) return;
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the daemon blocks signals; its children must not
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    kLog.warn("{}: cannot run '{}': {}", what, cmd, std::strerror(rc));
    return;
  }
  kLog.info("{}: running '{}' (pid {})", what, cmd, pid);
  children_.emplace_back(pid, monoNs());
}

void ConfigDriver::reapChildren(bool force) {
  const uint64_t now = monoNs();
  std::erase_if(children_, [&](const std::pair<pid_t, uint64_t>& c) {
    int status = 0;
    pid_t r = waitpid(c.first, &status, WNOHANG);
    if (r == c.first) {
      if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        kLog.warn("command pid {} exited with {}", c.first, WEXITSTATUS(status));
      return true;
    }
    if (r < 0) return true;
    if (force || now - c.second > kCommandLimitNs) {
      kLog.warn("command pid {} {}: killed", c.first, force ? "still running at stop" : "ran past 60 s");
      kill(c.first, SIGKILL);
      waitpid(c.first, &status, 0);
      return true;
    }
    return false;
  });
}

void ConfigDriver::notifyFifo(const std::string& line) {
  const std::string& fifo = cfg_.global.lvs_notify_fifo;
  if (fifo.empty()) return;
  // Non-blocking: with no reader the open fails (ENXIO) and the line is dropped, as a FIFO
  // nobody reads must never hold up the health checks.
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  std::string l = line + "\n";
  ssize_t n = ::write(fd, l.data(), l.size());
  (void)n;
  ::close(fd);
}

std::vector<ctl::HealthInfo> ConfigDriver::health() const {
  std::vector<health::TargetStatus> st = runner_ ? runner_->status() : std::vector<health::TargetStatus>{};
  std::map<uint64_t, const health::TargetStatus*> by_id;
  for (const auto& s : st) by_id[s.id] = &s;
  std::lock_guard lock(mu_);
  std::vector<ctl::HealthInfo> out;
  for (const auto& vs : cfg_.virtual_servers) {
    auto q = quorum_.find(vs.name);
    const bool held = q == quorum_.end() || q->second;
    for (const auto& sc : vs.services) {
      auto live = director_.services().get(svc::ServiceTable::canonicalKey(sc.key));
      auto liveDest = [&](const net::Endpoint& ep) -> const svc::DestState* {
        if (!live) return nullptr;
        for (const auto& d : live->dests) {
          net::Endpoint e = ep;
          if (e.port == 0 || d.cfg.ep.port == sc.key.port) e.port = d.cfg.ep.port;
          if (d.cfg.ep == e) return &d;
        }
        return nullptr;
      };
      for (const auto& rs : vs.real_servers) {
        ctl::HealthInfo h;
        h.svc = sc.key;
        h.vs = vs.name;
        h.rs = config::rsEndpoint(vs, rs);
        config::RsId id{vs.name, h.rs};
        auto hit = rs_health_.find(id);
        h.up = hit == rs_health_.end() || hit->second.up;
        h.quorum = held;
        if (auto m = rs_meta_.find(id); m != rs_meta_.end()) {
          h.reason = m->second.reason;
          h.last_transition_unix_ns = m->second.last_transition_unix_ns;
        }
        if (const auto* d = liveDest(h.rs)) {
          h.in_table = true;
          h.weight = d->cfg.weight;
        }
        for (size_t i = 0; i < rs.checkers.size(); ++i) {
          ctl::CheckerInfo c;
          c.kind = config::checkKindName(rs.checkers[i].kind);
          auto idit = ids_.find(TargetKey{vs.name, h.rs, i});
          if (idit != ids_.end()) {
            if (auto s = by_id.find(idit->second); s != by_id.end()) {
              c.target = s->second->connect_to;
              c.up = s->second->up;
              c.reason = s->second->reason;
              c.checks = s->second->checks_run;
              c.failures = s->second->checks_failed;
              c.last_transition_unix_ns = s->second->last_transition_unix_ns;
            } else if (auto t = targets_.find(idit->second); t != targets_.end()) {
              c.up = t->second.up;
              c.reason = t->second.reason;
            }
          }
          h.checkers.push_back(std::move(c));
        }
        out.push_back(std::move(h));
      }
      if (vs.sorry_server) {
        ctl::HealthInfo h;
        h.svc = sc.key;
        h.vs = vs.name;
        h.rs = vs.sorry_server->ep;
        if (h.rs.port == 0) h.rs.port = sc.key.port;
        h.sorry = true;
        h.up = !held;
        h.quorum = held;
        h.reason = held ? "quorum held: not in use" : "quorum lost: in use";
        if (const auto* d = liveDest(h.rs)) {
          h.in_table = true;
          h.weight = d->cfg.weight;
        }
        out.push_back(std::move(h));
      }
    }
  }
  return out;
}

std::vector<metrics::RealServerHealth> ConfigDriver::metricsHealth() const {
  std::vector<health::TargetStatus> st = runner_ ? runner_->status() : std::vector<health::TargetStatus>{};
  std::map<uint64_t, health::TargetStatus> by_id;
  for (auto& s : st) by_id[s.id] = std::move(s);
  std::lock_guard lock(mu_);
  std::vector<metrics::RealServerHealth> out;
  for (const auto& vs : cfg_.virtual_servers)
    for (const auto& sc : vs.services)
      for (const auto& rs : vs.real_servers) {
        metrics::RealServerHealth h;
        h.svc = sc.key;
        h.rs = config::rsEndpoint(vs, rs);
        config::RsId id{vs.name, h.rs};
        if (auto hit = rs_health_.find(id); hit != rs_health_.end()) h.up = hit->second.up;
        if (auto m = rs_meta_.find(id); m != rs_meta_.end())
          h.last_transition_unix_ns = m->second.last_transition_unix_ns;
        h.checked = !rs.checkers.empty();
        for (size_t i = 0; i < rs.checkers.size(); ++i) {
          auto idit = ids_.find(TargetKey{vs.name, h.rs, i});
          if (idit == ids_.end()) continue;
          if (auto s = by_id.find(idit->second); s != by_id.end()) h.checkers.push_back(s->second);
        }
        out.push_back(std::move(h));
      }
  return out;
}

}  // namespace sluice::daemon
