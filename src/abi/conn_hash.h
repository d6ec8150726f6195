/* The connection table's hash and bucket choice, written once in plain C so the XDP fast
 * path (bpf/steer.bpf.c) and conn::ConnTable compute exactly the same buckets. If the two
 * ever disagreed, the kernel would miss entries the daemon created and every packet would
 * take the slow path: the golden parity tests catch that.
 *
 * Hash: seeded xor-multiply over the key's five 64-bit words (little-endian loads), then
 * murmur3's fmix64. Buckets: two choices from the two 32-bit halves, reduced by
 * multiply-shift (no modulo), the second moved on by one when both halves agree.
 */
#ifndef SLUICE_ABI_CONN_HASH_H
#define SLUICE_ABI_CONN_HASH_H

#include "abi/records.h"

#define SL_CONN_BUCKET_SLOTS 4

/* The `conns` map's value: one bucket, the same bytes as 4 consecutive sl_conn, so the
 * kernel reads a bucket with one lookup and user space sees a flat array of entries. */
struct sl_conn_bucket {
  struct sl_conn slot[SL_CONN_BUCKET_SLOTS];
};
/* The `conn_ext` map's value: the extension records of one bucket's entries, slot for slot. */
struct sl_conn_ext_bucket {
  struct sl_conn_ext slot[SL_CONN_BUCKET_SLOTS];
};
#define SL_HASH_MUL 0x9E3779B97F4A7C15ull

#ifdef __cplusplus
#include <cstring>
#define SL_INLINE static inline
#else
#define SL_INLINE static __always_inline
#endif

SL_INLINE sl_u64 sl_conn_hash(const struct sl_conn_key* key, sl_u64 seed) {
  sl_u64 w[5];
  __builtin_memcpy(w, key, sizeof w);
  sl_u64 h = seed;
#ifndef __cplusplus
#pragma unroll
#endif
  for (int i = 0; i < 5; i++) {
    h ^= w[i];
    h *= SL_HASH_MUL;
    h ^= h >> 32;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

SL_INLINE sl_u32 sl_reduce(sl_u32 h, sl_u32 n) { return (sl_u32)(((sl_u64)h * n) >> 32); }

/* The two candidate buckets of a hash; b2 == b1 only when there is a single bucket. */
SL_INLINE void sl_conn_buckets(sl_u64 h, sl_u32 num_buckets, sl_u32* b1, sl_u32* b2) {
  *b1 = sl_reduce((sl_u32)h, num_buckets);
  *b2 = sl_reduce((sl_u32)(h >> 32), num_buckets);
  if (*b2 == *b1 && num_buckets > 1) *b2 = *b1 + 1 == num_buckets ? 0 : *b1 + 1;
}

#undef SL_INLINE

#endif /* SLUICE_ABI_CONN_HASH_H */
