// What the health checkers know about one check target, for the operator's views
// (sluiceadm's health listing, /metrics). Filled by health::Runner (health/runner.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "config/model.h"
#include "net/addr.h"

namespace sluice::health {

// One checker on one real server.
struct TargetStatus {
  uint64_t id = 0;           // the caller's handle for the target
  config::CheckKind kind = config::CheckKind::kTcp;
  net::Endpoint rs;          // the real server checked
  net::Endpoint connect_to;  // where the check actually connects
  bool up = false;
  std::optional<int32_t> weight;  // MISC_CHECK misc_dynamic / FILE_CHECK, when one was given
  std::string reason;        // why it is in its state: "connected", "timeout", "status 503", ...
  uint64_t last_transition_unix_ns = 0;  // wall clock (CLOCK_REALTIME) of the last up<->down
  uint64_t checks_run = 0;
  uint64_t checks_failed = 0;
};

}  // namespace sluice::health
