// Probe for the lab topology, not part of Sluice: the smallest possible DR "director" in
// XDP. Every IPv4/IPv6 frame addressed to the director's MAC gets RS_MAC as destination and
// is sent back out with XDP_TX. That proves XDP_TX frames from a veth reach the real server
// (the peer needs NAPI) and that the checksums are intact (tx offload off upstream).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef RS_MAC
#error "build with -DRS_MAC=0x..,0x..,..."
#endif

SEC("xdp")
int xdp_tx_probe(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6)) return XDP_PASS;
  // Only the service: IPv4 dst 10.0.2.100 (offset 30) or IPv6 dst ending ::100 (offset 52).
  unsigned char *p = data;
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    if (p + 34 > (unsigned char *)end) return XDP_PASS;
    if (!(p[30] == 10 && p[31] == 0 && p[32] == 2 && p[33] == 100)) return XDP_PASS;
  } else {
    if (p + 54 > (unsigned char *)end) return XDP_PASS;
    if (!(p[52] == 0x01 && p[53] == 0x00 && p[51] == 0 && p[50] == 0)) return XDP_PASS;
  }
  const unsigned char rs[ETH_ALEN] = {RS_MAC};
  __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, rs, ETH_ALEN);
  return XDP_TX;
}

char _license[] SEC("license") = "GPL";
