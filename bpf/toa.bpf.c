/* sluice-toa: the real server's side of FULLNAT's client address (TOA), without toa.ko.
 *
 * In FULLNAT the director rewrites both addresses, so a real server's socket sees the
 * director's local address (LIP:lport) as its peer. The director, as DPVS does, writes the
 * client's address into the ACK that completes the handshake, as TCP option 254 (TOA):
 * len 8 (port, IPv4 address) or len 20 (port, IPv6 address). This cgroup sockops program
 * reads that option when the kernel calls it for that ACK (PASSIVE_ESTABLISHED_CB, where
 * skb_data covers the ACK's TCP header) and stores the client in `toa_conns`, keyed by the
 * connection as the socket sees it; sluice-toa answers lookups from that map, and
 * libsluice_toa.so gives the answer to an unmodified application's accept()/getpeername().
 *
 * Why the options are walked by hand instead of bpf_load_hdr_opt(): the helper treats 254
 * as an RFC 6994 experimental kind and will only search it with a 2- or 4-byte "magic"
 * that must match the bytes after the length. TOA has no magic: those bytes are the
 * client's port, which is what we are looking for. The walk reads the same ACK, through
 * the packet pointers sockops has had since 5.10 (the kernel version the helper needs too).
 *
 * Entries go when the socket reaches TCP_CLOSE (the state callback, asked for only on
 * sockets that got an entry, so other connections cost nothing after their handshake). The
 * map is an LRU: a server whose sockets outnumber it loses the oldest entries (counted as
 * evicted when their socket closes) rather than refusing new ones.
 *
 * Trade-offs: only the handshake's last ACK is read (as toa.ko's DPVS mode); a TOA that
 * arrives on a later segment is not seen, and that client stays "unknown". A kind-254
 * option of another length is another experiment's (TCP Fast Open's cookie, RFC 6994
 * users) and is skipped; a TOA whose length does not fit the socket's family (8 on an IPv6
 * connection, 20 on an IPv4 one) counts as malformed and is not stored.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "abi/toa.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SL_TOA_MAX_CONNS);
  __type(key, struct sl_toa_key);
  __type(value, struct sl_toa_client);
} toa_conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SL_TOA_COUNTERS);
  __type(key, __u32);
  __type(value, __u64);
} toa_counters SEC(".maps");

static __always_inline void count(__u32 which) {
  __u64* c = bpf_map_lookup_elem(&toa_counters, &which);
  if (c) *c += 1;
}

/* The connection as the socket sees it; an IPv4 peer on a dual-stack IPv6 socket
 * (::ffff:a.b.c.d) is keyed as IPv4. Returns 0, or -1 for a family that is neither. */
static __always_inline int make_key(struct bpf_sock_ops* skops, struct sl_toa_key* k) {
  __builtin_memset(k, 0, sizeof(*k));
  k->local_port = bpf_htons((__u16)skops->local_port);       /* host order in sockops */
  k->peer_port = bpf_htons((__u16)bpf_ntohl(skops->remote_port)); /* be16 in the top half */
  if (skops->family == AF_INET) {
    __u32 l = skops->local_ip4, p = skops->remote_ip4;
    k->family = SL_AF_V4;
    __builtin_memcpy(k->local_addr, &l, 4);
    __builtin_memcpy(k->peer_addr, &p, 4);
    return 0;
  }
  if (skops->family != AF_INET6) return -1;
  /* One 32-bit load per field: the context allows no wider access, and without volatile
   * clang merges neighbouring fields into 64-bit loads the verifier refuses. */
  __u32 l[4], p[4];
  for (int i = 0; i < 4; i++) {
    l[i] = *(volatile __u32*)&skops->local_ip6[i];
    p[i] = *(volatile __u32*)&skops->remote_ip6[i];
  }
  if (l[0] == 0 && l[1] == 0 && l[2] == bpf_htonl(0xffff)) {
    k->family = SL_AF_V4;
    __builtin_memcpy(k->local_addr, &l[3], 4);
    __builtin_memcpy(k->peer_addr, &p[3], 4);
    return 0;
  }
  k->family = SL_AF_V6;
  __builtin_memcpy(k->local_addr, l, 16);
  __builtin_memcpy(k->peer_addr, p, 16);
  return 0;
}

