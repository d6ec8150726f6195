// sluice-decap's program (bpf/decap.bpf.o) loaded, its maps filled, attached to one
// interface through a BPF link. The link goes away with its last fd: detach() or the
// destructor, and the kernel itself if the process dies, so an interface is never left
// with a decapsulator nobody runs.
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
  // Native (driver) mode, generic (SKB) mode, or native falling back to generic. The mode
  // that took is in attachedMode().
  Status attach(uint32_t ifindex, io::XdpMode mode);
  void detach();
  const char* attachedMode() const;
  Result<DecapCounters> counters() const;
  int programFd() const { return prog_fd_; }

 private:
  DecapProgram() = default;
  bpf_object* obj_ = nullptr;
  int prog_fd_ = -1;
  int vips_fd_ = -1;
  int config_fd_ = -1;
  int counters_fd_ = -1;
  int link_fd_ = -1;
  uint32_t link_flags_ = 0;
};

}  // namespace sluice::decap
