// Loading and attaching the steering program; see xdp_loader.h for the policy.
#include "io/xdp_loader.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "abi/predicates.h"

namespace sluice::io {
namespace {

std::string ifName(uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, buf)) return fmt::format("ifindex {}", ifindex);
  return buf;
}

std::string errStr(int err) { return std::strerror(err < 0 ? -err : err); }

Status makeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return makeError("cannot create {}: {}", part, errStr(errno));
  }
  return {};
}

// Opens the pinned maps under `dir` for reuse: all of them, or none when none is pinned.
// Anything in between, or a map whose shape differs from what this build loads, is an
// error that says what to change.
Result<bool> reusePinnedMaps(bpf_object* obj, const std::string& dir,
                             const std::vector<std::string>& names) {
  std::vector<int> fds;
  std::vector<std::string> missing;
  auto closeAll = [&] {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  };
  for (const auto& n : names) {
    std::string path = dir + "/" + n;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0 && errno != ENOENT) {
      int e = errno;
      closeAll();
      return makeError("cannot open the pinned map {}: {}", path, errStr(e));
    }
    if (fd < 0) missing.push_back(n);
    fds.push_back(fd);
  }
  if (missing.size() == names.size()) return false;
  if (!missing.empty()) {
    closeAll();
    return makeError("the pinned state in {} is incomplete ({} missing): remove it with "
                     "`sluiced --state-dir DIR --release` (established connections break)",
                     dir, missing.front());
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = dir + "/" + names[i];
    bpf_map* m = bpf_object__find_map_by_name(obj, names[i].c_str());
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    std::optional<Error> err;
    if (!m) {
      err = makeError("the BPF object has no map {}", names[i]);
    } else if (bpf_obj_get_info_by_fd(fds[i], &info, &len) != 0) {
      err = makeError("cannot inspect the pinned map {}: {}", path, errStr(errno));
    } else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
               info.value_size != bpf_map__value_size(m) || !(info.map_flags & BPF_F_MMAPABLE)) {
      err = makeError("the pinned map {} was made by another version of sluiced (entries of {} "
                      "bytes, this one uses {}): remove the pinned state with `sluiced "
                      "--state-dir DIR --release` (established connections break)",
                      path, info.value_size, bpf_map__value_size(m));
    } else if (info.max_entries != bpf_map__max_entries(m)) {
      if (names[i] == "conns")
        err = makeError("the pinned connection table {} has {} entries but --conn-table-size "
                        "asks for {}: start with --conn-table-size {}, or remove the pinned "
                        "state with `sluiced --state-dir DIR --release`",
                        path, info.max_entries * SL_CONN_BUCKET_SLOTS,
                        bpf_map__max_entries(m) * SL_CONN_BUCKET_SLOTS,
                        info.max_entries * SL_CONN_BUCKET_SLOTS);
      else
        err = makeError("the pinned map {} has {} entries, this sluiced uses {}: remove the "
                        "pinned state with `sluiced --state-dir DIR --release`",
                        path, info.max_entries, bpf_map__max_entries(m));
    } else if (int e = bpf_map__reuse_fd(m, fds[i]); e != 0) {
      err = makeError("cannot reuse the pinned map {}: {}", path, errStr(e));
    }
    if (err) {
      closeAll();
      return *err;
    }
  }
  closeAll();  // bpf_map__reuse_fd keeps its own duplicate
  return true;
}

}  // namespace

const std::vector<std::string>& SteerProgram::pinnedMapNames() {
  static const std::vector<std::string> names = {"conns", "conn_ext", "dests", "dest_counts",
                                                 "dest_stats", "dp_config"};
  return names;
}

Result<std::vector<std::string>> SteerProgram::releasePins(const std::string& dir) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return removed;
    return makeError("cannot open {}: {}", dir, errStr(errno));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    bool ours = n.rfind("link-", 0) == 0 ||
                std::count(pinnedMapNames().begin(), pinnedMapNames().end(), n) > 0;
    if (ours) names.push_back(n);
  }
  closedir(d);
  // Links first: the program stops before the tables it reads go.
  std::sort(names.begin(), names.end());
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n.rfind("link-", 0) == 0; });
  for (const auto& n : names) {
    std::string path = dir + "/" + n;
    if (unlink(path.c_str()) != 0) return makeError("cannot remove {}: {}", path, errStr(errno));
    removed.push_back(path);
  }
  if (rmdir(dir.c_str()) != 0)
    return makeError("removed the pins but not {}: {} (something else is in it)", dir, errStr(errno));
  return removed;
}

