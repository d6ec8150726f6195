// Sealing and opening sync datagrams: authentication, confidentiality and replay protection.
//
// Choice: AEAD (XChaCha20-Poly1305, libsodium's crypto_aead_xchacha20poly1305_ietf) rather
// than a MAC alone (crypto_auth). Both authenticate; the AEAD also hides the payload, which
// is a list of who talks to which server: client addresses are personal data, and sync
// traffic may cross a shared network segment. It costs the same order of CPU and fewer
// bytes (a 16-byte tag against crypto_auth's 32). The 32-byte header is sent in clear as
// additional data (authenticated, not encrypted) because the receiver needs the sender, the
// epoch and the sequence before it opens anything. The 24-byte nonce is not sent: it is
// (node id, epoch, sequence), all authenticated header fields, unique per datagram because
// the sequence never repeats within an epoch and epochs differ between daemon lives and
// between nodes; XChaCha's long nonce is what makes room for all three.
//
// Key: derived from the config's shared key with BLAKE2b (crypto_generichash) under a
// personalisation string, so the same secret used elsewhere yields an unrelated key. It is
// not a password hash: the shared key must be random (at least 16 bytes; e.g. 32 random
// bytes in hex), which the derivation refuses to weaken by accepting short ones.
//
// Replay: one ReplayWindow per listed peer (replay_window.h). Order of checks in open():
// size, header, peer, replay window, then the tag, then the payload; the window is moved
// only by datagrams that verified. Every refusal increments one DropCounters field.
// Threading: a Sealer or an Opener belongs to one thread; DropCounters may be read by
// others (relaxed atomics, summed by the caller for metrics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "cluster/replay_window.h"
#include "cluster/sync_wire.h"
#include "common/result.h"

namespace sluice::cluster {

constexpr size_t kMinSharedKey = 16;

class SyncKey {
 public:
  static Result<SyncKey> derive(std::string_view shared_key);
  const std::array<uint8_t, 32>& bytes() const { return k_; }

 private:
  std::array<uint8_t, 32> k_{};
};

// Why open() refused a datagram, one counter each.
enum class DropReason : uint8_t {
  kBadMac,       // tag does not verify: forged, corrupted, or another key
  kReplay,       // a sequence already seen, or older than the window
  kOldEpoch,     // from a previous life of the peer
  kTruncated,
  kOversized,
  kBadVersion,
  kUnknownPeer,  // sender not in the peer list (or this node's own id)
  kMalformed,    // everything else the decoder refuses (sync_error.h)
};

struct DropCounters {
  std::atomic<uint64_t> bad_mac{0};
  std::atomic<uint64_t> replay{0};
  std::atomic<uint64_t> old_epoch{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> oversized{0};
  std::atomic<uint64_t> bad_version{0};
  std::atomic<uint64_t> unknown_peer{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> accepted{0};

  std::atomic<uint64_t>& of(DropReason r) noexcept;
};

struct OpenError {
  DropReason reason;
  std::string message;
};

// Opened message or the reason it was dropped.
class [[nodiscard]] Opened {
 public:
  Opened(Message m) : v_(std::move(m)) {}
  Opened(OpenError e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  Message& value() { return std::get<0>(v_); }
  const Message& value() const { return std::get<0>(v_); }
  Message* operator->() { return &value(); }
  Message& operator*() { return value(); }
  const OpenError& error() const { return std::get<1>(v_); }

 private:
  std::variant<Message, OpenError> v_;
};

// The sending side of one daemon life: fills in node id, epoch and the next sequence.
class Sealer {
 public:
  Sealer(const SyncKey& key, uint32_t node_id, uint64_t epoch) : key_(key), node_id_(node_id), epoch_(epoch) {}

  // The datagram for `m` (its node_id/epoch/seq are overwritten); an error if m is invalid.
  WireResult<std::vector<uint8_t>> seal(Message m);
  uint64_t nextSeq() const { return next_seq_; }

 private:
  SyncKey key_;
  uint32_t node_id_;
  uint64_t epoch_;
  uint64_t next_seq_ = 1;
};

class Opener {
 public:
  // peers: the other directors' node ids. Not this director's own: a datagram of ours
  // reflected back is then refused as an unknown peer.
  Opener(const SyncKey& key, std::span<const uint32_t> peers);

  Opened open(std::span<const uint8_t> datagram);

  // The peer set changes with the config; a removed peer's window is forgotten (removing and
  // adding a peer is also how an operator clears an epoch stuck in the future, should a
  // peer's clock have jumped ahead before a restart).
  void addPeer(uint32_t node_id);
  void removePeer(uint32_t node_id);
  const ReplayWindow* window(uint32_t node_id) const;

  const DropCounters& counters() const { return counters_; }

 private:
  Opened drop(DropReason r, std::string message);

  SyncKey key_;
  std::unordered_map<uint32_t, ReplayWindow> peers_;
  DropCounters counters_;
};

// The AEAD nonce of a datagram: node id, epoch, sequence (20 bytes), then 4 zero bytes.
// Public so that tests and the fuzzer can seal payloads the encoder would refuse, and reach
// the decoder behind a valid tag.
using SyncNonce = std::array<uint8_t, 24>;
SyncNonce nonceOf(const Header& h) noexcept;

// Which counter a decoder error lands in.
DropReason dropReasonOf(WireErrc c) noexcept;
std::string_view dropReasonName(DropReason r) noexcept;

}  // namespace sluice::cluster
