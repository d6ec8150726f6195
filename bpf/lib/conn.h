/* The shared connection table: lookups by the one hash both paths use (abi/conn_hash.h). */
#ifndef SLUICE_BPF_CONN_H
#define SLUICE_BPF_CONN_H

#include "lib/maps.h"

static __always_inline int key_equal(const struct sl_conn_key* a, const struct sl_conn_key* b) {
  const __u64* x = (const __u64*)a;
  const __u64* y = (const __u64*)b;
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static __always_inline struct sl_conn* find_in(__u32 bucket, const struct sl_conn_key* key) {
  struct sl_conn_bucket* b = bpf_map_lookup_elem(&conns, &bucket);
  if (!b) return 0;
#pragma unroll
  for (__u32 s = 0; s < SL_CONN_BUCKET_SLOTS; s++)
    if (key_equal(&b->slot[s].key, key)) return &b->slot[s];
  return 0;
}


#endif /* SLUICE_BPF_CONN_H */
