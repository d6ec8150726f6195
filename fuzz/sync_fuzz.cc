// Fuzzes session sync's receiving side: arbitrary datagrams through verify + decode. The
// first byte picks the path, the rest is the datagram:
//   0  plaintext decoder (decodePlain): must refuse with a named error, or decode to a
//      message that encodes back to exactly the same bytes;
//   1  Opener::open with the fuzzer's key, as a datagram from the network: must refuse with a
//      counted reason (almost always bad_mac), or, for a seed sealed with that key, open to a
//      message that round-trips;
//   2  the same bytes made authentic: a valid header's payload is sealed with the key, so
//      open() passes the tag and reaches the payload decoder; its verdict must be the
//      plaintext decoder's, and the tag must never fail.
// Nothing may crash, read out of bounds or throw.
#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cluster/sync_auth.h"

namespace {

using namespace sluice::cluster;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "sync_fuzz: %s\n", what);
  std::abort();
}

const SyncKey& fuzzKey() {
  static const SyncKey k = *SyncKey::derive("sync fuzzer key, 32 bytes long!!");
  return k;
}

void checkRoundTrip(const Message& m, std::span<const uint8_t> plain_bytes) {
  auto again = encodePlain(m);
  if (!again) fail("a decoded message does not encode");
  if (!plain_bytes.empty() &&
      (again->size() != plain_bytes.size() ||
       !std::equal(again->begin(), again->end(), plain_bytes.begin())))
    fail("a decoded message encodes to different bytes");
  auto back = decodePlain(*again);
  if (!back || !(*back == m)) fail("an encoded message does not decode to itself");
}

void plainPath(std::span<const uint8_t> in) {
  auto m = decodePlain(in);
  if (!m) {
    if (m.error().message.empty()) fail("an error without a message");
    return;
  }
  checkRoundTrip(*m, in);
}

void networkPath(std::span<const uint8_t> in) {
  static const uint32_t kPeers[] = {1, 2};
  Opener opener(fuzzKey(), kPeers);
  auto m = opener.open(in);
  if (!m) {
    if (m.error().message.empty()) fail("a drop without a message");
    return;
  }
  checkRoundTrip(*m, {});
}

void authenticPath(std::span<const uint8_t> in) {
  auto h = decodeHeader(in, 0);
  if (!h) return;
  std::vector<uint8_t> sealed(in.begin(), in.end());
  sealed.resize(in.size() + kTagSize);
  SyncNonce nonce = nonceOf(*h);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + kHeaderSize, &clen, in.data() + kHeaderSize,
                                             h->payload_len, in.data(), kHeaderSize, nullptr,
                                             nonce.data(), fuzzKey().bytes().data());
  const uint32_t peers[] = {h->node_id};
  Opener opener(fuzzKey(), peers);
  auto opened = opener.open(sealed);
  auto plain = decodePlain(in);
  if (opened.ok() != plain.ok()) fail("open() and the plaintext decoder disagree");
  if (!opened) {
    if (opened.error().reason == DropReason::kBadMac) fail("an authentic datagram failed its tag");
    if (opened.error().reason != dropReasonOf(plain.error().code))
      fail("open() counts a different reason than the decoder's error");
    return;
  }
  if (!(*opened == *plain)) fail("open() and the plaintext decoder return different messages");
  checkRoundTrip(*opened, in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: plainPath(in); break;
    case 1: networkPath(in); break;
    case 2: authenticPath(in); break;
  }
  return 0;
}
