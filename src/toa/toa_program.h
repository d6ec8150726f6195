// sluice-toa's sockops program (bpf/toa.bpf.o) loaded and attached to one cgroup v2
// directory through a BPF link, and its map read by the 4-tuple the application sees.
//
// A link, not a pinned program: no bpffs is needed, and the program goes away with the
// daemon (detach(), the destructor, or the kernel when the process dies), so a cgroup is
// never left parsing options for a daemon nobody runs. It applies to the sockets created
// in that cgroup and its descendants after the attach (a listener opened before it is
// covered too: its accepted sockets inherit its cgroup).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "toa/wire.h"

struct bpf_object;

namespace sluice::toa {

struct ToaCounters {
  uint64_t stored = 0;
  uint64_t absent = 0;
  uint64_t malformed = 0;
  uint64_t full = 0;
  uint64_t evicted = 0;
  uint64_t removed = 0;
};

class ToaProgram {
 public:
  // `object_path` empty: toa.bpf.o in io::bpfObjectDir() (SLUICE_BPF_DIR).
  static Result<std::unique_ptr<ToaProgram>> load(std::string object_path = {});
  ~ToaProgram();
  ToaProgram(const ToaProgram&) = delete;
  ToaProgram& operator=(const ToaProgram&) = delete;

  Status attach(const std::string& cgroup_dir);
  void detach();
  bool attached() const { return link_fd_ >= 0; }

  // The client behind the connection `t`; nullopt when no TOA was stored for it.
  std::optional<Client> lookup(const Tuple& t) const;
  Result<ToaCounters> counters() const;

 private:
  ToaProgram() = default;

  bpf_object* obj_ = nullptr;
  int prog_fd_ = -1;
  int conns_fd_ = -1;
  int counters_fd_ = -1;
  int link_fd_ = -1;
};

}  // namespace sluice::toa
