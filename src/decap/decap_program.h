// sluice-decap's program (bpf/decap.bpf.o) loaded, its maps filled, attached to one
// interface through a BPF link. The link goes away with its last fd: detach() or the
// destructor, and the kernel itself if the process dies, so an interface is never left
// with a decapsulator nobody runs.
//
// With an MSS clamp, a second program (tc egress of the same interface) lowers the MSS of
// the SYN-ACKs sent from the VIPs. A tc filter is not a link: the kernel keeps it after the
// process dies (even killed with SIGKILL), so detach() removes it by its handle and
// priority, and the next attach replaces a filter a crashed run left behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "abi/decap.h"
#include "common/result.h"
#include "io/xdp_loader.h"
#include "net/addr.h"

struct bpf_object;

namespace sluice::decap {

struct DecapCounters {
  uint64_t decapsulated = 0;
  uint64_t not_ours = 0;
  uint64_t malformed = 0;
  uint64_t mss_clamped = 0;
};

class DecapProgram {
 public:
  // `object_path` empty: decap.bpf.o in io::bpfObjectDir() (SLUICE_BPF_DIR).
  static Result<std::unique_ptr<DecapProgram>> load(std::string object_path = {});
  ~DecapProgram();
  DecapProgram(const DecapProgram&) = delete;
  DecapProgram& operator=(const DecapProgram&) = delete;

  Status addVip(const net::IpAddr& vip);
  // GUE packets to this UDP port are decapsulated too; 0: none.
  Status setGuePort(uint16_t port);
  // SYN-ACKs from the VIPs get their MSS option lowered to `mss` on egress; 0: not. Set
  // before attach(), which adds the tc program only when a clamp is set.
  Status setMssClamp(uint16_t mss);
  // Native (driver) mode, generic (SKB) mode, or native falling back to generic. The mode
  // that took is in attachedMode().
  Status attach(uint32_t ifindex, io::XdpMode mode);
  void detach();
  const char* attachedMode() const;
  bool clampingMss() const { return tc_ifindex_ != 0; }
  Result<DecapCounters> counters() const;
  int programFd() const { return prog_fd_; }
  int mssProgramFd() const { return mss_prog_fd_; }

 private:
  DecapProgram() = default;
  Status writeConfig();
  Status attachMssClamp(uint32_t ifindex);
  void detachMssClamp();

  bpf_object* obj_ = nullptr;
  sl_decap_config config_{};
  int prog_fd_ = -1;
  int mss_prog_fd_ = -1;
  int vips_fd_ = -1;
  int config_fd_ = -1;
  int counters_fd_ = -1;
  int link_fd_ = -1;
  uint32_t link_flags_ = 0;
  uint32_t tc_ifindex_ = 0;      // where the tc program is attached; 0: nowhere
  bool tc_made_clsact_ = false;  // this process created the clsact qdisc
};

}  // namespace sluice::decap
