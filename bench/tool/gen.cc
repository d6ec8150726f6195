// The traffic generator. bench/bpf/gen.bpf.c runs through BPF_PROG_TEST_RUN with
// BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth: each repetition writes one frame and
// transmits it (XDP_TX), about 5-6 Mpps on one core here. Each call ends in an RCU grace
// period (~25 ms), so calls are sized to ~0.5 s from the rate the first call achieved.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "../bpf/bench_abi.h"
#include "common.h"

namespace bench {

namespace {

void buildFrame(bench_gen_state& s, const Mac& dmac, const Mac& smac, uint32_t saddr,
                uint32_t daddr, uint16_t dport) {
  uint8_t* f = s.frame;
  std::memset(f, 0, sizeof s.frame);
  auto* eth = reinterpret_cast<ethhdr*>(f);
  std::memcpy(eth->h_dest, dmac.data(), 6);
  std::memcpy(eth->h_source, smac.data(), 6);
  eth->h_proto = htons(ETH_P_IP);
  auto* ip = reinterpret_cast<iphdr*>(f + sizeof(ethhdr));
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons(BENCH_FRAME_LEN - sizeof(ethhdr));
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->saddr = htonl(saddr);
  ip->daddr = htonl(daddr);  // checksum: the program computes it per packet
  auto* udp = reinterpret_cast<udphdr*>(f + sizeof(ethhdr) + sizeof(iphdr));
  udp->source = htons(1024);
  udp->dest = htons(dport);
  udp->len = htons(BENCH_FRAME_LEN - sizeof(ethhdr) - sizeof(iphdr));
  udp->check = 0;  // IPv4 UDP without a checksum is valid
  std::memcpy(f + sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr), "sluice-bench", 12);
}

}  // namespace

// gen --bpf-dir D --iface IF --dmac MAC --src IP --dst IP --dport N --mode random|cycle|unique
//     [--flows N] [--seconds S]
int runGen(const Args& a) {
  std::string iface = a.str("iface");
  bench_gen_state s{};
  std::string mode = a.str("mode", "random");
  if (mode == "random") s.mode = BENCH_GEN_RANDOM;
  else if (mode == "cycle") s.mode = BENCH_GEN_CYCLE;
  else if (mode == "unique") s.mode = BENCH_GEN_UNIQUE;
  else die("--mode must be random, cycle or unique");
  s.nflows = uint32_t(a.num("flows", 1024));
  if (s.nflows == 0 || s.nflows > 60000) die("--flows must be 1..60000");
  s.port_base = 1024;
  s.saddr_base = parseIpv4(a.str("src"));
  // New-flow mode starts at a random point of its 2^32-flow space, so flows left in the
  // director's table by an earlier run are not met again.
  s.ctr = s.mode == BENCH_GEN_UNIQUE ? (std::random_device{}() & 0xffffffffu) : 0;
  buildFrame(s, parseMac(a.str("dmac")), ifaceMac(iface), s.saddr_base, parseIpv4(a.str("dst")),
             uint16_t(a.num("dport", 5000)));
  double seconds = a.real("seconds", 5);

  bpf_object* obj = loadObject(a.str("bpf-dir"), "gen", &s, sizeof s);
  int prog_fd = bpf_program__fd(program(obj, "bench_gen"));

  xdp_md ctx{};
  ctx.ingress_ifindex = ifaceIndex(iface);
  ctx.data_end = BENCH_FRAME_LEN;  // the kernel insists: data_end == frame length
  uint8_t frame[BENCH_FRAME_LEN];
  std::memcpy(frame, s.frame, sizeof frame);  // the program rewrites it anyway

  installStopHandlers();
  uint64_t start = nowNs(), deadline = start + uint64_t(seconds * 1e9);
  uint64_t sent = 0, calls = 0, repeat = 1u << 16;
  struct Span {
    uint64_t t0, t1, n;
  };
  std::vector<Span> spans;  // so the caller can work out the rate offered inside its window
  while (!g_stop.load() && nowNs() < deadline) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof frame,
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = int(repeat),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
    uint64_t t0 = nowNs();
    if (int e = bpf_prog_test_run_opts(prog_fd, &opts); e) {
      if (e == -EINTR) break;  // SIGTERM during a call: the caller is done with us
      die("BPF_PROG_TEST_RUN (live frames) failed: %s", std::strerror(-e));
    }
    uint64_t t1 = nowNs(), dt = std::max<uint64_t>(t1 - t0, 1);
    spans.push_back({t0, t1, repeat});
    sent += repeat;
    ++calls;
    // ~0.5 s per call, but never past the deadline by more than a little.
    uint64_t left = deadline > nowNs() ? deadline - nowNs() : 0;
    double rate = double(repeat) / double(dt);  // per ns
    uint64_t want = uint64_t(rate * double(std::min<uint64_t>(500000000ull, left + 50000000ull)));
    repeat = std::clamp<uint64_t>(want, 4096, 1u << 26);
  }
  double el = double(nowNs() - start) / 1e9;
  std::printf("{\"sent\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"calls\": %llu, \"spans\": [",
              (unsigned long long)sent, el, double(sent) / el, (unsigned long long)calls);
  for (size_t i = 0; i < spans.size(); ++i)
    std::printf("%s[%llu, %llu, %llu]", i ? ", " : "", (unsigned long long)spans[i].t0,
                (unsigned long long)spans[i].t1, (unsigned long long)spans[i].n);
  std::printf("]}\n");
  bpf_object__close(obj);
  return 0;
}

}  // namespace bench
