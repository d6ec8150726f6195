#include "decap/decap_program.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::decap {

namespace {
std::string errStr(int err) { return std::strerror(err < 0 ? -err : err); }
std::string ifName(uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  return if_indextoname(ifindex, buf) ? buf : "ifindex " + std::to_string(ifindex);
}
}  // namespace

Result<std::unique_ptr<DecapProgram>> DecapProgram::load(std::string object_path) {
  if (object_path.empty()) object_path = io::bpfObjectDir() + "/decap.bpf.o";
  std::unique_ptr<DecapProgram> p(new DecapProgram());
  p->obj_ = bpf_object__open_file(object_path.c_str(), nullptr);
  if (!p->obj_) {
    int err = errno;
    return makeError("cannot open BPF object {}: {} (was the project built? set SLUICE_BPF_DIR)",
                     object_path, errStr(err));
  }
  if (int err = bpf_object__load(p->obj_); err)
    return makeError("cannot load {} into the kernel: {} (root, or CAP_BPF and CAP_NET_ADMIN, "
                     "is needed)", object_path, errStr(err));
  bpf_program* prog = bpf_object__find_program_by_name(p->obj_, "sluice_decap");
  auto mapFd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(p->obj_, name);
    return m ? bpf_map__fd(m) : -1;
  };
  p->vips_fd_ = mapFd("decap_vips");
  p->config_fd_ = mapFd("decap_config");
  p->counters_fd_ = mapFd("decap_counters");
  if (!prog || p->vips_fd_ < 0 || p->config_fd_ < 0 || p->counters_fd_ < 0)
    return makeError("{} lacks the program sluice_decap or its maps (stale build?)", object_path);
  p->prog_fd_ = bpf_program__fd(prog);
  return p;
}

DecapProgram::~DecapProgram() {
  detach();
  if (obj_) bpf_object__close(obj_);
}

Status DecapProgram::addVip(const net::IpAddr& vip) {
  sl_decap_vip k{};
  std::memcpy(k.addr, vip.bytes.data(), 16);
  k.family = vip.isV4() ? SL_AF_V4 : SL_AF_V6;
  uint8_t one = 1;
  if (bpf_map_update_elem(vips_fd_, &k, &one, BPF_ANY) != 0)
    return makeError("cannot add VIP {}: {}", vip.str(), errStr(errno));
  return {};
}

Status DecapProgram::setGuePort(uint16_t port) {
  uint32_t zero = 0;
  sl_decap_config c{};
  c.gue_port = htons(port);
  if (bpf_map_update_elem(config_fd_, &zero, &c, BPF_ANY) != 0)
    return makeError("cannot set the GUE port: {}", errStr(errno));
  return {};
}

Status DecapProgram::attach(uint32_t ifindex, io::XdpMode mode) {
  if (link_fd_ >= 0) return makeError("already attached");
  // A BPF link, as sluiced attaches its own program: it never replaces a program someone
  // else attached, and the kernel removes it when the last fd closes.
  auto tryMode = [&](uint32_t flags) {
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.flags = flags;
    int fd = bpf_link_create(prog_fd_, int(ifindex), BPF_XDP, &opts);
    return fd >= 0 ? fd : -errno;
  };
  uint32_t flags = 0;
  int fd = -EINVAL;
  if (mode != io::XdpMode::kGeneric) fd = tryMode(flags = XDP_FLAGS_DRV_MODE);
  if (fd < 0 && mode != io::XdpMode::kNative && fd != -EBUSY && fd != -EEXIST)
    fd = tryMode(flags = XDP_FLAGS_SKB_MODE);
  if (fd < 0) {
    if (fd == -EBUSY || fd == -EEXIST)
      return makeError("cannot attach XDP to {}: another XDP program is attached there "
                       "(see `ip link show {}`; remove it with `ip link set dev {} xdp off`)",
                       ifName(ifindex), ifName(ifindex), ifName(ifindex));
    return makeError("cannot attach XDP to {} in {} mode: {}", ifName(ifindex),
                     mode == io::XdpMode::kGeneric ? "generic" : "native", errStr(fd));
  }
  link_fd_ = fd;
  link_flags_ = flags;
  return {};
}

void DecapProgram::detach() {
  if (link_fd_ >= 0) close(link_fd_);
  link_fd_ = -1;
}

const char* DecapProgram::attachedMode() const {
  if (link_fd_ < 0) return "detached";
  return link_flags_ == XDP_FLAGS_SKB_MODE ? "generic" : "native";
}

Result<DecapCounters> DecapProgram::counters() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return makeError("cannot count CPUs: {}", errStr(ncpu));
  uint64_t sum[SL_DECAP_COUNTERS] = {};
  std::vector<uint64_t> per(size_t(ncpu), 0);
  for (uint32_t i = 0; i < SL_DECAP_COUNTERS; ++i) {
    if (bpf_map_lookup_elem(counters_fd_, &i, per.data()) != 0)
      return makeError("cannot read the counters: {}", errStr(errno));
    for (uint64_t v : per) sum[i] += v;
  }
  return DecapCounters{sum[SL_DECAP_DONE], sum[SL_DECAP_NOT_OURS], sum[SL_DECAP_MALFORMED]};
}

}  // namespace sluice::decap
