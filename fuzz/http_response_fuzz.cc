// Response parsers of the health checkers: HTTP (http_response.h) and SMTP (smtp_reply.h).
// The input is split at a position taken from its first byte, so incremental feeding is
// exercised, and fed to both parsers with small caps. Invariants: never crash, the body
// never exceeds its cap, a finished parse has a 3-digit status, and feeding in two parts
// gives the same result as feeding at once.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "health/http_response.h"
#include "health/smtp_reply.h"

using namespace sluice::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t split = data[0] % (size);
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  split = std::min(split, in.size());
  HttpLimits limits{512, 4096};

  HttpResponseParser whole(limits);
  whole.feed(in);
  if (whole.state() == HttpResponseParser::State::kNeedMore) whole.finish();
  HttpResponseParser parts(limits);
  parts.feed(in.substr(0, split));
  parts.feed(in.substr(split));
  if (parts.state() == HttpResponseParser::State::kNeedMore) parts.finish();
  if (whole.state() != parts.state() || whole.body() != parts.body() || whole.error() != parts.error()) abort();
  if (whole.body().size() > limits.max_body) abort();
  if (whole.state() == HttpResponseParser::State::kDone && (whole.status() < 100 || whole.status() > 999)) abort();

  SmtpReplyReader a;
  size_t used = 0;
  while (used < in.size() && a.state() == SmtpReplyReader::State::kNeedMore) {
    a.feed(in.substr(used, 7));
    used += a.consumed();
    if (a.consumed() == 0) break;
  }
  SmtpReplyReader b;
  b.feed(in);
  if (a.state() != b.state() || a.code() != b.code()) abort();
  if (b.state() == SmtpReplyReader::State::kDone && (b.code() < 200 || b.code() > 599)) abort();
  return 0;
}
