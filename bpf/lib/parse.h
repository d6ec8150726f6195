/* Frame parsing with the same bounds checks, in the same order, and the same named drop
 * counters as net/packet.cc. */
#ifndef SLUICE_BPF_PARSE_H
#define SLUICE_BPF_PARSE_H

#include "lib/maps.h"

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

#endif /* SLUICE_BPF_PARSE_H */
