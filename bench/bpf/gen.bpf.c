// Traffic generator: run with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, it writes one
// whole frame per call and returns XDP_TX, so the frame leaves the generator's veth into the
// director. Every byte is rewritten each time: live-frame pages are recycled and may still
// hold what the last receiver wrote into them. Only the source port (and for new-flow mode
// the source address) change from packet to packet.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_abi.h"

struct bench_gen_state gen_state;

static __always_inline __u16 ipv4Checksum(const __u16* w) {
  __u32 sum = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

SEC("xdp")
int bench_gen(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + BENCH_FRAME_LEN > end) return XDP_ABORTED;

  __u64* dst = data;
  const __u64* src = (const __u64*)gen_state.frame;
#pragma unroll
  for (int i = 0; i < BENCH_FRAME_LEN / 8; i++) dst[i] = src[i];
  *(__u32*)(data + 56) = *(const __u32*)(gen_state.frame + 56);

  __u64 c = gen_state.ctr++;
  __u32 saddr = gen_state.saddr_base;
  __u16 sport;
  if (gen_state.mode == BENCH_GEN_CYCLE) {
    __u32 n = gen_state.nflows ? gen_state.nflows : 1;
    sport = gen_state.port_base + (__u16)(c % n);
  } else if (gen_state.mode == BENCH_GEN_UNIQUE) {
    sport = 1024 + (__u16)(c % BENCH_UNIQUE_PORTS);
    saddr += (__u32)((c / BENCH_UNIQUE_PORTS) & 0xffff);
  } else {
    sport = 1024 + (__u16)(bpf_get_prandom_u32() % BENCH_UNIQUE_PORTS);
  }

  struct iphdr* ip = data + sizeof(struct ethhdr);
  struct udphdr* udp = (void*)ip + sizeof(struct iphdr);
  ip->saddr = bpf_htonl(saddr);
  ip->check = 0;
  ip->check = ipv4Checksum((const __u16*)ip);
  udp->source = bpf_htons(sport);
  return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
