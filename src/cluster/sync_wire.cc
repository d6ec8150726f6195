// Encoding and bounded decoding of sync messages (format in sync_wire.h). Every length is
// checked before it is used, against limits known at compile time, so a decoder facing
// forged bytes reads nothing past its input and allocates at most kMaxUpdateEntries entries.
#include "cluster/sync_wire.h"

#include <algorithm>
#include <cstring>

#include "net/bytes.h"

namespace sluice::cluster {
namespace {

void store64be(uint8_t* p, uint64_t v) {
  net::store32be(p, uint32_t(v >> 32));
  net::store32be(p + 4, uint32_t(v));
}

uint64_t load64be(const uint8_t* p) {
  return (uint64_t(net::load32be(p)) << 32) | net::load32be(p + 4);
}

bool knownType(uint8_t t) { return t >= 1 && t <= 4; }

const char* typeName(MsgType t) {
  switch (t) {
    case MsgType::kConnUpdate: return "CONN_UPDATE";
    case MsgType::kBulkRequest: return "BULK_REQUEST";
    case MsgType::kBulkChunk: return "BULK_CHUNK";
    case MsgType::kHeartbeat: return "HEARTBEAT";
  }
  return "?";
}

size_t minEntries(MsgType t) { return t == MsgType::kConnUpdate ? 1 : 0; }

size_t prefixLength(MsgType t) {
  switch (t) {
    case MsgType::kConnUpdate: return 0;
    case MsgType::kBulkChunk: return kChunkPrefix;
    case MsgType::kBulkRequest:
    case MsgType::kHeartbeat: return kControlPrefix;
  }
  return 0;
}

bool allZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

// What a header's payload length must be. A HEARTBEAT's MAC list sets its length and the
// header's count stays 0, so its length is checked against the MAC bound instead.
bool validPayloadLength(MsgType t, size_t count, size_t len) {
  if (t != MsgType::kHeartbeat) return len == payloadLength(t, count);
  return len >= kControlPrefix && (len - kControlPrefix) % kMacSize == 0 &&
         (len - kControlPrefix) / kMacSize <= kMaxHeartbeatMacs;
}

}  // namespace

std::string_view wireErrcName(WireErrc c) noexcept {
  switch (c) {
    case WireErrc::kTruncated: return "truncated";
    case WireErrc::kOversized: return "oversized";
    case WireErrc::kBadMagic: return "bad_magic";
    case WireErrc::kBadVersion: return "bad_version";
    case WireErrc::kBadType: return "bad_type";
    case WireErrc::kBadLength: return "bad_length";
    case WireErrc::kBadCount: return "bad_count";
    case WireErrc::kReserved: return "reserved";
    case WireErrc::kBadKind: return "bad_kind";
    case WireErrc::kBadProto: return "bad_proto";
    case WireErrc::kBadFamily: return "bad_family";
    case WireErrc::kBadAddress: return "bad_address";
    case WireErrc::kBadState: return "bad_state";
    case WireErrc::kBadMethod: return "bad_method";
    case WireErrc::kBadFlags: return "bad_flags";
    case WireErrc::kBadTimeout: return "bad_timeout";
    case WireErrc::kBadService: return "bad_service";
    case WireErrc::kBadTemplate: return "bad_template";
    case WireErrc::kBadLocal: return "bad_local";
  }
  return "unknown";
}

size_t maxEntries(MsgType t) noexcept {
  switch (t) {
    case MsgType::kConnUpdate: return kMaxUpdateEntries;
    case MsgType::kBulkChunk: return kMaxChunkEntries;
    case MsgType::kBulkRequest:
    case MsgType::kHeartbeat: return 0;
  }
  return 0;
}

size_t payloadLength(MsgType t, size_t n) noexcept {
  return prefixLength(t) + n * (t == MsgType::kHeartbeat ? kMacSize : kEntryWireSize);
}

WireResult<void> validateMessage(const Message& m) {
  if (!knownType(uint8_t(m.type)))
    return wireError(WireErrc::kBadType, "sync: unknown message type {}", uint8_t(m.type));
  size_t n = m.entries.size();
  if (n < minEntries(m.type) || n > maxEntries(m.type))
    return wireError(WireErrc::kBadCount, "sync: {} with {} entries (allowed {}..{})",
                     typeName(m.type), n, minEntries(m.type), maxEntries(m.type));
  bool uses_request = m.type == MsgType::kBulkRequest || m.type == MsgType::kBulkChunk;
  bool is_chunk = m.type == MsgType::kBulkChunk;
  if ((!uses_request && m.request_id) || (!is_chunk && (m.chunk_index || m.last_chunk)) ||
      (m.type != MsgType::kHeartbeat && m.heartbeat_flags))
    return wireError(WireErrc::kReserved, "sync: {} with fields of another message type",
                     typeName(m.type));
  if (m.heartbeat_flags & ~kHeartbeatReady)
    return wireError(WireErrc::kReserved, "sync: unknown heartbeat flags {:#x}", m.heartbeat_flags);
  if (m.type != MsgType::kHeartbeat && !m.macs.empty())
    return wireError(WireErrc::kReserved, "sync: {} with MAC addresses", typeName(m.type));
  if (m.macs.size() > kMaxHeartbeatMacs)
    return wireError(WireErrc::kBadCount, "sync: HEARTBEAT with {} MAC addresses (at most {})",
                     m.macs.size(), kMaxHeartbeatMacs);
  for (size_t i = 0; i < n; ++i) {
    if (auto s = validateEntry(m.entries[i]); !s)
      return WireError{s.error().code, fmt::format("{} (entry {})", s.error().message, i)};
  }
  return {};
}

Header headerOf(const Message& m) noexcept {
  Header h;
  h.type = m.type;
  h.node_id = m.node_id;
  h.epoch = m.epoch;
  h.seq = m.seq;
  h.count = uint16_t(m.entries.size());
  size_t n = m.type == MsgType::kHeartbeat ? m.macs.size() : m.entries.size();
  h.payload_len = uint16_t(payloadLength(m.type, n));
  return h;
}

void encodeHeader(const Header& h, std::span<uint8_t, kHeaderSize> out) noexcept {
  uint8_t* p = out.data();
  std::memset(p, 0, kHeaderSize);
  net::store32be(p, kSyncMagic);
  p[4] = h.version;
  p[5] = uint8_t(h.type);
  net::store32be(p + 8, h.node_id);
  store64be(p + 12, h.epoch);
  store64be(p + 20, h.seq);
  net::store16be(p + 28, h.count);
  net::store16be(p + 30, h.payload_len);
}

WireResult<Header> decodeHeader(std::span<const uint8_t> bytes, size_t trailer) {
  if (bytes.size() > kHeaderSize + kMaxPayload + trailer)
    return wireError(WireErrc::kOversized, "sync: {} bytes, more than the {} allowed", bytes.size(),
                     kHeaderSize + kMaxPayload + trailer);
  if (bytes.size() < kHeaderSize)
    return wireError(WireErrc::kTruncated, "sync: {} bytes, shorter than the {}-byte header",
                     bytes.size(), kHeaderSize);
  const uint8_t* p = bytes.data();
  if (net::load32be(p) != kSyncMagic) return wireError(WireErrc::kBadMagic, "sync: bad magic");
  Header h;
  h.version = p[4];
  if (h.version != kSyncVersion)
    return wireError(WireErrc::kBadVersion, "sync: version {}, this director speaks {}", h.version,
                     kSyncVersion);
  if (!knownType(p[5])) return wireError(WireErrc::kBadType, "sync: unknown message type {}", p[5]);
  if (!allZero(p + 6, 2)) return wireError(WireErrc::kReserved, "sync: reserved header bytes not zero");
  h.type = MsgType(p[5]);
  h.node_id = net::load32be(p + 8);
  h.epoch = load64be(p + 12);
  h.seq = load64be(p + 20);
  h.count = net::load16be(p + 28);
  h.payload_len = net::load16be(p + 30);
  if (h.count < minEntries(h.type) || h.count > maxEntries(h.type))
    return wireError(WireErrc::kBadCount, "sync: {} announces {} entries (allowed {}..{})",
                     typeName(h.type), h.count, minEntries(h.type), maxEntries(h.type));
  if (h.type == MsgType::kHeartbeat && !validPayloadLength(h.type, h.count, h.payload_len))
    return wireError(WireErrc::kBadLength,
                     "sync: HEARTBEAT payload length {}, expected {} + {} per MAC (at most {})",
                     h.payload_len, kControlPrefix, kMacSize, kMaxHeartbeatMacs);
  if (!validPayloadLength(h.type, h.count, h.payload_len))
    return wireError(WireErrc::kBadLength, "sync: payload length {} for {} {} entries, expected {}",
                     h.payload_len, typeName(h.type), h.count, payloadLength(h.type, h.count));
  size_t want = kHeaderSize + h.payload_len + trailer;
  if (bytes.size() < want)
    return wireError(WireErrc::kTruncated, "sync: {} bytes, the header announces {}", bytes.size(), want);
  if (bytes.size() > want)
    return wireError(WireErrc::kBadLength, "sync: {} bytes, {} past the announced end", bytes.size(),
                     bytes.size() - want);
  return h;
}

WireResult<std::vector<uint8_t>> encodePlain(const Message& m) {
  if (auto s = validateMessage(m); !s) return s.error();
  Header h = headerOf(m);
  std::vector<uint8_t> out(kHeaderSize + h.payload_len, 0);
  encodeHeader(h, std::span<uint8_t, kHeaderSize>(out.data(), kHeaderSize));
  uint8_t* p = out.data() + kHeaderSize;
  if (m.type == MsgType::kBulkRequest || m.type == MsgType::kBulkChunk) net::store32be(p, m.request_id);
  if (m.type == MsgType::kBulkChunk) {
    net::store32be(p + 4, m.chunk_index);
    p[8] = m.last_chunk ? 1 : 0;
  }
  if (m.type == MsgType::kHeartbeat) {
    net::store32be(p, m.heartbeat_flags);
    p[4] = uint8_t(m.macs.size());
    for (size_t i = 0; i < m.macs.size(); ++i)
      std::memcpy(p + kControlPrefix + i * kMacSize, m.macs[i].data(), kMacSize);
  }
  p += prefixLength(m.type);
  for (const SyncEntry& e : m.entries) {
    encodeEntry(e, std::span<uint8_t, kEntryWireSize>(p, kEntryWireSize));
    p += kEntryWireSize;
  }
  return out;
}

WireResult<Message> decodePayload(const Header& h, std::span<const uint8_t> payload) {
  if (payload.size() != h.payload_len || !validPayloadLength(h.type, h.count, h.payload_len) ||
      h.count > maxEntries(h.type))
    return wireError(WireErrc::kBadLength, "sync: payload of {} bytes does not match its header",
                     payload.size());
  Message m;
  m.type = h.type;
  m.node_id = h.node_id;
  m.epoch = h.epoch;
  m.seq = h.seq;
  const uint8_t* p = payload.data();
  switch (h.type) {
    case MsgType::kConnUpdate:
      break;
    case MsgType::kBulkRequest:
      m.request_id = net::load32be(p);
      if (!allZero(p + 4, 4)) return wireError(WireErrc::kReserved, "sync: BULK_REQUEST reserved bytes not zero");
      break;
    case MsgType::kBulkChunk:
      m.request_id = net::load32be(p);
      m.chunk_index = net::load32be(p + 4);
      if (p[8] & ~1u) return wireError(WireErrc::kReserved, "sync: unknown BULK_CHUNK flags {:#x}", p[8]);
      m.last_chunk = p[8] & 1;
      if (!allZero(p + 9, 3)) return wireError(WireErrc::kReserved, "sync: BULK_CHUNK reserved bytes not zero");
      break;
    case MsgType::kHeartbeat:
      m.heartbeat_flags = net::load32be(p);
      if (m.heartbeat_flags & ~kHeartbeatReady)
        return wireError(WireErrc::kReserved, "sync: unknown heartbeat flags {:#x}", m.heartbeat_flags);
      if (!allZero(p + 5, 3)) return wireError(WireErrc::kReserved, "sync: HEARTBEAT reserved bytes not zero");
      if (p[4] > kMaxHeartbeatMacs)
        return wireError(WireErrc::kBadCount, "sync: HEARTBEAT announces {} MAC addresses (at most {})",
                         p[4], kMaxHeartbeatMacs);
      if (payloadLength(h.type, p[4]) != h.payload_len)
        return wireError(WireErrc::kBadLength, "sync: HEARTBEAT announces {} MAC addresses in {} bytes",
                         p[4], h.payload_len);
      m.macs.resize(p[4]);
      for (size_t i = 0; i < m.macs.size(); ++i)
        std::memcpy(m.macs[i].data(), p + kControlPrefix + i * kMacSize, kMacSize);
      break;
  }
  p += prefixLength(h.type);
  m.entries.reserve(h.count);
  for (size_t i = 0; i < h.count; ++i, p += kEntryWireSize) {
    auto e = decodeEntry(std::span<const uint8_t, kEntryWireSize>(p, kEntryWireSize));
    if (!e) return WireError{e.error().code, fmt::format("{} (entry {})", e.error().message, i)};
    m.entries.push_back(std::move(*e));
  }
  return m;
}

WireResult<Message> decodePlain(std::span<const uint8_t> bytes) {
  auto h = decodeHeader(bytes, 0);
  if (!h) return h.error();
  return decodePayload(*h, bytes.subspan(kHeaderSize));
}

}  // namespace sluice::cluster
