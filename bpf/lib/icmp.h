/* ICMP/ICMPv6 errors to a VIP: the quoted packet parsed as net/icmp_quote.cc does, and
 * the decision whether the daemon must forward the error. */
#ifndef SLUICE_BPF_ICMP_H
#define SLUICE_BPF_ICMP_H

#include "lib/conn.h"
#include "lib/steer.h"

/* ---------------------------------------------------------------- ICMP errors */

/* Mirrors net/icmp_quote.cc step by step: the same checks in the same order, so a quote is
 * dropped with the same counter whichever path sees it. */
#define QUOTE_OK 0
#define QUOTE_NOT_OURS 1
#define QUOTE_DROP 2

static __always_inline int icmp_error_type(const struct pkt* p) {
  __u8 t = p->icmp_type;
  if (p->key.family == SL_AF_V4) return t == 3 || t == 11 || t == 12;
  return t == 1 || t == 2 || t == 3 || t == 4;
}

/* The quoted TCP/UDP header at [off, qend); the quoted packet's L4 part measured l4_total. */
static __always_inline int parse_quote_l4(void* data, void* end, __u32 off, __u32 qend,
                                          __u32 l4_total, int whole, struct sl_conn_key* k,
                                          __u32* reason) {
  __u32 min = k->proto == IPPROTO_TCP ? 20 : 8;
  if (l4_total < min) { *reason = SLC_kIcmpQuoteBadLen; return QUOTE_DROP; }
  if (qend - off < 8) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  __u8* l4 = data + (off & OFF_MASK);
  if ((void*)(l4 + 8) > end) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  if (k->proto == IPPROTO_UDP) {
    __u32 ulen = ld16(l4 + 4);
    if (ulen < 8 || (whole && ulen > l4_total)) { *reason = SLC_kIcmpQuoteBadLen; return QUOTE_DROP; }
  } else if (qend - off > 12) {
    if ((void*)(l4 + 13) > end) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
    __u32 doff = (__u32)(l4[12] >> 4) * 4;
    if (doff < 20 || doff > l4_total) { *reason = SLC_kIcmpQuoteBadLen; return QUOTE_DROP; }
  }
  /* The quoted packet went from the service to the client: its ends swapped. */
  __builtin_memcpy(&k->vport, l4, 2);
  __builtin_memcpy(&k->cport, l4 + 2, 2);
  return QUOTE_OK;
}

static __always_inline int parse_quote4(void* data, void* end, __u32 off, __u32 qend,
                                        struct sl_conn_key* k, __u32* reason) {
  if (qend - off < 20) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  __u8* ip = data + (off & OFF_MASK);
  if ((void*)(ip + 20) > end) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  if ((ip[0] >> 4) != 4) { *reason = SLC_kIcmpQuoteBadHeader; return QUOTE_DROP; }
  __u32 hdr = (__u32)(ip[0] & 0x0f) * 4;
  if (hdr < 20) { *reason = SLC_kIcmpQuoteBadHeader; return QUOTE_DROP; }
  if (qend - off < hdr) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  __u32 total = ld16(ip + 2);
  if (total < hdr) { *reason = SLC_kIcmpQuoteBadLen; return QUOTE_DROP; }
  __u8 proto = ip[9];
  __u16 frag = ld16(ip + 6);
  if ((frag & 0x1fff) != 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) return QUOTE_NOT_OURS;
  k->proto = proto;
  __builtin_memcpy(k->vaddr, ip + 12, 4);
  __builtin_memcpy(k->caddr, ip + 16, 4);
  return parse_quote_l4(data, end, off + hdr, qend, total - hdr, (frag & 0x2000) == 0, k, reason);
}

static __always_inline int parse_quote6(void* data, void* end, __u32 off, __u32 qend,
                                        struct sl_conn_key* k, __u32* reason) {
  if (qend - off < 40) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  __u8* ip = data + (off & OFF_MASK);
  if ((void*)(ip + 40) > end) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
  if ((ip[0] >> 4) != 6) { *reason = SLC_kIcmpQuoteBadHeader; return QUOTE_DROP; }
  __u32 total = 40 + (__u32)ld16(ip + 4);
  __builtin_memcpy(k->vaddr, ip + 8, 16);
  __builtin_memcpy(k->caddr, ip + 24, 16);
  __u32 at = off + 40;
  __u8 next = ip[6];
  int whole = 1;
  for (int n = 0; n <= MAX_V6_EXT; n++) {
    int is_ext = next == IP6_HOPOPTS || next == IP6_ROUTING || next == IP6_DSTOPTS ||
                 next == IP6_FRAGMENT || next == IP6_AH;
    if (!is_ext) break;
    if (n == MAX_V6_EXT) { *reason = SLC_kIcmpQuoteBadHeader; return QUOTE_DROP; }
    if (qend - at < 8) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
    __u8* ext = data + (at & OFF_MASK);
    if ((void*)(ext + 8) > end) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
    __u32 len;
    if (next == IP6_FRAGMENT) len = 8;
    else if (next == IP6_AH) len = ((__u32)ext[1] + 2) * 4;
    else len = ((__u32)ext[1] + 1) * 8;
    if (qend - at < len) { *reason = SLC_kIcmpQuoteTruncated; return QUOTE_DROP; }
    if (next == IP6_FRAGMENT) {
      __u16 frag = ld16(ext + 2);
      if ((frag >> 3) != 0) return QUOTE_NOT_OURS;
      whole = (frag & 1) == 0;
    }
    next = ext[0];
    at += len;
  }
  if (next != IPPROTO_TCP && next != IPPROTO_UDP) return QUOTE_NOT_OURS;
  __u32 hdrs = at - off;
  if (total < hdrs) { *reason = SLC_kIcmpQuoteBadLen; return QUOTE_DROP; }
  k->proto = next;
  return parse_quote_l4(data, end, at, qend, total - hdrs, whole, k, reason);
}

/* An ICMP error to a VIP (ip_vs_in_icmp): only one that names a connection needs the
 * daemon, which forwards it to that connection's real server. Errors about no connection
 * (the host's own packets from the VIP) must reach the kernel: a frame handed to the
 * daemon cannot come back to the stack. */
static __always_inline int icmp_error(struct xdp_md* ctx, void* data, void* end,
                                      const struct pkt* p) {
  struct sl_conn_key k __attribute__((aligned(8))) = {};
  k.family = p->key.family;
  k.kind = SL_KEY_CONN;
  __u32 reason = 0;
  __u32 off = p->l4_off + 8;
  int r = p->key.family == SL_AF_V4 ? parse_quote4(data, end, off, p->l4_end, &k, &reason)
                                    : parse_quote6(data, end, off, p->l4_end, &k, &reason);
  if (r == QUOTE_DROP) return drop(reason);
  if (r == QUOTE_NOT_OURS) {
    steer_count(SL_STEER_PASS_NO_MATCH, 0);
    return pass();
  }
  __u32 zero = 0;
  struct sl_dp_config* cfg = bpf_map_lookup_elem(&dp_config, &zero);
  if (!cfg || !cfg->enabled || !cfg->conn_buckets) return to_slow_path(ctx);
  __u32 b1, b2;
  sl_conn_buckets(sl_conn_hash(&k, cfg->conn_seed), cfg->conn_buckets, &b1, &b2);
  struct sl_conn* c = find_in(b1, &k);
  if (!c && b2 != b1) c = find_in(b2, &k);
  if (c) return to_slow_path(ctx);
  steer_count(SL_STEER_PASS_NO_MATCH, 0);
  return pass();
}

#endif /* SLUICE_BPF_ICMP_H */
