#include "health/runner.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>

#include "common/log.h"
#include "health/checker.h"
#include "health/sock.h"

namespace sluice::health {

namespace {

constexpr log::Logger kLog("health");

uint64_t wallNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * kSecond + uint64_t(ts.tv_nsec);
}

// keepalived's nouns for its success/failure lines ("TCP connection to [..]:tcp:80 success.").
const char* noun(config::CheckKind k) {
  using K = config::CheckKind;
  switch (k) {
    case K::kTcp: return "TCP connection";
    case K::kHttp: return "HTTP check";
    case K::kSsl: return "SSL check";
    case K::kSmtp: return "SMTP connection";
    case K::kDns: return "DNS check";
    case K::kUdp: return "UDP check";
    case K::kPing: return "ICMP echo";
    case K::kMisc: return "Misc check";
    case K::kFile: return "File check";
    case K::kOn:
    case K::kOff: return "Static check";
  }
  return "Check";
}

}  // namespace

struct Runner::Slot {
  Target target;
  net::Endpoint to;
  bool up = false;
  std::optional<int32_t> weight;
  unsigned retries_done = 0;
  std::unique_ptr<Try> in_flight;
  Loop::TimerId next = 0;
  std::string reason = "not checked yet";
  uint64_t last_transition_unix_ns = 0;
  uint64_t checks_run = 0;
  uint64_t checks_failed = 0;
};

Runner::Runner(OnVerdict cb)
    : cb_(std::move(cb)), loop_(std::make_unique<Loop>(clock_)), rng_(std::random_device{}()) {}

Runner::~Runner() { stop(); }

void Runner::start() {
  if (thread_.joinable()) return;
  if (!loop_ready_) {
    if (auto st = loop_->init(); !st.ok()) {
      kLog.error("cannot start the health checkers: {}", st.error().message);
      return;
    }
    loop_ready_ = true;
  }
  stopping_ = false;
  thread_ = std::thread([this] { threadMain(); });
}

void Runner::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  loop_->wake();
  thread_.join();
}

void Runner::set(std::vector<Target> targets) {
  {
    std::lock_guard lk(pending_mu_);
    pending_ = std::move(targets);
  }
  loop_->wake();  // harmless before start(): the wake fd is not open yet
}

std::vector<TargetStatus> Runner::status() const {
  std::lock_guard lk(status_mu_);
  std::vector<TargetStatus> out;
  out.reserve(status_.size());
  for (auto& [id, st] : status_) out.push_back(st);
  return out;
}

void Runner::threadMain() {
  // OpenSSL writes with send() without MSG_NOSIGNAL: a peer that resets mid-write would
  // raise SIGPIPE. Blocked in this thread, it stays a failed write (EPIPE) for the check.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  while (!stopping_) {
    std::optional<std::vector<Target>> next;
    {
      std::lock_guard lk(pending_mu_);
      next.swap(pending_);
    }
    if (next) applyTargets(std::move(*next));
    loop_->runOnce(kSecond);
  }
  // Cancel everything; killed children are adopted by the loop, which reaps them for a
  // bounded while (SIGKILL is not ignorable, so this is quick unless a child is in D state).
  for (auto& [id, s] : slots_) loop_->cancel(s->next);
  slots_.clear();
  for (int i = 0; i < 50 && loop_->watchedCount() > 0; ++i) loop_->runOnce(kSecond / 50);
  std::lock_guard lk(status_mu_);
  status_.clear();
}

