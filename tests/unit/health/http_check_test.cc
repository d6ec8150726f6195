// HTTP_GET / SSL_GET against loopback servers started here: status ranges, digest, regex,
// 1.1 + Host, chunked, several urls, TLS with SNI, and misbehaving servers.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "unit/health/health_test_util.h"

namespace sluice::health {
namespace {

using namespace testing;
using config::CheckKind;

// Serves one canned response per connection and records the request.
struct CannedServer {
  explicit CannedServer(std::string response)
      : server([this, response](int fd, const std::atomic<bool>&) {
          std::string req = readUntil(fd, "\r\n\r\n");
          {
            std::lock_guard lk(mu);
            requests.push_back(req);
          }
          sendAll(fd, response);
        }) {}
  std::string lastRequest() {
    std::lock_guard lk(mu);
    return requests.empty() ? "" : requests.back();
  }
  std::mutex mu;
  std::vector<std::string> requests;
  TcpServer server;
};

config::CheckerConfig http(std::vector<config::UrlCheck> urls = {}) {
  auto c = fastCheck(CheckKind::kHttp);
  c.urls = std::move(urls);
  return c;
}

config::UrlCheck url(std::string path) {
  config::UrlCheck u;
  u.path = std::move(path);
  return u;
}

TEST(HealthHttp, StatusRanges) {
  CannedServer ok("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  CannedServer unavailable("HTTP/1.0 503 Busy\r\nContent-Length: 0\r\n\r\n");
  auto o = tryOnce(http(), loopback(ok.server.port()));
  EXPECT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.reason, "HTTP status 200");
  o = tryOnce(http(), loopback(unavailable.server.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "HTTP status 503");
  auto u = url("/");
  u.status_codes = {{500, 503}, {200, 200}};
  EXPECT_TRUE(tryOnce(http({u}), loopback(unavailable.server.port())).ok);
  u.status_codes = {{500, 502}};
  EXPECT_FALSE(tryOnce(http({u}), loopback(unavailable.server.port())).ok);
}

TEST(HealthHttp, RequestLineAndHost) {
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto c = http({url("/health?x=1")});
  ASSERT_TRUE(tryOnce(c, loopback(s.server.port())).ok);
  std::string req = s.lastRequest();
  EXPECT_EQ(req.rfind("GET /health?x=1 HTTP/1.0\r\n", 0), 0u) << req;
  EXPECT_NE(req.find(fmt::format("Host: 127.0.0.1:{}\r\n", s.server.port())), std::string::npos) << req;
  EXPECT_EQ(req.find("Connection: close"), std::string::npos);
  c.http_protocol = "1.1";
  c.virtualhost = "www.example.org";
  ASSERT_TRUE(tryOnce(c, loopback(s.server.port())).ok);
  req = s.lastRequest();
  EXPECT_EQ(req.rfind("GET /health?x=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Host: www.example.org\r\n"), std::string::npos) << req;
  c.http_protocol = "1.0C";
  c.urls[0].virtualhost = "url.example.org";
  ASSERT_TRUE(tryOnce(c, loopback(s.server.port())).ok);
  req = s.lastRequest();
  EXPECT_EQ(req.rfind("GET /health?x=1 HTTP/1.0\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Host: url.example.org\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Connection: close\r\n"), std::string::npos) << req;
}

TEST(HealthHttp, DigestOfTheChunkedBody) {
  // "hello world" in two chunks; MD5 5eb63bbbe01eeed093cb22bb8f5acdc3.
  CannedServer s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
  auto u = url("/");
  u.digest = "5eb63bbbe01eeed093cb22bb8f5acdc3";
  auto c = http({u});
  c.http_protocol = "1.1";
  auto o = tryOnce(c, loopback(s.server.port()));
  EXPECT_TRUE(o.ok) << o.reason;
  c.urls[0].digest = "00000000000000000000000000000000";
  o = tryOnce(c, loopback(s.server.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "MD5 digest mismatch");
}

TEST(HealthHttp, RegexAndRegexNoMatch) {
  CannedServer s("HTTP/1.0 200 OK\r\n\r\nstatus: green\n");  // body until close
  auto u = url("/");
  u.regex = "status: (green|yellow)";
  EXPECT_TRUE(tryOnce(http({u}), loopback(s.server.port())).ok);
  u.regex_no_match = true;
  auto o = tryOnce(http({u}), loopback(s.server.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "regex matched (regex_no_match)");
  u.regex = "red";
  EXPECT_TRUE(tryOnce(http({u}), loopback(s.server.port())).ok);
  u.regex_no_match = false;
  o = tryOnce(http({u}), loopback(s.server.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "regex did not match");
}

TEST(HealthHttp, EveryUrlMustPass) {
  TcpServer s([](int fd, const std::atomic<bool>&) {
    std::string req = readUntil(fd, "\r\n\r\n");
    if (req.rfind("GET /bad ", 0) == 0) sendAll(fd, "HTTP/1.0 404 Not Found\r\n\r\n");
    else sendAll(fd, "HTTP/1.0 200 OK\r\n\r\n");
  });
  EXPECT_TRUE(tryOnce(http({url("/a"), url("/b")}), loopback(s.port())).ok);
  auto o = tryOnce(http({url("/a"), url("/bad"), url("/c")}), loopback(s.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "HTTP status 404 (url /bad)");
  EXPECT_EQ(s.accepted(), 4);  // /a, /b, /a, /bad: /c never asked
}

TEST(HealthHttp, MisbehavingServersFailWithAReason) {
  auto c = http();
  c.connect_timeout = kSecond / 2;
  auto reasonFrom = [&](TcpServer::Handler h) {
    TcpServer s(std::move(h));
    auto o = tryOnce(c, loopback(s.port()));
    EXPECT_FALSE(o.ok);
    return o.reason;
  };
  // Endless body: stops at the cap, not at the timeout.
  auto endless = reasonFrom([](int fd, const std::atomic<bool>& stop) {
    readUntil(fd, "\r\n\r\n");
    sendAll(fd, "HTTP/1.0 200 OK\r\n\r\n");
    std::string mb(1 << 20, 'x');
    for (int i = 0; i < 64 && !stop; ++i) sendAll(fd, mb);
  });
  EXPECT_EQ(endless, "body too large");
  EXPECT_EQ(reasonFrom([](int fd, const std::atomic<bool>&) {
              readUntil(fd, "\r\n\r\n");
              sendAll(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
            }),
            "bad status line");
  EXPECT_EQ(reasonFrom([](int fd, const std::atomic<bool>&) {
              readUntil(fd, "\r\n\r\n");
              std::string h = "HTTP/1.0 200 OK\r\n";
              for (int i = 0; i < 10000; ++i) h += "X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n";
              sendAll(fd, h);
            }),
            "header section too large");
  auto reset = reasonFrom([](int fd, const std::atomic<bool>&) {
    readUntil(fd, "\r\n\r\n");
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // close() sends RST
  });
  EXPECT_EQ(reset, "recv: Connection reset by peer");
  // Half-open: accepts, never answers; slow: answers a byte at a time past the deadline.
  EXPECT_EQ(reasonFrom([](int fd, const std::atomic<bool>& stop) {
              readUntil(fd, "\r\n\r\n");
              for (int i = 0; i < 300 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }),
            "timeout after 0.5 s");
  EXPECT_EQ(reasonFrom([](int fd, const std::atomic<bool>& stop) {
              readUntil(fd, "\r\n\r\n");
              std::string r = "HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n";
              for (size_t i = 0; i < r.size() && !stop; ++i) {
                sendAll(fd, r.substr(i, 1));
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
              }
            }),
            "timeout after 0.5 s");
  EXPECT_EQ(reasonFrom([](int fd, const std::atomic<bool>&) {
              readUntil(fd, "\r\n\r\n");
              sendAll(fd, "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            }),
            "connection closed in the body");
  auto refused = tryOnce(c, loopback(closedPort()));
  EXPECT_EQ(refused.reason, "connect: Connection refused");
}

// ---- SSL_GET ----

struct SelfSigned {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  SelfSigned() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sluice-test"), -1, -1, 0);
    X509_set_issuer_name(cert, n);
    X509_sign(cert, key, EVP_sha256());
  }
  ~SelfSigned() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

struct TlsServer {
  explicit TlsServer(std::string response)
      : ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free),
        server([this, response](int fd, const std::atomic<bool>&) {
          timeval tv{5, 0};
          setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
          SSL* ssl = SSL_new(ctx.get());
          SSL_set_fd(ssl, fd);
          if (SSL_accept(ssl) == 1) {
            const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            {
              std::lock_guard lk(mu);
              snis.push_back(sni ? sni : "");
            }
            char buf[4096];
            std::string req;
            while (req.find("\r\n\r\n") == std::string::npos) {
              int n = SSL_read(ssl, buf, sizeof buf);
              if (n <= 0) break;
              req.append(buf, size_t(n));
            }
            SSL_write(ssl, response.data(), int(response.size()));
            SSL_shutdown(ssl);
          }
          SSL_free(ssl);
        }) {
    SSL_CTX_use_certificate(ctx.get(), cert.cert);
    SSL_CTX_use_PrivateKey(ctx.get(), cert.key);
  }
  std::vector<std::string> seenSni() {
    std::lock_guard lk(mu);
    return snis;
  }
  SelfSigned cert;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx;
  std::mutex mu;
  std::vector<std::string> snis;
  TcpServer server;  // last: stopped (threads joined) before ctx/cert go
};

TEST(HealthSsl, GetOverTlsWithSni) {
  TlsServer s("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  auto c = fastCheck(CheckKind::kSsl);
  config::UrlCheck u;
  u.digest = "5d41402abc4b2a76b9719d911017c592";  // md5("hello")
  c.urls = {u};
  auto o = tryOnce(c, loopback(s.server.port()));
  EXPECT_TRUE(o.ok) << o.reason;
  c.enable_sni = true;
  c.virtualhost = "sni.example.org";
  o = tryOnce(c, loopback(s.server.port()));
  EXPECT_TRUE(o.ok) << o.reason;
  auto snis = s.seenSni();
  ASSERT_EQ(snis.size(), 2u);
  EXPECT_EQ(snis[0], "");
  EXPECT_EQ(snis[1], "sni.example.org");
}

TEST(HealthSsl, PlainHttpServerIsAHandshakeFailure) {
  TcpServer s([](int fd, const std::atomic<bool>&) { sendAll(fd, "HTTP/1.0 200 OK\r\n\r\n"); });
  auto c = fastCheck(CheckKind::kSsl);
  auto o = tryOnce(c, loopback(s.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.reason.find("TLS handshake"), std::string::npos) << o.reason;
}

}  // namespace
}  // namespace sluice::health
