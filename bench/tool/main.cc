// sluice-bench: the benchmark's helper programs in one binary (bench/run.sh drives it).
//   gen      the live-frame XDP traffic generator
//   measure  attaches the counting sink, then measures one window: delivered packets and the
//            director's CPU time
//   xdpfwd   engine (a), the minimal XDP forwarder
//   xskfwd   engine (b), the minimal AF_XDP copy-mode forwarder
#include <cstdio>
#include <cstring>

#include "common.h"

int main(int argc, char** argv) {
  libbpf_set_print([](libbpf_print_level lvl, const char* fmt, va_list ap) {
    return lvl == LIBBPF_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
  });
  if (argc < 2) {
    std::fprintf(stderr, "usage: sluice-bench gen|measure|xdpfwd|xskfwd --name value ...\n");
    return 2;
  }
  bench::Args a(argc - 2, argv + 2);
  if (!std::strcmp(argv[1], "gen")) return bench::runGen(a);
  if (!std::strcmp(argv[1], "measure")) return bench::runMeasure(a);
  if (!std::strcmp(argv[1], "xdpfwd")) return bench::runXdpFwd(a);
  if (!std::strcmp(argv[1], "xskfwd")) return bench::runXskFwd(a);
  std::fprintf(stderr, "sluice-bench: unknown subcommand %s\n", argv[1]);
  return 2;
}
