// The live-frame generator: bench/bpf/gen.bpf.c through BPF_PROG_TEST_RUN with
// BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth; each repetition writes one frame and
// transmits it (XDP_TX), about 5-6 Mpps on one core where the kernel allows it. Each call ends
// in an RCU grace period (~25 ms), so calls are sized to ~0.5 s from the rate the first call
// achieved. Some kernels refuse live frames (EPERM seen on a Firecracker 6.18 build): the
// first call tells, and the caller falls back to the AF_PACKET generator.
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gen.h"

namespace bench {

GenOutcome runLiveGen(const std::string& bpf_dir, GenSetup& g, GenResult& r, bool probe_only) {
  bpf_object* obj = loadObject(bpf_dir, "gen", &g.state, sizeof g.state);
  int prog_fd = bpf_program__fd(program(obj, "bench_gen"));

  xdp_md ctx{};
  ctx.ingress_ifindex = ifaceIndex(g.iface);
  ctx.data_end = BENCH_FRAME_LEN;  // the kernel insists: data_end == frame length
  uint8_t frame[BENCH_FRAME_LEN];
  std::memcpy(frame, g.state.frame, sizeof frame);  // the program rewrites it anyway

  GenOutcome out;
  uint64_t repeat = probe_only ? 1 : 1u << 16;
  while (!g_stop.load() && nowNs() < g.deadline_ns) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof frame,
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = int(repeat),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
    uint64_t t0 = nowNs();
    if (int e = bpf_prog_test_run_opts(prog_fd, &opts); e) {
      if (e == -EINTR) break;  // SIGTERM during a call: the caller is done with us
      if (r.calls == 0) {      // nothing sent yet: a refusal the caller can work around
        out = {true, -e};
        break;
      }
      die("BPF_PROG_TEST_RUN (live frames) failed: %s", std::strerror(-e));
    }
    uint64_t t1 = nowNs(), dt = std::max<uint64_t>(t1 - t0, 1);
    r.spans.push_back({t0, t1, repeat});
    r.sent += repeat;
    ++r.calls;
    if (probe_only) break;
    // ~0.5 s per call, but never past the deadline by more than a little.
    uint64_t now = nowNs();
    uint64_t left = g.deadline_ns > now ? g.deadline_ns - now : 0;
    double rate = double(repeat) / double(dt);  // per ns
    uint64_t want = uint64_t(rate * double(std::min<uint64_t>(500000000ull, left + 50000000ull)));
    repeat = std::clamp<uint64_t>(want, 4096, 1u << 26);
  }
  bpf_object__close(obj);
  return out;
}

}  // namespace bench
