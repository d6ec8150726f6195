// /metrics request head fuzzer: any bytes -> parseRequestHead -> respond. Must never
// crash, and:
//   * a verdict reached on a prefix of the bytes is the verdict on all of them (the server
//     acts on the first verdict, whatever arrives after it);
//   * a complete head has a token method and a path that starts with '/' (or is "*");
//   * every response is one status line, headers, an empty line and a body whose length
//     the Content-Length header states (HEAD: stated, not sent).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/http_request.h"

using sluice::metrics::RequestHead;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void checkResponse(const RequestHead& head, const std::string& r) {
  check(r.rfind("HTTP/1.1 ", 0) == 0);
  size_t end = r.find("\r\n\r\n");
  check(end != std::string::npos);
  size_t cl = r.find("\r\nContent-Length: ");
  check(cl != std::string::npos && cl < end);
  size_t len = std::strtoull(r.c_str() + cl + 18, nullptr, 10);
  size_t body = r.size() - end - 4;
  bool head_only = head.state == RequestHead::State::kComplete && head.method == "HEAD";
  check(head_only ? body == 0 : body == len);
  check(r.find("\r\nConnection: close\r\n") < end);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t max_head = 512;  // small, so the fuzzer reaches the cap
  RequestHead whole = sluice::metrics::parseRequestHead(in, max_head);
  RequestHead half = sluice::metrics::parseRequestHead(in.substr(0, size / 2), max_head);
  if (half.state != RequestHead::State::kIncomplete) {
    check(half.state == whole.state && half.method == whole.method && half.path == whole.path);
  }
  if (whole.state == RequestHead::State::kComplete) {
    check(!whole.method.empty() && !whole.path.empty());
    check(whole.path[0] == '/' || whole.path == "*");
    check(whole.method.find_first_of(" \r\n") == std::string::npos);
  }
  if (whole.state != RequestHead::State::kIncomplete) {
    checkResponse(whole, sluice::metrics::respond(whole, [] { return std::string("m 1\n"); }));
  }
  return 0;
}
