/* What the XDP fast path needs besides the connection and dest records: one config record
 * (the `dp_config` array map, one entry), written by the daemon before the program sees
 * traffic and on `--set`. The TCP transition table and the active-state table are filled
 * from conn/tcp_state.cc, so the two paths cannot disagree on state changes.
 */
#ifndef SLUICE_ABI_FASTPATH_H
#define SLUICE_ABI_FASTPATH_H

#include "abi/records.h"

#define SL_TCP_STATE_COUNT 11 /* SL_TCP_NONE .. SL_TCP_SYNACK */
#define SL_TCP_EVENTS 5       /* syn, fin, ack, rst, none: the index sl_tcp_event() gives */

#define SL_MAX_PEER_MACS 64 /* entries of the `peer_macs` map */

struct sl_dp_config {
  sl_u64 conn_seed;    /* the connection table's hash seed */
  sl_u32 conn_buckets; /* buckets of SL_CONN_BUCKET_SLOTS entries in `conns` */
  sl_u32 max_dests;    /* entries in `dests`, `dest_counts`, `dest_stats` */
  sl_u32 enabled;      /* 0: the table is not usable yet: every frame of a service goes to
                          the slow path */
  sl_u32 stat_slots;   /* `dest_stats` has one slice per CPU: entry dest_id * stat_slots + cpu */
  sl_u32 forward;      /* 0 (--no-fast-path): connections found are left to the slow path */
  sl_u32 csum_check;   /* 1: a TCP/UDP checksum left half-done by its sender (see
                          net/checksum.h) goes to the slow path, which finishes it; set when
                          the program runs in native mode on a virtual link (veth), where
                          XDP_TX/redirect would lose the kernel's CHECKSUM_PARTIAL mark */
  sl_u32 adopt_midflow; /* 1 (cluster mode): a TCP segment of a service with no connection
                           that is neither SYN nor RST goes to the slow path, which adopts
                           it (dp::Datapath::setAdoptMidflow); 0: to the kernel. Also: a
                           segment that moves its connection into a closing state goes to
                           the slow path, which syncs the change to the peers */
  sl_u32 peer_macs;     /* entries in `peer_macs` (peer directors' MACs): 0 skips the lookup */
  sl_u32 nat_replies;   /* 1: some service has a NAT real server, so a frame that matches no
                           connection may be a reply: look up its reply twin. 0 (DR/TUN
                           only): nobody pays that lookup */
  sl_u32 timeout_s[SL_STATE_COUNT];
  sl_u8 tcp_next[SL_TCP_STATE_COUNT][SL_TCP_EVENTS]; /* DR/TUN: input-only transitions */
  sl_u8 tcp_in[SL_TCP_STATE_COUNT][SL_TCP_EVENTS];   /* NAT: client -> server (INPUT) */
  sl_u8 tcp_out[SL_TCP_STATE_COUNT][SL_TCP_EVENTS];  /* NAT: server -> client (OUTPUT) */
  sl_u8 active[SL_STATE_COUNT];                      /* state counts as ActiveConn */
};

/* IPVS's event order (tcp_state_idx): RST before SYN before FIN before ACK; no flag: 4. */
#ifdef __cplusplus
static inline int sl_tcp_event(sl_u8 flags) {
#else
static __always_inline int sl_tcp_event(sl_u8 flags) {
#endif
  if (flags & 0x04) return 3;
  if (flags & 0x02) return 0;
  if (flags & 0x01) return 1;
  if (flags & 0x10) return 2;
  return 4;
}

#endif /* SLUICE_ABI_FASTPATH_H */
