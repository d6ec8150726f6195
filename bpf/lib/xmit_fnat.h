/* FULLNAT in the fast path, src/fwd/fullnat.cc's side: a request leaves from the
 * connection's local address and port (its extension record) to the real server; a reply
 * to that local end, found through its twin (whose record holds the client's end), goes
 * back to the client from the service's address. Both ends are rewritten with the same
 * incremental sums as NAT (lib/xmit_nat.h), one end after the other, as the C++ side does,
 * so both paths write the same bytes. TOA is the slow path's: a connection whose client
 * address has not reached its real server yet (SL_EXT_F_TOA) stays there, both ways. */
#ifndef SLUICE_BPF_XMIT_FNAT_H
#define SLUICE_BPF_XMIT_FNAT_H

#include "lib/conn.h"
#include "lib/dest.h"
#include "lib/parse.h"
#include "lib/steer.h"
#include "lib/xmit_dr.h"
#include "lib/xmit_nat.h"


/* One end of a FULLNAT connection, copied out of an extension record. */
struct fnat_end {
  __u8 addr[16] __attribute__((aligned(4)));
  __u16 port;
};

/* The entry of `k`, and where it is: *where = bucket * 4 + slot (for ext_of()). */
static __always_inline struct sl_conn* find_key_at(const struct sl_dp_config* cfg,
                                                   const struct sl_conn_key* k, __u32* where) {
  __u32 b1, b2, s = 0;
  sl_conn_buckets(sl_conn_hash(k, cfg->conn_seed), cfg->conn_buckets, &b1, &b2);
  struct sl_conn* c = find_in_at(b1, k, &s);
  __u32 b = b1;
  if (!c && b2 != b1) {
    b = b2;
    c = find_in_at(b2, k, &s);
  }
  *where = b * SL_CONN_BUCKET_SLOTS + s;
  return c;
}
static __always_inline struct sl_conn_ext* ext_of(__u32 where) {
  return ext_at(where / SL_CONN_BUCKET_SLOTS, where % SL_CONN_BUCKET_SLOTS);
}

/* An established FULLNAT connection's request, as the main program does for the other
 * methods (sluice_steer, in the same order, with the same reasons to leave the packet to
 * the slow path) plus its own: TOA still to insert. `w` is the state word the main program
 * read; `p->key` the connection's key. A global function: the verifier checks it apart from
 * the main program, which stays within its budget. */
__attribute__((noinline)) int fnat_forward(struct xdp_md* ctx, const struct pkt* p,
                                           const struct sl_dp_config* cfg, __u32 w) {
  if (!ctx || !p || !cfg) return XDP_ABORTED;
  __u8 state = w & 0xff, flags = (w >> 16) & 0xff;
  if (!cfg->forward || (flags & (SL_CONN_F_TEMPLATE | SL_CONN_F_ONE_PACKET)))
    return to_slow_path(ctx);
  /* The entry again, with its place, and its local end: unchanged since the main program
   * read it (a move or a free locks it first, so an unchanged word means a record read
   * whole), or the slow path's. */
  __u32 where = 0;
  struct sl_conn* c = find_key_at(cfg, &p->key, &where);
  if (!c || *(volatile __u32*)&c->word != w) return to_slow_path(ctx);
  struct sl_conn_ext* e = ext_of(where);
  if (!e || (e->flags & SL_EXT_F_TOA)) return to_slow_path(ctx);
  struct fnat_end local = {};
  __builtin_memcpy(local.addr, e->addr, 16);
  local.port = e->port;
  asm volatile("" ::: "memory");
  if (*(volatile __u32*)&c->word != w) return to_slow_path(ctx);

  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u64 now = bpf_ktime_get_coarse_ns();
  __u64 last = c->last_seen_ns;
  if (now > last && now - last > (__u64)c->timeout_s * 1000000000ull) return to_slow_path(ctx);
  if (p->key.proto == IPPROTO_TCP && sl_syn_may_reuse(p->tcp_flags, state))
    return to_slow_path(ctx);
  if (cfg->csum_check && partial_checksum(data, end, p)) return to_slow_path(ctx);
  __u32 dest_id = c->dest_id;
  struct dest_view d;
  if (!read_dest(cfg, dest_id, &d)) return to_slow_path(ctx);
  if (!(d.flags & SL_DEST_F_LIVE) || !(d.flags & SL_DEST_F_AVAILABLE) ||
      !(d.flags & (SL_DEST_F_RESOLVED | SL_DEST_F_LOCAL)))
    return to_slow_path(ctx);
  if (!conn_step(cfg, c, w, CONN_INPUT, p->key.proto, p->tcp_flags, dest_id, now, last))
    return to_slow_path(ctx);
  dest_stats_add(cfg, dest_id, p->ip_len, 0);
  if (d.flags & SL_DEST_F_LOCAL) {
    bump2(SLC_kRxPackets, SLC_kLocalDelivered);
    return XDP_PASS;
  }
  __u16 port = d.port ? d.port : p->key.vport;
  if (data + ETH_HLEN_ > end || !nat_rewrite(data, end, p, 1, local.addr, local.port) ||
      !nat_rewrite(data, end, p, 0, d.addr, port))
    return XDP_ABORTED;
  return xmit_dr(ctx, data, &d);
}

/* nat_reply()'s part for a FULLNAT twin (at `where`, state word `tw`): the
 * client's end from its record into the key being built (`k`, whose client end held the
 * reply's destination, the local end). 0: the slow path's (the twin changed meanwhile). */
static __always_inline int fnat_client(struct sl_conn* t, __u32 tw, __u32 where,
                                       struct sl_conn_key* k) {
  struct sl_conn_ext* e = ext_of(where);
  if (!e) return 0;
  __builtin_memcpy(k->caddr, e->addr, 16);
  k->cport = e->port;
  asm volatile("" ::: "memory");
  return *(volatile __u32*)&t->word == tw;
}

/* Whether the FULLNAT connection at `where` may take its reply here: not while
 * TOA is pending (the slow path lowers the SYN-ACK's MSS and learns when the real server
 * has answered). */
static __always_inline int fnat_reply_ready(__u32 where) {
  struct sl_conn_ext* e = ext_of(where);
  return e && !(e->flags & SL_EXT_F_TOA);
}

#endif /* SLUICE_BPF_XMIT_FNAT_H */