std::string bpfObjectDir() {
  if (const char* env = std::getenv("SLUICE_BPF_DIR"); env && *env) return env;
#ifdef SLUICE_BPF_DIR
  return SLUICE_BPF_DIR;
#else
  return "bpf";
#endif
}

sl_steer_key makeSteerKey(const net::IpAddr& addr, uint8_t proto, uint16_t port) {
  sl_steer_key k{};
  std::memcpy(k.addr, addr.bytes.data(), addr.size());
  k.port = htons(port);
  k.proto = proto;
  k.family = addr.isV4() ? SL_AF_V4 : SL_AF_V6;
  return k;
}

Result<std::unique_ptr<SteerProgram>> SteerProgram::load(std::string object_path) {
  return load(std::move(object_path), Sizes{});
}

Result<std::unique_ptr<SteerProgram>> SteerProgram::load(std::string object_path, Sizes sizes,
                                                         const Pinning& pinning) {
  if (object_path.empty()) object_path = bpfObjectDir() + "/steer.bpf.o";
  if (sizes.conn_capacity < SL_CONN_BUCKET_SLOTS || sizes.conn_capacity % SL_CONN_BUCKET_SLOTS)
    return makeError("connection table capacity {} is not a multiple of {}", sizes.conn_capacity,
                     SL_CONN_BUCKET_SLOTS);
  if (sizes.max_dests == 0) return makeError("max_dests must be positive");
  std::unique_ptr<SteerProgram> p(new SteerProgram());
  p->obj_ = bpf_object__open_file(object_path.c_str(), nullptr);
  if (!p->obj_) {
    int err = errno;
    p->obj_ = nullptr;
    return makeError("cannot open BPF object {}: {} (was the project built? set SLUICE_BPF_DIR)",
                     object_path, errStr(err));
  }
  auto setSize = [&](const char* name, uint32_t n) {
    bpf_map* m = bpf_object__find_map_by_name(p->obj_, name);
    return m && bpf_map__set_max_entries(m, n) == 0;
  };
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return makeError("cannot count CPUs: {}", errStr(ncpu));
  p->stat_slots_ = uint32_t(ncpu);
  const uint32_t stat_entries = sizes.max_dests * p->stat_slots_;
  if (!setSize("conns", sizes.conn_capacity / SL_CONN_BUCKET_SLOTS) ||
      !setSize("conn_ext", sizes.conn_capacity / SL_CONN_BUCKET_SLOTS) ||
      !setSize("dests", sizes.max_dests) ||
      !setSize("dest_counts", sizes.max_dests) || !setSize("dest_stats", stat_entries))
    return makeError("{} lacks the shared maps conns/conn_ext/dests/dest_counts/dest_stats (stale build?)",
                     object_path);
  if (!pinning.dir.empty()) {
    p->pin_dir_ = pinning.dir;
    if (Status st = makeDirs(pinning.dir); !st) return st.error();
    auto reused = reusePinnedMaps(p->obj_, pinning.dir, pinnedMapNames());
    if (!reused) return reused.error();
    p->reused_ = *reused;
  }
  if (int err = bpf_object__load(p->obj_); err)
    return makeError("cannot load {} into the kernel: {} (needs root or CAP_BPF+CAP_NET_ADMIN)",
                     object_path, errStr(err));
  if (!pinning.dir.empty() && !p->reused_) {
    // Pinned all together or not at all, so that the next start finds all or nothing.
    std::vector<std::string> done;
    for (const auto& n : pinnedMapNames()) {
      std::string path = pinning.dir + "/" + n;
      bpf_map* m = bpf_object__find_map_by_name(p->obj_, n.c_str());
      if (int e = m ? bpf_map__pin(m, path.c_str()) : -ENOENT; e != 0) {
        for (const auto& d : done) unlink(d.c_str());
        return makeError("cannot pin map {} at {}: {}", n, path, errStr(e));
      }
      done.push_back(path);
    }
  }
  bpf_program* prog = bpf_object__find_program_by_name(p->obj_, "sluice_steer");
  if (!prog) return makeError("{} has no program 'sluice_steer'", object_path);
  p->prog_fd_ = bpf_program__fd(prog);
  auto mapFd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(p->obj_, name);
    return m ? bpf_map__fd(m) : -1;
  };
  p->services_fd_ = mapFd("services");
  p->xsk_base_fd_ = mapFd("xsk_base");
  p->xsks_fd_ = mapFd("xsks");
  p->stats_fd_ = mapFd("steer_stats");
  if (p->services_fd_ < 0 || p->xsk_base_fd_ < 0 || p->xsks_fd_ < 0 || p->stats_fd_ < 0)
    return makeError("{} lacks one of the maps services/xsk_base/xsks/steer_stats", object_path);
  p->vips_fd_ = mapFd("vips");
  p->counters_fd_ = mapFd("dp_counters");
  p->peer_macs_fd_ = mapFd("peer_macs");
  if (p->vips_fd_ < 0 || p->counters_fd_ < 0 || p->peer_macs_fd_ < 0)
    return makeError("{} lacks the maps vips/dp_counters/peer_macs", object_path);

  // The BPF_F_MMAPABLE arrays become plain memory shared with the program.
  auto mapMem = [&](const char* name, size_t value_size, size_t n) -> void* {
    int fd = mapFd(name);
    size_t len = value_size * n;
    long page = sysconf(_SC_PAGESIZE);
    len = (len + size_t(page) - 1) / size_t(page) * size_t(page);
    void* a = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED) return nullptr;
    p->mappings_.push_back({a, len});
    return a;
  };
  auto* conns = static_cast<sl_conn*>(mapMem("conns", sizeof(sl_conn_bucket),
                                             sizes.conn_capacity / SL_CONN_BUCKET_SLOTS));
  auto* ext = static_cast<sl_conn_ext*>(mapMem("conn_ext", sizeof(sl_conn_ext_bucket),
                                               sizes.conn_capacity / SL_CONN_BUCKET_SLOTS));
  auto* dests = static_cast<sl_dest*>(mapMem("dests", sizeof(sl_dest), sizes.max_dests));
  auto* counts =
      static_cast<sl_dest_counts*>(mapMem("dest_counts", sizeof(sl_dest_counts), sizes.max_dests));
  auto* stats = static_cast<sl_stats*>(mapMem("dest_stats", sizeof(sl_stats), stat_entries));
  auto* cfg = static_cast<sl_dp_config*>(mapMem("dp_config", sizeof(sl_dp_config), 1));
  if (!conns || !ext || !dests || !counts || !stats || !cfg)
    return makeError("cannot mmap the shared BPF maps: {}", errStr(errno));
  p->conns_ = {conns, sizes.conn_capacity};
  p->conn_ext_ = {ext, sizes.conn_capacity};
  p->dests_ = {dests, sizes.max_dests};
  p->dest_counts_ = {counts, sizes.max_dests};
  p->dest_stats_ = {stats, stat_entries};
  p->config_ = cfg;
  // `peer_macs` is not pinned: a reused config record must not send the program to a map
  // that starts empty; the director fills both again (setPeerMacs).
  std::atomic_ref<uint32_t>(cfg->peer_macs).store(0, std::memory_order_relaxed);
  return p;
}

