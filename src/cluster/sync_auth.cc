// AEAD sealing, opening and the per-peer replay check (design in sync_auth.h).
#include "cluster/sync_auth.h"

#include <sodium.h>

#include <cstring>

#include "net/bytes.h"

namespace sluice::cluster {
namespace {

static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kTagSize);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

// 16 bytes, BLAKE2b's personalisation: a new derivation (or format) gets a new string.
constexpr char kPersonal[crypto_generichash_blake2b_PERSONALBYTES + 1] = "sluice-sync-v1\0\0";

}  // namespace

SyncNonce nonceOf(const Header& h) noexcept {
  SyncNonce n{};
  net::store32be(n.data(), h.node_id);
  net::store32be(n.data() + 4, uint32_t(h.epoch >> 32));
  net::store32be(n.data() + 8, uint32_t(h.epoch));
  net::store32be(n.data() + 12, uint32_t(h.seq >> 32));
  net::store32be(n.data() + 16, uint32_t(h.seq));
  return n;  // last 4 bytes zero
}

Result<SyncKey> SyncKey::derive(std::string_view shared_key) {
  if (sodium_init() < 0) return makeError("sync: libsodium failed to initialise");
  if (shared_key.size() < kMinSharedKey)
    return makeError("sync: the cluster's shared key has {} bytes; use at least {} random bytes "
                     "(e.g. `openssl rand -hex 32`)", shared_key.size(), kMinSharedKey);
  SyncKey k;
  static const uint8_t kNoSalt[crypto_generichash_blake2b_SALTBYTES] = {};
  if (crypto_generichash_blake2b_salt_personal(
          k.k_.data(), k.k_.size(), reinterpret_cast<const uint8_t*>(shared_key.data()),
          shared_key.size(), nullptr, 0, kNoSalt,
          reinterpret_cast<const uint8_t*>(kPersonal)) != 0)
    return makeError("sync: key derivation failed");
  return k;
}

std::atomic<uint64_t>& DropCounters::of(DropReason r) noexcept {
  switch (r) {
    case DropReason::kBadMac: return bad_mac;
    case DropReason::kReplay: return replay;
    case DropReason::kOldEpoch: return old_epoch;
    case DropReason::kTruncated: return truncated;
    case DropReason::kOversized: return oversized;
    case DropReason::kBadVersion: return bad_version;
    case DropReason::kUnknownPeer: return unknown_peer;
    case DropReason::kMalformed: return malformed;
  }
  return malformed;
}

DropReason dropReasonOf(WireErrc c) noexcept {
  switch (c) {
    case WireErrc::kTruncated: return DropReason::kTruncated;
    case WireErrc::kOversized: return DropReason::kOversized;
    case WireErrc::kBadVersion: return DropReason::kBadVersion;
    default: return DropReason::kMalformed;
  }
}

std::string_view dropReasonName(DropReason r) noexcept {
  switch (r) {
    case DropReason::kBadMac: return "bad_mac";
    case DropReason::kReplay: return "replay";
    case DropReason::kOldEpoch: return "old_epoch";
    case DropReason::kTruncated: return "truncated";
    case DropReason::kOversized: return "oversized";
    case DropReason::kBadVersion: return "bad_version";
    case DropReason::kUnknownPeer: return "unknown_peer";
    case DropReason::kMalformed: return "malformed";
  }
  return "unknown";
}

WireResult<std::vector<uint8_t>> Sealer::seal(Message m) {
  m.node_id = node_id_;
  m.epoch = epoch_;
  m.seq = next_seq_;
  auto plain = encodePlain(m);
  if (!plain) return plain.error();
  std::vector<uint8_t>& buf = *plain;
  size_t payload_len = buf.size() - kHeaderSize;
  buf.resize(buf.size() + kTagSize);
  SyncNonce nonce = nonceOf(headerOf(m));
  unsigned long long clen = 0;
  // In place: libsodium allows the ciphertext to overlap the message exactly.
  crypto_aead_xchacha20poly1305_ietf_encrypt(buf.data() + kHeaderSize, &clen, buf.data() + kHeaderSize,
                                             payload_len, buf.data(), kHeaderSize, nullptr,
                                             nonce.data(), key_.bytes().data());
  ++next_seq_;
  return std::move(buf);
}

Opener::Opener(const SyncKey& key, std::span<const uint32_t> peers) : key_(key) {
  for (uint32_t p : peers) addPeer(p);
}

void Opener::addPeer(uint32_t node_id) { peers_.try_emplace(node_id); }
void Opener::removePeer(uint32_t node_id) { peers_.erase(node_id); }

const ReplayWindow* Opener::window(uint32_t node_id) const {
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : &it->second;
}

Opened Opener::drop(DropReason r, std::string message) {
  counters_.of(r).fetch_add(1, std::memory_order_relaxed);
  return OpenError{r, std::move(message)};
}

Opened Opener::open(std::span<const uint8_t> datagram) {
  auto h = decodeHeader(datagram, kTagSize);
  if (!h) return drop(dropReasonOf(h.error().code), h.error().message);
  auto peer = peers_.find(h->node_id);
  if (peer == peers_.end())
    return drop(DropReason::kUnknownPeer, fmt::format("sync: node {} is not a listed peer", h->node_id));
  ReplayWindow& window = peer->second;
  switch (window.check(h->epoch, h->seq)) {
    case ReplayVerdict::kFresh: break;
    case ReplayVerdict::kReplay:
      return drop(DropReason::kReplay,
                  fmt::format("sync: node {} sequence {} already seen or too old", h->node_id, h->seq));
    case ReplayVerdict::kOldEpoch:
      return drop(DropReason::kOldEpoch,
                  fmt::format("sync: node {} epoch {:#x} precedes its current {:#x}", h->node_id,
                              h->epoch, window.epoch()));
  }
  // Header fields read from the datagram itself, so a forged header changes the nonce and the
  // additional data, and the tag fails.
  SyncNonce nonce = nonceOf(*h);
  std::array<uint8_t, kMaxPayload> plain;
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &plen, nullptr, datagram.data() + kHeaderSize, h->payload_len + kTagSize,
          datagram.data(), kHeaderSize, nonce.data(), key_.bytes().data()) != 0)
    return drop(DropReason::kBadMac, fmt::format("sync: datagram from node {} fails authentication",
                                                 h->node_id));
  // Authentic: this (epoch, seq) is now used, whether or not its payload decodes.
  window.commit(h->epoch, h->seq);
  auto m = decodePayload(*h, std::span<const uint8_t>(plain.data(), plen));
  if (!m) return drop(dropReasonOf(m.error().code), m.error().message);
  counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  return std::move(*m);
}

}  // namespace sluice::cluster
