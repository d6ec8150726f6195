// The lookup protocol between libsluice_toa.so and sluice-toa: the bytes pinned, every
// message round-trips, and every malformed request is refused with the reason that makes
// the daemon answer kBadRequest (or kBadVersion), never a half-decoded tuple.
#include "toa/wire.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

namespace sluice::toa {
namespace {

Tuple v4Tuple() {
  Tuple t;
  t.family = kFamilyV4;
  inet_pton(AF_INET, "10.0.2.11", t.local.data());
  inet_pton(AF_INET, "10.0.2.10", t.peer.data());
  t.local_port = 80;
  t.peer_port = 40001;
  return t;
}

Tuple v6Tuple() {
  Tuple t;
  t.family = kFamilyV6;
  inet_pton(AF_INET6, "2001:db8:2::11", t.local.data());
  inet_pton(AF_INET6, "2001:db8:2::10", t.peer.data());
  t.local_port = 443;
  t.peer_port = 1025;
  return t;
}

std::vector<uint8_t> bytes(const std::array<uint8_t, kRequestSize>& a) { return {a.begin(), a.end()}; }

TEST(ToaWire, RequestBytesArePinned) {
  const auto m = encodeRequest(v4Tuple());
  const std::vector<uint8_t> want = {
      'S', 'T', 1, 1, 4, 0, 0, 0,                                    // header, family
      10, 0, 2, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,              // local
      10, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,              // peer
      0, 80, 0x9c, 0x41};                                            // ports, big-endian
  EXPECT_EQ(bytes(m), want);
}

TEST(ToaWire, RequestRoundTrips) {
  for (const Tuple& t : {v4Tuple(), v6Tuple()}) {
    const auto m = encodeRequest(t);
    const DecodedRequest d = decodeRequest(m.data(), m.size());
    ASSERT_EQ(d.error, DecodeError::kNone) << decodeErrorName(d.error);
    EXPECT_EQ(d.tuple, t);
  }
}

// Each case: one byte changed in a valid request, and the reason it must be refused.
TEST(ToaWire, MalformedRequestsAreRefused) {
  struct Case {
    const char* what;
    size_t offset;
    uint8_t value;
    DecodeError want;
  };
  const Case cases[] = {
      {"magic", 0, 'X', DecodeError::kMagic},
      {"magic second byte", 1, 0, DecodeError::kMagic},
      {"a future version", 2, 2, DecodeError::kVersion},
      {"version 0", 2, 0, DecodeError::kVersion},
      {"an answer sent as a request", 3, 2, DecodeError::kOp},
      {"family AF_INET's number instead of 4", 4, 2, DecodeError::kFamily},
      {"family 0", 4, 0, DecodeError::kFamily},
      {"padding after the family", 6, 1, DecodeError::kPadding},
      {"IPv4 local address with a tail", 12, 1, DecodeError::kPadding},
      {"IPv4 peer address with a tail", 39, 1, DecodeError::kPadding},
  };
  for (const Case& c : cases) {
    auto m = encodeRequest(v4Tuple());
    m[c.offset] = c.value;
    EXPECT_EQ(decodeRequest(m.data(), m.size()).error, c.want) << c.what;
  }
  Tuple zero_port = v4Tuple();
  zero_port.peer_port = 0;
  auto m = encodeRequest(zero_port);
  EXPECT_EQ(decodeRequest(m.data(), m.size()).error, DecodeError::kPort);
}

TEST(ToaWire, WrongSizesAreRefused) {
  const auto m = encodeRequest(v6Tuple());
  std::vector<uint8_t> longer(m.begin(), m.end());
  longer.push_back(0);
  EXPECT_EQ(decodeRequest(m.data(), m.size() - 1).error, DecodeError::kSize);
  EXPECT_EQ(decodeRequest(longer.data(), longer.size()).error, DecodeError::kSize);
  EXPECT_EQ(decodeRequest(m.data(), 0).error, DecodeError::kSize);
  EXPECT_EQ(decodeRequest(nullptr, kRequestSize).error, DecodeError::kSize);
}

TEST(ToaWire, AVersionMismatchIsAnsweredAsSuch) {
  EXPECT_EQ(statusForError(DecodeError::kVersion), AnswerStatus::kBadVersion);
  EXPECT_EQ(statusForError(DecodeError::kMagic), AnswerStatus::kBadRequest);
  EXPECT_EQ(statusForError(DecodeError::kSize), AnswerStatus::kBadRequest);
}

TEST(ToaWire, AnswersRoundTrip) {
  Answer v4;
  v4.status = AnswerStatus::kFound;
  v4.client.family = kFamilyV4;
  inet_pton(AF_INET, "203.0.113.7", v4.client.addr.data());
  v4.client.port = 4242;
  Answer v6;
  v6.status = AnswerStatus::kFound;
  v6.client.family = kFamilyV6;
  inet_pton(AF_INET6, "2001:db8:99::7", v6.client.addr.data());
  v6.client.port = 65535;
  Answer unknown;
  Answer bad;
  bad.status = AnswerStatus::kBadVersion;
  for (const Answer& a : {v4, v6, unknown, bad}) {
    const auto m = encodeAnswer(a);
    const DecodedAnswer d = decodeAnswer(m.data(), m.size());
    ASSERT_EQ(d.error, DecodeError::kNone) << decodeErrorName(d.error);
    EXPECT_EQ(d.answer.status, a.status);
    if (a.status == AnswerStatus::kFound) {
      EXPECT_EQ(d.answer.client, a.client);
    }
  }
  const auto m = encodeAnswer(v4);
  const std::vector<uint8_t> head(m.begin(), m.begin() + 12);
  EXPECT_EQ(head, (std::vector<uint8_t>{'S', 'T', 1, 2, 0, 4, 0x10, 0x92, 203, 0, 113, 7}));
}

TEST(ToaWire, MalformedAnswersAreRefused) {
  Answer a;
  a.status = AnswerStatus::kFound;
  a.client.family = kFamilyV4;
  a.client.port = 1;
  auto m = encodeAnswer(a);
  auto broken = [&](size_t off, uint8_t v) {
    auto c = m;
    c[off] = v;
    return decodeAnswer(c.data(), c.size()).error;
  };
  EXPECT_EQ(broken(4, 9), DecodeError::kStatus);
  EXPECT_EQ(broken(5, 7), DecodeError::kFamily);
  EXPECT_EQ(broken(20, 1), DecodeError::kPadding);  // IPv4 client with an address tail
  EXPECT_EQ(broken(3, 1), DecodeError::kOp);
  EXPECT_EQ(broken(2, 9), DecodeError::kVersion);
  EXPECT_EQ(decodeAnswer(m.data(), m.size() - 1).error, DecodeError::kSize);
  Answer unknown;
  auto u = encodeAnswer(unknown);
  u[5] = 4;  // a family in an "unknown" answer: not something this version sends
  EXPECT_EQ(decodeAnswer(u.data(), u.size()).error, DecodeError::kPadding);
}

}  // namespace
}  // namespace sluice::toa
