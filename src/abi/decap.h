/* Maps of sluice-decap's XDP and tc programs (bpf/decap.bpf.c), shared with its loader
 * (src/decap/decap_program.h). Plain C, fixed layout. */
#ifndef SLUICE_ABI_DECAP_H
#define SLUICE_ABI_DECAP_H

#include "abi/records.h"

#define SL_DECAP_MAX_VIPS 1024

/* A VIP of this real server: key of `decap_vips` (value: a byte, unused). IPv4 in the
 * first 4 bytes of addr, the rest zero. */
struct sl_decap_vip {
  sl_u8 addr[16];
  sl_u8 family; /* SL_AF_V4 / SL_AF_V6 */
  sl_u8 pad[3];
};

/* `decap_config`, one entry. */
struct sl_decap_config {
  sl_u16 gue_port;  /* network byte order; 0: GUE not decapsulated */
  sl_u16 mss_clamp; /* host byte order; 0: SYN-ACKs from the VIPs left as they are */
};

/* `decap_counters`, per CPU. */
#define SL_DECAP_DONE 0      /* decapsulated and passed to the stack */
#define SL_DECAP_NOT_OURS 1  /* a tunnel packet for an address not in decap_vips: untouched */
#define SL_DECAP_MALFORMED 2 /* a tunnel packet too short or with a bad header: untouched */
#define SL_DECAP_MSS_CLAMPED 3 /* a SYN-ACK from a VIP whose MSS option was lowered (tc egress) */
#define SL_DECAP_COUNTERS 4

#ifdef __cplusplus
static_assert(sizeof(struct sl_decap_vip) == 20, "decap vip ABI");
static_assert(sizeof(struct sl_decap_config) == 4, "decap config ABI");
#endif

#endif /* SLUICE_ABI_DECAP_H */