#define TOA_ABSENT 0
#define TOA_FOUND 1
#define TOA_MALFORMED 2

/* Walks the TCP options of the packet sockops is looking at for a TOA fitting `family`. */
static __always_inline int find_toa(struct bpf_sock_ops* skops, __u8 family,
                                    struct sl_toa_client* out) {
  __u8* th = (__u8*)(long)skops->skb_data;
  void* end = (void*)(long)skops->skb_data_end;
  if ((void*)(th + TCP_HDR_MIN) > end) return TOA_ABSENT; /* no packet (e.g. Fast Open) */
  __u32 doff = (__u32)(th[12] >> 4) << 2;
  if (doff < TCP_HDR_MIN) return TOA_MALFORMED;
  __u32 off = TCP_HDR_MIN;
  /* 40 bytes of options: at most 40 steps (each at least one byte). */
  for (int i = 0; i < TCP_HDR_MAX - TCP_HDR_MIN; i++) {
    if (off >= doff || off > TCP_HDR_MAX) break;
    /* Every read through `o`, the one pointer checked against `end` (the verifier does not
     * carry a check on th + off over to th + (off + 1)). */
    __u8* o = th + off;
    if ((void*)(o + 1) > end) return TOA_MALFORMED;
    __u8 kind = o[0];
    if (kind == 0) break; /* end of options */
    if (kind == 1) {      /* no-op */
      off++;
      continue;
    }
    if ((void*)(o + 2) > end) return TOA_MALFORMED;
    __u8 len = o[1];
    if (len < 2 || off + len > doff) return TOA_MALFORMED;
    if (kind == SL_TOA_KIND && (len == SL_TOA_LEN_V4 || len == SL_TOA_LEN_V6)) {
      if ((len == SL_TOA_LEN_V4) != (family == SL_AF_V4)) return TOA_MALFORMED;
      __builtin_memset(out, 0, sizeof(*out));
      if (len == SL_TOA_LEN_V4) {
        if ((void*)(o + SL_TOA_LEN_V4) > end) return TOA_MALFORMED;
        out->family = SL_AF_V4;
        __builtin_memcpy(&out->port, o + 2, 2);
        __builtin_memcpy(out->addr, o + 4, 4);
      } else {
        if ((void*)(o + SL_TOA_LEN_V6) > end) return TOA_MALFORMED;
        out->family = SL_AF_V6;
        __builtin_memcpy(&out->port, o + 2, 2);
        __builtin_memcpy(out->addr, o + 4, 16);
      }
      return TOA_FOUND;
    }
    off += len;
  }
  return TOA_ABSENT;
}

static __always_inline void on_established(struct bpf_sock_ops* skops) {
  struct sl_toa_key k;
  struct sl_toa_client c;
  if (make_key(skops, &k) != 0) return;
  switch (find_toa(skops, k.family, &c)) {
    case TOA_ABSENT:
      count(SL_TOA_ABSENT);
      /* An entry under this 4-tuple can only be a stale one (its close was missed): a
       * connection without a TOA must never inherit an earlier connection's client. */
      bpf_map_delete_elem(&toa_conns, &k);
      return;
    case TOA_MALFORMED:
      count(SL_TOA_MALFORMED);
      bpf_map_delete_elem(&toa_conns, &k);
      return;
  }
  if (bpf_map_update_elem(&toa_conns, &k, &c, BPF_ANY) != 0) {
    count(SL_TOA_FULL);
    return;
  }
  count(SL_TOA_STORED);
  /* The state callback only where there is an entry to remove. */
  bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

static __always_inline void on_close(struct bpf_sock_ops* skops) {
  struct sl_toa_key k;
  if (make_key(skops, &k) != 0) return;
  count(bpf_map_delete_elem(&toa_conns, &k) == 0 ? SL_TOA_REMOVED : SL_TOA_EVICTED);
}

SEC("sockops")
int sluice_toa(struct bpf_sock_ops* skops) {
  switch (skops->op) {
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
      on_established(skops);
      break;
    case BPF_SOCK_OPS_STATE_CB:
      if (skops->args[1] == BPF_TCP_CLOSE) on_close(skops);
      break;
  }
  return 1;
}
