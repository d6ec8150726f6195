/* Records shared by the XDP fast path (the programs in bpf/) and the C++ daemon.
 *
 * Plain C, fixed layout, no pointers: the same bytes are read and written by the kernel
 * program and by user space (through a shared, mmap-able array). Ports and addresses are in
 * network byte order as they appear on the wire, so neither side swaps on the hot path.
 * IPv4 addresses sit in the first 4 bytes of a 16-byte field, the rest zero.
 * Changing anything here changes the ABI between the two paths: both are rebuilt together.
 */
#ifndef SLUICE_ABI_RECORDS_H
#define SLUICE_ABI_RECORDS_H

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t sl_u8;
typedef uint16_t sl_u16;
typedef uint32_t sl_u32;
typedef uint64_t sl_u64;
#else
#include <linux/types.h>
typedef __u8 sl_u8;
typedef __u16 sl_u16;
typedef __u32 sl_u32;
typedef __u64 sl_u64;
#endif

#define SL_AF_NONE 0 /* empty slot */
#define SL_AF_V4 4
#define SL_AF_V6 6

/* What a key names. */
#define SL_KEY_CONN 1     /* a connection, client -> virtual service direction */
#define SL_KEY_TEMPLATE 2 /* a persistence template: masked client, vip, vport (0 = any) */
/* A NAT connection's reply twin: the key a reply packet (real server -> client) gives,
 * read as caddr = its daddr (the client), vaddr = its saddr (the real server), cport = its
 * dport, vport = its sport. Not a connection: no state, no counts; it only leads a reply
 * to its connection (dp/nat_reply.h), and goes when that connection goes. */
#define SL_KEY_REPLY 3

/* Forwarding method, bound once when the connection is created (ip_vs_bind_xmit). */
#define SL_FWD_DR 0
#define SL_FWD_TUN 1
#define SL_FWD_NAT 2
#define SL_FWD_FULLNAT 3
#define SL_FWD_LOCAL 4

/* How a FULLNAT connection carries the client's address to the real server. */
#define SL_CA_NONE 0   /* not at all: the real server sees the local address */
#define SL_CA_TOA 1    /* TCP option 254 (TOA, DPVS's layout) in the first ACK */
#define SL_CA_PROXY2 2 /* a PROXY protocol v2 header before the first data byte */

/* Tunnel encapsulation of a TUN real server (ipvsadm --tun-type; the kernel's
 * IP_VS_CONN_F_TUNNEL_TYPE_* values). */
#define SL_TUN_IPIP 0 /* IPIP, IPv6-in-IPv6, and the mixed families */
#define SL_TUN_GUE 1  /* GUE (UDP, --tun-port) */
#define SL_TUN_GRE 2  /* GRE (not carried yet: refused by the model) */
/* GUE/GRE checksum options (IP_VS_TUNNEL_ENCAP_FLAG_*): none set is --tun-nocsum. */
#define SL_TUN_F_CSUM 0x01    /* --tun-csum: the outer UDP checksum is filled in */
#define SL_TUN_F_REMCSUM 0x02 /* --tun-remcsum: remote checksum offload */

/* IPVS connection states (the names ipvsadm -Lnc prints). */
#define SL_TCP_NONE 0
#define SL_TCP_ESTABLISHED 1
#define SL_TCP_SYN_SENT 2
#define SL_TCP_SYN_RECV 3
#define SL_TCP_FIN_WAIT 4
#define SL_TCP_TIME_WAIT 5
#define SL_TCP_CLOSE 6
#define SL_TCP_CLOSE_WAIT 7
#define SL_TCP_LAST_ACK 8
#define SL_TCP_LISTEN 9
#define SL_TCP_SYNACK 10
#define SL_STATE_UDP 11
#define SL_STATE_ICMP 12
#define SL_STATE_COUNT 13

/* Connection flags. */
#define SL_CONN_F_INACTIVE 0x01 /* counted in the dest's inactive count */
#define SL_CONN_F_TEMPLATE 0x02
#define SL_CONN_F_ONE_PACKET 0x04
/* A template: a connection it controls has reached ESTABLISHED (IP_VS_CTPL_S_ASSURED). */
#define SL_CONN_F_ASSURED 0x08
/* A connection controlled by a template not yet assured: its step to ESTABLISHED is the
 * slow path's, which alone can reach the template (the fast path leaves it there). */
#define SL_CONN_F_CONTROLLED 0x10

struct sl_conn_key {
  sl_u8 caddr[16]; /* client address (template: masked client address) */
  sl_u8 vaddr[16]; /* virtual address */
  sl_u16 cport;    /* client port (template: 0) */
  sl_u16 vport;    /* virtual port (template of a port-0 service: 0) */
  sl_u8 proto;     /* IPPROTO_TCP / IPPROTO_UDP */
  sl_u8 family;    /* SL_AF_V4 / SL_AF_V6; SL_AF_NONE marks an empty slot */
  sl_u8 kind;      /* SL_KEY_* */
  sl_u8 pad;
};