SteerProgram::~SteerProgram() {
  while (!attached_.empty()) forget(attached_.back().ifindex, false);
  for (const auto& m : mappings_) munmap(m.addr, m.len);
  if (obj_) bpf_object__close(obj_);
}

const SteerProgram::Attached* SteerProgram::find(uint32_t ifindex) const {
  for (const auto& a : attached_)
    if (a.ifindex == ifindex) return &a;
  return nullptr;
}

Status SteerProgram::registerTxPort(uint32_t ifindex) {
  int tx = bpf_object__find_map_fd_by_name(obj_, "tx_ports");
  if (tx < 0 || bpf_map_update_elem(tx, &ifindex, &ifindex, BPF_ANY))
    return makeError("cannot register {} as a redirect target: {}", ifName(ifindex), errStr(errno));
  return {};
}

Status SteerProgram::attach(uint32_t ifindex, XdpMode mode, bool keep_pinned_mode) {
  if (find(ifindex)) return {};
  if (attached_.size() >= SL_STEER_MAX_IFACES)
    return makeError("cannot attach to {}: at most {} interfaces", ifName(ifindex),
                     SL_STEER_MAX_IFACES);
  // The lowest free slot block keeps bases stable while other interfaces come and go.
  uint32_t base = 0;
  while (std::any_of(attached_.begin(), attached_.end(),
                     [&](const Attached& a) { return a.base == base; }))
    base += SL_STEER_QUEUES_PER_IFACE;
  if (!pin_dir_.empty()) {
    // A pinned link of this interface: swap our program in, atomically.
    std::string path = pin_dir_ + "/link-" + ifName(ifindex);
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0 && errno != ENOENT)
      return makeError("cannot open the pinned XDP link {}: {}", path, errStr(errno));
    if (fd >= 0) {
      bpf_link_info info{};
      uint32_t len = sizeof(info);
      bool same = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP &&
                  info.xdp.ifindex == ifindex;
      if (!same) {
        // The interface went away (or was recreated): that link holds nothing any more.
        close(fd);
        unlink(path.c_str());
      } else {
        bpf_xdp_query_opts q{};
        q.sz = sizeof(q);
        uint32_t flags = XDP_FLAGS_DRV_MODE;
        if (bpf_xdp_query(int(ifindex), 0, &q) == 0 && q.attach_mode == XDP_ATTACHED_SKB)
          flags = XDP_FLAGS_SKB_MODE;
        if (!keep_pinned_mode && ((mode == XdpMode::kNative && flags != XDP_FLAGS_DRV_MODE) ||
                                  (mode == XdpMode::kGeneric && flags != XDP_FLAGS_SKB_MODE))) {
          close(fd);
          return makeError("the pinned XDP link {} is in {} mode; --xdp-mode cannot change it "
                           "(use --xdp-mode auto, or release the pinned state first)",
                           path, flags == XDP_FLAGS_DRV_MODE ? "native" : "generic");
        }
        // The new program's per-interface maps first, so it is whole from its first frame.
        if (bpf_map_update_elem(xsk_base_fd_, &ifindex, &base, BPF_ANY)) {
          int e = errno;
          close(fd);
          return makeError("cannot register {} in xsk_base: {}", ifName(ifindex), errStr(e));
        }
        if (Status st = registerTxPort(ifindex); !st) {
          close(fd);
          return st;
        }
        if (bpf_link_update(fd, prog_fd_, nullptr) != 0) {
          int e = errno;
          close(fd);
          return makeError("cannot swap the program of the pinned XDP link {}: {}", path, errStr(e));
        }
        attached_.push_back({ifindex, base, flags, fd, path, true});
        return {};
      }
    }
  }

  // A BPF link rather than a netlink attach: the kernel detaches the program when the link's
  // last fd closes, so a daemon that crashes hands its interfaces back to the kernel stack
  // instead of leaving a steering program behind that blocks the next start.
  auto tryMode = [&](uint32_t flags) {
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.flags = flags;
    int fd = bpf_link_create(prog_fd_, int(ifindex), BPF_XDP, &opts);
    return fd >= 0 ? fd : -errno;
  };
  uint32_t flags = 0;
  int fd = -EINVAL;
  if (mode != XdpMode::kGeneric) fd = tryMode(flags = XDP_FLAGS_DRV_MODE);
  if (fd < 0 && mode != XdpMode::kNative && fd != -EBUSY && fd != -EEXIST)
    fd = tryMode(flags = XDP_FLAGS_SKB_MODE);
  if (fd < 0) {
    if (fd == -EBUSY || fd == -EEXIST)
      return makeError("cannot attach XDP to {}: another XDP program is attached there "
                       "(see `ip link show {}`; remove it with `ip link set dev {} xdp off`)",
                       ifName(ifindex), ifName(ifindex), ifName(ifindex));
    return makeError("cannot attach XDP to {} in {} mode: {}", ifName(ifindex),
                     mode == XdpMode::kGeneric ? "generic" : "native", errStr(fd));
  }
  if (bpf_map_update_elem(xsk_base_fd_, &ifindex, &base, BPF_ANY)) {
    int e = errno;
    close(fd);
    return makeError("cannot register {} in xsk_base: {}", ifName(ifindex), errStr(e));
  }
  if (Status st = registerTxPort(ifindex); !st) {
    close(fd);
    return st;
  }
  std::string pin_path;
  if (!pin_dir_.empty()) {
    pin_path = pin_dir_ + "/link-" + ifName(ifindex);
    if (bpf_obj_pin(fd, pin_path.c_str()) != 0) {
      int e = errno;
      close(fd);
      return makeError("cannot pin the XDP link of {} at {}: {}", ifName(ifindex), pin_path,
                       errStr(e));
    }
  }
  attached_.push_back({ifindex, base, flags, fd, pin_path, false});
  return {};
}

