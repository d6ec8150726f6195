// The traffic generator's parts (subcommand `gen`): the frame every packet starts from and
// how it varies from packet to packet, and the two ways of sending it. Both write the same
// bytes: `live` runs bench/bpf/gen.bpf.c through BPF_PROG_TEST_RUN with live frames; `packet`
// sends from an AF_PACKET socket and varies the frames in user space with the C++ twin of
// that program (stampFrame below). Trade-off: the per-packet rule exists twice, in BPF and in
// C++; checkTwin (gen_check.cc) compares them byte for byte before the twin is used, which is
// cheaper than rewriting frames through the BPF program on an extra veth hop.
#pragma once

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../bpf/bench_abi.h"
#include "common.h"

namespace bench {

// One stretch of sending: the caller works out the rate offered inside its window from these.
struct GenSpan {
  uint64_t t0, t1, n;
};

struct GenResult {
  uint64_t sent = 0;   // frames handed to the generator's veth
  uint64_t calls = 0;  // BPF_PROG_TEST_RUN calls, or send kicks
  std::vector<GenSpan> spans;
};

struct GenSetup {
  bench_gen_state state{};  // template frame and mode; state.ctr is the packet counter
  std::string iface;
  uint64_t deadline_ns = 0;
};

// How a generator ended: `refused` means it never sent (the kernel said no: errno in err).
struct GenOutcome {
  bool refused = false;
  int err = 0;
};

GenOutcome runLiveGen(const std::string& bpf_dir, GenSetup& g, GenResult& r, bool probe_only);
// io: "mmsg" (sendmmsg) or "ring" (PACKET_TX_RING), both with PACKET_QDISC_BYPASS, or "xsk"
// (runXskGen).
GenOutcome runPacketGen(GenSetup& g, const std::string& io, uint32_t batch, GenResult& r);
// AF_XDP TX socket in copy mode on g.iface (gen_xsk.cc).
void runXskGen(GenSetup& g, uint32_t batch, GenResult& r);

// Collects sending stretches into spans of ~50 ms, so the JSON stays small.
class SpanRecorder {
 public:
  explicit SpanRecorder(GenResult& r) : r_(r) {}
  void add(uint64_t t0, uint64_t t1, uint64_t n) {
    if (n == 0) return;
    if (open_ && t0 - cur_.t0 < 50'000'000) {
      cur_.t1 = t1;
      cur_.n += n;
      return;
    }
    flush();
    cur_ = {t0, t1, n};
    open_ = true;
  }
  void flush() {
    if (open_) r_.spans.push_back(cur_);
    open_ = false;
  }

 private:
  GenResult& r_;
  GenSpan cur_{};
  bool open_ = false;
};

// Compares n frames of stampFrame with gen.bpf.c's for these settings; "" when all match.
std::string checkTwin(const std::string& bpf_dir, const bench_gen_state& settings, uint32_t n);

// Fast generator-local random numbers for BENCH_GEN_RANDOM (xorshift64*): the BPF side uses
// bpf_get_prandom_u32(); only the distribution (uniform over the ports) has to match.
struct XorShift {
  uint64_t x;
  uint32_t next() {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return uint32_t((x * 0x2545F4914F6CDD1Dull) >> 32);
  }
};

inline uint16_t ipv4Checksum(const uint8_t* hdr) {
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    uint16_t w;
    __builtin_memcpy(&w, hdr + i, 2);
    sum += w;
  }
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// The C++ twin of bench/bpf/gen.bpf.c: from the template in s.frame, write packet number
// s.ctr into f (BENCH_FRAME_LEN bytes) and advance the counter. Same source port and address
// rule per mode, same checksum.
inline void stampFrame(bench_gen_state& s, XorShift& rng, uint8_t* f) {
  __builtin_memcpy(f, s.frame, BENCH_FRAME_LEN);
  uint64_t c = s.ctr++;
  uint32_t saddr = s.saddr_base;
  uint16_t sport;
  if (s.mode == BENCH_GEN_CYCLE) {
    uint32_t n = s.nflows ? s.nflows : 1;
    sport = uint16_t(s.port_base + uint16_t(c % n));
  } else if (s.mode == BENCH_GEN_UNIQUE) {
    sport = uint16_t(1024 + uint16_t(c % BENCH_UNIQUE_PORTS));
    saddr += uint32_t((c / BENCH_UNIQUE_PORTS) & 0xffff);
  } else {
    sport = uint16_t(1024 + uint16_t(rng.next() % BENCH_UNIQUE_PORTS));
  }
  auto* ip = reinterpret_cast<iphdr*>(f + sizeof(ethhdr));
  auto* udp = reinterpret_cast<udphdr*>(f + sizeof(ethhdr) + sizeof(iphdr));
  ip->saddr = htonl(saddr);
  ip->check = 0;
  ip->check = ipv4Checksum(reinterpret_cast<const uint8_t*>(ip));
  udp->source = htons(sport);
}

}  // namespace bench
