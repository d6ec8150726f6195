/* Direct routing (ip_vs_dr_xmit), the fast path's side of src/fwd/dr.cc: the IP packet is
 * untouched, only the Ethernet header changes; out of the receiving interface (XDP_TX) or
 * another of the daemon's interfaces (devmap redirect, which the kernel bulks). */
#ifndef SLUICE_BPF_XMIT_DR_H
#define SLUICE_BPF_XMIT_DR_H

#include "lib/dest.h"

static __always_inline int xmit_dr(struct xdp_md* ctx, void* data, const struct dest_view* d) {
  __builtin_memcpy(data, d->dmac, 6);
  __builtin_memcpy(data + 6, d->smac, 6);
  bump2(SLC_kRxPackets, SLC_kTxPackets);
  if (d->ifindex == ctx->ingress_ifindex) return XDP_TX;
  return bpf_redirect_map(&tx_ports, d->ifindex, XDP_DROP);
}

#endif /* SLUICE_BPF_XMIT_DR_H */
