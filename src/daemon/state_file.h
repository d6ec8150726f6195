// The state file of `sluiced --state-dir DIR` (DIR/state.json): what a restarted daemon
// needs besides the pinned BPF maps to take over established connections: the services
// and real servers with the ids the connection entries store, the trashed real servers
// that still carry connections, the --set timeouts, and the identity of the pinned
// connection table it belongs to (its hash seed and size).
//
// The trade-off: one small JSON file rewritten whole (temp file, fsync, rename) after every
// configuration change, rather than a journal. A change costs a few hundred microseconds
// of I/O on the control thread; in exchange the file is always one complete, readable
// state that an operator can inspect, and a crash leaves either the old or the new one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "svc/model.h"
#include "svc/service_table.h"

namespace sluice::daemon {

struct SavedState {
  static constexpr uint32_t kVersion = 1;
  uint64_t conn_seed = 0;      // the pinned connection table's hash seed (its identity)
  uint32_t conn_capacity = 0;  // entries in it
  std::string pin_dir;         // where the maps are pinned (for --release)
  svc::Timeouts timeouts;
  svc::TableState table;
};

std::string encodeState(const SavedState& s);
// Strict: unknown versions, missing or mistyped fields are errors naming the field.
Result<SavedState> decodeState(std::string_view text);

// Atomic replacement: PATH.tmp written and fsync'ed, then renamed over PATH.
Status writeStateFile(const std::string& path, const SavedState& s);
// nullopt when the file does not exist; an error when it exists but cannot be used.
Result<std::optional<SavedState>> readStateFile(const std::string& path);

// The Director's config sink for --state-dir: every change rewrites `file` (atomically)
// with `base` plus the new configuration. If the write fails the file is removed (a stale
// one would restore wrong ids; none makes a restart refuse the pinned state) and the error
// says so to the operator whose change caused it.
std::function<Status(const svc::TableState&, const svc::Timeouts&)> stateFileSink(
    SavedState base, std::string file);

}  // namespace sluice::daemon
