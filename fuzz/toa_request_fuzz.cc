// sluice-toa lookup-request fuzzer: any bytes a local process sends as a request. The
// decoder must never crash or read past the message; what it accepts must re-encode to the
// very same bytes (one connection, one encoding: the kernel's map key is compared byte for
// byte); what it refuses must map to an error answer that itself decodes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "toa/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::toa;
  // A copy of exactly `size` bytes, so ASan sees any read past the message.
  std::vector<uint8_t> msg(data, data + size);
  const DecodedRequest req = decodeRequest(msg.data(), msg.size());
  Answer ans;
  if (req.error == DecodeError::kNone) {
    const auto again = encodeRequest(req.tuple);
    if (size != again.size() || std::memcmp(again.data(), msg.data(), size) != 0) std::abort();
    if (req.tuple.family != kFamilyV4 && req.tuple.family != kFamilyV6) std::abort();
    // Answer as the daemon would for a known client: the tuple's own peer.
    ans.status = AnswerStatus::kFound;
    ans.client.family = req.tuple.family;
    ans.client.addr = req.tuple.peer;
    ans.client.port = req.tuple.peer_port;
  } else {
    ans.status = statusForError(req.error);
  }
  const auto out = encodeAnswer(ans);
  const DecodedAnswer back = decodeAnswer(out.data(), out.size());
  if (back.error != DecodeError::kNone || back.answer.status != ans.status) std::abort();
  if (ans.status == AnswerStatus::kFound && !(back.answer.client == ans.client)) std::abort();
  // The answer decoder faces the daemon's bytes, but it must survive anything too.
  (void)decodeAnswer(msg.data(), msg.size());
  return 0;
}
