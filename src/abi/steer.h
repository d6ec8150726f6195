/* The XDP program's steering maps as both sides see them (bpf/steer.bpf.c and
 * io/xdp_loader): which (family, proto, daddr, dport) are virtual services, which
 * addresses carry one, the AF_XDP socket slots, and the steering counters.
 *
 * The program forwards established connections itself (docs/FASTPATH.md); what it cannot
 * finish and what may be a new flow of a service goes to an AF_XDP socket, everything else
 * to the kernel stack, so a host with a broken daemon still answers ARP, SSH and its
 * routing protocol. Addresses and ports in network byte order; IPv4 in the first 4 bytes
 * of 16.
 */
#ifndef SLUICE_ABI_STEER_H
#define SLUICE_ABI_STEER_H

#include "abi/records.h"

/* Key of the `services` hash map. port 0 = every port of that address (persistent port-0
 * services, FULLNAT local addresses whose replies come back on any port). */
struct sl_steer_key {
  sl_u8 addr[16];
  sl_u16 port;
  sl_u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
  sl_u8 family; /* SL_AF_V4 / SL_AF_V6 */
};

/* Value of the `services` map; reserved for per-entry flags, 0 today. */
struct sl_steer_val {
  sl_u32 flags;
};

/* AF_XDP socket slots: the XSKMAP index of a frame is xsk_base[ingress ifindex] + rx queue,
 * so several interfaces can share one program and one XSKMAP without their queue 0
 * colliding. */
#define SL_STEER_MAX_SERVICES 65536
#define SL_STEER_MAX_IFACES 64
#define SL_STEER_QUEUES_PER_IFACE 64
#define SL_STEER_XSK_SLOTS (SL_STEER_MAX_IFACES * SL_STEER_QUEUES_PER_IFACE)

/* Indices of the per-CPU `steer_stats` array. */
#define SL_STEER_STEERED 0        /* redirected to an AF_XDP socket */
#define SL_STEER_PASS_NOT_IP 1    /* ARP, LLDP, ...: to the kernel */
#define SL_STEER_PASS_NO_MATCH 2  /* IP but no service: to the kernel */
#define SL_STEER_PASS_FRAGMENT 3  /* non-first fragment (ports unseen): to the kernel */
#define SL_STEER_PASS_MALFORMED 4 /* truncated headers: the kernel drops or counts them */
#define SL_STEER_PASS_NO_SOCKET 5 /* a service hit, but no socket on this interface/queue */
#define SL_STEER_NUM_STATS 6

#ifdef __cplusplus
static_assert(sizeof(struct sl_steer_key) == 20, "steer key ABI");
#endif

#endif /* SLUICE_ABI_STEER_H */
