// Engine (a): attaches bench/bpf/fwd.bpf.c to the ingress veth with the egress veth in its
// devmap, and holds it until SIGTERM (the BPF link detaches it when the process ends).
#include <bpf/bpf.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "../bpf/bench_abi.h"
#include "common.h"

namespace bench {

// xdpfwd --bpf-dir D --in IF --out IF --dmac MAC [--ready FILE] [--seconds MAX]
int runXdpFwd(const Args& a) {
  std::string in = a.str("in"), out = a.str("out");
  bench_fwd_state st{};
  Mac d = parseMac(a.str("dmac")), s = ifaceMac(out);
  std::memcpy(st.dmac, d.data(), 6);
  std::memcpy(st.smac, s.data(), 6);
  bpf_object* obj = loadObject(a.str("bpf-dir"), "fwd", &st, sizeof st);
  uint32_t key = 0, out_idx = ifaceIndex(out);
  if (bpf_map_update_elem(mapFd(obj, "fwd_port"), &key, &out_idx, 0))
    die("cannot put %s in the devmap: %s", out.c_str(), std::strerror(errno));
  installStopHandlers();
  bpf_link* link = attachXdp(program(obj, "bench_fwd"), in);
  signalReady(a.str("ready", ""));
  uint64_t deadline = nowNs() + uint64_t(a.real("seconds", 600) * 1e9);
  while (!g_stop.load() && nowNs() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bpf_link__destroy(link);
  bpf_object__close(obj);
  return 0;
}

}  // namespace bench
