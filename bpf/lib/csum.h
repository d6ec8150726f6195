/* Checksum predicates the fast path needs before it may transmit a frame as it is. */
#ifndef SLUICE_BPF_CSUM_H
#define SLUICE_BPF_CSUM_H

#include "abi/predicates.h"
#include "lib/parse.h"

static __always_inline __u32 sum16(const __u8* b, int words) {
  __u32 s = 0;
#pragma unroll
  for (int i = 0; i < 8; i++)
    if (i < words) s += ld16(b + 2 * i);
  return s;
}

/* net/checksum.h isPartialChecksum: the field holds only the folded pseudo-header sum. */
static __always_inline int partial_checksum(void* data, void* end, const struct pkt* p) {
  __u32 off = p->key.proto == IPPROTO_TCP ? 16 : 6;
  __u8* f = data + ((p->l4_off + off) & OFF_MASK);
  if ((void*)(f + 2) > end) return 0;
  __u16 field = ld16(f);
  int words = p->key.family == SL_AF_V4 ? 2 : 8;
  __u32 len = p->ip_len - (p->l4_off - p->l3_off);
  __u32 s = sum16(p->key.caddr, words) + sum16(p->key.vaddr, words) + p->key.proto + (len >> 16) +
            (len & 0xffff);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return sl_csum_is_partial(field, (__u16)s, p->key.proto == IPPROTO_UDP && p->key.family == SL_AF_V4);
}

#endif /* SLUICE_BPF_CSUM_H */
