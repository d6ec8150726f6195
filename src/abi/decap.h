/* Maps of sluice-decap's XDP program (bpf/decap.bpf.c), shared with its loader
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
  sl_u16 gue_port; /* network byte order; 0: GUE not decapsulated */
  sl_u16 pad;
};

/* `decap_counters`, per CPU. */
#define SL_DECAP_DONE 0      /* decapsulated and passed to the stack */
#define SL_DECAP_NOT_OURS 1  /* a tunnel packet for an address not in decap_vips: untouched */
#define SL_DECAP_MALFORMED 2 /* a tunnel packet too short or with a bad header: untouched */
#define SL_DECAP_COUNTERS 3

#ifdef __cplusplus
static_assert(sizeof(struct sl_decap_vip) == 20, "decap vip ABI");
#endif

#endif /* SLUICE_ABI_DECAP_H */
