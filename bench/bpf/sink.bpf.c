// Sink: counts what the director delivered and drops it before the stack, so the sink's
// own cost stays small and constant whatever engine the director runs.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_abi.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, BENCH_SINK_KEYS);
  __type(key, __u32);
  __type(value, __u64);
} sink_counts SEC(".maps");

struct bench_sink_state sink_state;

static __always_inline int isOurs(const __u8* mac) {
  const __u8* m = sink_state.mac;
  return mac[0] == m[0] && mac[1] == m[1] && mac[2] == m[2] && mac[3] == m[3] && mac[4] == m[4] &&
         mac[5] == m[5];
}

static __always_inline void bump(__u32 key) {
  __u64* v = bpf_map_lookup_elem(&sink_counts, &key);
  if (v) *v += 1;
}

SEC("xdp")
int bench_sink(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  struct iphdr* ip = data + sizeof(*eth);
  if ((void*)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || !isOurs(eth->h_dest)) {
    bump(BENCH_SINK_WRONG);
    return XDP_DROP;
  }
  /* The test traffic is UDP; engine (h) delivers it inside IPIP (to the real server's own
   * address, the outer destination), which counts the same. */
  int udp = ip->protocol == IPPROTO_UDP;
  if (ip->protocol == IPPROTO_IPIP) {
    struct iphdr* inner = (void*)(ip + 1);
    udp = (void*)(inner + 1) <= end && inner->protocol == IPPROTO_UDP;
  }
  if (!udp) {
    bump(BENCH_SINK_WRONG);
    return XDP_DROP;
  }
  bump(bpf_ntohl(ip->daddr) & 0xff);
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
