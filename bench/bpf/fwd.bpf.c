// Engine (a), the physical limit of this setup: rewrite the MAC addresses and redirect to
// the egress veth through a devmap. No parsing beyond Ethernet, no lookup: any engine that
// does real work can only be slower.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "bench_abi.h"

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} fwd_port SEC(".maps");

struct bench_fwd_state fwd_state;

SEC("xdp")
int bench_fwd(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return XDP_DROP;
  __builtin_memcpy(eth->h_dest, fwd_state.dmac, 6);
  __builtin_memcpy(eth->h_source, fwd_state.smac, 6);
  return bpf_redirect_map(&fwd_port, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
