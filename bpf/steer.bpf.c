/* Sluice's XDP program: the fast path for established connections, and the steering that
 * sends everything needing policy to the daemon's AF_XDP sockets (the slow path).
 *
 * For every frame it does what dp::Datapath::process does, in the same order, and must
 * reach the same verdict with the same counters (tests/golden run both on one table):
 *   - parse with the same bounds checks; not IP -> kernel; malformed -> drop with the same
 *     named counter (the kernel would drop it too);
 *   - TCP/UDP whose connection is in the shared table, DR, resolved dest, unlocked,
 *     unexpired: update state/timeout/last_seen/counts/stats, rewrite the MACs, transmit;
 *   - anything else that may be ours (new flow, expired entry, SYN on a closing one, an
 *     entry user space holds, an unresolved dest, a method not done here) -> slow path;
 *   - an ICMP/ICMPv6 error to a VIP whose quote names a connection -> slow path, which
 *     forwards it to that connection's real server (path MTU discovery needs it there); a
 *     malformed quote -> drop with the same named counter as net/icmp_quote.cc;
 *   - the rest (no connection, no service; other ICMP, errors about no connection;
 *     fragments not for a VIP) -> kernel.
 * A frame sent to the slow path is counted there, not here, so the two paths' counters add
 * up to what the C++ path alone would count.
 *
 * The trade-off: the program holds no policy (no scheduling, no table inserts), so it
 * stays small enough to verify, and a packet it cannot finish costs one AF_XDP round trip.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dp/conn_hash.h"
#include "dp/counters_list.h"
#include "dp/fastpath_abi.h"
#include "io/steer_abi.h"

char LICENSE[] SEC("license") = "GPL";

enum sl_counter {
#define SL_X(e, n, d) SLC_##e,
  SLUICE_COUNTERS(SL_X)
#undef SL_X
  SLC_COUNT
};

/* ---------------------------------------------------------------- maps */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_SERVICES);
  __type(key, struct sl_steer_key);
  __type(value, struct sl_steer_val);
} services SEC(".maps");

/* Addresses that carry at least one service (key: port 0, proto 0): fragments to them are
 * the daemon's business. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_SERVICES);
  __type(key, struct sl_steer_key);
  __type(value, struct sl_steer_val);
} vips SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_IFACES);
  __type(key, __u32);
  __type(value, __u32);
} xsk_base SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, SL_STEER_XSK_SLOTS);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

/* Egress interfaces for redirects (ifindex -> ifindex): a devmap lets the kernel bulk
 * the transmissions, which a plain bpf_redirect() does not. */
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, SL_STEER_MAX_IFACES);
  __type(key, __u32);
  __type(value, __u32);
} tx_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SL_STEER_NUM_STATS);
  __type(key, __u32);
  __type(value, __u64);
} steer_stats SEC(".maps");

/* The shared tables: sized by the loader before load, mmap'ed by the daemon. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct sl_conn_bucket);
} conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dest);
} dests SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dest_counts);
} dest_counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_stats);
} dest_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dp_config);
} dp_config SEC(".maps");

/* All named counters of one CPU in one value: one lookup per packet, then plain adds. */
struct sl_counter_block {
  __u64 v[SLC_COUNT];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_counter_block);
} dp_counters SEC(".maps");

/* ---------------------------------------------------------------- helpers */

#define ETH_HLEN_ 14
#define VLAN_HLEN 4
#define MAX_VLAN 2
#define MAX_V6_EXT 8
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_ESP 50
#define IP6_AH 51
#define IP6_NONXT 59
#define IP6_DSTOPTS 60
#define OFF_MASK 0x3fff /* frames are at most a page: keeps offsets provably small */

static __always_inline void bump2(__u32 a, __u32 b) {
  __u32 zero = 0;
  struct sl_counter_block* c = bpf_map_lookup_elem(&dp_counters, &zero);
  if (c && a < SLC_COUNT && b < SLC_COUNT) {
    c->v[a] += 1;
    c->v[b] += 1;
  }
}

static __always_inline int steer_count(__u32 idx, int action) {
  __u64* c = bpf_map_lookup_elem(&steer_stats, &idx);
  if (c) *c += 1;
  return action;
}

