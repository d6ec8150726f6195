/* Tunnelling (ip_vs_tunnel_xmit / ip_vs_tunnel_xmit_v6), the fast path's side of
 * src/fwd/tun.cc: the frame grows at the front by the tunnel's overhead
 * (bpf_xdp_adjust_head), the link header (VLAN tags kept) moves to the new front with the
 * next hop's MACs and the outer family's ethertype, and the outer header(s) follow, written
 * by the same function as the slow path's (abi/tun.h) into a stack buffer and copied in.
 * The header is rebuilt from the dest record per packet: the record holds everything it
 * needs (laddr, addr, tunnel type and port), and a rebuild is a few dozen byte stores, no
 * more than patching a cached header's length, ID and checksum would cost.
 *
 * Left to the slow path, before the connection is touched (tun_fast_ok): a datagram too
 * big for the tunnel (the ICMP answer is the daemon's), GUE whose UDP checksum must be
 * computed over the whole packet (an IPv6 outer header, or --tun-csum: a full checksum
 * of up to a page is more than this program should do), a dest without an outer source,
 * and tunnel types not built here. */
#ifndef SLUICE_BPF_XMIT_TUN_H
#define SLUICE_BPF_XMIT_TUN_H

#include "abi/tun.h"
#include "lib/dest.h"
#include "lib/parse.h"

static __always_inline int tun_fast_ok(const struct pkt* p, const struct dest_view* d) {
  if (d->tun_type == SL_TUN_GUE && (d->family == SL_AF_V6 || (d->tun_flags & SL_TUN_F_CSUM)))
    return 0;
  __u32 ovh = sl_tun_overhead(d->family, d->tun_type, d->tun_flags);
  if (!ovh) return 0;
  __u8 any = 0;
#pragma unroll
  for (int i = 0; i < 16; i++) any |= d->laddr[i];
  if (!any) return 0;
  __u32 mtu = sl_tun_inner_mtu(d->mtu, ovh);
  if (mtu && p->ip_len > mtu) return 0;
  return 1;
}

/* The outer header (ovh bytes of hdr) at o; 0 when the frame is too short. */
static __always_inline int put_outer(__u8* o, void* end, const __u8* hdr, __u32 ovh) {
  if (ovh == 20) {
    if ((void*)(o + 20) > end) return 0;
    __builtin_memcpy(o, hdr, 20);
  } else if (ovh == 32) {
    if ((void*)(o + 32) > end) return 0;
    __builtin_memcpy(o, hdr, 32);
  } else if (ovh == 40) {
    if ((void*)(o + 40) > end) return 0;
    __builtin_memcpy(o, hdr, 40);
  } else {
    return 0;
  }
  return 1;
}

/* Link header at the (new) front: MACs, `depth` VLAN tags, the outer ethertype; then the
 * outer header. Offsets are constants per depth so the verifier sees every bound. */
static __always_inline int put_headers(__u8* data, void* end, const struct dest_view* d,
                                       __u32 depth, const __u32* tags, const __u8* hdr,
                                       __u32 ovh) {
  if ((void*)(data + 22) > end) return 0; /* the outer header follows: never this short */
  __builtin_memcpy(data, d->dmac, 6);
  __builtin_memcpy(data + 6, d->smac, 6);
  __u16 type = bpf_htons(sl_tun_ethertype(d->family));
  if (depth == 0) {
    __builtin_memcpy(data + 12, &type, 2);
    return put_outer(data + 14, end, hdr, ovh);
  }
  __builtin_memcpy(data + 12, &tags[0], 4);
  if (depth == 1) {
    __builtin_memcpy(data + 16, &type, 2);
    return put_outer(data + 18, end, hdr, ovh);
  }
  __builtin_memcpy(data + 16, &tags[1], 4);
  __builtin_memcpy(data + 20, &type, 2);
  return put_outer(data + 22, end, hdr, ovh);
}

/* Encapsulates and transmits; tun_fast_ok(p, d) held. `hash` is the connection's table
 * hash (the GUE source port). A function of its own (a BPF-to-BPF call), not inlined: its
 * header buffer in the program's one frame would pass the 512-byte stack limit. */
static __noinline int xmit_tun(struct xdp_md* ctx, const struct pkt* p,
                                    const struct dest_view* d, __u64 hash) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u32 ovh = sl_tun_overhead(d->family, d->tun_type, d->tun_flags);
  __u32 l3 = p->l3_off;
  __u32 depth = (l3 - 14) / 4;
  if (depth > MAX_VLAN) return drop(SLC_kTunNoRoom); /* the parser allows no more */
  __u8* ip = data + (l3 & OFF_MASK);
  if ((void*)(ip + 20) > end) return drop(SLC_kTunNoRoom); /* parsed: never */
  struct sl_tun_inner in;
  sl_tun_inner_of(ip, p->key.family, (__u16)p->ip_len, &in);
  __u8 hdr[SL_TUN_MAX_OVERHEAD];
  sl_tun_write_outer(hdr, d->family, d->tun_type, d->tun_port, d->laddr, d->addr, &in,
                     sl_tun_gue_sport(hash));
  __u32 tags[2] = {0, 0};
  if ((void*)((__u8*)data + 20) <= end) { /* l3 >= 14 + 4 * depth, and 20 IP bytes follow */
    __builtin_memcpy(&tags[0], (__u8*)data + 12, 4);
    __builtin_memcpy(&tags[1], (__u8*)data + 16, 4);
  }
  /* The headroom (XDP_PACKET_HEADROOM, 256 bytes) always has the room; a driver that
   * gives less is counted like the slow path's buffer without room. */
  if (bpf_xdp_adjust_head(ctx, -(int)ovh)) return drop(SLC_kTunNoRoom);
  data = (void*)(long)ctx->data;
  end = (void*)(long)ctx->data_end;
  if (!put_headers(data, end, d, depth, tags, hdr, ovh)) return drop(SLC_kTunNoRoom);
  bump2(SLC_kRxPackets, SLC_kTxPackets);
  if (d->ifindex == ctx->ingress_ifindex) return XDP_TX;
  return bpf_redirect_map(&tx_ports, d->ifindex, XDP_DROP);
}

#endif /* SLUICE_BPF_XMIT_TUN_H */
