// Session sync between the directors of an active-active cluster: the wire format.
//
// Why sync at all. Behind ECMP every director schedules a new flow with the same consistent
// hash (mh), so most flows need no state exchange: whichever director the router picks
// makes the same choice. Sync carries what the hash alone would not reproduce: connections
// scheduled before a real-server change, persistence templates, services with rr/wlc.
// When a director dies the survivors already hold its flows.
//
// Transport: unicast UDP to the peers listed in the cluster section, not IPVS's multicast
// sync daemon. IPVS's master/backup daemons send to one multicast group from one master to
// passive backups; an active-active cluster needs every director to both send and receive,
// multicast needs IGMP snooping and a group every switch in the path agrees on (often
// filtered between racks), and a listed peer set tells the receiver whom to expect, so a
// datagram from anyone else is refused before any cryptography. The cost, one copy per peer,
// is small for the 2..8 directors a cluster has.
//
// Datagram (at most kMaxDatagram = 1400 bytes: with IPv6 (40) and UDP (8) headers it fits a
// 1500-byte MTU with 52 bytes left for a VLAN tag or a tunnel, so it is never fragmented;
// fragments are what loses datagrams and what an attacker can forge most cheaply):
//    0 magic "SLSY"   4 version (1)   5 type   6 reserved (2 bytes, 0)
//    8 sender node id (u32)   12 epoch (u64)   20 sequence (u64)
//   28 entry count (u16)      30 payload length (u16, plaintext bytes)     = 32-byte header
//   32 payload, sealed (sync_auth.h), followed by a 16-byte tag
// All integers big-endian. The header travels in clear (the receiver needs the sender, epoch
// and sequence to pick the key state and refuse replays cheaply) but is authenticated.
// Payload per type:
//   CONN_UPDATE   count x entry (sync_entry.h, 112 bytes), count 1..kMaxUpdateEntries (12)
//   BULK_REQUEST  request id (u32), reserved (u32); count 0. A joining or restarted director
//                 asks each peer for its table; it announces its VIPs only when every peer
//                 has sent the chunk marked last (or is unreachable).
//   BULK_CHUNK    request id (u32), chunk index (u32), flags (u8, bit 0: last), reserved (3),
//                 then count x entry, count 0..kMaxChunkEntries (11)
//   HEARTBEAT     flags (u32, bit 0: ready, i.e. synced and announcing), MAC count (u8,
//                 0..kMaxHeartbeatMacs = 16), reserved (3 bytes, 0), then count x 6-byte MAC;
//                 header count 0, payload length exactly 8 + 6 x MAC count. The MACs are the
//                 sender's data-plane interfaces: a peer that sees a frame from one of them
//                 knows another director already balanced it and must not balance it again
//                 (a DR loop between directors). The list rides on the heartbeat rather than
//                 in the config so that a replaced NIC needs no config change on the peers.
// The epoch is chosen at daemon start (makeEpoch(): start time in the high 32 bits, random
// low bits) so that a restarted peer is recognised and ordered after its previous life; the
// sequence counts datagrams within one epoch from 1. A version change bumps kSyncVersion;
// a receiver refuses versions it does not know (counted as bad_version) rather than guess.
//
// sluiceadm mapping (ctl/sync_daemon.h; ipvsadm's grammar is kept so scripts work, but sync
// follows the sluice_cluster block and no command changes it):
//  * `-L --daemon` prints ipvsadm's lines, `master sync daemon (mcast=IF, syncid=N,
//    maxlen=1400, port=P)` then the same for backup: a cluster director always runs both
//    roles in its one node. IF is the interface carrying the sync address, N the node id,
//    maxlen kMaxDatagram, P sync_port; no group= or ttl= (nothing is multicast). Nothing
//    without a cluster block. With --json: the peers, readiness and the node's counters too
//    (those /metrics exports as sluice_sync_*, flattened: dropped_bad_mac there is
//    sluice_sync_dropped_total{reason="bad_mac"}).
//  * `--start-daemon master|backup [--mcast-interface IF] [--syncid N] [--mcast-port P]
//    [--sync-maxlen L]` succeeds, doing nothing, when each option given agrees with what
//    runs (IF carries the sync address, N is the node id, P is sync_port, L is
//    kMaxDatagram), so a boot script written for IPVS keeps working; otherwise it is refused
//    with the option and where its value comes from. --mcast-group and --mcast-ttl are
//    always refused: there is no group and no multicast TTL. Without a cluster block it is
//    refused with a line saying that sync is configured by the sluice_cluster block.
//  * `--stop-daemon master|backup` is refused on a cluster director (sync is what keeps its
//    connections alive on the peers when it dies; stop sluiced with SIGTERM instead, which
//    withdraws, drains and stops) and answers ipvsadm's "No daemon is running" elsewhere.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "cluster/sync_entry.h"
#include "cluster/sync_error.h"
#include "net/addr.h"

