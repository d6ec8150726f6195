/* XDP steering: send frames addressed to a virtual service to the daemon's AF_XDP sockets,
 * pass everything else to the kernel.
 *
 * The program never drops: anything it does not understand (ARP, ND, OSPF, SSH, truncated or
 * odd headers, fragments whose ports it cannot see) is the kernel's business, so the host
 * keeps working as a normal Linux box whatever the daemon does. The trade-off is that
 * malformed service traffic is counted here but judged by the kernel, not by the daemon.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "io/steer_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_SERVICES);
  __type(key, struct sl_steer_key);
  __type(value, struct sl_steer_val);
} services SEC(".maps");

/* ingress ifindex -> first XSKMAP slot of that interface (see steer_abi.h). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_IFACES);
  __type(key, __u32);
  __type(value, __u32);
} xsk_base SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, SL_STEER_XSK_SLOTS);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SL_STEER_NUM_STATS);
  __type(key, __u32);
  __type(value, __u64);
} steer_stats SEC(".maps");

#define VLAN_HLEN 4
#define MAX_VLAN 2
#define MAX_V6_EXT 4

#ifndef IPPROTO_HOPOPTS
#define IPPROTO_HOPOPTS 0
#endif
#ifndef IPPROTO_ROUTING
#define IPPROTO_ROUTING 43
#endif
#ifndef IPPROTO_FRAGMENT
#define IPPROTO_FRAGMENT 44
#endif
#ifndef IPPROTO_DSTOPTS
#define IPPROTO_DSTOPTS 60
#endif

static __always_inline int count(__u32 idx, int action) {
  __u64* c = bpf_map_lookup_elem(&steer_stats, &idx);
  if (c) *c += 1;
  return action;
}

static __always_inline int is_port_proto(__u8 p) {
  return p == IPPROTO_TCP || p == IPPROTO_UDP;
}

SEC("xdp")
int sluice_steer(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct sl_steer_key key = {};
  __u32 off = sizeof(struct ethhdr);

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
  __u16 proto = eth->h_proto;

#pragma unroll
  for (int i = 0; i < MAX_VLAN; i++) {
    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
    __u16* tag = data + off;  /* TCI, then the encapsulated ethertype */
    if ((void*)(tag + 2) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
    proto = tag[1];
    off += VLAN_HLEN;
  }

  __u8 l4proto;
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = data + off;
    if ((void*)(ip + 1) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
    if (ip->version != 4 || ip->ihl < 5) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
    /* A non-first fragment carries no ports to look up. */
    if (ip->frag_off & bpf_htons(0x1fff)) return count(SL_STEER_PASS_FRAGMENT, XDP_PASS);
    l4proto = ip->protocol;
    key.family = SL_AF_V4;
    __builtin_memcpy(key.addr, &ip->daddr, 4);
    off += ip->ihl * 4;
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = data + off;
    if ((void*)(ip6 + 1) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
    if (ip6->version != 6) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
    l4proto = ip6->nexthdr;
    key.family = SL_AF_V6;
    __builtin_memcpy(key.addr, &ip6->daddr, 16);
    off += sizeof(*ip6);
#pragma unroll
    for (int i = 0; i < MAX_V6_EXT; i++) {
      if (l4proto != IPPROTO_HOPOPTS && l4proto != IPPROTO_ROUTING &&
          l4proto != IPPROTO_DSTOPTS && l4proto != IPPROTO_FRAGMENT)
        break;
      __u8* ext = data + (off & 0xffff);
      if ((void*)(ext + 8) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);
      if (l4proto == IPPROTO_FRAGMENT) {
        /* Fragment offset in the upper 13 bits of bytes 2..3. */
        __u16 frag = ((__u16)ext[2] << 8 | ext[3]) & 0xfff8;
        if (frag) return count(SL_STEER_PASS_FRAGMENT, XDP_PASS);
        l4proto = ext[0];
        off += 8;
      } else {
        l4proto = ext[0];
        off += ((__u32)ext[1] + 1) * 8;
      }
    }
  } else {
    return count(SL_STEER_PASS_NOT_IP, XDP_PASS);
  }

  if (!is_port_proto(l4proto)) return count(SL_STEER_PASS_NO_MATCH, XDP_PASS);
  /* TCP and UDP both start with source port, destination port. */
  __u16* ports = data + (off & 0xffff);
  if ((void*)(ports + 2) > end) return count(SL_STEER_PASS_MALFORMED, XDP_PASS);

  key.proto = l4proto;
  key.port = ports[1];
  if (!bpf_map_lookup_elem(&services, &key)) {
    key.port = 0;
    if (!bpf_map_lookup_elem(&services, &key)) return count(SL_STEER_PASS_NO_MATCH, XDP_PASS);
  }

  __u32 ifindex = ctx->ingress_ifindex;
  __u32* base = bpf_map_lookup_elem(&xsk_base, &ifindex);
  if (!base || ctx->rx_queue_index >= SL_STEER_QUEUES_PER_IFACE)
    return count(SL_STEER_PASS_NO_SOCKET, XDP_PASS);
  __u32 slot = *base + ctx->rx_queue_index;
  if (bpf_redirect_map(&xsks, slot, XDP_PASS) == XDP_REDIRECT)
    return count(SL_STEER_STEERED, XDP_REDIRECT);
  return count(SL_STEER_PASS_NO_SOCKET, XDP_PASS);
}
