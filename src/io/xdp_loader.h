// Loads the XDP steering program (bpf/steer.bpf.o), attaches it to the data-plane interfaces
// and keeps its `services` map in step with the configured virtual services.
//
// Plain libbpf rather than libxdp's multi-program dispatcher: the dispatcher needs BTF and
// freplace support that veth and older drivers lack, and Sluice wants to own the XDP hook of
// its interfaces anyway. Attachment is a BPF link (kernel >= 5.9): it never replaces a
// program someone else attached, and by default it goes away with the process, so a crashed
// daemon leaves its interfaces to the kernel stack rather than to a program with no sockets.
//
// Pinned state (Pinning::dir, `sluiced --state-dir`): the shared tables (conns, dests,
// dest_counts, dest_stats, dp_config) and each interface's link are pinned on bpffs, so
// they outlive the process. A restarted daemon reuses the maps (same connections, same
// counts) and swaps its new program into the pinned link with bpf_link_update, an atomic
// replacement with no moment where the interface has no program. Meanwhile the old program
// keeps forwarding established connections in the kernel; what needs the daemon (new
// flows, entries it holds) falls back to the kernel stack, since its sockets are gone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "dp/counters.h"
#include "abi/conn_hash.h"
#include "abi/fastpath.h"
#include "abi/steer.h"
#include "net/addr.h"

struct bpf_object;

namespace sluice::io {

enum class XdpMode : uint8_t {
  kNative,           // driver mode only (fails where the driver has no XDP support)
  kGeneric,          // SKB mode only
  kNativeOrGeneric,  // try driver mode, fall back to SKB mode
};

struct SteerStats {
  uint64_t v[SL_STEER_NUM_STATS] = {};
  uint64_t steered() const { return v[SL_STEER_STEERED]; }
  uint64_t passed() const {
    uint64_t s = 0;
    for (int i = 0; i < SL_STEER_NUM_STATS; ++i)
      if (i != SL_STEER_STEERED) s += v[i];
    return s;
  }
};

// Directory that holds the compiled BPF objects: $SLUICE_BPF_DIR if set, else the build's.
std::string bpfObjectDir();

class SteerProgram {
 public:
  // Opens and loads `object_path` (default: bpfObjectDir()/steer.bpf.o) into the kernel.
  // Sizes of the tables the program shares with the daemon (fixed at load).
  struct Sizes {
    uint32_t conn_capacity = 1024;  // a multiple of SL_CONN_BUCKET_SLOTS
    uint32_t max_dests = 64;
  };
  // Where to pin; an empty dir pins nothing (everything goes away with this object).
  struct Pinning {
    std::string dir;  // a directory on bpffs, created if missing
  };
  static Result<std::unique_ptr<SteerProgram>> load(std::string object_path = {});
  static Result<std::unique_ptr<SteerProgram>> load(std::string object_path, Sizes sizes,
                                                    const Pinning& pinning = {});
  // The maps pinned under Pinning::dir existed and were reused (their contents included).
  bool reusedPinnedMaps() const { return reused_; }
  const std::string& pinDir() const { return pin_dir_; }
  // Unpins every map and link under `dir` and removes it. A link no process holds any more
  // detaches its program; a running daemon's stays until it exits. Returns what was removed.
  static Result<std::vector<std::string>> releasePins(const std::string& dir);
  // The names pinned under Pinning::dir: the shared maps, and "link-IFNAME" per interface.
  static const std::vector<std::string>& pinnedMapNames();

  // The shared tables, mmap'ed: valid while this object lives. The connection table and
  // dest records are the daemon's ConnTable/DestTable storage; the fast path reads and
  // updates them in place.
  std::span<sl_conn> conns() const { return conns_; }
  std::span<sl_conn_ext> connExt() const { return conn_ext_; }
  std::span<sl_dest> dests() const { return dests_; }
  std::span<sl_dest_counts> destCounts() const { return dest_counts_; }
  // The fast path's per-dest counts: statSlots() slices (one per CPU), entry
  // dest_id * statSlots() + cpu; the reader sums a dest's slices.
  std::span<sl_stats> destStats() const { return dest_stats_; }
  uint32_t statSlots() const { return stat_slots_; }
  sl_dp_config* config() const { return config_; }
  // The fast path's share of the data-plane counters, summed over CPUs.
  Result<dp::Counters> counters() const;
  // Addresses that carry a service (fragments to them go to the daemon).
  Status addVip(const net::IpAddr& addr);
  Status removeVip(const net::IpAddr& addr);
  // The other directors' MACs (cluster mode): a TCP/UDP frame from one of them to a VIP
  // goes to the kernel stack. Replaces the whole set; at most SL_MAX_PEER_MACS.
  Status setPeerMacs(std::span<const net::MacAddr> macs);
  // Detaches from every interface it attached to, except through pinned links: those stay
  // attached (the kernel keeps forwarding established connections) until releasePins().
  ~SteerProgram();
  SteerProgram(const SteerProgram&) = delete;
  SteerProgram& operator=(const SteerProgram&) = delete;

