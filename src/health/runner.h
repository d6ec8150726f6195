// health::Runner: runs every checker target on one thread (one epoll loop, one timer queue)
// and reports per-checker verdicts, with keepalived's retry rules: a success sets up and
// resets the retries, the next check after delay_loop; a failure while up is retried after
// delay_before_retry `retry` times, then the target goes down; while down, checks repeat
// every delay_loop. The layer above (real-server state, quorum) consumes the verdicts.
//
// Trade-off: one thread for all targets (event-driven tries) instead of a thread per check:
// thousands of targets cost sockets and timers, not stacks; the price is that every checker
// must be non-blocking, which health/checker.h makes the contract.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "config/model.h"
#include "health/loop.h"
#include "health/status.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::health {

struct Target {
  uint64_t id = 0;  // caller's handle, unique
  config::CheckerConfig check;
  net::Endpoint rs;  // the real server (port resolved; connect_ip/connect_port override)
  svc::Proto proto = svc::Proto::kTcp;
};

struct Verdict {
  uint64_t id = 0;
  bool up = false;
  // MISC_CHECK misc_dynamic: the real server's weight (exit status - 2).
  // FILE_CHECK with a weight: the offset (file value x weight, negated with reverse) to add
  // to the real server's configured weight, as keepalived does; weight_is_offset says which.
  std::optional<int32_t> weight;
  bool weight_is_offset = false;
  std::string reason;  // one line: "connect timeout after 3 s", "HTTP status 503", ...
};

class Runner {
 public:
  using OnVerdict = std::function<void(const Verdict&)>;
  // cb runs on the runner's thread, on every up<->down transition and every change of
  // dynamic weight (never for a target's initial state).
  explicit Runner(OnVerdict cb);
  ~Runner();  // stops
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void start();  // its own thread; start() and stop() from one thread (the owner's)
  void stop();   // in-flight tries cancelled, child processes killed
  // Replaces the target set (thread-safe, any time). Unchanged id + config: state and
  // schedule kept. New id: up = !alpha, first check after a random delay in [0, warmup]
  // (warmup 0: [0, min(delay_loop, 1 s)]). Changed config: restarted from its current up
  // state. Removed: stopped.
  void set(std::vector<Target> targets);
  std::vector<TargetStatus> status() const;  // snapshot, in id order

 private:
  struct Slot;
  void threadMain();
  void applyTargets(std::vector<Target> targets);
  void scheduleFirst(Slot& s);
  void schedule(Slot& s, Nanos delay);
  void runTry(Slot& s);
  void onOutcome(Slot& s, struct Outcome o);
  void publish(const Slot& s);

  OnVerdict cb_;
  MonotonicClock clock_;
  std::unique_ptr<Loop> loop_;  // lives as long as the runner, so set() may always wake it
  bool loop_ready_ = false;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex pending_mu_;
  std::optional<std::vector<Target>> pending_;
  mutable std::mutex status_mu_;
  std::map<uint64_t, TargetStatus> status_;
  // Loop thread only.
  std::map<uint64_t, std::unique_ptr<Slot>> slots_;
  std::mt19937_64 rng_;
};

}  // namespace sluice::health
