/* Steering: which frames are a virtual service's, and the way to the daemon's AF_XDP
 * socket for the frame's interface and queue. */
#ifndef SLUICE_BPF_STEER_H
#define SLUICE_BPF_STEER_H

#include "lib/parse.h"

/* A virtual service on the packet's address, protocol and port (or port 0: all ports). */
static __always_inline int is_service(const struct pkt* p) {
  struct sl_steer_key sk = {};
  __builtin_memcpy(sk.addr, p->key.vaddr, 16);
  sk.family = p->key.family;
  sk.proto = p->key.proto;
  sk.port = p->key.vport;
  if (bpf_map_lookup_elem(&services, &sk)) return 1;
  sk.port = 0;
  return bpf_map_lookup_elem(&services, &sk) != 0;
}

/* To the daemon's AF_XDP socket for this interface and queue. */
static __always_inline int to_slow_path(struct xdp_md* ctx) {
  __u32 ifindex = ctx->ingress_ifindex;
  __u32* base = bpf_map_lookup_elem(&xsk_base, &ifindex);
  if (!base || ctx->rx_queue_index >= SL_STEER_QUEUES_PER_IFACE)
    return steer_count(SL_STEER_PASS_NO_SOCKET, XDP_PASS);
  __u32 slot = *base + ctx->rx_queue_index;
  if (bpf_redirect_map(&xsks, slot, XDP_PASS) == XDP_REDIRECT)
    return steer_count(SL_STEER_STEERED, XDP_REDIRECT);
  return steer_count(SL_STEER_PASS_NO_SOCKET, XDP_PASS);
}

#endif /* SLUICE_BPF_STEER_H */
