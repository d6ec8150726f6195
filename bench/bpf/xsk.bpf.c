// Engine (b): hand every frame of the ingress veth's queue 0 to the AF_XDP socket in slot 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} xsk_port SEC(".maps");

SEC("xdp")
int bench_xsk(struct xdp_md* ctx) { return bpf_redirect_map(&xsk_port, 0, XDP_PASS); }

char LICENSE[] SEC("license") = "GPL";
