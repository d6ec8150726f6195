#include "toa/toa_program.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "abi/toa.h"
#include "io/xdp_loader.h"

namespace sluice::toa {

namespace {
std::string errStr(int err) { return std::strerror(err < 0 ? -err : err); }
}  // namespace

Result<std::unique_ptr<ToaProgram>> ToaProgram::load(std::string object_path) {
  if (object_path.empty()) object_path = io::bpfObjectDir() + "/toa.bpf.o";
  std::unique_ptr<ToaProgram> p(new ToaProgram());
  p->obj_ = bpf_object__open_file(object_path.c_str(), nullptr);
  if (!p->obj_) {
    int err = errno;
    return makeError("cannot open BPF object {}: {} (was the project built? set SLUICE_BPF_DIR)",
                     object_path, errStr(err));
  }
  if (int err = bpf_object__load(p->obj_); err)
    return makeError("cannot load {} into the kernel: {} (root, or CAP_BPF and CAP_NET_ADMIN, "
                     "is needed; the TCP option walk needs Linux 5.10 or later)",
                     object_path, errStr(err));
  bpf_program* prog = bpf_object__find_program_by_name(p->obj_, "sluice_toa");
  auto mapFd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(p->obj_, name);
    return m ? bpf_map__fd(m) : -1;
  };
  p->conns_fd_ = mapFd("toa_conns");
  p->counters_fd_ = mapFd("toa_counters");
  if (!prog || p->conns_fd_ < 0 || p->counters_fd_ < 0)
    return makeError("{} lacks the program sluice_toa or its maps (stale build?)", object_path);
  p->prog_fd_ = bpf_program__fd(prog);
  return p;
}

ToaProgram::~ToaProgram() {
  detach();
  if (obj_) bpf_object__close(obj_);
}

Status ToaProgram::attach(const std::string& cgroup_dir) {
  if (link_fd_ >= 0) return makeError("already attached");
  const int cg = open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return makeError("cannot open cgroup {}: {} (a cgroup v2 directory, e.g. under "
                     "/sys/fs/cgroup or /sys/fs/cgroup/unified)", cgroup_dir, errStr(errno));
  // A link, which lives with our fd and sits beside other programs on the cgroup
  // (multi-attach) instead of replacing them.
  const int fd = bpf_link_create(prog_fd_, cg, BPF_CGROUP_SOCK_OPS, nullptr);
  const int err = errno;
  close(cg);
  if (fd < 0)
    return makeError("cannot attach the sockops program to {}: {} (is it a cgroup v2 "
                     "directory? `stat -f -c %T {}` says cgroup2fs for one)",
                     cgroup_dir, errStr(err), cgroup_dir);
  link_fd_ = fd;
  return {};
}

void ToaProgram::detach() {
  if (link_fd_ >= 0) close(link_fd_);
  link_fd_ = -1;
}

std::optional<Client> ToaProgram::lookup(const Tuple& t) const {
  sl_toa_key k{};
  k.family = t.family;
  std::memcpy(k.local_addr, t.local.data(), 16);
  std::memcpy(k.peer_addr, t.peer.data(), 16);
  k.local_port = htons(t.local_port);
  k.peer_port = htons(t.peer_port);
  sl_toa_client v{};
  if (bpf_map_lookup_elem(conns_fd_, &k, &v) != 0) return std::nullopt;
  if (v.family != SL_AF_V4 && v.family != SL_AF_V6) return std::nullopt;
  Client c;
  c.family = v.family;
  std::memcpy(c.addr.data(), v.addr, 16);
  c.port = ntohs(v.port);
  return c;
}

Result<ToaCounters> ToaProgram::counters() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return makeError("cannot count CPUs: {}", errStr(ncpu));
  uint64_t sum[SL_TOA_COUNTERS] = {};
  std::vector<uint64_t> per(size_t(ncpu), 0);
  for (uint32_t i = 0; i < SL_TOA_COUNTERS; ++i) {
    if (bpf_map_lookup_elem(counters_fd_, &i, per.data()) != 0)
      return makeError("cannot read the counters: {}", errStr(errno));
    for (uint64_t v : per) sum[i] += v;
  }
  return ToaCounters{sum[SL_TOA_STORED], sum[SL_TOA_ABSENT], sum[SL_TOA_MALFORMED],
                     sum[SL_TOA_FULL], sum[SL_TOA_EVICTED], sum[SL_TOA_REMOVED]};
}

}  // namespace sluice::toa