Status SteerProgram::detach(uint32_t ifindex) {
  if (!find(ifindex)) return makeError("{} is not attached", ifName(ifindex));
  forget(ifindex, true);
  return {};
}

void SteerProgram::forget(uint32_t ifindex, bool unpin) {
  auto it = std::find_if(attached_.begin(), attached_.end(),
                         [&](const Attached& a) { return a.ifindex == ifindex; });
  if (it == attached_.end()) return;
  for (uint32_t q = 0; q < SL_STEER_QUEUES_PER_IFACE; ++q) {
    uint32_t slot = it->base + q;
    bpf_map_delete_elem(xsks_fd_, &slot);
  }
  bpf_map_delete_elem(xsk_base_fd_, &ifindex);
  // Closing our link removes our program and nothing else (if the interface is gone the
  // kernel already did), unless a pin still holds the link: then the program stays.
  if (unpin && !it->pin_path.empty()) unlink(it->pin_path.c_str());
  close(it->link_fd);
  attached_.erase(it);
}

bool SteerProgram::tookOverLink(uint32_t ifindex) const {
  const Attached* a = find(ifindex);
  return a && a->taken_over;
}

std::optional<XdpMode> SteerProgram::attachedMode(uint32_t ifindex) const {
  const Attached* a = find(ifindex);
  if (!a) return std::nullopt;
  return (a->flags & XDP_FLAGS_DRV_MODE) ? XdpMode::kNative : XdpMode::kGeneric;
}

