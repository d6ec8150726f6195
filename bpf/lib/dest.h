/* A real server's forwarding record (abi sl_dest), read under its seqlock. */
#ifndef SLUICE_BPF_DEST_H
#define SLUICE_BPF_DEST_H

#include "lib/maps.h"

/* What the transmit step needs of a real server, copied out consistently. */
struct dest_view {
  __u32 ifindex;
  __u8 flags;
  __u8 smac[6];
  __u8 dmac[6];
  /* The real server's address (NAT's new destination, TUN's outer one) and family. */
  __u8 addr[16] __attribute__((aligned(4)));
  __u8 family;
  /* TUN (lib/xmit_tun.h): the tunnel, the outer source and the egress MTU. */
  __u8 tun_type;
  __u8 tun_flags;
  __u16 tun_port;
  __u16 mtu;
  __u8 laddr[16];
  /* NAT (lib/xmit_nat.h, lib/nat_reply.h): the real server's port (0: the virtual port),
   * the service's address and port (vport 0: a port-0 service). */
  __u16 port;
  __u16 vport;
  __u8 vaddr[16];
};

/* 0 when the record is being rewritten (odd sequence, or it changed while read) or out of
 * range: the frame is then the slow path's. */
static __always_inline int read_dest(const struct sl_dp_config* cfg, __u32 dest_id,
                                     struct dest_view* v) {
  if (dest_id >= cfg->max_dests) return 0;
  struct sl_dest* d = bpf_map_lookup_elem(&dests, &dest_id);
  if (!d) return 0;
  __u32 seq1 = *(volatile __u32*)&d->seq;
  if (seq1 & 1) return 0;
  asm volatile("" ::: "memory");
  v->ifindex = d->ifindex;
  v->flags = d->flags;
  __builtin_memcpy(v->smac, d->smac, 6);
  __builtin_memcpy(v->dmac, d->dmac, 6);
  v->family = d->family;
  v->tun_type = d->tun_type;
  v->tun_flags = d->tun_flags;
  v->tun_port = d->tun_port;
  v->mtu = d->mtu;
  __builtin_memcpy(v->addr, d->addr, 16);
  __builtin_memcpy(v->laddr, d->laddr, 16);
  v->port = d->port;
  v->vport = d->vport;
  __builtin_memcpy(v->vaddr, d->vaddr, 16);
  asm volatile("" ::: "memory");
  return *(volatile __u32*)&d->seq == seq1;
}

#endif /* SLUICE_BPF_DEST_H */