/* Kernel verdicts, counted as the C++ path counts them. */
static __always_inline int pass(void) {
  bump2(SLC_kRxPackets, SLC_kPassPackets);
  return XDP_PASS;
}
static __always_inline int drop(__u32 reason) {
  bump2(SLC_kRxPackets, reason);
  return XDP_DROP;
}

static __always_inline __u16 ld16(const __u8* p) { return ((__u16)p[0] << 8) | p[1]; }

/* The parser writes addresses, ports, protocol and family straight into the connection
 * key, so the lookup needs no copy. */
struct pkt {
  struct sl_conn_key key __attribute__((aligned(8)));
  __u32 l3_off;
  __u32 ip_len;
  __u32 l4_off;  /* the TCP/UDP/ICMP header; ICMP: the message is [l4_off, l4_end) */
  __u32 l4_end;
  __u8 tcp_flags;
  __u8 fragment;
  __u8 icmp;      /* an ICMP (v4) / ICMPv6 (v6) header was parsed */
  __u8 icmp_type;
};

#define PARSE_OK 0
#define PARSE_NOT_IP 1
#define PARSE_DROP 2

/* L4 header at [off, l4end) of a datagram; mirrors net/packet.cc parseL4. */
static __always_inline int parse_l4(void* data, void* end, __u32 off, __u32 l4end, int whole,
                                    struct pkt* p, __u32* reason) {
  __u32 avail = l4end - off;
  __u8* l4 = data + (off & OFF_MASK);
  p->l4_off = off;
  if (p->key.proto == IPPROTO_TCP) {
    if (avail < 20) { *reason = SLC_kTcpTruncated; return PARSE_DROP; }
    if ((void*)(l4 + 20) > end) { *reason = SLC_kTcpTruncated; return PARSE_DROP; }
    __u32 hdr = (__u32)(l4[12] >> 4) * 4;
    if (hdr < 20 || hdr > avail) { *reason = SLC_kTcpBadDoff; return PARSE_DROP; }
    __builtin_memcpy(&p->key.cport, l4, 2);
    __builtin_memcpy(&p->key.vport, l4 + 2, 2);
    p->tcp_flags = l4[13];
  } else if (p->key.proto == IPPROTO_UDP) {
    if (avail < 8) { *reason = SLC_kUdpTruncated; return PARSE_DROP; }
    if ((void*)(l4 + 8) > end) { *reason = SLC_kUdpTruncated; return PARSE_DROP; }
    __u32 ulen = ld16(l4 + 4);
    if (ulen < 8 || (whole && ulen > avail)) { *reason = SLC_kUdpBadLen; return PARSE_DROP; }
    __builtin_memcpy(&p->key.cport, l4, 2);
    __builtin_memcpy(&p->key.vport, l4 + 2, 2);
  } else if ((p->key.proto == IPPROTO_ICMP && p->key.family == SL_AF_V4) ||
             (p->key.proto == 58 /* ICMPv6 */ && p->key.family == SL_AF_V6)) {
    if (avail < 8 || (void*)(l4 + 8) > end) {
      *reason = p->key.family == SL_AF_V4 ? SLC_kIcmpTruncated : SLC_kIcmp6Truncated;
      return PARSE_DROP;
    }
    p->icmp = 1;
    p->icmp_type = l4[0];
    p->l4_end = l4end;
  }
  return PARSE_OK;
}

static __always_inline int parse_ipv4(void* data, void* end, struct pkt* p, __u32* reason) {
  __u32 l3 = p->l3_off;
  __u8* ip = data + (l3 & OFF_MASK);
  if ((void*)(ip + 20) > end) { *reason = SLC_kIpv4Truncated; return PARSE_DROP; }
  __u32 present = (__u32)((long)end - (long)ip);
  if ((ip[0] >> 4) != 4) { *reason = SLC_kIpv4BadVersion; return PARSE_DROP; }
  __u32 hdr = (__u32)(ip[0] & 0x0f) * 4;
  if (hdr < 20) { *reason = SLC_kIpv4BadIhl; return PARSE_DROP; }
  if (hdr > present) { *reason = SLC_kIpv4Truncated; return PARSE_DROP; }
  __u32 total = ld16(ip + 2);
  if (total < hdr || total > present) { *reason = SLC_kIpv4BadTotalLen; return PARSE_DROP; }
  p->key.family = SL_AF_V4;
  p->ip_len = total;
  p->key.proto = ip[9];
  __builtin_memcpy(p->key.caddr, ip + 12, 4);
  __builtin_memcpy(p->key.vaddr, ip + 16, 4);
  __u16 frag = ld16(ip + 6);
  int more = (frag & 0x2000) != 0;
  __u16 offset = frag & 0x1fff;
  p->fragment = more || offset != 0;
  if (offset != 0) return PARSE_OK;
  return parse_l4(data, end, l3 + hdr, l3 + total, !p->fragment, p, reason);
}