  // Attaches to `ifindex` and reserves its XSKMAP slots. Idempotent per interface. With
  // pinning, a pinned link of this interface is taken over (bpf_link_update), else a new
  // one is created and pinned. `mode` cannot change a taken-over link: asking for the other
  // mode than it has is an error (auto accepts either).
  // `keep_pinned_mode`: a pinned link is taken over in whatever mode it has (the operator
  // left the choice to sluiced, which preferred `mode` for a fresh attach).
  Status attach(uint32_t ifindex, XdpMode mode = XdpMode::kNativeOrGeneric,
                bool keep_pinned_mode = false);
  // Detaches now, unpinning the link if it was pinned.
  Status detach(uint32_t ifindex);
  // Whether attach() took over a pinned link (true) or created the link (false).
  bool tookOverLink(uint32_t ifindex) const;
  // The mode an attached interface ended up in; nullopt if not attached here.
  std::optional<XdpMode> attachedMode(uint32_t ifindex) const;

  // Service keys: `port` in host order, 0 = every port of `addr`. proto: 6 or 17.
  Status addService(const net::IpAddr& addr, uint8_t proto, uint16_t port);
  Status removeService(const net::IpAddr& addr, uint8_t proto, uint16_t port);

  // Puts the AF_XDP socket `xsk_fd` in the slot of (ifindex, queue); the interface must have
  // been attached (its slot base is assigned then).
  Status registerSocket(uint32_t ifindex, uint32_t queue, int xsk_fd);
  Status unregisterSocket(uint32_t ifindex, uint32_t queue);

  Result<SteerStats> stats() const;  // summed over CPUs

  int programFd() const { return prog_fd_; }
  int servicesMapFd() const { return services_fd_; }
  int xsksMapFd() const { return xsks_fd_; }

 private:
  SteerProgram() = default;
  struct Attached {
    uint32_t ifindex;
    uint32_t base;   // first XSKMAP slot
    uint32_t flags;  // XDP_FLAGS_* mode used to attach
    int link_fd;     // the BPF link; closing it detaches unless it is pinned
    std::string pin_path;  // empty: not pinned
    bool taken_over = false;
  };
  void forget(uint32_t ifindex, bool unpin);
  Status attachPinned(uint32_t ifindex, XdpMode mode, uint32_t base);
  const Attached* find(uint32_t ifindex) const;
  Status registerTxPort(uint32_t ifindex);

  bpf_object* obj_ = nullptr;
  int prog_fd_ = -1;
  int services_fd_ = -1;
  int xsk_base_fd_ = -1;
  int xsks_fd_ = -1;
  int stats_fd_ = -1;
  int vips_fd_ = -1;
  int counters_fd_ = -1;
  int peer_macs_fd_ = -1;
  struct Mapping {
    void* addr;
    size_t len;
  };
  std::vector<Mapping> mappings_;
  std::span<sl_conn> conns_;
  std::span<sl_conn_ext> conn_ext_;
  std::span<sl_dest> dests_;
  std::span<sl_dest_counts> dest_counts_;
  std::span<sl_stats> dest_stats_;
  sl_dp_config* config_ = nullptr;
  uint32_t stat_slots_ = 1;
  std::vector<Attached> attached_;
  std::string pin_dir_;
  bool reused_ = false;
};

// The `services` map key for (addr, proto, host-order port).
sl_steer_key makeSteerKey(const net::IpAddr& addr, uint8_t proto, uint16_t port);

}  // namespace sluice::io
