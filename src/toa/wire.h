// The lookup protocol between libsluice_toa.so (in the application) and sluice-toa: one
// fixed-size request, "which client is behind this connection?", and one fixed-size
// answer, as single messages on a unix seqpacket socket.
//
// Fixed sizes and explicit byte offsets rather than a struct on the wire: both ends are
// built together today, but the preload library is injected into other people's processes
// and may outlive a daemon upgrade, so every message carries a magic and a version, and
// the decoder checks every byte it does not use (padding, the unused tail of an IPv4
// address) is zero. This file needs nothing from libstdc++'s runtime (no allocation, no
// exceptions): it is compiled into the preload library as well as the daemon.
//
//   request (44 bytes):  'S' 'T' version op=1 | family 0 0 0 | local addr[16] | peer addr[16]
//                        | local port | peer port                    (ports big-endian)
//   answer (24 bytes):   'S' 'T' version op=2 | status family port | client addr[16]
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::toa {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kRequestSize = 44;
inline constexpr size_t kAnswerSize = 24;

// Families as in abi/records.h (SL_AF_V4, SL_AF_V6).
inline constexpr uint8_t kFamilyV4 = 4;
inline constexpr uint8_t kFamilyV6 = 6;

// A connection as the application's socket sees it. An IPv4 connection on a dual-stack
// IPv6 socket is given as IPv4 (see peer_addr.h): the kernel side keys it that way too.
// IPv4 addresses in the first 4 bytes, the rest zero; ports in host order.
struct Tuple {
  uint8_t family = 0;
  std::array<uint8_t, 16> local{};
  std::array<uint8_t, 16> peer{};
  uint16_t local_port = 0;
  uint16_t peer_port = 0;
  bool operator==(const Tuple&) const = default;
};

// The client the director saw.
struct Client {
  uint8_t family = 0;
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;  // host order
  bool operator==(const Client&) const = default;
};

enum class AnswerStatus : uint8_t {
  kFound = 0,
  kUnknown = 1,     // no TOA was seen for this connection (or it is not in the map any more)
  kBadRequest = 2,  // the request did not decode
  kBadVersion = 3,  // a request of another protocol version
};

enum class DecodeError : uint8_t {
  kNone = 0,
  kSize,        // not exactly one message of the expected size
  kMagic,
  kVersion,
  kOp,          // a request where an answer was expected, or the reverse
  kFamily,      // neither IPv4 nor IPv6
  kPadding,     // a byte that must be zero is not
  kPort,        // port 0: no connected TCP socket has it
  kStatus,      // an answer status this version does not define
};

const char* decodeErrorName(DecodeError e);

struct DecodedRequest {
  DecodeError error = DecodeError::kNone;
  Tuple tuple;
};

struct Answer {
  AnswerStatus status = AnswerStatus::kUnknown;
  Client client;  // meaningful when status is kFound
};

struct DecodedAnswer {
  DecodeError error = DecodeError::kNone;
  Answer answer;
};

std::array<uint8_t, kRequestSize> encodeRequest(const Tuple& t);
DecodedRequest decodeRequest(const uint8_t* data, size_t size);
std::array<uint8_t, kAnswerSize> encodeAnswer(const Answer& a);
DecodedAnswer decodeAnswer(const uint8_t* data, size_t size);

// What the daemon answers a request that failed to decode.
inline AnswerStatus statusForError(DecodeError e) {
  return e == DecodeError::kVersion ? AnswerStatus::kBadVersion : AnswerStatus::kBadRequest;
}

}  // namespace sluice::toa