struct sl_conn {
  struct sl_conn_key key; /* 40 bytes */
  sl_u64 last_seen_ns;    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) of the last packet */
  sl_u32 dest_id;         /* index into the dest tables */
  sl_u32 svc_id;          /* index into the service tables */
  sl_u32 timeout_s;       /* current timeout; expired when now > last_seen + timeout */
  /* The state word: the fast path changes state and flags together with one 32-bit
   * compare-and-swap; user space sets `lock` (with a CAS too) before it moves, frees or
   * rewrites an entry, and the fast path leaves a locked entry to the slow path. */
  union {
    struct {
      sl_u8 state; /* SL_TCP_* / SL_STATE_* */
      sl_u8 fwd;   /* SL_FWD_* */
      sl_u8 flags; /* SL_CONN_F_* */
      sl_u8 lock;  /* non-zero: user space owns the entry */
    };
    sl_u32 word;
  };
};

/* What a connection needs beyond its entry, in a parallel array of the same shape as the
 * table (the `conn_ext` map: one record per slot, moved with its entry). Only FULLNAT uses
 * it today: its connection's record holds the local address and port its requests leave
 * from (LIP:lport), its reply twin's the client's address and port (CIP:cport), which the
 * twin's key (LIP:lport <- RIP:rport) no longer carries. Written before the entry is
 * unlocked, cleared when it is freed; read by both paths under the entry's rules. */
#define SL_EXT_F_TOA 0x01 /* FULLNAT/TCP: the client's address still has to reach the real
                             server in TOA: the connection's packets take the slow path */
struct sl_conn_ext {
  sl_u8 addr[16]; /* connection: LIP; twin: CIP (IPv4 in the first 4 bytes) */
  sl_u16 port;    /* connection: lport; twin: cport (network byte order) */
  sl_u8 flags;    /* SL_EXT_F_* (connection only) */
  sl_u8 pad;
  sl_u32 pad2[3];
};

/* Traffic counters, one set per service and per real server (per CPU in the kernel). */
struct sl_stats {
  sl_u64 conns;
  sl_u64 inpkts;
  sl_u64 outpkts;
  sl_u64 inbytes;
  sl_u64 outbytes;
};

/* Connection counts per real server, as ipvsadm -Ln reports them; updated atomically. */
struct sl_dest_counts {
  sl_u32 active;   /* TCP connections in ESTABLISHED */
  sl_u32 inactive; /* every other connection */
  sl_u32 persist;  /* persistence templates pointing here */
  sl_u32 overloaded; /* 1 while over the -x threshold, until under -y (or 3/4 of -x) */
};

/* A real server as the forwarding step needs it, indexed by dest_id. Written by the
 * control plane whenever the dest, its route or its neighbour entry changes; read per
 * packet by both paths. `seq` is a seqlock: odd while being written. */
#define SL_DEST_F_RESOLVED 0x01 /* ifindex and MACs are valid */
#define SL_DEST_F_LIVE 0x02     /* configured (possibly deleted but still used by conns) */
#define SL_DEST_F_AVAILABLE 0x04 /* in its service (IP_VS_DEST_F_AVAILABLE): not deleted */
/* The address is one of this host's own (IPVS's LOCALNODE): its connections' packets go to
 * the local stack, whatever their method; no next hop, so never RESOLVED. */
#define SL_DEST_F_LOCAL 0x08
struct sl_dest {
  sl_u32 seq;
  sl_u32 ifindex; /* egress interface */
  sl_u8 addr[16];
  sl_u16 port;    /* network byte order */
  sl_u8 family;
  sl_u8 fwd;      /* SL_FWD_* */
  sl_u8 smac[6];  /* egress interface MAC */
  sl_u8 dmac[6];  /* next hop's MAC */
  sl_u8 flags;    /* SL_DEST_F_* */
  sl_u8 tun_type;  /* TUN: SL_TUN_* */
  sl_u8 tun_flags; /* TUN: SL_TUN_F_* */
  sl_u8 pad;
  sl_u16 tun_port; /* TUN GUE: the outer UDP destination port, network byte order */
  sl_u16 mtu;      /* the egress interface's MTU (host order); 0: unknown */
  sl_u8 laddr[16]; /* TUN: the outer source address (the route's preferred source) */
  /* The virtual service this real server belongs to (a dest_id names one service's real
   * server): a NAT reply's new source, and the way from a reply twin back to its
   * connection's key. vport 0: a port-0 service (the reply's source port is kept). */
  sl_u8 vaddr[16];
  sl_u16 vport; /* network byte order */
  sl_u8 pad2[14];
};

#ifdef __cplusplus
static_assert(sizeof(struct sl_dest) == 96, "dest record ABI");
static_assert(sizeof(struct sl_conn_key) == 40, "conn key ABI");
static_assert(sizeof(struct sl_conn) == 64, "conn entry must be one cache line");
static_assert(sizeof(struct sl_conn_ext) == 32, "conn ext ABI");
#endif

#endif /* SLUICE_ABI_RECORDS_H */
