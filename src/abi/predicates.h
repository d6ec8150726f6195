/* Decisions both data paths make about a packet, written once in plain C so the XDP program
 * (bpf/) and the C++ step (dp/datapath.cc) cannot drift: the two-path golden test guards
 * what cannot live here (what the verifier or the C++ types keep apart).
 */
#ifndef SLUICE_ABI_PREDICATES_H
#define SLUICE_ABI_PREDICATES_H

#include "abi/records.h"

#ifdef __cplusplus
#define SL_PRED static inline constexpr
#else
#define SL_PRED static __always_inline
#endif

#define SL_TCPF_FIN 0x01
#define SL_TCPF_SYN 0x02
#define SL_TCPF_RST 0x04

/* tcp_conn_schedule: any SYN without RST may open a connection (SYN+ACK too: IPVS leaves
 * out the ACK test for active FTP). A TCP segment that cannot goes to the kernel. */
SL_PRED int sl_opens_connection(sl_u8 tcp_flags) {
  return (tcp_flags & (SL_TCPF_SYN | SL_TCPF_RST)) == SL_TCPF_SYN;
}

/* The same in cluster mode (sloppy_tcp): a director that inherits a flow mid-stream (ECMP
 * moved it here) schedules any segment but a RST, so the client's connection survives. */
SL_PRED int sl_may_schedule(sl_u8 tcp_flags, int adopt_midflow) {
  return adopt_midflow ? !(tcp_flags & SL_TCPF_RST) : sl_opens_connection(tcp_flags);
}

/* The key of a MAC address in the `peer_macs` map: its six bytes, then two zero bytes. */
SL_PRED sl_u64 sl_mac_key(const sl_u8* mac) {
  return (sl_u64)mac[0] | (sl_u64)mac[1] << 8 | (sl_u64)mac[2] << 16 | (sl_u64)mac[3] << 24 |
         (sl_u64)mac[4] << 32 | (sl_u64)mac[5] << 40;
}

/* Port reuse as the kernel's default conn_reuse_mode=1 (is_new_conn_expected): a SYN on an
 * entry in TIME_WAIT or CLOSE is a new connection, scheduled afresh unless a persistence
 * template controls the entry (which only the slow path can tell). */
SL_PRED int sl_syn_may_reuse(sl_u8 tcp_flags, sl_u8 state) {
  return (tcp_flags & SL_TCPF_SYN) && (state == SL_TCP_TIME_WAIT || state == SL_TCP_CLOSE);
}

/* A TCP/UDP checksum field that holds only the folded pseudo-header sum (`folded`), as a
 * sender with checksum offload leaves it (net/checksum.h isPartialChecksum). A fold can
 * give 0x0000 or 0xffff for the same one's-complement value; either is accepted. UDP over
 * IPv4 with 0 carries no checksum at all. */
SL_PRED int sl_csum_is_partial(sl_u16 field, sl_u16 folded, int udp_v4) {
  if (udp_v4 && field == 0) return 0;
  return field == folded || (folded == 0xffff && field == 0) || (folded == 0 && field == 0xffff);
}

#undef SL_PRED

#endif /* SLUICE_ABI_PREDICATES_H */
