// The HTTP/1.x request head parser and the router of the /metrics server, as pure
// functions: bytes in, a verdict and the response bytes out, so both are unit tested and
// fuzzed (fuzz/http_request_fuzz.cc) without sockets.
//
// The server answers one request per connection and closes it, so the parser reads only
// the request line and checks the header lines' shape; it keeps no header values (nothing
// here needs Host, and a body is never read). Strict where being lenient costs a guess:
// bare-LF line ends are accepted (curl and browsers never send them, but nc users do), an
// obsolete folded header line, a control character or a missing ':' is a 400.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::metrics {

// 8 KiB of request head (request line and headers) at most, as many servers allow.
constexpr size_t kMaxRequestHead = 8192;

struct RequestHead {
  enum class State {
    kIncomplete,  // no empty line yet, and under the cap: read more
    kComplete,    // method and target filled in
    kBad,         // malformed: 400
    kTooLarge,    // the head passes the cap: 431
    kBadVersion,  // not HTTP/1.x: 505
  };
  State state = State::kIncomplete;
  std::string method;
  std::string path;  // the target without its query string
};

// Looks at everything received so far on a connection.
RequestHead parseRequestHead(std::string_view received, size_t max_head = kMaxRequestHead);

// The whole response (status line, headers, body) to a parsed head; `render` is called
// only for GET/HEAD /metrics. Every response says Connection: close.
std::string respond(const RequestHead& head, const std::function<std::string()>& render);

}  // namespace sluice::metrics
