#include "toa/wire.h"

#include <cstring>

namespace sluice::toa {

namespace {

constexpr uint8_t kMagic0 = 'S';
constexpr uint8_t kMagic1 = 'T';
constexpr uint8_t kOpLookup = 1;
constexpr uint8_t kOpAnswer = 2;

void putPort(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
uint16_t getPort(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

bool allZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

bool knownFamily(uint8_t f) { return f == kFamilyV4 || f == kFamilyV6; }

// An address field whose family is IPv4 must have a zero tail, so one connection has one
// encoding (the kernel's map key is compared byte for byte).
bool addrTailOk(uint8_t family, const uint8_t* addr) {
  return family == kFamilyV6 || allZero(addr + 4, 12);
}

DecodeError checkHeader(const uint8_t* d, uint8_t op) {
  if (d[0] != kMagic0 || d[1] != kMagic1) return DecodeError::kMagic;
  if (d[2] != kVersion) return DecodeError::kVersion;
  if (d[3] != op) return DecodeError::kOp;
  return DecodeError::kNone;
}

}  // namespace

const char* decodeErrorName(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kSize: return "wrong size";
    case DecodeError::kMagic: return "bad magic";
    case DecodeError::kVersion: return "unsupported version";
    case DecodeError::kOp: return "unexpected operation";
    case DecodeError::kFamily: return "unknown address family";
    case DecodeError::kPadding: return "non-zero padding";
    case DecodeError::kPort: return "port 0";
    case DecodeError::kStatus: return "unknown status";
  }
  return "?";
}

std::array<uint8_t, kRequestSize> encodeRequest(const Tuple& t) {
  std::array<uint8_t, kRequestSize> m{};
  m[0] = kMagic0;
  m[1] = kMagic1;
  m[2] = kVersion;
  m[3] = kOpLookup;
  m[4] = t.family;
  std::memcpy(&m[8], t.local.data(), 16);
  std::memcpy(&m[24], t.peer.data(), 16);
  putPort(&m[40], t.local_port);
  putPort(&m[42], t.peer_port);
  return m;
}

DecodedRequest decodeRequest(const uint8_t* d, size_t size) {
  DecodedRequest r;
  if (size != kRequestSize || d == nullptr) return {DecodeError::kSize, {}};
  if (DecodeError e = checkHeader(d, kOpLookup); e != DecodeError::kNone) return {e, {}};
  const uint8_t family = d[4];
  if (!knownFamily(family)) return {DecodeError::kFamily, {}};
  if (!allZero(d + 5, 3) || !addrTailOk(family, d + 8) || !addrTailOk(family, d + 24))
    return {DecodeError::kPadding, {}};
  r.tuple.family = family;
  std::memcpy(r.tuple.local.data(), d + 8, 16);
  std::memcpy(r.tuple.peer.data(), d + 24, 16);
  r.tuple.local_port = getPort(d + 40);
  r.tuple.peer_port = getPort(d + 42);
  if (r.tuple.local_port == 0 || r.tuple.peer_port == 0) return {DecodeError::kPort, {}};
  return r;
}

std::array<uint8_t, kAnswerSize> encodeAnswer(const Answer& a) {
  std::array<uint8_t, kAnswerSize> m{};
  m[0] = kMagic0;
  m[1] = kMagic1;
  m[2] = kVersion;
  m[3] = kOpAnswer;
  m[4] = uint8_t(a.status);
  if (a.status == AnswerStatus::kFound) {
    m[5] = a.client.family;
    putPort(&m[6], a.client.port);
    std::memcpy(&m[8], a.client.addr.data(), a.client.family == kFamilyV4 ? 4 : 16);
  }
  return m;
}

DecodedAnswer decodeAnswer(const uint8_t* d, size_t size) {
  DecodedAnswer r;
  if (size != kAnswerSize || d == nullptr) return {DecodeError::kSize, {}};
  // The daemon answers a request of another version with its own version and kBadVersion:
  // the header is checked for the magic and op only, then the version.
  if (d[0] != kMagic0 || d[1] != kMagic1) return {DecodeError::kMagic, {}};
  if (d[3] != kOpAnswer) return {DecodeError::kOp, {}};
  if (d[2] != kVersion) return {DecodeError::kVersion, {}};
  if (d[4] > uint8_t(AnswerStatus::kBadVersion)) return {DecodeError::kStatus, {}};
  r.answer.status = AnswerStatus(d[4]);
  if (r.answer.status != AnswerStatus::kFound) {
    if (!allZero(d + 5, kAnswerSize - 5)) return {DecodeError::kPadding, {}};
    return r;
  }
  const uint8_t family = d[5];
  if (!knownFamily(family)) return {DecodeError::kFamily, {}};
  if (!addrTailOk(family, d + 8)) return {DecodeError::kPadding, {}};
  r.answer.client.family = family;
  r.answer.client.port = getPort(d + 6);
  std::memcpy(r.answer.client.addr.data(), d + 8, 16);
  if (r.answer.client.port == 0) return {DecodeError::kPort, {}};
  return r;
}

}  // namespace sluice::toa
