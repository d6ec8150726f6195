/* The outer header(s) of TUN forwarding (ip_vs_tunnel_xmit / ip_vs_tunnel_xmit_v6), written
 * once in plain C for both data paths: the C++ step (fwd/tun.cc) writes them straight into
 * the frame, the XDP program (bpf/lib/xmit_tun.h) into a stack buffer it then copies in
 * front of the packet. Either way the bytes come from this one function, so the two paths
 * cannot drift; tests/golden/dual_path_test.cc holds them to it.
 *
 * What a real server gets (IPVS's choices, named where they come from):
 *  - the client's IP packet untouched (the VIP stays its destination), behind
 *  - an outer IPv4 header (the real server is IPv4) or IPv6 header (it is IPv6), from the
 *    dest's local address (laddr: its route's preferred source) to the real server, with
 *    protocol IPPROTO_IPIP (4) for an IPv4 inner packet, IPPROTO_IPV6 (41) for an IPv6 one
 *    (the mixed families as the kernel supports them), or UDP (17) for GUE;
 *  - TOS / traffic class: the inner DSCP, ECN as INET_ECN_encapsulate (RFC 6040) makes it:
 *    the inner ECN bits, except CE, which becomes ECT(0) outside;
 *  - TTL / hop limit: the inner packet's (IPVS does not decrement it, as in DR);
 *  - IPv4 DF: copied from an IPv4 inner packet (IPVS with pmtu_disc); always set over an
 *    IPv6 one, which routers never fragment either;
 *  - IPv4 ID: 0 with DF (RFC 6864: an atomic datagram's ID means nothing), else the inner
 *    ID. The kernel takes one from its per-destination counter; ours must be the same in
 *    both paths without shared state, and a datagram that may be fragmented is then
 *    identified as well as its inner packet is;
 *  - IPv6 flow label: 0 (the kernel derives one from a hash; 0 is allowed, RFC 6437);
 *  - GUE (ipvs_gue_encap): UDP from 0xc000 | (connection hash & 0x3fff), a port fixed
 *    per connection so the real server's RSS keeps a flow on one queue (the kernel uses
 *    udp_flow_src_port, a hash of the inner flow), to the dest's tun_port, then a 4-byte
 *    GUE header: version 0, no control, hlen 0, proto_ctype 4 or 41, flags 0. The UDP
 *    checksum is left 0 here: with --tun-nocsum over IPv4 that is the wire value (RFC 768);
 *    the C++ step fills it over IPv6 (RFC 8200 requires it) and with --tun-csum.
 */
#ifndef SLUICE_ABI_TUN_H
#define SLUICE_ABI_TUN_H

#include "abi/records.h"

#ifdef __cplusplus
#define SL_TUN_FN static inline
#else
#define SL_TUN_FN static __always_inline
#endif

#define SL_TUN_GUE_HLEN 12 /* UDP 8 + GUE 4 */
#define SL_TUN_MAX_OVERHEAD (40 + SL_TUN_GUE_HLEN)
#define SL_IPPROTO_IPIP 4
#define SL_IPPROTO_IPV6 41
#define SL_IPPROTO_UDP 17

/* What the outer header takes from the inner packet. */
struct sl_tun_inner {
  sl_u8 family;  /* SL_AF_V4 / SL_AF_V6 */
  sl_u8 dsfield; /* IPv4 TOS / IPv6 traffic class */
  sl_u8 ttl;     /* TTL / hop limit */
  sl_u8 df;      /* IPv4: DF was set */
  sl_u16 id;     /* IPv4 identification, host order */
  sl_u16 len;    /* the inner IP datagram's length */
};

/* Fills `in` from the inner IP header at `ip` (20 bytes of IPv4, 8 of IPv6 readable). */
SL_TUN_FN void sl_tun_inner_of(const sl_u8* ip, sl_u8 family, sl_u16 len, struct sl_tun_inner* in) {
  in->family = family;
  in->len = len;
  if (family == SL_AF_V4) {
    in->dsfield = ip[1];
    in->ttl = ip[8];
    in->df = (ip[6] & 0x40) != 0;
    in->id = (sl_u16)(((sl_u16)ip[4] << 8) | ip[5]);
  } else {
    in->dsfield = (sl_u8)(((ip[0] & 0x0f) << 4) | (ip[1] >> 4));
    in->ttl = ip[7];
    in->df = 1;
    in->id = 0;
  }
}

/* Bytes the encapsulation adds in front of the inner packet (the outer family is the real
 * server's), or 0 for a tunnel type this code does not build (GRE, remote checksum). */
