#include "cluster/sync_auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "unit/cluster/entries.h"

namespace sluice::cluster {
namespace {

using namespace testing;

constexpr uint32_t kA = 1, kB = 2;
constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";

SyncKey key(std::string_view s = kSecret) {
  auto k = SyncKey::derive(s);
  EXPECT_TRUE(k.ok()) << k.error().message;
  return *k;
}

std::vector<uint8_t> seal(Sealer& s, const Message& m) {
  auto d = s.seal(m);
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : std::vector<uint8_t>{};
}

struct Pair {
  Sealer a{key(), kA, makeEpoch(1'700'000'000, 1)};
  std::vector<uint32_t> peers{kA};
  Opener b{key(), peers};
};

TEST(SyncAuth, KeyDerivationRefusesShortKeysAndSeparatesSecrets) {
  auto short_key = SyncKey::derive("hunter2");
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.error().message.find("at least 16"), std::string::npos);
  EXPECT_EQ(key().bytes(), key().bytes());
  EXPECT_NE(key().bytes(), key("0123456789abcdef0123456789abcdeF").bytes());
}

TEST(SyncAuth, SealedMessagesOpenAndHideTheirPayload) {
  Pair p;
  Message m = update({drConn(), fullNatV6Controlled()});
  auto d = seal(p.a, m);
  ASSERT_EQ(d.size(), kHeaderSize + 2 * kEntryWireSize + kTagSize);
  auto clear = *encodePlain(m);
  // The payload is not in clear: no 16-byte run of the plaintext entry appears.
  EXPECT_EQ(std::search(d.begin() + kHeaderSize, d.end(), clear.begin() + kHeaderSize + 32,
                        clear.begin() + kHeaderSize + 48),
            d.end());
  auto o = p.b.open(d);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->node_id, kA);
  EXPECT_EQ(o->seq, 1u);
  EXPECT_EQ(o->entries, m.entries);
  EXPECT_EQ(p.b.counters().accepted.load(), 1u);
  EXPECT_EQ(p.a.nextSeq(), 2u);
}

TEST(SyncAuth, EveryMessageTypeSurvivesSealing) {
  Pair p;
  Message req = heartbeat(0);
  req.type = MsgType::kBulkRequest;
  req.request_id = 5;
  Message chunk = update({templateEntry()});
  chunk.type = MsgType::kBulkChunk;
  chunk.request_id = 5;
  chunk.last_chunk = true;
  for (const Message& m : {update({udpFwmarkConn()}), req, chunk, heartbeat()}) {
    auto o = p.b.open(seal(p.a, m));
    ASSERT_TRUE(o.ok()) << o.error().message;
    EXPECT_EQ(o->type, m.type);
    EXPECT_EQ(o->request_id, m.request_id);
    EXPECT_EQ(o->last_chunk, m.last_chunk);
    EXPECT_EQ(o->heartbeat_flags, m.heartbeat_flags);
    EXPECT_EQ(o->entries, m.entries);
  }
}

TEST(SyncAuth, ForgeriesFailTheMacAndDoNotMoveTheWindow) {
  Pair p;
  auto good = seal(p.a, update({drConn()}));
  // Every byte after the magic/version/type/count/length (which the decoder checks first):
  // node id is in the nonce but a change makes it an unknown peer, so start at the epoch.
  for (size_t i = 12; i < good.size(); ++i) {
    if (i >= 28 && i < 32) continue;  // count/length: refused before the MAC
    auto bad = good;
    bad[i] ^= 0x01;
    auto o = p.b.open(bad);
    ASSERT_FALSE(o.ok()) << i;
    EXPECT_EQ(o.error().reason, DropReason::kBadMac) << i << ": " << o.error().message;
  }
  EXPECT_EQ(p.b.counters().bad_mac.load(), good.size() - 12 - 4);
  // A datagram sealed with another key.
  Sealer other(key("another shared key, long enough"), kA, makeEpoch(1'700'000'000, 1));
  EXPECT_EQ(p.b.open(seal(other, update({drConn()}))).error().reason, DropReason::kBadMac);
  // None of that moved the window: the genuine datagram is still fresh.
  EXPECT_TRUE(p.b.open(good).ok());
  EXPECT_EQ(p.b.counters().accepted.load(), 1u);
}

TEST(SyncAuth, ForgedFutureSequenceCannotPushTheWindowAway) {
  Pair p;
  auto first = seal(p.a, heartbeat());
  auto bad = first;
  bad[27] = 0xff;  // sequence 255, far ahead, but the tag is for sequence 1
  EXPECT_EQ(p.b.open(bad).error().reason, DropReason::kBadMac);
  EXPECT_TRUE(p.b.open(first).ok());
}

TEST(SyncAuth, ReplaysAreDroppedReorderingIsNot) {
  Pair p;
  std::vector<std::vector<uint8_t>> d;
  for (int i = 0; i < 5; ++i) d.push_back(seal(p.a, heartbeat()));
  for (int i : {4, 2, 0, 3, 1}) EXPECT_TRUE(p.b.open(d[i]).ok()) << i;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p.b.open(d[i]).error().reason, DropReason::kReplay) << i;
  EXPECT_EQ(p.b.counters().replay.load(), 5u);
  EXPECT_EQ(p.b.counters().accepted.load(), 5u);
}

TEST(SyncAuth, TooOldForTheWindowIsAReplay) {
  Pair p;
  std::vector<std::vector<uint8_t>> d;
  for (uint64_t i = 0; i < kReplayWindow + 2; ++i) d.push_back(seal(p.a, heartbeat()));
  ASSERT_TRUE(p.b.open(d.back()).ok());  // sequence kReplayWindow + 2
  EXPECT_EQ(p.b.open(d[0]).error().reason, DropReason::kReplay);
  EXPECT_EQ(p.b.open(d[1]).error().reason, DropReason::kReplay);
  EXPECT_TRUE(p.b.open(d[2]).ok());  // sequence 3: the oldest inside the window
}

TEST(SyncAuth, RestartedPeerIsRecognisedItsPreviousLifeIsNot) {
  Pair p;
  auto before = seal(p.a, heartbeat());
  auto late = seal(p.a, heartbeat());  // delayed in the network across the restart
  ASSERT_TRUE(p.b.open(before).ok());
  Sealer restarted(key(), kA, makeEpoch(1'700'000'100, 99));
  auto after = seal(restarted, heartbeat());  // sequence 1 again
  auto o = p.b.open(after);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(p.b.window(kA)->epoch(), makeEpoch(1'700'000'100, 99));
  auto old = p.b.open(late);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().reason, DropReason::kOldEpoch);
  EXPECT_EQ(p.b.counters().old_epoch.load(), 1u);
  EXPECT_EQ(p.b.open(after).error().reason, DropReason::kReplay);
}

TEST(SyncAuth, OnlyListedPeersAreHeard) {
  Pair p;
  Sealer stranger(key(), kB, 1);
  EXPECT_EQ(p.b.open(seal(stranger, heartbeat())).error().reason, DropReason::kUnknownPeer);
  p.b.addPeer(kB);
  EXPECT_TRUE(p.b.open(seal(stranger, heartbeat())).ok());
  p.b.removePeer(kB);
  EXPECT_EQ(p.b.window(kB), nullptr);
  EXPECT_EQ(p.b.open(seal(stranger, heartbeat())).error().reason, DropReason::kUnknownPeer);
  EXPECT_EQ(p.b.counters().unknown_peer.load(), 2u);
}

TEST(SyncAuth, TruncatedOversizedAndOtherVersionsAreCounted) {
  Pair p;
  auto d = seal(p.a, update(std::vector<SyncEntry>(kMaxUpdateEntries, drConn())));
  ASSERT_EQ(d.size(), kHeaderSize + kMaxUpdateEntries * kEntryWireSize + kTagSize);
  for (size_t n = 0; n < d.size(); ++n) {
    auto o = p.b.open(std::span<const uint8_t>(d.data(), n));
    ASSERT_FALSE(o.ok()) << n;
    EXPECT_EQ(o.error().reason, DropReason::kTruncated) << n << ": " << o.error().message;
  }
  EXPECT_EQ(p.b.counters().truncated.load(), d.size());

  EXPECT_EQ(p.b.open(std::vector<uint8_t>(kMaxDatagram + 1, 0)).error().reason, DropReason::kOversized);
  auto v2 = d;
  v2[4] = 2;
  EXPECT_EQ(p.b.open(v2).error().reason, DropReason::kBadVersion);
  auto junk = d;
  junk[0] = 'X';
  EXPECT_EQ(p.b.open(junk).error().reason, DropReason::kMalformed);
  EXPECT_EQ(p.b.counters().oversized.load(), 1u);
  EXPECT_EQ(p.b.counters().bad_version.load(), 1u);
  EXPECT_EQ(p.b.counters().malformed.load(), 1u);
  // And the intact datagram still opens: none of the refusals used its sequence.
  EXPECT_TRUE(p.b.open(d).ok());
}

// What a peer with the key but a broken encoder would send: a payload sealed as is.
std::vector<uint8_t> sealRaw(const std::vector<uint8_t>& plain, const SyncKey& k) {
  Header h = *decodeHeader(plain, 0);
  std::vector<uint8_t> d(plain);
  d.resize(plain.size() + kTagSize);
  SyncNonce n = nonceOf(h);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(d.data() + kHeaderSize, &clen, plain.data() + kHeaderSize,
                                             h.payload_len, plain.data(), kHeaderSize, nullptr,
                                             n.data(), k.bytes().data());
  return d;
}

TEST(SyncAuth, AnAuthenticButMalformedPayloadIsMalformedAndUsesItsSequence) {
  Pair p;
  Message m = update({drConn()});
  m.node_id = kA;
  m.epoch = 5;
  m.seq = 1;
  auto plain = *encodePlain(m);
  plain[kHeaderSize + 5] = 99;  // state 99
  auto d = sealRaw(plain, key());
  auto o = p.b.open(d);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().reason, DropReason::kMalformed);
  EXPECT_NE(o.error().message.find("state"), std::string::npos) << o.error().message;
  EXPECT_EQ(p.b.counters().malformed.load(), 1u);
  EXPECT_EQ(p.b.counters().bad_mac.load(), 0u);
  EXPECT_EQ(p.b.open(d).error().reason, DropReason::kReplay);
  // Sequence 1 is used now, even for a valid payload; the next one opens, which shows that
  // the helper seals as the Sealer does.
  EXPECT_EQ(p.b.open(sealRaw(*encodePlain(m), key())).error().reason, DropReason::kReplay);
  m.seq = 2;
  EXPECT_TRUE(p.b.open(sealRaw(*encodePlain(m), key())).ok());
}

TEST(SyncAuth, SealRefusesInvalidMessagesWithoutUsingASequence) {
  Pair p;
  SyncEntry e = drConn();
  e.timeout_s = 0;
  auto d = p.a.seal(update({e}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, WireErrc::kBadTimeout);
  EXPECT_EQ(p.a.nextSeq(), 1u);
}

}  // namespace
}  // namespace sluice::cluster