static __always_inline int parse_ipv6(void* data, void* end, struct pkt* p, __u32* reason) {
  __u32 l3 = p->l3_off;
  __u8* ip = data + (l3 & OFF_MASK);
  if ((void*)(ip + 40) > end) { *reason = SLC_kIpv6Truncated; return PARSE_DROP; }
  __u32 present = (__u32)((long)end - (long)ip);
  if ((ip[0] >> 4) != 6) { *reason = SLC_kIpv6BadVersion; return PARSE_DROP; }
  __u32 total = 40 + (__u32)ld16(ip + 4);
  if (total > present || total > 0xffff) { *reason = SLC_kIpv6BadPayloadLen; return PARSE_DROP; }
  p->key.family = SL_AF_V6;
  p->ip_len = total;
  __builtin_memcpy(p->key.caddr, ip + 8, 16);
  __builtin_memcpy(p->key.vaddr, ip + 24, 16);
  __u32 l3end = l3 + total;
  __u32 off = l3 + 40;
  __u8 next = ip[6];
  for (int n = 0; n <= MAX_V6_EXT; n++) {
    int is_ext = next == IP6_HOPOPTS || next == IP6_ROUTING || next == IP6_DSTOPTS ||
                 next == IP6_FRAGMENT || next == IP6_AH;
    if (!is_ext) break;
    if (n == MAX_V6_EXT) { *reason = SLC_kIpv6ExtTooMany; return PARSE_DROP; }
    if (l3end - off < 2) { *reason = SLC_kIpv6ExtTruncated; return PARSE_DROP; }
    __u8* ext = data + (off & OFF_MASK);
    if ((void*)(ext + 8) > end) {
      /* Fewer than 8 bytes left in the frame: every extension header is at least 8. */
      *reason = SLC_kIpv6ExtTruncated;
      return PARSE_DROP;
    }
    __u32 len;
    if (next == IP6_FRAGMENT) len = 8;
    else if (next == IP6_AH) len = ((__u32)ext[1] + 2) * 4;
    else len = ((__u32)ext[1] + 1) * 8;
    if (l3end - off < len) { *reason = SLC_kIpv6ExtTruncated; return PARSE_DROP; }
    __u8 hdr_next = ext[0];
    if (next == IP6_FRAGMENT) {
      __u16 frag = ld16(ext + 2);
      int more = frag & 1;
      __u16 offset = frag >> 3;
      p->fragment = more || offset != 0;
      if (offset != 0) {
        p->key.proto = hdr_next;
        return PARSE_OK;
      }
    }
    next = hdr_next;
    off += len;
  }
  p->key.proto = next;
  if (next == IP6_ESP || next == IP6_NONXT) return PARSE_OK;
  return parse_l4(data, end, off, l3end, !p->fragment, p, reason);
}

