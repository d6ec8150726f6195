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

/* The same, also saying which slot of the bucket holds it (for its extension record). */
static __always_inline struct sl_conn* find_in_at(__u32 bucket, const struct sl_conn_key* key,
                                                  __u32* slot) {
  struct sl_conn_bucket* b = bpf_map_lookup_elem(&conns, &bucket);
  if (!b) return 0;
#pragma unroll
  for (__u32 s = 0; s < SL_CONN_BUCKET_SLOTS; s++)
    if (key_equal(&b->slot[s].key, key)) {
      *slot = s;
      return &b->slot[s];
    }
  return 0;
}

/* The extension record of the entry in `slot` of `bucket` (abi/records.h, sl_conn_ext). */
static __always_inline struct sl_conn_ext* ext_at(__u32 bucket, __u32 slot) {
  struct sl_conn_ext_bucket* b = bpf_map_lookup_elem(&conn_ext, &bucket);
  if (!b) return 0;
  return &b->slot[slot & (SL_CONN_BUCKET_SLOTS - 1)];
}


/* Which of dp_config's TCP transition tables a packet takes (conn::Direction). */
#define CONN_INPUT_ONLY 0 /* DR, TUN: tcp_next */
#define CONN_INPUT 1      /* NAT, client -> server: tcp_in */
#define CONN_OUTPUT 2     /* NAT, server -> client: tcp_out */

/* A packet and its bytes on real server `dest_id`, in or out. Each CPU counts in its own
 * slice of dest_stats: plain adds, no locked instructions. */
static __always_inline void dest_stats_add(const struct sl_dp_config* cfg, __u32 dest_id,
                                           __u32 len, int out) {
  __u32 cpu = bpf_get_smp_processor_id();
  if (cpu >= cfg->stat_slots) return;
  __u32 si = dest_id * cfg->stat_slots + cpu;
  struct sl_stats* st = bpf_map_lookup_elem(&dest_stats, &si);
  if (!st) return;
  if (out) {
    st->outpkts += 1;
    st->outbytes += len;
  } else {
    st->inpkts += 1;
    st->inbytes += len;
  }
}

/* conn::updateConn for one packet of `c`, whose state word was `w` when read: the next TCP
 * state from the direction's table, a move between active and inactive counted in
 * dest_counts, the word changed with one compare-and-swap, then timeout and last_seen.
 * 0: the packet is the slow path's (an unknown state, a template to assure, or another CPU
 * changed the word first), and nothing was changed. */
static __always_inline int conn_step(const struct sl_dp_config* cfg, struct sl_conn* c, __u32 w,
                                     int dir, __u8 proto, __u8 tcp_flags, __u32 dest_id,
                                     __u64 now, __u64 last) {
  __u8 state = w & 0xff, flags = (w >> 16) & 0xff;
  __u8 next = state;
  __u8 nflags = flags;
  if (proto == IPPROTO_TCP && state < SL_TCP_STATE_COUNT) {
    int ev = sl_tcp_event(tcp_flags);
    if (ev >= 0 && ev < SL_TCP_EVENTS)
      next = dir == CONN_OUTPUT ? cfg->tcp_out[state][ev]
             : dir == CONN_INPUT ? cfg->tcp_in[state][ev]
                                 : cfg->tcp_next[state][ev];
    if (next != state && next < SL_STATE_COUNT) {
      if (cfg->active[next]) {
        /* Out of a closing state (a SYN reopening a FIN_WAIT entry): the peers must hear
         * of the new connection too. */
        if (cfg->adopt_midflow && !cfg->active[state]) return 0;
        nflags &= ~SL_CONN_F_INACTIVE;
      } else {
        /* In a cluster the peers must hear that a connection is ending (FIN, RST), or
         * their copies stay ESTABLISHED and capture the next connection on the same
         * ports: the step into a closing state is the slow path's, which tells them
         * (dp::ConnEventSink). */
        if (cfg->adopt_midflow) return 0;
        nflags |= SL_CONN_F_INACTIVE;
      }
    }
  }
  if (next >= SL_STATE_COUNT) return 0;
  /* The step that assures a persistence template needs the template: the slow path's. */
  if (next == SL_TCP_ESTABLISHED && next != state && (flags & SL_CONN_F_CONTROLLED)) return 0;
  __u32 nw = (w & 0xff00ff00u) | next | ((__u32)nflags << 16);
  if (nw != w && __sync_val_compare_and_swap(&c->word, w, nw) != w) return 0;
  if (nflags != flags) {
    struct sl_dest_counts* dc = bpf_map_lookup_elem(&dest_counts, &dest_id);
    if (dc) {
      if (nflags & SL_CONN_F_INACTIVE) {
        __sync_fetch_and_add(&dc->active, -1);
        __sync_fetch_and_add(&dc->inactive, 1);
      } else {
        __sync_fetch_and_add(&dc->active, 1);
        __sync_fetch_and_add(&dc->inactive, -1);
      }
    }
  }
  __u32 ni = next;
  asm volatile("" : "+r"(ni)); /* keep the mask: the verifier must see the bound */
  ni &= 0x0f;
  __u32 tmo = ni < SL_STATE_COUNT ? cfg->timeout_s[ni] : 0;
  if (c->timeout_s != tmo) c->timeout_s = tmo;
  if (last != now) c->last_seen_ns = now; /* the coarse clock ticks far slower than packets */
  return 1;
}

#endif /* SLUICE_BPF_CONN_H */
