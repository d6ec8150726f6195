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
// The tc filter's identity on egress. Fixed, so that a run replaces the filter a crashed
// run left behind instead of adding a second one beside it.
constexpr uint32_t kTcHandle = 0x5c1d;
constexpr uint32_t kTcPriority = 0x5c1d;

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
  bpf_program* mss_prog = bpf_object__find_program_by_name(p->obj_, "sluice_decap_mss");
  auto mapFd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(p->obj_, name);
    return m ? bpf_map__fd(m) : -1;
  };
  p->vips_fd_ = mapFd("decap_vips");
  p->config_fd_ = mapFd("decap_config");
  p->counters_fd_ = mapFd("decap_counters");
  if (!prog || !mss_prog || p->vips_fd_ < 0 || p->config_fd_ < 0 || p->counters_fd_ < 0)
    return makeError("{} lacks the programs sluice_decap, sluice_decap_mss or their maps "
                     "(stale build?)", object_path);
  p->prog_fd_ = bpf_program__fd(prog);
  p->mss_prog_fd_ = bpf_program__fd(mss_prog);
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

// The whole entry is written each time from config_, so one setter never resets another's
// field.
Status DecapProgram::writeConfig() {
  uint32_t zero = 0;
  if (bpf_map_update_elem(config_fd_, &zero, &config_, BPF_ANY) != 0)
    return makeError("cannot write decap_config: {}", errStr(errno));
  return {};
}

Status DecapProgram::setGuePort(uint16_t port) {
  config_.gue_port = htons(port);
  return writeConfig();
}

Status DecapProgram::setMssClamp(uint16_t mss) {
  config_.mss_clamp = mss;
  return writeConfig();
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
  if (config_.mss_clamp != 0)
    if (Status st = attachMssClamp(ifindex); !st) {
      detach();
      return st;
    }
  return {};
}

Status DecapProgram::attachMssClamp(uint32_t ifindex) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = int(ifindex);
  hook.attach_point = BPF_TC_EGRESS;
  // -EEXIST: a clsact qdisc is already there (someone else's, or left by a crashed run);
  // it is used but not ours to destroy. libbpf would print the kernel's note for that
  // expected case ("Exclusivity flag on, cannot modify"), which reads like a failure in
  // the log: its printing is off for this one call (process-wide, but sluice-decap has no
  // other thread that could print meanwhile).
  libbpf_print_fn_t printer = libbpf_set_print(nullptr);
  int err = bpf_tc_hook_create(&hook);
  libbpf_set_print(printer);
  if (err != 0 && err != -EEXIST)
    return makeError("cannot add a clsact qdisc to {} for the MSS clamp: {}", ifName(ifindex),
                     errStr(err));
  const bool made_clsact = err == 0;
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.prog_fd = mss_prog_fd_;
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  opts.flags = BPF_TC_F_REPLACE;  // a filter a crashed run left behind is replaced
  err = bpf_tc_attach(&hook, &opts);
  if (err != 0) {
    if (made_clsact) {
      hook.attach_point = bpf_tc_attach_point(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
    }
    return makeError("cannot attach the MSS clamp to egress of {}: {}", ifName(ifindex),
                     errStr(err));
  }
  tc_ifindex_ = ifindex;
  tc_made_clsact_ = made_clsact;
  return {};
}

void DecapProgram::detachMssClamp() {
  if (tc_ifindex_ == 0) return;
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = int(tc_ifindex_);
  hook.attach_point = BPF_TC_EGRESS;
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  // Failure (the interface went away, someone removed the filter) leaves nothing to undo.
  bpf_tc_detach(&hook, &opts);
  // Destroying the hook removes the clsact qdisc with every filter on it, both directions:
  // done only when this process created it (a filter someone added to it since goes too).
  if (tc_made_clsact_) {
    hook.attach_point = bpf_tc_attach_point(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook);
  }
  tc_ifindex_ = 0;
  tc_made_clsact_ = false;
}

void DecapProgram::detach() {
  detachMssClamp();
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
  return DecapCounters{sum[SL_DECAP_DONE], sum[SL_DECAP_NOT_OURS], sum[SL_DECAP_MALFORMED],
                       sum[SL_DECAP_MSS_CLAMPED]};
}

}  // namespace sluice::decap
