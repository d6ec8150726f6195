/* Maps of sluice-toa's sockops program (bpf/toa.bpf.c), shared with its loader
 * (src/toa/toa_program.h). Plain C, fixed layout.
 *
 * A key is a connection as the real server's socket sees it: its own address and port, and
 * its peer's (the director's local address, LIP:lport, in FULLNAT). An IPv4 connection
 * accepted on a dual-stack IPv6 socket (v4-mapped addresses) is keyed as IPv4: both sides
 * (the program and libsluice_toa.so) normalise ::ffff:a.b.c.d to a.b.c.d, so the key does
 * not depend on which kind of socket the application listens on. */
#ifndef SLUICE_ABI_TOA_H
#define SLUICE_ABI_TOA_H

#include "abi/records.h"

#define SL_TOA_KIND 254     /* the TCP option kind DPVS and Alibaba's toa.ko use */
#define SL_TOA_LEN_V4 8     /* kind, len, port (2), IPv4 address (4) */
#define SL_TOA_LEN_V6 20    /* kind, len, port (2), IPv6 address (16) */
#define SL_TOA_MAX_CONNS 65536

/* `toa_conns` key. Addresses as in records.h (IPv4 in the first 4 bytes, the rest zero);
 * ports in network byte order. */
struct sl_toa_key {
  sl_u8 local_addr[16];
  sl_u8 peer_addr[16];
  sl_u16 local_port;
  sl_u16 peer_port;
  sl_u8 family; /* SL_AF_V4 / SL_AF_V6 */
  sl_u8 pad[3];
};

/* `toa_conns` value: the client the director saw. */
struct sl_toa_client {
  sl_u8 addr[16];
  sl_u16 port; /* network byte order */
  sl_u8 family; /* SL_AF_V4 / SL_AF_V6 */
  sl_u8 pad;
};

/* `toa_counters`, per CPU. */
#define SL_TOA_STORED 0    /* a TOA read from the handshake's last ACK and stored */
#define SL_TOA_ABSENT 1    /* a passive connection whose ACK carried no TOA */
#define SL_TOA_MALFORMED 2 /* a TOA of a wrong length, or options that do not parse */
#define SL_TOA_FULL 3      /* the map refused the entry (the client stays unknown) */
#define SL_TOA_EVICTED 4   /* a stored entry gone (LRU eviction) before its socket closed */
#define SL_TOA_REMOVED 5   /* an entry removed when its socket closed */
#define SL_TOA_COUNTERS 6

#ifdef __cplusplus
static_assert(sizeof(struct sl_toa_key) == 40, "toa key ABI");
static_assert(sizeof(struct sl_toa_client) == 20, "toa client ABI");
#endif

#endif /* SLUICE_ABI_TOA_H */