void Runner::applyTargets(std::vector<Target> targets) {
  std::map<uint64_t, std::unique_ptr<Slot>> kept;
  for (auto& t : targets) {
    if (kept.count(t.id)) {  // ids are the caller's contract; a repeat is ignored, not fatal
      kLog.warn("health target id {} given twice; the later one is ignored", t.id);
      continue;
    }
    auto it = slots_.find(t.id);
    if (it != slots_.end() && it->second->target.check == t.check && it->second->target.rs == t.rs &&
        it->second->target.proto == t.proto) {
      kept.emplace(t.id, std::move(it->second));
      slots_.erase(it);
      continue;
    }
    auto s = std::make_unique<Slot>();
    if (it != slots_.end()) {  // changed: keep the up state, restart the checker
      Slot& old = *it->second;
      loop_->cancel(old.next);
      s->up = old.up;
      s->weight = old.weight;
      s->reason = old.reason;
      s->last_transition_unix_ns = old.last_transition_unix_ns;
      s->checks_run = old.checks_run;
      s->checks_failed = old.checks_failed;
      slots_.erase(it);
    } else {
      s->up = !t.check.alpha;
    }
    s->target = std::move(t);
    s->to = connectTarget(s->target.check, s->target.rs);
    uint64_t id = s->target.id;
    scheduleFirst(*s);
    publish(*s);
    kept.emplace(id, std::move(s));
  }
  for (auto& [id, s] : slots_) loop_->cancel(s->next);  // removed: the try dies with the slot
  slots_.clear();
  slots_ = std::move(kept);
  std::lock_guard lk(status_mu_);
  for (auto it = status_.begin(); it != status_.end();)
    it = slots_.count(it->first) ? std::next(it) : status_.erase(it);
}

void Runner::scheduleFirst(Slot& s) {
  const auto& c = s.target.check;
  Nanos span = c.warmup > 0 ? c.warmup : std::min<Nanos>(c.delay_loop, kSecond);
  Nanos delay = span ? std::uniform_int_distribution<Nanos>(0, span)(rng_) : 0;
  schedule(s, delay);
}

void Runner::schedule(Slot& s, Nanos delay) {
  loop_->cancel(s.next);
  Slot* sp = &s;
  s.next = loop_->after(delay, [this, sp] {
    sp->next = 0;
    runTry(*sp);
  });
}

void Runner::runTry(Slot& s) {
  Probe p{&s.target.check, s.target.rs, s.to, s.target.proto};
  Slot* sp = &s;
  s.in_flight.reset();
  s.in_flight = startTry(*loop_, p, [this, sp](Outcome o) {
    // The try is still on the stack: park it until this callback has returned.
    auto done = std::shared_ptr<Try>(std::move(sp->in_flight));
    loop_->after(0, [done] {});
    onOutcome(*sp, std::move(o));
  });
}

void Runner::onOutcome(Slot& s, Outcome o) {
  const auto& c = s.target.check;
  const std::string name = checkName(s.to, s.target.proto);
  ++s.checks_run;
  bool notify = false;
  if (o.ok) {
    s.retries_done = 0;
    if (!s.up) {
      kLog.info("{} to {} success.", noun(c.kind), name);
      s.up = true;
      s.last_transition_unix_ns = wallNs();
      notify = true;
    }
    if (o.weight != s.weight) {
      s.weight = o.weight;
      notify = true;
    }
    s.reason = o.reason;
    schedule(s, c.delay_loop);
  } else {
    ++s.checks_failed;
    // log_all_failures: every failed try while up (the retries too), as keepalived.
    if (c.log_all_failures && s.up) kLog.info("{} to {} failed: {}.", noun(c.kind), name, o.reason);
    if (s.up && s.retries_done < c.retry) {
      ++s.retries_done;
      schedule(s, c.delay_before_retry);
    } else {
      if (s.up) {
        if (!c.log_all_failures) kLog.info("{} to {} failed: {}.", noun(c.kind), name, o.reason);
        kLog.info("{} on service {} failed after {} retries.", config::checkKindName(c.kind), name,
                  s.retries_done);
        s.up = false;
        s.last_transition_unix_ns = wallNs();
        notify = true;
      }
      s.retries_done = 0;
      s.reason = o.reason;
      schedule(s, c.delay_loop);
    }
  }
  publish(s);
  if (notify && cb_)
    cb_(Verdict{s.target.id, s.up, s.weight, c.kind == config::CheckKind::kFile, s.reason});
}

void Runner::publish(const Slot& s) {
  TargetStatus st;
  st.id = s.target.id;
  st.kind = s.target.check.kind;
  st.rs = s.target.rs;
  st.connect_to = s.to;
  st.up = s.up;
  st.weight = s.weight;
  st.reason = s.reason;
  st.last_transition_unix_ns = s.last_transition_unix_ns;
  st.checks_run = s.checks_run;
  st.checks_failed = s.checks_failed;
  std::lock_guard lk(status_mu_);
  status_[st.id] = std::move(st);
}

}  // namespace sluice::health
