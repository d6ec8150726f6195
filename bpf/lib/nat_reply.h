/* NAT replies in the fast path (dp::Datapath::natReply's side): a frame that matched no
 * connection, looked up as a reply twin (dp/nat_reply.h), leads through its real server's
 * record to its connection, which is updated with the OUTPUT transitions (IPVS's
 * handle_response) before the source becomes the service again, and sent to the client
 * by the kernel's FIB. Whatever the fast path cannot finish (a client it has no way to
 * reach from here included) goes to the slow path, which does the same; a twin whose
 * connection is gone is counted, and the frame goes on as one matching nothing (the
 * daemon's sweep frees it).
 * Only looked up while dp_config.nat_replies says a NAT real server exists. */
#ifndef SLUICE_BPF_NAT_REPLY_H
#define SLUICE_BPF_NAT_REPLY_H

#include "lib/conn.h"
#include "lib/csum.h"
#include "lib/dest.h"
#include "lib/icmp.h"
#include "lib/steer.h"
#include "lib/xmit_nat.h"
#include "lib/xmit_fnat.h"

#define NAT_NOT_REPLY (-1)
static __always_inline struct sl_conn* find_key(const struct sl_dp_config* cfg,
                                                const struct sl_conn_key* k) {
  __u32 b1, b2;
  sl_conn_buckets(sl_conn_hash(k, cfg->conn_seed), cfg->conn_buckets, &b1, &b2);
  struct sl_conn* c = find_in(b1, k);
  if (!c && b2 != b1) c = find_in(b2, k);
  return c;
}

/* A global (not static) function: the verifier checks it once, on its own, instead of once
 * for every state the main program reaches the call in (which exceeds its budget), and its
 * keys, record copy and FIB query get a stack frame of their own beside the main path's.
 * `p` and `cfg` are plain memory to it; the packet is re-read from ctx.
 * FULLNAT's replies take the same steps (lib/xmit_fnat.h has the differences): one function
 * for both, as a second frame beside the main program's would not fit the stack. */
