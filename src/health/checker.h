// One try of one checker: the interface every kind (TCP, HTTP, DNS, MISC...) implements, and
// the factory that picks the kind. "How to probe" lives behind this; "what a result means"
// (retries, up/down, callbacks) lives in health::Runner.
//
// Trade-off: a try is an object that owns its sockets/process and is destroyed to cancel it,
// rather than a long-lived checker with a reset(); a new socket per try is what keepalived
// does anyway, and destruction is the one cancellation path (timeouts, set(), stop()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/model.h"
#include "health/loop.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::health {

struct Outcome {
  bool ok = false;
  std::string reason;             // one line
  std::optional<int32_t> weight;  // MISC_CHECK misc_dynamic (absolute), FILE_CHECK (offset)
};

// What a try needs to know besides its config.
struct Probe {
  const config::CheckerConfig* check = nullptr;  // outlives the try
  net::Endpoint rs;
  net::Endpoint to;  // rs with connect_ip/connect_port applied
  svc::Proto proto = svc::Proto::kTcp;
};

using DoneFn = std::function<void(Outcome)>;

// A try in flight. Its destructor cancels: sockets closed, a child process killed.
// `done` is called at most once, always from a loop callback (never from inside startTry()),
// as the try's last act; the caller defers destroying the try until that callback returns.
class Try {
 public:
  virtual ~Try() = default;
};

// What most tries share: the loop, the probe, and a done callback called at most once.
class TryBase : public Try {
 public:
  TryBase(Loop& loop, const Probe& probe, DoneFn done)
      : loop_(loop), probe_(probe), done_(std::move(done)) {}
  ~TryBase() override { loop_.cancel(soon_); }

 protected:
  const config::CheckerConfig& cfg() const { return *probe_.check; }
  // Reports the outcome. Subclasses release their sockets first (or in their destructor).
  void finish(Outcome o) {
    if (!done_) return;
    DoneFn d = std::move(done_);
    done_ = nullptr;
    d(std::move(o));
  }
  void succeed(std::string reason) { finish(Outcome{true, std::move(reason), std::nullopt}); }
  void fail(std::string reason) { finish(Outcome{false, std::move(reason), std::nullopt}); }
  // For failures found while starting: reported from the loop, as the contract says.
  void failSoon(std::string reason) {
    soon_ = loop_.after(0, [this, r = std::move(reason)]() mutable {
      soon_ = 0;
      fail(std::move(r));
    });
  }
  bool finished() const { return !done_; }

  Loop& loop_;
  Probe probe_;

 private:
  DoneFn done_;
  Loop::TimerId soon_ = 0;
};

// Starts one try of probe.check->kind.
std::unique_ptr<Try> startTry(Loop& loop, const Probe& probe, DoneFn done);

// Where the check connects: connect_ip/connect_port over the real server's.
net::Endpoint connectTarget(const config::CheckerConfig& c, const net::Endpoint& rs);

// "[10.0.0.1]:tcp:80", as keepalived names a checked server in its log lines.
std::string checkName(const net::Endpoint& ep, svc::Proto proto);

}  // namespace sluice::health