Status SteerProgram::addService(const net::IpAddr& addr, uint8_t proto, uint16_t port) {
  if (!addr.isV4() && !addr.isV6()) return makeError("service address has no family");
  sl_steer_key k = makeSteerKey(addr, proto, port);
  sl_steer_val v{};
  if (bpf_map_update_elem(services_fd_, &k, &v, BPF_ANY))
    return makeError("cannot add service {}:{} proto {} to the steering map: {}", addr.str(),
                     port, proto, errStr(errno));
  return {};
}

Status SteerProgram::removeService(const net::IpAddr& addr, uint8_t proto, uint16_t port) {
  sl_steer_key k = makeSteerKey(addr, proto, port);
  if (bpf_map_delete_elem(services_fd_, &k) && errno != ENOENT)
    return makeError("cannot remove service {}:{} proto {} from the steering map: {}",
                     addr.str(), port, proto, errStr(errno));
  return {};
}

Status SteerProgram::registerSocket(uint32_t ifindex, uint32_t queue, int xsk_fd) {
  const Attached* a = find(ifindex);
  if (!a) return makeError("cannot register an AF_XDP socket on {}: XDP not attached there",
                           ifName(ifindex));
  if (queue >= SL_STEER_QUEUES_PER_IFACE)
    return makeError("queue {} of {} is beyond the {} queues supported", queue, ifName(ifindex),
                     SL_STEER_QUEUES_PER_IFACE);
  uint32_t slot = a->base + queue;
  if (bpf_map_update_elem(xsks_fd_, &slot, &xsk_fd, BPF_ANY))
    return makeError("cannot put the AF_XDP socket of {} queue {} in the XSKMAP: {}",
                     ifName(ifindex), queue, errStr(errno));
  return {};
}

