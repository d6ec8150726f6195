// The pure parsers and builders behind the checkers: HTTP responses, SMTP replies, DNS
// messages, ICMP echo, MISC_CHECK command lines.
#include <gtest/gtest.h>

#include "health/command_line.h"
#include "health/dns_message.h"
#include "health/http_response.h"
#include "health/icmp_echo.h"
#include "health/smtp_reply.h"

namespace sluice::health {
namespace {

using S = HttpResponseParser::State;

// Feeds a response one byte at a time: the parser must not depend on how bytes arrive.
HttpResponseParser byteByByte(std::string_view r, HttpLimits l = {}) {
  HttpResponseParser p(l);
  for (char c : r) p.feed(std::string_view(&c, 1));
  return p;
}

TEST(HealthHttpResponse, ContentLengthChunkedAndUntilClose) {
  auto p = byteByByte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
  EXPECT_EQ(p.state(), S::kDone);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "hello");
  p = byteByByte("HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, Chunked\r\n\r\n"
                 "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n");
  EXPECT_EQ(p.state(), S::kDone);
  EXPECT_EQ(p.status(), 201);
  EXPECT_EQ(p.body(), "abc0123456789");
  p = byteByByte("HTTP/1.0 404 Not Found\nServer: x\n\nbody");
  EXPECT_EQ(p.state(), S::kNeedMore);
  EXPECT_EQ(p.finish(), S::kDone);
  EXPECT_EQ(p.status(), 404);
  EXPECT_EQ(p.body(), "body");
  p = byteByByte("HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(p.state(), S::kDone);
}

TEST(HealthHttpResponse, ErrorsAndCaps) {
  auto err = [](std::string_view r, HttpLimits l = {}) {
    auto p = byteByByte(r, l);
    if (p.state() == S::kNeedMore) p.finish();
    return p.state() == S::kError ? p.error() : std::string("no error");
  };
  EXPECT_EQ(err("HTTP/2 200 OK\r\n\r\n"), "bad status line");
  EXPECT_EQ(err("HTTP/1.1 2x0 OK\r\n\r\n"), "bad status line");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), "bad header line");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), "bad Content-Length");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), "bad Content-Length");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), "bad chunk size");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n"), "bad chunk end");
  EXPECT_EQ(err(""), "connection closed before any response");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), "connection closed in the body");
  HttpLimits small{64, 8};
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", small), "body too large");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\n\r\n123456789", small), "body too large");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n", small), "body too large");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n", small), "header section too large");
  EXPECT_EQ(err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '0')), "chunked line too long");
}

TEST(HealthSmtpReply, MultiLineAndErrors) {
  SmtpReplyReader r;
  EXPECT_EQ(r.feed("220-mail.example.org ESMTP\r\n220-more\r\n"), SmtpReplyReader::State::kNeedMore);
  EXPECT_EQ(r.feed("220 ready\r\n250 next"), SmtpReplyReader::State::kDone);
  EXPECT_EQ(r.code(), 220);
  EXPECT_EQ(r.text(), "ready");
  EXPECT_EQ(r.consumed(), 11u);  // the next reply's bytes are left to the caller
  auto err = [](std::string_view in) {
    SmtpReplyReader x;
    x.feed(in);
    return x.state() == SmtpReplyReader::State::kError ? x.error() : "no error";
  };
  EXPECT_EQ(err("220-a\r\n250 b\r\n"), "SMTP reply lines with different codes");
  EXPECT_EQ(err("hello\r\n"), "not an SMTP reply");
  EXPECT_EQ(err(std::string(2000, '2')), "SMTP reply line too long");
  std::string many;
  for (int i = 0; i < 100; ++i) many += "220-x\r\n";
  EXPECT_EQ(err(many), "SMTP reply has too many lines");
}

std::vector<uint8_t> answerFor(const std::vector<uint8_t>& q, uint16_t type, int answers, int rcode = 0) {
  std::vector<uint8_t> r = q;
  r[2] |= 0x80;
  r[3] = uint8_t(0x80 | rcode);
  r[7] = uint8_t(answers);
  for (int i = 0; i < answers; ++i) {
    // name: pointer to the question name at offset 12
    std::vector<uint8_t> rr = {0xC0, 12, uint8_t(type >> 8), uint8_t(type), 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1};
    r.insert(r.end(), rr.begin(), rr.end());
  }
  return r;
}

