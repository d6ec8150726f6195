// The /metrics server's request head parser and router, without sockets.
#include "metrics/http_request.h"

#include <string>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

using State = RequestHead::State;

TEST(MetricsHttpRequest, CompleteHead) {
  auto h = parseRequestHead("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(h.state, State::kComplete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/metrics");
}

TEST(MetricsHttpRequest, IncompleteUntilTheEmptyLine) {
  EXPECT_EQ(parseRequestHead("").state, State::kIncomplete);
  EXPECT_EQ(parseRequestHead("GET /metr").state, State::kIncomplete);
  EXPECT_EQ(parseRequestHead("GET /metrics HTTP/1.1\r\n").state, State::kIncomplete);
  EXPECT_EQ(parseRequestHead("GET /metrics HTTP/1.1\r\nHost: x\r\n\r").state, State::kIncomplete);
}

TEST(MetricsHttpRequest, LenientWhereHarmless) {
  auto h = parseRequestHead("\r\nGET /metrics?name[]=x HTTP/1.0\nHost: x\n\n");  // leading CRLF, bare LF
  EXPECT_EQ(h.state, State::kComplete);
  EXPECT_EQ(h.path, "/metrics");
  h = parseRequestHead("GET http://10.0.0.1:9100/metrics HTTP/1.1\r\n\r\n");  // absolute-form
  EXPECT_EQ(h.state, State::kComplete);
  EXPECT_EQ(h.path, "/metrics");
  h = parseRequestHead("GET http://10.0.0.1:9100 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(h.path, "/");
}

TEST(MetricsHttpRequest, MalformedIsBad) {
  for (const char* bad : {"GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                          "GET /metrics HTTP/1.1 x\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n",
                          "GET metrics HTTP/1.1\r\n\r\n", "GET /met\x01rics HTTP/1.1\r\n\r\n",
                          "GET /metrics HTTP/1\r\n\r\n", "GET /metrics http/1.1\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",            // no colon
                          "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obs-fold
                          "GET /metrics HTTP/1.1\r\n: x\r\n\r\n",               // empty name
                          "GET /metrics HTTP/1.1\r\nHost: a\x7f\r\n\r\n"}) {
    EXPECT_EQ(parseRequestHead(bad).state, State::kBad) << bad;
  }
  // Known bad before the head ends: no need to wait for more.
  EXPECT_EQ(parseRequestHead("GET /metrics HTTP/1.1 junk\r\nHost: x").state, State::kBad);
  EXPECT_EQ(parseRequestHead("GET /metrics HTTP/2.0\r\n\r\n").state, State::kBadVersion);
}

TEST(MetricsHttpRequest, HeadCappedAtMaxHead) {
  std::string head = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(parseRequestHead(head, head.size()).state, State::kComplete);
  EXPECT_EQ(parseRequestHead(head, head.size() - 1).state, State::kTooLarge);
  std::string endless = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(kMaxRequestHead, 'a');
  EXPECT_EQ(parseRequestHead(endless).state, State::kTooLarge);
  EXPECT_EQ(parseRequestHead(std::string(kMaxRequestHead, '\n')).state, State::kTooLarge);
  EXPECT_EQ(parseRequestHead(endless.substr(0, kMaxRequestHead - 1)).state, State::kIncomplete);
}

int renders = 0;
std::string page() {
  ++renders;
  return "up 1\n";
}

TEST(MetricsHttpRequest, Routes) {
  renders = 0;
  auto get = [](const char* req) { return respond(parseRequestHead(req), page); };
  EXPECT_EQ(get("GET /metrics HTTP/1.1\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\nup 1\n");
  EXPECT_EQ(get("HEAD /metrics HTTP/1.1\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_EQ(renders, 2);
  std::string index = get("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(index.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n", 0), 0u);
  EXPECT_NE(index.find("<a href=\"/metrics\">"), std::string::npos);
  EXPECT_EQ(get("GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  std::string post = get("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(post.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(get("GET /metrics HTTP/3.0\r\n\r\n").rfind("HTTP/1.1 505 ", 0), 0u);
  EXPECT_EQ(get("BAD\r\n\r\n").rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(renders, 2);  // only /metrics renders
  RequestHead big;
  big.state = State::kTooLarge;
  EXPECT_EQ(respond(big, page).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
}

}  // namespace
}  // namespace sluice::metrics