namespace sluice::cluster {

constexpr uint32_t kSyncMagic = 0x534C5359;  // "SLSY"
constexpr uint8_t kSyncVersion = 1;
constexpr size_t kMaxDatagram = 1400;
constexpr size_t kHeaderSize = 32;
constexpr size_t kTagSize = 16;  // the AEAD tag (sync_auth.h)
constexpr size_t kMaxPayload = kMaxDatagram - kHeaderSize - kTagSize;  // 1352
constexpr size_t kControlPrefix = 8;  // BULK_REQUEST, HEARTBEAT (before its MACs)
constexpr size_t kMacSize = 6;
constexpr size_t kMaxHeartbeatMacs = 16;
constexpr size_t kChunkPrefix = 12;   // BULK_CHUNK before its entries
constexpr size_t kMaxUpdateEntries = kMaxPayload / kEntryWireSize;                  // 12
constexpr size_t kMaxChunkEntries = (kMaxPayload - kChunkPrefix) / kEntryWireSize;  // 11
static_assert(kMaxUpdateEntries == 12 && kMaxChunkEntries == 11);

enum class MsgType : uint8_t {
  kConnUpdate = 1,
  kBulkRequest = 2,
  kBulkChunk = 3,
  kHeartbeat = 4,
};

constexpr uint32_t kHeartbeatReady = 0x1;

struct Header {
  uint8_t version = kSyncVersion;
  MsgType type = MsgType::kHeartbeat;
  uint32_t node_id = 0;
  uint64_t epoch = 0;
  uint64_t seq = 0;
  uint16_t count = 0;
  uint16_t payload_len = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

// One message, whatever its type. Fields that a type does not use must be zero (the
// encoder refuses them, the decoder sets them so), so that encode/decode is a bijection.
struct Message {
  MsgType type = MsgType::kHeartbeat;
  uint32_t node_id = 0;
  uint64_t epoch = 0;
  uint64_t seq = 0;
  uint32_t request_id = 0;       // BULK_REQUEST, BULK_CHUNK
  uint32_t chunk_index = 0;      // BULK_CHUNK
  bool last_chunk = false;       // BULK_CHUNK
  uint32_t heartbeat_flags = 0;  // HEARTBEAT: kHeartbeatReady
  std::vector<net::MacAddr> macs;  // HEARTBEAT: the sender's data-plane MACs, at most 16
  std::vector<SyncEntry> entries;  // CONN_UPDATE, BULK_CHUNK

  friend bool operator==(const Message&, const Message&) = default;
};

// Most entries a message of this type carries.
size_t maxEntries(MsgType t) noexcept;

// Plaintext payload length of a message of type t with n entries (a HEARTBEAT: n MACs).
size_t payloadLength(MsgType t, size_t n) noexcept;

// Epoch for a daemon starting at unix time `start_s`, with random low bits: later starts
// compare greater, and two starts in one second still differ.
constexpr uint64_t makeEpoch(uint32_t start_s, uint32_t random) noexcept {
  return (uint64_t(start_s) << 32) | random;
}

WireResult<void> validateMessage(const Message& m);

// The 32-byte header. decodeHeader() reads the header at the start of `bytes` and checks
// magic, version, type, reserved bytes, the count against the type and the payload length
// against the count, and that `bytes` is exactly header + payload + `trailer` bytes long
// (trailer: kTagSize for a sealed datagram, 0 for plaintext). It does not read the payload.
void encodeHeader(const Header& h, std::span<uint8_t, kHeaderSize> out) noexcept;
WireResult<Header> decodeHeader(std::span<const uint8_t> bytes, size_t trailer);

// Plaintext: header followed by the payload (no tag). Refuses an invalid message.
WireResult<std::vector<uint8_t>> encodePlain(const Message& m);
// The header a message encodes to (payload_len and count filled in).
Header headerOf(const Message& m) noexcept;
// The inverse of encodePlain: the header already decoded, `payload` its payload_len bytes.
WireResult<Message> decodePayload(const Header& header, std::span<const uint8_t> payload);
// decodeHeader(bytes, 0) then decodePayload.
WireResult<Message> decodePlain(std::span<const uint8_t> bytes);

}  // namespace sluice::cluster
