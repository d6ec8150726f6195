// Checks that the C++ twin of the generator program (stampFrame, gen.h) writes the same
// frames as bench/bpf/gen.bpf.c: both start from the same settings, the program runs through
// a plain (not live) BPF_PROG_TEST_RUN one packet at a time, and every byte is compared. In
// random-port mode the source port (and so nothing else: UDP has no checksum here) is only
// checked to lie in the range. Run by `gen --probe 1` before the AF_PACKET generator is used.
#include <bpf/bpf.h>

#include <cstring>

#include "gen.h"

namespace bench {

std::string checkTwin(const std::string& bpf_dir, const bench_gen_state& settings, uint32_t n) {
  bench_gen_state bpf_side = settings, cpp_side = settings;
  bpf_object* obj = loadObject(bpf_dir, "gen", &bpf_side, sizeof bpf_side);
  int prog_fd = bpf_program__fd(program(obj, "bench_gen"));
  XorShift rng{0x9e3779b97f4a7c15ull};
  std::string err;
  for (uint32_t i = 0; i < n && err.empty(); ++i) {
    uint8_t in[BENCH_FRAME_LEN] = {}, out[BENCH_FRAME_LEN] = {}, mine[BENCH_FRAME_LEN];
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_out = out, .data_size_in = sizeof in,
                .data_size_out = sizeof out, .repeat = 1);
    if (int e = bpf_prog_test_run_opts(prog_fd, &opts); e)
      return std::string("BPF_PROG_TEST_RUN: ") + std::strerror(-e);
    if (opts.retval != XDP_TX) return "gen.bpf.c did not return XDP_TX";
    stampFrame(cpp_side, rng, mine);
    constexpr size_t kSport = sizeof(ethhdr) + sizeof(iphdr);  // udphdr.source
    if (settings.mode == BENCH_GEN_RANDOM) {
      uint16_t port = uint16_t(out[kSport] << 8 | out[kSport + 1]);
      if (port < 1024) err = "random source port below 1024";
      std::memcpy(mine + kSport, out + kSport, 2);
    }
    if (err.empty() && std::memcmp(out, mine, sizeof mine) != 0)
      err = "frame " + std::to_string(i) + " differs from gen.bpf.c's";
  }
  bpf_object__close(obj);
  return err;
}

}  // namespace bench