Status SteerProgram::unregisterSocket(uint32_t ifindex, uint32_t queue) {
  const Attached* a = find(ifindex);
  if (!a || queue >= SL_STEER_QUEUES_PER_IFACE) return {};
  uint32_t slot = a->base + queue;
  bpf_map_delete_elem(xsks_fd_, &slot);
  return {};
}

Result<SteerStats> SteerProgram::stats() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return makeError("cannot count CPUs: {}", errStr(ncpu));
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  SteerStats s;
  for (uint32_t i = 0; i < SL_STEER_NUM_STATS; ++i) {
    if (bpf_map_lookup_elem(stats_fd_, &i, per_cpu.data()))
      return makeError("cannot read steer_stats[{}]: {}", i, errStr(errno));
    for (uint64_t c : per_cpu) s.v[i] += c;
  }
  return s;
}

Result<dp::Counters> SteerProgram::counters() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return makeError("cannot count CPUs: {}", errStr(ncpu));
  // One value per CPU, each the whole counter block.
  std::vector<uint64_t> per(size_t(ncpu) * dp::kNumCounters, 0);
  uint32_t key = 0;
  if (bpf_map_lookup_elem(counters_fd_, &key, per.data()) != 0)
    return makeError("reading the fast path's counters: {}", errStr(errno));
  dp::Counters total;
  for (size_t cpu = 0; cpu < size_t(ncpu); ++cpu)
    for (size_t i = 0; i < dp::kNumCounters; ++i) total.v[i] += per[cpu * dp::kNumCounters + i];
  return total;
}

Status SteerProgram::addVip(const net::IpAddr& addr) {
  sl_steer_key k = makeSteerKey(addr, 0, 0);
  sl_steer_val v{};
  if (bpf_map_update_elem(vips_fd_, &k, &v, BPF_ANY) != 0)
    return makeError("cannot add {} to the VIP map: {}", addr.str(), errStr(errno));
  return {};
}

Status SteerProgram::setPeerMacs(std::span<const net::MacAddr> macs) {
  if (macs.size() > SL_MAX_PEER_MACS)
    return makeError("{} peer director MACs, the fast path holds at most {}", macs.size(),
                     SL_MAX_PEER_MACS);
  std::atomic_ref<uint32_t> count(config_->peer_macs);
  // An empty set turns the lookup off first; a non-empty one is complete before it is on.
  if (macs.empty()) count.store(0, std::memory_order_release);
  std::vector<uint64_t> want;
  for (const net::MacAddr& m : macs) {
    uint64_t k = sl_mac_key(m.data());
    uint8_t v = 1;
    if (bpf_map_update_elem(peer_macs_fd_, &k, &v, BPF_ANY) != 0)
      return makeError("cannot add {} to the peer MAC map: {}", net::macStr(m), errStr(errno));
    want.push_back(k);
  }
  // What is left of the previous set; the map holds at most SL_MAX_PEER_MACS keys.
  std::vector<uint64_t> stale;
  uint64_t k = 0;
  for (int err = bpf_map_get_next_key(peer_macs_fd_, nullptr, &k);
       err == 0 && stale.size() <= SL_MAX_PEER_MACS;
       err = bpf_map_get_next_key(peer_macs_fd_, &k, &k))
    if (std::find(want.begin(), want.end(), k) == want.end()) stale.push_back(k);
  for (uint64_t s : stale)
    if (bpf_map_delete_elem(peer_macs_fd_, &s) != 0 && errno != ENOENT)
      return makeError("cannot remove a former peer's MAC from the peer MAC map: {}",
                       errStr(errno));
  count.store(uint32_t(want.size()), std::memory_order_release);
  return {};
}

Status SteerProgram::removeVip(const net::IpAddr& addr) {
  sl_steer_key k = makeSteerKey(addr, 0, 0);
  if (bpf_map_delete_elem(vips_fd_, &k) != 0 && errno != ENOENT)
    return makeError("cannot remove {} from the VIP map: {}", addr.str(), errStr(errno));
  return {};
}

}  // namespace sluice::io
