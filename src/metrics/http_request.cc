// Request head parsing and routing for the /metrics server (see http_request.h).
#include "metrics/http_request.h"

#include <fmt/format.h>

namespace sluice::metrics {

namespace {

using State = RequestHead::State;

// RFC 9110 tchar.
bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
  }
  return false;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!isTchar(c)) return false;
  return true;
}

bool hasCtl(std::string_view s, bool allow_tab) {
  for (unsigned char c : s)
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f) return true;
  return false;
}

// "GET /metrics?x=1 HTTP/1.1" -> method, path; the state says what is wrong otherwise.
State parseRequestLine(std::string_view line, RequestHead& out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return State::kBad;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return State::kBad;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || target.empty() || hasCtl(target, false)) return State::kBad;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !(version[5] >= '0' && version[5] <= '9') || !(version[7] >= '0' && version[7] <= '9')) {
    return State::kBad;
  }
  if (version[5] != '1') return State::kBadVersion;
  // absolute-form (a proxy's request): keep its path.
  if (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://") {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target[0] != '/' && target != "*") return State::kBad;
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find('?')));
  return State::kComplete;
}

bool headerLineOk(std::string_view line) {
  if (line[0] == ' ' || line[0] == '\t') return false;  // obsolete line folding
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) return false;
  return !hasCtl(line.substr(colon + 1), true);
}

std::string response(int code, const char* reason, std::string_view type, std::string_view body, bool with_body,
                     std::string_view extra_headers = {}) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n", code, reason, type,
      body.size(), extra_headers);
  if (with_body) out += body;
  return out;
}

constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kIndex =
    "<!DOCTYPE html>\n<html><head><title>sluiced</title></head>\n"
    "<body><h1>sluiced</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

}  // namespace

RequestHead parseRequestHead(std::string_view received, size_t max_head) {
  RequestHead head;
  std::string_view window = received.substr(0, max_head);
  bool seen_request_line = false;
  size_t pos = 0;
  while (true) {
    size_t nl = window.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string_view line = window.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!seen_request_line) {
      if (line.empty()) continue;  // RFC 9112 2.2: ignore empty lines before the request line
      State s = parseRequestLine(line, head);
      if (s != State::kComplete) return RequestHead{s, {}, {}};
      seen_request_line = true;
      continue;
    }
    if (line.empty()) {
      head.state = State::kComplete;
      return head;
    }
    if (!headerLineOk(line)) return RequestHead{State::kBad, {}, {}};
  }
  // No end of head in the first max_head bytes.
  return RequestHead{received.size() >= max_head ? State::kTooLarge : State::kIncomplete, {}, {}};
}

std::string respond(const RequestHead& head, const std::function<std::string()>& render) {
  switch (head.state) {
    case State::kComplete: break;
    case State::kTooLarge: return response(431, "Request Header Fields Too Large", kText, "request head too large\n", true);
    case State::kBadVersion: return response(505, "HTTP Version Not Supported", kText, "HTTP/1.x only\n", true);
    case State::kBad:
    case State::kIncomplete: return response(400, "Bad Request", kText, "bad request\n", true);
  }
  bool head_only = head.method == "HEAD";
  if (head.method != "GET" && !head_only) {
    return response(405, "Method Not Allowed", kText, "only GET and HEAD\n", true, "Allow: GET, HEAD\r\n");
  }
  if (head.path == "/metrics") {
    return response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render(), !head_only);
  }
  if (head.path == "/") return response(200, "OK", "text/html; charset=utf-8", kIndex, !head_only);
  return response(404, "Not Found", kText, "not found; try /metrics\n", !head_only);
}

}  // namespace sluice::metrics
