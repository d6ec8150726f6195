// Pin locations for --state-dir and --release; see pinned_state.h.
#include "daemon/pinned_state.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "daemon/state_file.h"
#include "io/xdp_loader.h"

namespace sluice::daemon {
namespace {

namespace fs = std::filesystem;

bool onBpffs(const std::string& path) {
  struct statfs st{};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

// The nearest existing ancestor of `path` (itself included).
std::string existingAncestor(std::string path) {
  while (!path.empty() && access(path.c_str(), F_OK) != 0) {
    auto slash = path.find_last_of('/');
    path = slash == 0 ? "/" : path.substr(0, slash == std::string::npos ? 0 : slash);
  }
  return path.empty() ? "/" : path;
}

bool sameMountNamespaceAsInit() {
  struct stat self{}, init{};
  if (stat("/proc/self/ns/mnt", &self) != 0 || stat("/proc/1/ns/mnt", &init) != 0) return false;
  return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

Status ensureDefaultBpffs() {
  if (onBpffs(kDefaultBpffs)) return {};
  if (!sameMountNamespaceAsInit())
    return makeError(
        "{} is not a BPF filesystem in this mount namespace, and pins made in a private one "
        "(as `ip netns exec` gives) would vanish with this process: run sluiced in the host's "
        "mount namespace (e.g. `nsenter --net=/run/netns/NAME sluiced ...`), or give --pin-dir "
        "on a bpffs mount that outlives it",
        kDefaultBpffs);
  if (mount("bpf", kDefaultBpffs, "bpf", 0, "mode=0700") != 0)
    return makeError("{} is not mounted and mounting bpffs there failed: {} (mount it: `mount "
                     "-t bpf bpf {}`)",
                     kDefaultBpffs, std::strerror(errno), kDefaultBpffs);
  return {};
}

}  // namespace

std::string defaultPinName(const std::string& abs_state_dir) {
  // FNV-1a 64: stable across builds and machines, unlike std::hash.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : abs_state_dir) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  std::string base = fs::path(abs_state_dir).filename().string();
  std::string clean;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    clean += ok ? c : '_';
  }
  if (clean.empty() || clean == "." || clean == "..") clean = "state";
  if (clean.size() > 40) clean.resize(40);
  return fmt::format("{}-{:08x}", clean, uint32_t(h ^ (h >> 32)));
}

Result<StatePaths> resolveStatePaths(const std::string& state_dir, const std::string& pin_dir,
                                     bool create) {
  StatePaths p;
  std::error_code ec;
  fs::path dir = fs::absolute(state_dir, ec);
  if (ec) return makeError("--state-dir {}: {}", state_dir, ec.message());
  if (create) {
    fs::create_directories(dir, ec);
    if (ec) return makeError("cannot create the state directory {}: {}", dir.string(), ec.message());
    if (!fs::is_directory(dir)) return makeError("--state-dir {} is not a directory", dir.string());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  fs::path canon = fs::weakly_canonical(dir, ec);
  if (ec) canon = dir.lexically_normal();
  p.state_dir = canon.string();
  while (p.state_dir.size() > 1 && p.state_dir.back() == '/') p.state_dir.pop_back();
  p.state_file = p.state_dir + "/state.json";

  if (!pin_dir.empty()) {
    fs::path pd = fs::absolute(pin_dir, ec).lexically_normal();
    p.pin_dir = pd.string();
    while (p.pin_dir.size() > 1 && p.pin_dir.back() == '/') p.pin_dir.pop_back();
    if (!onBpffs(existingAncestor(p.pin_dir)))
      return makeError("--pin-dir {} is not on a BPF filesystem (mount one: `mount -t bpf bpf "
                       "DIR`)",
                       p.pin_dir);
  } else {
    if (Status st = ensureDefaultBpffs(); !st) return st.error();
    p.pin_dir = fmt::format("{}/sluice/{}", kDefaultBpffs, defaultPinName(p.state_dir));
  }
  return p;
}

Result<std::vector<std::string>> releaseState(const StatePaths& paths) {
  std::vector<std::string> removed;
  std::vector<std::string> dirs = {paths.pin_dir};
  // The state file knows where the pins went if the operator forgot --pin-dir this time.
  if (auto saved = readStateFile(paths.state_file); saved && *saved && !(*saved)->pin_dir.empty() &&
                                                     (*saved)->pin_dir != paths.pin_dir)
    dirs.push_back((*saved)->pin_dir);
  for (const auto& d : dirs) {
    auto r = io::SteerProgram::releasePins(d);
    if (!r) return r.error();
    removed.insert(removed.end(), r->begin(), r->end());
  }
  // The shared parent of default pin dirs goes too once the last one has.
  const std::string parent = fmt::format("{}/sluice", kDefaultBpffs);
  if (paths.pin_dir.rfind(parent + "/", 0) == 0) rmdir(parent.c_str());
  if (unlink(paths.state_file.c_str()) == 0)
    removed.push_back(paths.state_file);
  else if (errno != ENOENT)
    return makeError("cannot remove {}: {}", paths.state_file, std::strerror(errno));
  unlink((paths.state_file + ".tmp").c_str());
  return removed;
}

}  // namespace sluice::daemon
