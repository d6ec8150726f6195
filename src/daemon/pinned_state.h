// `sluiced --state-dir DIR`: where the pins go, making sure they outlive the process, and
// `--release`. The state file itself is daemon/state_file.h; the pinning is io::SteerProgram.
//
// The trap this guards against: bpffs pins live as long as the bpffs mount they are on. A
// daemon started with `ip netns exec` sees a private /sys (and so no /sys/fs/bpf, or a
// private one): pins made there vanish with the process, and with them the point of
// pinning. So the default location is used only if it is bpffs already, or if this
// process shares the init process's mount namespace (then mounting it is what systemd
// would have done); otherwise sluiced refuses and says how to run it instead.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace sluice::daemon {

constexpr const char* kDefaultBpffs = "/sys/fs/bpf";

// The pin directory's default name for a state directory given as an absolute, normalised
// path: its last component (sanitised) and a hash of the whole path, so two state
// directories never share pins. Pure.
std::string defaultPinName(const std::string& abs_state_dir);

// The state directory as an absolute path (created, 0700, if missing) and where its pins
// go: `pin_dir` if given (it must be on bpffs), else kDefaultBpffs/sluice/NAME.
struct StatePaths {
  std::string state_dir;
  std::string state_file;  // state_dir/state.json
  std::string pin_dir;
};
Result<StatePaths> resolveStatePaths(const std::string& state_dir, const std::string& pin_dir,
                                     bool create);

// --release: unpins everything under paths.pin_dir (also the pin dir a state file names, if
// that differs) and removes the state file. Returns what it removed, for the log.
Result<std::vector<std::string>> releaseState(const StatePaths& paths);

}  // namespace sluice::daemon