static __always_inline int parse(void* data, void* end, struct pkt* p, __u32* reason) {
  if (data + ETH_HLEN_ > end) { *reason = SLC_kEthTruncated; return PARSE_DROP; }
  __u32 off = 12;
  __u8* d = data;
  __u16 type = ld16(d + 12);
#pragma unroll
  for (int i = 0; i <= MAX_VLAN; i++) {
    if (type != ETH_P_8021Q && type != ETH_P_8021AD) break;
    if (i == MAX_VLAN) { *reason = SLC_kVlanTooDeep; return PARSE_DROP; }
    __u8* tag = data + off;
    if ((void*)(tag + 2 + VLAN_HLEN) > end) { *reason = SLC_kVlanTruncated; return PARSE_DROP; }
    off += VLAN_HLEN;
    type = ld16(tag + VLAN_HLEN);
  }
  p->l3_off = off + 2;
  if (type == ETH_P_IP) return parse_ipv4(data, end, p, reason);
  if (type == ETH_P_IPV6) return parse_ipv6(data, end, p, reason);
  return PARSE_NOT_IP;
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

/* A SYN on an entry in these states may open a new connection (conn_reuse_mode=1): the
 * slow path decides (it alone knows whether a persistence template controls the entry). */
static __always_inline int reusable_state(__u8 s) {
  return s == SL_TCP_TIME_WAIT || s == SL_TCP_CLOSE;
}

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
  if (p->key.proto == IPPROTO_UDP && field == 0 && p->key.family == SL_AF_V4) return 0;
  int words = p->key.family == SL_AF_V4 ? 2 : 8;
  __u32 len = p->ip_len - (p->l4_off - p->l3_off);
  __u32 s = sum16(p->key.caddr, words) + sum16(p->key.vaddr, words) + p->key.proto + (len >> 16) +
            (len & 0xffff);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return field == s || (s == 0xffff && field == 0) || (s == 0 && field == 0xffff);
}

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

