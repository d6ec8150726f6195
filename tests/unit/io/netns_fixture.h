// Throw-away network namespaces for the io tests that need a kernel: created with `ip netns`,
// entered per thread with setns(), deleted (with every veth inside) on every exit path.
// Nothing is ever configured in the namespace the tests start in.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace sluice::io::testing {

// Runs a shell command with a hard time limit; true on exit status 0.
inline bool sh(const std::string& cmd) {
  std::string full = fmt::format("timeout -s KILL 10 sh -c '{}' >/dev/null 2>&1", cmd);
  return std::system(full.c_str()) == 0;
}

inline std::string shOut(const std::string& cmd) {
  std::string full = fmt::format("timeout -s KILL 10 sh -c '{}' 2>/dev/null", cmd);
  std::string out;
  if (FILE* f = popen(full.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// One namespace named io-<pid>-<tag>, deleted on destruction.
class Netns {
 public:
  explicit Netns(const std::string& tag) : name_(fmt::format("io-{}-{}", getpid(), tag)) {
    ok_ = sh(fmt::format("ip netns add {}", name_));
  }
  ~Netns() {
    if (ok_) sh(fmt::format("ip netns del {}", name_));
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  bool exec(const std::string& cmd) const {
    return sh(fmt::format("ip netns exec {} {}", name_, cmd));
  }
  std::string out(const std::string& cmd) const {
    return shOut(fmt::format("ip netns exec {} {}", name_, cmd));
  }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

// Moves the calling thread into `ns` until destruction. Sockets opened meanwhile stay in
// `ns` for their whole life, which is how one test talks to several namespaces.
class EnterNetns {
 public:
  explicit EnterNetns(const Netns& ns) {
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(ns.path().c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = self_ >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
  }
  ~EnterNetns() {
    if (self_ >= 0) {
      if (ok_ && setns(self_, CLONE_NEWNET) != 0) std::abort();  // never run on in a test ns
      close(self_);
    }
  }
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  int self_ = -1;
  bool ok_ = false;
};

// Root, `ip` and namespaces available? Tests that need them GTEST_SKIP otherwise.
inline bool netnsAvailable() {
  if (geteuid() != 0) return false;
  static int cached = -1;
  if (cached < 0) {
    Netns probe("probe");
    cached = probe.ok() && probe.exec("ip link add io-p0 type veth peer name io-p1") ? 1 : 0;
  }
  return cached == 1;
}

}  // namespace sluice::io::testing
