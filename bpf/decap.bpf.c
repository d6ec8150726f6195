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
 * A second program, sluice_decap_mss (tc egress, attached only with --mss), lowers the MSS
 * option of the SYN-ACKs this host sends from a VIP: the client sizes its segments from
 * that option, the tunnel adds its outer headers to every one of them, and the SYN-ACK
 * never crosses the director, so this host is the only place that can clamp it.
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
#include <linux/pkt_cls.h>
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

/* Lowers the MSS option at `opt_pos` (from the TCP header; kind 2, len 4, the value two
 * bytes on) to `clamp` if it is higher. The checksum update goes through
 * bpf_l4_csum_replace, which also does the right thing for a segment still waiting for
 * checksum offload (CHECKSUM_PARTIAL: left alone, the device sums it later). A
 * one's-complement update works on 16-bit words at even offsets from the TCP header, so a
 * value at an odd offset (after a lone NOP) is replaced as the aligned 4 bytes around it. */
static __always_inline int clamp_mss(struct __sk_buff* skb, __u32 tcp_off, __u32 opt_pos,
                                     __u16 clamp) {
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  __u32 value = opt_pos + 2; /* offset of the MSS value from the TCP header */
  __u32 word = value & ~1u;  /* the even offset where the replaced words start */
  __u8* w = (__u8*)data + tcp_off + word;
  __u8* v = (__u8*)data + tcp_off + value;
  if ((void*)(v + 2) > end) return 0;
  __u16 mss = ((__u16)v[0] << 8) | v[1];
  if (mss <= clamp) return 0;
  __u32 csum_off = tcp_off + 16;
  if (value & 1) {
    /* Options fill the header to a multiple of 4, so an option ending at an odd offset
     * is followed by one more byte of the header. */
    if ((void*)(w + 4) > end) return 0;
    __u32 old_word, new_word;
    __builtin_memcpy(&old_word, w, 4);
    v[0] = clamp >> 8;
    v[1] = clamp & 0xff;
    __builtin_memcpy(&new_word, w, 4);
    bpf_l4_csum_replace(skb, csum_off, old_word, new_word, 4);
  } else {
    __u16 old_value, new_value = bpf_htons(clamp);
    __builtin_memcpy(&old_value, v, 2);
    __builtin_memcpy(v, &new_value, 2);
    bpf_l4_csum_replace(skb, csum_off, old_value, new_value, 2);
  }
  return 1;
}

/* tc egress: a TCP SYN-ACK from a VIP gets its MSS option lowered to the configured clamp.
 * Always TC_ACT_OK: a packet it does not understand (malformed options included) goes out
 * as it was, as it would without sluice-decap. The stack builds a SYN-ACK's headers in the
 * linear part of the skb, so direct packet access sees them; anything else is not ours. */
SEC("tc")
int sluice_decap_mss(struct __sk_buff* skb) {
  __u32 zero = 0;
  struct sl_decap_config* cfg = bpf_map_lookup_elem(&decap_config, &zero);
  if (!cfg || !cfg->mss_clamp) return TC_ACT_OK;
  __u16 clamp = cfg->mss_clamp;

  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  __u8* eth = data;
  if ((void*)(eth + 18) > end) return TC_ACT_OK;
  __u32 l3_off = 14;
  __u16 type = ((__u16)eth[12] << 8) | eth[13];
  if (type == ETH_P_8021Q) { /* a tag in the frame (no VLAN offload): one is cheap */
    type = ((__u16)eth[16] << 8) | eth[17];
    l3_off = 18;
  }
  __u8* ip = (__u8*)data + l3_off;
  __u32 tcp_off;
  struct sl_decap_vip source = {}; /* looked up once the segment is known to be a SYN-ACK */
  if (type == ETH_P_IP) {
    if ((void*)(ip + 20) > end || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP) return TC_ACT_OK;
    if ((ip[6] & 0x1f) || ip[7]) return TC_ACT_OK; /* a non-first fragment has no header */
    __u32 ihl = (__u32)(ip[0] & 0x0f) * 4;
    if (ihl < 20) return TC_ACT_OK;
    tcp_off = l3_off + ihl;
    source.family = SL_AF_V4;
    __builtin_memcpy(source.addr, ip + 12, 4);
  } else if (type == ETH_P_IPV6) {
    /* Our own stack adds no extension headers to a SYN-ACK. */
    if ((void*)(ip + 40) > end || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP) return TC_ACT_OK;
    tcp_off = l3_off + 40;
    source.family = SL_AF_V6;
    __builtin_memcpy(source.addr, ip + 8, 16);
  } else {
    return TC_ACT_OK;
  }
  if (tcp_off > 18 + 60) return TC_ACT_OK;
  __u8* tcp = (__u8*)data + tcp_off;
  if ((void*)(tcp + 20) > end) return TC_ACT_OK;
  if ((tcp[13] & 0x12) != 0x12) return TC_ACT_OK; /* SYN and ACK */
  if (!bpf_map_lookup_elem(&decap_vips, &source)) return TC_ACT_OK;

  __u32 hdr_len = (__u32)(tcp[12] >> 4) * 4;
  if (hdr_len < 20) return TC_ACT_OK;
  __u32 opt_end = hdr_len; /* offsets from the TCP header; options are [20, opt_end) */
  /* At most 40 bytes of options, so at most 40 steps; a step moves at least one byte. */
  __u32 pos = 20;
  for (int i = 0; i < 40; i++) {
    if (pos >= opt_end || pos >= 60) break;
    __u8* opt = tcp + pos;
    if ((void*)(opt + 1) > end) return TC_ACT_OK;
    __u8 kind = opt[0];
    if (kind == 0) break; /* End of Option List */
    if (kind == 1) {      /* NOP */
      pos++;
      continue;
    }
    if (pos + 2 > opt_end || (void*)(opt + 2) > end) return TC_ACT_OK;
    __u8 len = opt[1];
    if (len < 2 || pos + len > opt_end) return TC_ACT_OK; /* malformed: not ours to fix */
    if (kind == 2) {
      if (len != 4) return TC_ACT_OK;
      if (clamp_mss(skb, tcp_off, pos, clamp)) count(SL_DECAP_MSS_CLAMPED);
      return TC_ACT_OK;
    }
    pos += len;
  }
  return TC_ACT_OK;
}
