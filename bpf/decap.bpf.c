/* sluice-decap: the real server's side of TUN forwarding, for hosts without the kernel's
 * ipip / ip6_tunnel / fou modules (or that would rather not configure tunnel devices).
 *
 * On the real server's interface: an IPv4 or IPv6 packet carrying IPIP (4), IPv6 (41), or
 * UDP to the configured GUE port with a GUE header (variant 0, no options) whose INNER
 * destination is one of this host's VIPs (the `decap_vips` map) loses its outer headers
 * (bpf_xdp_adjust_head) and gets the inner family's ethertype; XDP_PASS then hands the
 * client's own packet to the local stack, which answers from the VIP (held on lo, as in
 * every LVS-TUN set-up), exactly as after the kernel's tunnel device. Everything else passes
 * untouched: a tunnelled packet for another address (not_ours), a malformed one (the
 * stack drops it as it always would), and all ordinary traffic.
 *
 * Trade-offs: untagged frames only (a VLAN sub-interface gets its own program); an outer
 * IPv4 fragment passes untouched (reassembly is the stack's, and without a tunnel device it
 * cannot deliver it: directors never fragment, tunnels are sized by path MTU); the GUE UDP
 * checksum is not verified (the inner TCP/UDP checksum still protects the payload, as with
 * IPIP, which has none); the outer TTL is not checked, as the kernel's ipip does not.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "abi/decap.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_DECAP_MAX_VIPS);
  __type(key, struct sl_decap_vip);
  __type(value, __u8);
} decap_vips SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_decap_config);
} decap_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SL_DECAP_COUNTERS);
  __type(key, __u32);
  __type(value, __u64);
} decap_counters SEC(".maps");

static __always_inline int count(__u32 which) {
  __u64* c = bpf_map_lookup_elem(&decap_counters, &which);
  if (c) *c += 1;
  return XDP_PASS;
}

/* Whether the inner packet at `ip` (of `family`) is to one of our VIPs. */
static __always_inline int inner_is_ours(__u8* ip, void* end, __u8 family) {
  struct sl_decap_vip k = {};
  k.family = family;
  if (family == SL_AF_V4) {
    if ((void*)(ip + 20) > end || (ip[0] >> 4) != 4) return -1;
    __builtin_memcpy(k.addr, ip + 16, 4);
  } else {
    if ((void*)(ip + 40) > end || (ip[0] >> 4) != 6) return -1;
    __builtin_memcpy(k.addr, ip + 24, 16);
  }
  return bpf_map_lookup_elem(&decap_vips, &k) != 0;
}

SEC("xdp")
int sluice_decap(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u8* eth = data;
  if ((void*)(eth + 14) > end) return XDP_PASS;
  __u16 type = ((__u16)eth[12] << 8) | eth[13];
  __u8* ip = eth + 14;
  __u32 outer_len; /* outer IP header (+ UDP + GUE) bytes before the inner packet */
  __u8 proto;
  if (type == ETH_P_IP) {
    if ((void*)(ip + 20) > end) return XDP_PASS;
    if ((ip[0] >> 4) != 4) return XDP_PASS;
    proto = ip[9];
    if (proto != 4 && proto != 41 && proto != IPPROTO_UDP) return XDP_PASS;
    __u32 ihl = (__u32)(ip[0] & 0x0f) * 4;
    if (ihl < 20) return count(SL_DECAP_MALFORMED);
    if ((ip[6] & 0x3f) || ip[7]) return XDP_PASS; /* a fragment: the stack's */
    outer_len = ihl;
  } else if (type == ETH_P_IPV6) {
    if ((void*)(ip + 40) > end) return XDP_PASS;
    if ((ip[0] >> 4) != 6) return XDP_PASS;
    proto = ip[6]; /* extension headers: not from a director, left to the stack */
    if (proto != 4 && proto != 41 && proto != IPPROTO_UDP) return XDP_PASS;
    outer_len = 40;
  } else {
    return XDP_PASS;
  }
  if (outer_len > 60) return count(SL_DECAP_MALFORMED);

  if (proto == IPPROTO_UDP) {
    __u32 zero = 0;
    struct sl_decap_config* cfg = bpf_map_lookup_elem(&decap_config, &zero);
    if (!cfg || !cfg->gue_port) return XDP_PASS;
    __u8* udp = ip + outer_len;
    if ((void*)(udp + 12) > end) return XDP_PASS;
    __u16 dport;
    __builtin_memcpy(&dport, udp + 2, 2);
    if (dport != cfg->gue_port) return XDP_PASS; /* ordinary UDP */
    __u8* gue = udp + 8;
    /* Variant 0, no control message, no extension fields: what IPVS sends. */
    if (gue[0] != 0 || (gue[1] != 4 && gue[1] != 41)) return count(SL_DECAP_MALFORMED);
    proto = gue[1];
    outer_len += 12;
  }

  __u8 family = proto == 4 ? SL_AF_V4 : SL_AF_V6;
  __u8* inner = ip + outer_len;
  int ours = inner_is_ours(inner, end, family);
  if (ours < 0) return count(SL_DECAP_MALFORMED);
  if (!ours) return count(SL_DECAP_NOT_OURS);

  __u8 macs[12];
  __builtin_memcpy(macs, eth, 12);
  if (bpf_xdp_adjust_head(ctx, (int)outer_len)) return count(SL_DECAP_MALFORMED);
  data = (void*)(long)ctx->data;
  end = (void*)(long)ctx->data_end;
  eth = data;
  if ((void*)(eth + 14) > end) return XDP_DROP; /* the inner header was there: never */
  __builtin_memcpy(eth, macs, 12);
  __u16 inner_type = bpf_htons(family == SL_AF_V4 ? ETH_P_IP : ETH_P_IPV6);
  __builtin_memcpy(eth + 12, &inner_type, 2);
  return count(SL_DECAP_DONE);
}
