// One connection as session sync carries it: what another director needs to recreate the
// entry in its own table (src/abi/records.h sl_conn) and bind it to its own service and real
// server. Ids (dest_id, svc_id) are local to each director, so services and real servers
// travel by address and port and the receiver looks them up.
//
// On the wire every entry has the same size (kEntryWireSize), both families alike: IPv4
// addresses sit in the first 4 bytes of a 16-byte field, as in records.h. A fixed size costs
// some bytes per IPv4 entry but makes the decoder's bounds a single multiplication and keeps
// every entry at the same offset, which is what a decoder facing forged input wants.
//
// Layout (multi-byte fields big-endian, offsets in bytes):
//    0 kind (SL_KEY_CONN / SL_KEY_TEMPLATE)   1 proto (6 TCP, 17 UDP)
//    2 family (4/6: client side)              3 dest_family (4/6: real server side)
//    4 fwd (SL_FWD_*)   5 state (SL_TCP_* / SL_STATE_UDP)   6 flags   7 links (bit 0: template)
//    8 cport  10 vport  12 dport  14 lport  16 timeout_s (remaining, u32)
//   20 svc_fwmark (u32, 0: an address service)  24 svc_port  26 tmpl_vport  28 reserved (u32, 0)
//   32 caddr  48 vaddr  64 daddr  80 laddr  96 tmpl_caddr      (16 bytes each)   = 112 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/records.h"
#include "cluster/sync_error.h"
#include "net/addr.h"

namespace sluice::cluster {

constexpr size_t kEntryWireSize = 112;

// A remaining timeout above this is refused: the longest any director sets is a persistence
// timeout (svc::kMaxPersistenceTimeout, 31 days).
constexpr uint32_t kMaxSyncTimeoutS = 86400 * 31;

// The flags that travel. SL_CONN_F_INACTIVE is the sender's own accounting (the receiver
// derives it from the state when it binds the entry), so it never leaves a director.
constexpr uint8_t kSyncedConnFlags =
    SL_CONN_F_TEMPLATE | SL_CONN_F_ONE_PACKET | SL_CONN_F_ASSURED | SL_CONN_F_CONTROLLED;

struct SyncEntry {
  uint8_t kind = SL_KEY_CONN;  // SL_KEY_CONN / SL_KEY_TEMPLATE
  uint8_t proto = 6;           // IPPROTO_TCP / IPPROTO_UDP
  uint8_t fwd = SL_FWD_DR;     // forwarding method bound to the connection
  uint8_t state = SL_TCP_NONE;
  uint8_t flags = 0;           // subset of kSyncedConnFlags
  uint32_t timeout_s = 0;      // seconds left (the receiver restarts the clock on arrival)

  // Client side (one family): client, virtual address. Template: masked client, cport 0.
  net::Endpoint client;
  net::Endpoint vip;
  // The service: fwmark != 0 names a firewall-mark service (svc_port 0), otherwise the
  // service is <proto, vip.addr, svc_port> where svc_port is vip.port or 0 (a port-0
  // persistent service).
  uint32_t svc_fwmark = 0;
  uint16_t svc_port = 0;

  // Real-server side (its own family: IPVS allows an IPv6 real server behind an IPv4 VIP
  // for tunnels). Local address: FULLNAT's source address/port towards the real server,
  // zero (family kNone) for every other method.
  net::Endpoint dest;
  net::Endpoint local;

  // A connection controlled by a persistence template: the template's key is the
  // connection's with caddr masked, cport 0 and vport either the same or 0; these two
  // fields name it. has_template false: both zero.
  bool has_template = false;
  net::IpAddr tmpl_caddr;
  uint16_t tmpl_vport = 0;

  net::Family family() const { return client.addr.family; }

  friend bool operator==(const SyncEntry&, const SyncEntry&) = default;
};

// Every rule the decoder enforces; the encoder refuses what it would refuse, so anything
// encoded decodes again.
WireResult<void> validateEntry(const SyncEntry& e);

// Writes exactly kEntryWireSize bytes. The entry must have passed validateEntry().
void encodeEntry(const SyncEntry& e, std::span<uint8_t, kEntryWireSize> out) noexcept;

// Reads exactly kEntryWireSize bytes and validates them.
WireResult<SyncEntry> decodeEntry(std::span<const uint8_t, kEntryWireSize> in);

}  // namespace sluice::cluster