TEST(HealthDnsMessage, QueryAndResponseRules) {
  EXPECT_EQ(dnsTypeCode("aaaa"), 28);
  EXPECT_EQ(dnsTypeCode("SOA"), 6);
  EXPECT_FALSE(dnsTypeCode("ANY"));
  auto q = buildDnsQuery(0x1234, "Example.org.", 1);
  ASSERT_TRUE(q.ok());
  std::vector<uint8_t> want = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e',
                               3, 'o', 'r', 'g', 0, 0, 1, 0, 1};
  EXPECT_EQ(*q, want);
  EXPECT_FALSE(buildDnsQuery(1, "a..b", 1).ok());
  EXPECT_FALSE(buildDnsQuery(1, std::string(64, 'a'), 1).ok());
  auto root = buildDnsQuery(1, ".", 6);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->size(), 12u + 1 + 4);

  auto msg = [](const std::vector<uint8_t>& v) { return std::span<const uint8_t>(v); };
  EXPECT_TRUE(checkDnsResponse(msg(answerFor(*q, 1, 1)), 0x1234, "example.org", 1).ok());
  auto why = [&](const std::vector<uint8_t>& r, uint16_t id = 0x1234, std::string_view name = "example.org") {
    auto st = checkDnsResponse(msg(r), id, name, 1);
    return st.ok() ? std::string("ok") : st.error().message;
  };
  EXPECT_EQ(why(answerFor(*q, 1, 1), 0x1235), "DNS reply id mismatch");
  EXPECT_EQ(why(*q), "DNS reply without QR");
  EXPECT_EQ(why(answerFor(*q, 1, 0, 3)), "DNS RCODE 3 (NXDOMAIN)");
  EXPECT_EQ(why(answerFor(*q, 1, 0)), "no answer of type 1 in the DNS reply");
  EXPECT_EQ(why(answerFor(*q, 28, 2)), "no answer of type 1 in the DNS reply");
  EXPECT_EQ(why(answerFor(*q, 1, 1), 0x1234, "example.com"), "DNS reply question mismatch");
  auto cut = answerFor(*q, 1, 1);
  cut.resize(cut.size() - 2);
  EXPECT_EQ(why(cut), "DNS answer truncated");
  auto loop = answerFor(*q, 1, 1);
  loop[29] = 0xC0, loop[30] = 29;  // the answer's name points at itself
  EXPECT_EQ(why(loop), "DNS answer: name compression loop");
}

TEST(HealthIcmpEcho, RequestAndReplyMatching) {
  auto req = buildEchoRequest(false, 0xBEEF, 7);
  ASSERT_GE(req.size(), 8u);
  EXPECT_EQ(req[0], 8);
  // A valid ICMP checksum sums to 0xFFFF over the message.
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < req.size(); i += 2) sum += uint32_t(req[i] << 8 | req[i + 1]);
  if (req.size() % 2) sum += uint32_t(req.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  EXPECT_EQ(sum, 0xFFFFu);
  std::vector<uint8_t> ip(20, 0);
  ip[0] = 0x45;
  std::vector<uint8_t> reply = ip;
  reply.insert(reply.end(), req.begin(), req.end());
  reply[20] = 0;  // echo reply
  EXPECT_TRUE(isEchoReply(false, reply, 0xBEEF, 7));
  EXPECT_FALSE(isEchoReply(false, reply, 0xBEEF, 8));
  EXPECT_FALSE(isEchoReply(false, reply, 0xBEEE, 7));
  reply[20] = 8;  // our own request looped back is not a reply
  EXPECT_FALSE(isEchoReply(false, reply, 0xBEEF, 7));
  auto req6 = buildEchoRequest(true, 1, 2);
  EXPECT_EQ(req6[0], 128);
  req6[0] = 129;
  EXPECT_TRUE(isEchoReply(true, req6, 1, 2));
  EXPECT_FALSE(isEchoReply(true, std::span<const uint8_t>(req6.data(), 5), 1, 2));
}

TEST(HealthCommandLine, WordsAndQuotes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(splitCommandLine("/bin/check  -p 80\t-x"), (V{"/bin/check", "-p", "80", "-x"}));
  EXPECT_EQ(splitCommandLine(R"(/bin/check "a b" c"d e"f "")"), (V{"/bin/check", "a b", "cd ef", ""}));
  EXPECT_EQ(splitCommandLine(R"(x a\ b \"q\")"), (V{"x", "a b", "\"q\""}));
  EXPECT_TRUE(splitCommandLine("   ").empty());
}

}  // namespace
}  // namespace sluice::health