SL_TUN_FN sl_u32 sl_tun_overhead(sl_u8 outer_family, sl_u8 tun_type, sl_u8 tun_flags) {
  sl_u32 ip = outer_family == SL_AF_V6 ? 40 : 20;
  if (tun_type == SL_TUN_IPIP) return ip;
  if (tun_type == SL_TUN_GUE && !(tun_flags & SL_TUN_F_REMCSUM)) return ip + SL_TUN_GUE_HLEN;
  return 0;
}

/* The ethertype in front of the outer header. */
SL_TUN_FN sl_u16 sl_tun_ethertype(sl_u8 outer_family) {
  return outer_family == SL_AF_V6 ? 0x86DD : 0x0800;
}

/* INET_ECN_encapsulate: the inner DSCP and ECN, but CE (11) becomes ECT(0) (10) outside. */
SL_TUN_FN sl_u8 sl_tun_dsfield(sl_u8 inner) {
  return (inner & 0x03) == 0x03 ? (sl_u8)((inner & 0xfc) | 0x02) : inner;
}

/* Writes the sl_tun_overhead() bytes of outer header at `o` for the inner packet `in`, to
 * `raddr` from `laddr` (16-byte fields, IPv4 in the first 4), GUE to `tun_port` (network
 * order) from `gue_sport` (host order). */
SL_TUN_FN void sl_tun_write_outer(sl_u8* o, sl_u8 outer_family, sl_u8 tun_type,
                                  sl_u16 tun_port, const sl_u8* laddr, const sl_u8* raddr,
                                  const struct sl_tun_inner* in, sl_u16 gue_sport) {
  const int gue = tun_type == SL_TUN_GUE;
  const sl_u8 inner_proto = in->family == SL_AF_V6 ? SL_IPPROTO_IPV6 : SL_IPPROTO_IPIP;
  const sl_u8 proto = gue ? SL_IPPROTO_UDP : inner_proto;
  const sl_u8 ds = sl_tun_dsfield(in->dsfield);
  const sl_u32 iphl = outer_family == SL_AF_V6 ? 40 : 20;
  const sl_u32 after_ip = (gue ? SL_TUN_GUE_HLEN : 0) + in->len;
  if (outer_family == SL_AF_V6) {
    o[0] = (sl_u8)(0x60 | (ds >> 4));
    o[1] = (sl_u8)(ds << 4);
    o[2] = 0;
    o[3] = 0;
    o[4] = (sl_u8)(after_ip >> 8);
    o[5] = (sl_u8)after_ip;
    o[6] = proto;
    o[7] = in->ttl;
    for (int i = 0; i < 16; i++) {
      o[8 + i] = laddr[i];
      o[24 + i] = raddr[i];
    }
  } else {
    const sl_u32 total = iphl + after_ip;
    const sl_u16 id = in->df ? 0 : in->id;
    o[0] = 0x45;
    o[1] = ds;
    o[2] = (sl_u8)(total >> 8);
    o[3] = (sl_u8)total;
    o[4] = (sl_u8)(id >> 8);
    o[5] = (sl_u8)id;
    o[6] = in->df ? 0x40 : 0;
    o[7] = 0;
    o[8] = in->ttl;
    o[9] = proto;
    o[10] = 0;
    o[11] = 0;
    for (int i = 0; i < 4; i++) {
      o[12 + i] = laddr[i];
      o[16 + i] = raddr[i];
    }
    sl_u32 sum = 0;
    for (int i = 0; i < 20; i += 2) sum += ((sl_u32)o[i] << 8) | o[i + 1];
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    o[10] = (sl_u8)(~sum >> 8);
    o[11] = (sl_u8)~sum;
  }
  if (gue) {
    sl_u8* u = o + iphl;
    const sl_u8* port = (const sl_u8*)&tun_port;
    u[0] = (sl_u8)(gue_sport >> 8);
    u[1] = (sl_u8)gue_sport;
    u[2] = port[0];
    u[3] = port[1];
    u[4] = (sl_u8)(after_ip >> 8);
    u[5] = (sl_u8)after_ip;
    u[6] = 0; /* checksum: see the top of this file */
    u[7] = 0;
    u[8] = 0; /* version 0, C 0, hlen 0 */
    u[9] = inner_proto;
    u[10] = 0;
    u[11] = 0;
  }
}

/* The GUE source port of a connection whose table hash is `hash`. */
SL_TUN_FN sl_u16 sl_tun_gue_sport(sl_u64 hash) { return (sl_u16)(0xc000 | (hash & 0x3fff)); }

/* Path MTU (IPVS's pmtu_disc): the largest inner datagram the real server's link takes, or
 * 0 when the egress MTU is unknown (then nothing is refused). */
SL_TUN_FN sl_u32 sl_tun_inner_mtu(sl_u16 mtu, sl_u32 overhead) {
  return mtu > overhead ? mtu - overhead : 0;
}

#undef SL_TUN_FN

#endif /* SLUICE_ABI_TUN_H */