__attribute__((noinline)) int nat_reply(struct xdp_md* ctx, const struct pkt* p,
                                        const struct sl_dp_config* cfg) {
  if (!ctx || !p || !cfg) return NAT_NOT_REPLY;
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  /* The reply's tuple, ends swapped: the twin's key (in scratch_key: the stack is full). */
  __u32 zero = 0;
  struct sl_conn_key* kp = bpf_map_lookup_elem(&scratch_key, &zero);
  if (!kp) return NAT_NOT_REPLY;
  struct sl_conn_key* tkp = kp;
  __builtin_memcpy(tkp->caddr, p->key.vaddr, 16);
  __builtin_memcpy(tkp->vaddr, p->key.caddr, 16);
  tkp->cport = p->key.vport;
  tkp->vport = p->key.cport;
  tkp->proto = p->key.proto;
  tkp->family = p->key.family;
  tkp->kind = SL_KEY_REPLY;
  tkp->pad = 0;
#define tk (*tkp)
  __u32 where = 0;
  struct sl_conn* t = find_key_at(cfg, &tk, &where);
  if (!t) return NAT_NOT_REPLY;
  __u32 tw = *(volatile __u32*)&t->word;
  if (tw >> 24) return to_slow_path(ctx);
  __u32 dest_id = t->dest_id;
  /* FULLNAT: the reply went to the local end; the client's is in the twin's record. */
  if (((tw >> 8) & 0xff) == SL_FWD_FULLNAT && !fnat_client(t, tw, where, &tk))
    return to_slow_path(ctx);
  /* The service's address and port from the real server's record (seqlocked). */
  if (dest_id >= cfg->max_dests) return to_slow_path(ctx);
  struct sl_dest* rec = bpf_map_lookup_elem(&dests, &dest_id);
  if (!rec) return to_slow_path(ctx);
  __u32 seq = *(volatile __u32*)&rec->seq;
  if (seq & 1) return to_slow_path(ctx);
  asm volatile("" ::: "memory");
  __u8 dflags = rec->flags;
  __u16 vport = rec->vport;
  /* The twin's key becomes the connection's: same client end, the service's end. */
  __builtin_memcpy(tk.vaddr, rec->vaddr, 16);
  asm volatile("" ::: "memory");
  if (*(volatile __u32*)&rec->seq != seq) return to_slow_path(ctx);
  tk.vport = vport ? vport : p->key.cport;
  tk.kind = SL_KEY_CONN;
  struct sl_conn* c = (dflags & SL_DEST_F_LIVE) ? find_key_at(cfg, &tk, &where) : 0;
  __u32 w = c ? *(volatile __u32*)&c->word : 0;
  if (!c || c->dest_id != dest_id || ((w ^ tw) & 0xff00)) { /* not the twin's method */
    bump1(SLC_kNatTwinStale);
    return NAT_NOT_REPLY;
  }
  __u8 flags = (w >> 16) & 0xff;
  if ((w >> 24) || !cfg->forward || (flags & (SL_CONN_F_TEMPLATE | SL_CONN_F_ONE_PACKET)))
    return to_slow_path(ctx);
  const int fnat = ((w >> 8) & 0xff) == SL_FWD_FULLNAT;
  if (fnat && !fnat_reply_ready(where)) return to_slow_path(ctx);
  __u64 now = bpf_ktime_get_coarse_ns();
  __u64 last = c->last_seen_ns;
  if (now > last && now - last > (__u64)c->timeout_s * 1000000000ull) return to_slow_path(ctx);
  if (cfg->csum_check && partial_checksum(data, end, p)) return to_slow_path(ctx);
  struct bpf_fib_lookup fib = {};
  if (!reply_route(ctx, data, end, p, tk.vaddr, tk.vport, tk.caddr, tk.cport, &fib))
    return to_slow_path(ctx);

  /* conn::updateConn with Direction::kOutput. */
  if (!conn_step(cfg, c, w, CONN_OUTPUT, p->key.proto, p->tcp_flags, dest_id, now, last))
    return to_slow_path(ctx);

  dest_stats_add(cfg, dest_id, p->ip_len, 1);
  if (!nat_rewrite(data, end, p, 1, tk.vaddr, tk.vport)) return XDP_ABORTED;
  if (fnat) {
    if (!nat_rewrite(data, end, p, 0, tk.caddr, tk.cport)) return XDP_ABORTED;
    bump2(SLC_kRxPackets, SLC_kFnatReplies);
  } else {
    bump2(SLC_kRxPackets, SLC_kNatReplies);
  }
  return send_reply(ctx, data, end, &fib);
#undef tk
}

/* An ICMP error not to a VIP: one about a NAT connection's request (quoting
 * CIP:cport -> RIP:rport, the twin's key as it stands) is the slow path's, which translates
 * it for the client; any other is the kernel's, malformed quotes included (they are not
 * the director's to judge). */
static __always_inline int icmp_error_nat(struct xdp_md* ctx, void* data, void* end,
                                          const struct pkt* p, const struct sl_dp_config* cfg) {
  struct sl_conn_key k __attribute__((aligned(8))) = {};
  k.family = p->key.family;
  __u32 reason = 0;
  __u32 off = p->l4_off + 8;
  int r = p->key.family == SL_AF_V4 ? parse_quote4(data, end, off, p->l4_end, &k, &reason)
                                    : parse_quote6(data, end, off, p->l4_end, &k, &reason);
  if (r == QUOTE_OK && cfg->enabled && cfg->conn_buckets) {
    /* parse_quote reads the quote as service -> client; this one is client -> server, whose
     * ends as they stand are the twin's key: swap them back, in place. */
    __u8 a[16];
    __builtin_memcpy(a, k.caddr, 16);
    __builtin_memcpy(k.caddr, k.vaddr, 16);
    __builtin_memcpy(k.vaddr, a, 16);
    __u16 port = k.cport;
    k.cport = k.vport;
    k.vport = port;
    k.kind = SL_KEY_REPLY;
    if (find_key(cfg, &k)) return to_slow_path(ctx);
  }
  steer_count(SL_STEER_PASS_NO_MATCH, 0);
  return pass();
}

#endif /* SLUICE_BPF_NAT_REPLY_H */