static __always_inline void bump1(__u32 a) {
  __u32 zero = 0;
  struct sl_counter_block* c = bpf_map_lookup_elem(&dp_counters, &zero);
  if (c && a < SLC_COUNT) c->v[a] += 1;
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

/* ---------------------------------------------------------------- the program */

SEC("xdp")
int sluice_steer(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct pkt p = {};
  __u32 reason = 0;

  int r = parse(data, end, &p, &reason);
  if (r == PARSE_NOT_IP) {
    steer_count(SL_STEER_PASS_NOT_IP, 0);
    return pass();
  }
  if (r == PARSE_DROP) {
    steer_count(SL_STEER_PASS_MALFORMED, 0);
    return drop(reason);
  }
  if (p.key.proto != IPPROTO_TCP && p.key.proto != IPPROTO_UDP) {
    if (p.icmp && !p.fragment && icmp_error_type(&p)) {
      struct sl_steer_key vk = {};
      __builtin_memcpy(vk.addr, p.key.vaddr, 16);
      vk.family = p.key.family;
      if (bpf_map_lookup_elem(&vips, &vk)) return icmp_error(ctx, data, end, &p);
    }
    steer_count(SL_STEER_PASS_NO_MATCH, 0);
    return pass();
  }
  if (p.fragment) {
    struct sl_steer_key vk = {};
    __builtin_memcpy(vk.addr, p.key.vaddr, 16);
    vk.family = p.key.family;
    if (!bpf_map_lookup_elem(&vips, &vk)) {
      steer_count(SL_STEER_PASS_FRAGMENT, 0);
      return pass();
    }
    return drop(p.key.family == SL_AF_V4 ? SLC_kIpv4Fragment : SLC_kIpv6Fragment);
  }

  __u32 zero = 0;
  struct sl_dp_config* cfg = bpf_map_lookup_elem(&dp_config, &zero);
  if (!cfg) return XDP_PASS;

  /* Until the daemon has set the table up, every frame of a service is the slow path's. */
  if (!cfg->enabled) {
    if (!is_service(&p)) {
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    return to_slow_path(ctx);
  }

  p.key.kind = SL_KEY_CONN;
  const struct sl_conn_key* key = &p.key;
  struct sl_conn* c = 0;
  if (cfg->conn_buckets) {
    __u32 b1, b2;
    sl_conn_buckets(sl_conn_hash(key, cfg->conn_seed), cfg->conn_buckets, &b1, &b2);
    c = find_in(b1, key);
    if (!c && b2 != b1) c = find_in(b2, key);
  }

  if (!c) {
    /* No connection: a new flow of a service is the slow path's; anything else is not ours.
     * A TCP segment that cannot open a connection (no SYN, or RST) goes to the kernel,
     * which resets it: IPVS leaves it to the stack too (tcp_conn_schedule). */
    if (!is_service(&p)) {
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    if (p.key.proto == IPPROTO_TCP && (p.tcp_flags & 0x06) != 0x02) {
      bump1(SLC_kNoConnNotSyn);
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    return to_slow_path(ctx);
  }

  /* An existing connection: finish it here if nothing needs the daemon. */
  __u32 w = *(volatile __u32*)&c->word;
  __u8 state = w & 0xff, fwd = (w >> 8) & 0xff, flags = (w >> 16) & 0xff, lock = w >> 24;
  if (lock || !cfg->forward || fwd != SL_FWD_DR ||
      (flags & (SL_CONN_F_TEMPLATE | SL_CONN_F_ONE_PACKET)))
    return to_slow_path(ctx);
  /* The coarse clock (CLOCK_MONOTONIC_COARSE) costs a load instead of a clock read; it
   * trails the daemon's CLOCK_MONOTONIC by at most a tick, nothing against timeouts of
   * seconds, and the expiry test below tolerates a last_seen slightly in its future. */
  __u64 now = bpf_ktime_get_coarse_ns();
  __u64 last = c->last_seen_ns;
  if (now > last && now - last > (__u64)c->timeout_s * 1000000000ull) return to_slow_path(ctx);
  if (p.key.proto == IPPROTO_TCP && (p.tcp_flags & 0x02) && reusable_state(state))
    return to_slow_path(ctx);
  if (cfg->csum_check && partial_checksum(data, end, &p)) return to_slow_path(ctx);

  __u32 dest_id = c->dest_id;
  if (dest_id >= cfg->max_dests) return to_slow_path(ctx);
  struct sl_dest* d = bpf_map_lookup_elem(&dests, &dest_id);
  if (!d) return to_slow_path(ctx);
  __u32 seq1 = *(volatile __u32*)&d->seq;
  if (seq1 & 1) return to_slow_path(ctx);
  asm volatile("" ::: "memory");
  __u32 out_ifindex = d->ifindex;
  __u8 dflags = d->flags;
  __u8 smac[6], dmac[6];
  __builtin_memcpy(smac, d->smac, 6);
  __builtin_memcpy(dmac, d->dmac, 6);
  asm volatile("" ::: "memory");
  if (*(volatile __u32*)&d->seq != seq1) return to_slow_path(ctx);
  /* A deleted real server (not available) is the slow path's to refuse; the method is the
   * connection's, bound at its creation, whatever the real server's is now. */
  if (!(dflags & SL_DEST_F_LIVE) || !(dflags & SL_DEST_F_AVAILABLE) ||
      !(dflags & SL_DEST_F_RESOLVED))
    return to_slow_path(ctx);

  /* State and activity, as conn::updateConn does for an input-only connection. */
  __u8 next = state;
  __u8 nflags = flags;
  if (p.key.proto == IPPROTO_TCP && state < SL_TCP_STATE_COUNT) {
    int ev = sl_tcp_event(p.tcp_flags);
    if (ev >= 0 && ev < SL_TCP_EVENTS) next = cfg->tcp_next[state][ev];
    if (next != state && next < SL_STATE_COUNT) {
      if (cfg->active[next]) nflags &= ~SL_CONN_F_INACTIVE;
      else nflags |= SL_CONN_F_INACTIVE;
    }
  }
  if (next >= SL_STATE_COUNT) return to_slow_path(ctx);
  /* The step that assures a persistence template needs the template: the slow path's. */
  if (next == SL_TCP_ESTABLISHED && next != state && (flags & SL_CONN_F_CONTROLLED))
    return to_slow_path(ctx);
  __u32 nw = (w & 0xff00ff00u) | next | ((__u32)nflags << 16);
  if (nw != w && __sync_val_compare_and_swap(&c->word, w, nw) != w) return to_slow_path(ctx);
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

  /* Each CPU counts in its own slice: plain adds, no locked instructions. */
  __u32 cpu = bpf_get_smp_processor_id();
  if (cpu < cfg->stat_slots) {
    __u32 si = dest_id * cfg->stat_slots + cpu;
    struct sl_stats* st = bpf_map_lookup_elem(&dest_stats, &si);
    if (st) {
      st->inpkts += 1;
      st->inbytes += p.ip_len;
    }
  }

  /* Direct routing: only the Ethernet header changes. */
  __builtin_memcpy(data, dmac, 6);
  __builtin_memcpy(data + 6, smac, 6);
  bump2(SLC_kRxPackets, SLC_kTxPackets);
  if (out_ifindex == ctx->ingress_ifindex) return XDP_TX;
  return bpf_redirect_map(&tx_ports, out_ifindex, XDP_DROP);
}
