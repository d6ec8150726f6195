/* NAT (ip_vs_nat_xmit and handle_response), the fast path's side of src/fwd/nat.cc: a
 * request's destination becomes the real server, a reply's source the service again, with
 * the IPv4 header and TCP/UDP checksums updated incrementally (RFC 1624) in one sum per
 * field, the same fold as the C++ side, so both paths write the same bytes. A checksum its
 * sender left half-done never gets here (csum_check sends it to the slow path first). */
#ifndef SLUICE_BPF_XMIT_NAT_H
#define SLUICE_BPF_XMIT_NAT_H

#include "lib/dest.h"
#include "lib/parse.h"
#include "lib/xmit_dr.h"

static __always_inline __u16 csum_fold_done(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

/* Adds the change of one 32-bit word, old -> new, to a one's-complement sum. */
static __always_inline __u32 csum_word_change(__u32 sum, __u32 o, __u32 n) {
  return sum + (__u16)~(o >> 16) + (__u16)~(o & 0xffff) + (n >> 16) + (n & 0xffff);
}

/* One end (src: the source, else the destination) of the packet becomes addr:port (port in
 * network byte order). 0 when the headers are not where the parse put them.
 * The sums run on words as loaded (host order): a one's-complement sum is the same bytes in
 * either order (RFC 1071), so the result stored as loaded equals the C++ side's, which
 * works in network order; loading words whole keeps the unrolled code off the stack. */
static __always_inline int nat_rewrite(void* data, void* end, const struct pkt* p, int src,
                                       const __u8* addr, __u16 port) {
  __u8* ip = data + (p->l3_off & OFF_MASK);
  __u8* l4 = data + (p->l4_off & OFF_MASK);
  int tcp = p->key.proto == IPPROTO_TCP;
  /* One bounds check per protocol, each with its own constant offset: the verifier does not
   * carry "not TCP" from one test of the protocol to the next. */
  __u8* cf;
  if (tcp) {
    if ((void*)(l4 + 20) > end) return 0;
    cf = l4 + 16;
  } else {
    if ((void*)(l4 + 8) > end) return 0;
    cf = l4 + 6;
  }
  __u8* pt = l4 + (src ? 0 : 2);
  /* Word loads: the headers sit at even offsets (4-byte ones for the addresses), and `addr`
   * is 4-byte aligned. */
  __u16 check = *(__u16*)cf;
  int keep_none = !tcp && p->key.family == SL_AF_V4 && check == 0;
  __u32 sum = (__u16)~check;
  __u32 o, n;
  if (p->key.family == SL_AF_V4) {
    if ((void*)(ip + 20) > end) return 0;
    __u8* a = ip + (src ? 12 : 16);
    o = *(__u32*)a;
    n = *(const __u32*)addr;
    __u16 ic = *(__u16*)(ip + 10);
    *(__u16*)(ip + 10) = csum_fold_done(csum_word_change((__u16)~ic, o, n));
    sum = csum_word_change(sum, o, n);
    *(__u32*)a = n;
  } else {
    if ((void*)(ip + 40) > end) return 0;
    __u8* a = ip + (src ? 8 : 24);
#pragma unroll
    for (int i = 0; i < 16; i += 4) {
      o = *(__u32*)(a + i);
      n = *(const __u32*)(addr + i);
      sum = csum_word_change(sum, o, n);
      *(__u32*)(a + i) = n;
    }
  }
  __u16 op = *(__u16*)pt;
  sum += (__u16)~op + (__u32)port;
  if (!keep_none) {
    __u16 c = csum_fold_done(sum);
    if (!tcp && c == 0) c = 0xffff;
    *(__u16*)cf = c;
  }
  *(__u16*)pt = port;
  return 1;
}

/* A request: to the real server's address and port (the virtual port when its port is 0),
 * then out like DR. */
/* Global, like nat_reply(): verified once rather than for every state of the main path. */
__attribute__((noinline)) int xmit_nat(struct xdp_md* ctx, const struct pkt* p,
                                       const struct dest_view* d) {
  if (!ctx || !p || !d) return XDP_ABORTED;
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u16 port = d->port ? d->port : p->key.vport;
  if (data + ETH_HLEN_ > end || !nat_rewrite(data, end, p, 0, d->addr, port)) return XDP_ABORTED;
  return xmit_dr(ctx, data, d);
}

/* Where a reply goes once rewritten (source `vaddr`:`vport`): the director is the real
 * servers' gateway, so the kernel's FIB says where the client is. 1 when the program can
 * send it itself (a route and a resolved neighbour, out of the interface it came in on or
 * another of the daemon's, `tx_ports`), with `fib` filled in; 0 otherwise (no neighbour
 * yet, an interface we do not hold, a VLAN-tagged frame, forwarding off): the frame then
 * goes to the slow path untouched, which hands the rewritten packet to the kernel as
 * locally sent (dp::Action::kRoute). Passing it rewritten instead would not do: the kernel
 * drops a received packet whose source is one of its own addresses (a martian). Asked
 * before anything changes, so a frame the slow path gets was not counted here. */
/* `caddr`:`cport`: the client, the reply's destination once rewritten (NAT: as it stands;
 * FULLNAT: from the twin's record). */
static __always_inline int reply_route(struct xdp_md* ctx, void* data, void* end,
                                       const struct pkt* p, const __u8* vaddr, __u16 vport,
                                       const __u8* caddr, __u16 cport,
                                       struct bpf_fib_lookup* fib) {
  if (p->l3_off != 14) return 0;
  fib->l4_protocol = p->key.proto;
  fib->ifindex = ctx->ingress_ifindex;
  fib->sport = vport;
  fib->dport = cport; /* the client's port: the reply's destination */
  /* No length: bpf_fib_lookup would answer FRAG_NEEDED for a frame longer than the route's
   * MTU, and in generic mode a real server's reply arrives as a TSO/GRO aggregate (tens of
   * KiB, one skb) that the egress device segments; the slow path could not take it either
   * (an AF_XDP frame is 4 KiB), so the download would stall. A single packet too big for the
   * client's route is the same packet the kernel would have forwarded. */
  fib->tot_len = 0;
  if (p->key.family == SL_AF_V4) {
    __u8* ip = data + 14;
    if ((void*)(ip + 20) > end) return 0;
    fib->family = 2; /* AF_INET */
    fib->tos = ip[1];
    __builtin_memcpy(&fib->ipv4_src, vaddr, 4);
    __builtin_memcpy(&fib->ipv4_dst, caddr, 4);
  } else {
    fib->family = 10; /* AF_INET6 */
    __builtin_memcpy(fib->ipv6_src, vaddr, 16);
    __builtin_memcpy(fib->ipv6_dst, caddr, 16);
  }
  if (bpf_fib_lookup(ctx, fib, sizeof *fib, 0) != BPF_FIB_LKUP_RET_SUCCESS) return 0;
  if (fib->ifindex == ctx->ingress_ifindex) return 1;
  __u32 out = fib->ifindex;
  return bpf_map_lookup_elem(&tx_ports, &out) != 0;
}

/* Sends a rewritten reply the way reply_route() found. */
static __always_inline int send_reply(struct xdp_md* ctx, void* data, void* end,
                                      const struct bpf_fib_lookup* fib) {
  if (data + 12 > end) return XDP_ABORTED;
  __builtin_memcpy(data, fib->dmac, 6);
  __builtin_memcpy(data + 6, fib->smac, 6);
  if (fib->ifindex == ctx->ingress_ifindex) return XDP_TX;
  return bpf_redirect_map(&tx_ports, fib->ifindex, XDP_DROP);
}

#endif /* SLUICE_BPF_XMIT_NAT_H */
