// An HTTP/1.x response parser for the HTTP_GET/SSL_GET checkers: pure, incremental (feed
// bytes as they arrive), bounded (header section and body caps), no I/O. It understands the
// status line, headers, Content-Length, chunked transfer coding and until-close bodies, and
// keeps the body (up to the cap) for the digest and regex checks.
//
// Trade-off: a real server is untrusted, so anything odd is an error with a reason rather
// than a guess; the parser never needs more than max_header + max_body + one chunk-size line
// of memory, whatever the server sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::health {

struct HttpLimits {
  size_t max_header = 32 * 1024;       // status line + headers
  size_t max_body = 4 * 1024 * 1024;   // decoded body
};

class HttpResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit HttpResponseParser(HttpLimits limits = {}) : limits_(limits) {}

  // Consumes bytes; returns kDone once the whole response is in (extra bytes ignored).
  State feed(std::string_view data);
  // The peer closed: completes an until-close body; anything else unfinished is an error.
  State finish();

  State state() const { return state_; }
  int status() const { return status_; }              // valid once the headers are in
  const std::string& body() const { return body_; }   // decoded (chunks joined)
  const std::string& error() const { return error_; } // "body too large", "bad status line"...

 private:
  enum class Phase { kHead, kBodyLength, kBodyClose, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kDone };
  State fail(std::string why);
  State parseHead();
  State appendBody(std::string_view d);

  HttpLimits limits_;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kHead;
  std::string head_;   // header bytes until the blank line
  std::string line_;   // current chunk-size or trailer line
  std::string body_;
  std::string error_;
  int status_ = 0;
  uint64_t remaining_ = 0;  // Content-Length left, or the current chunk's bytes left
  size_t trailer_bytes_ = 0;
};

}  // namespace sluice::health
