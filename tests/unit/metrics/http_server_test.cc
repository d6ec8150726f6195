// The /metrics server over real loopback sockets, on ephemeral ports: the routes, the
// caps and deadlines that keep untrusted clients from blocking or exhausting it, stop().
// Every wait is bounded by a receive timeout; no test asserts on elapsed time.
#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

using namespace std::chrono_literals;

// A blocking client socket whose reads give up after `timeout`.
class Client {
 public:
  Client(uint16_t port, bool v6 = false, std::chrono::milliseconds timeout = 10s) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{long(timeout.count() / 1000), long(timeout.count() % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      a.sin6_port = htons(port);
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port);
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  bool send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(size_t(n));
    }
    return true;
  }
  // Everything until the server closes. `ended` says whether it did close (EOF or reset)
  // rather than the read timing out.
  std::string readAll(bool* ended = nullptr) {
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, size_t(n));
        continue;
      }
      if (ended) *ended = n == 0 || errno == ECONNRESET;
      return out;
    }
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string body(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

std::unique_ptr<HttpServer> startOrDie(std::string_view addr, std::function<std::string()> render,
                                       HttpServerOptions o = {}) {
  auto s = HttpServer::start(addr, std::move(render), o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(MetricsHttpServer, ParsesListenAddresses) {
  auto a = parseListenAddress("127.0.0.1:9100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9100);
  EXPECT_FALSE(a->any);
  a = parseListenAddress("[::1]:9100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  a = parseListenAddress(":0");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->any);
  EXPECT_EQ(a->port, 0);
  for (const char* bad : {"", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:9x",
                          "localhost:9100", "::1:9100", "[::1]9100", "[::1:9100", "[]:9100", "[10.0.0.1]:80"}) {
    auto r = parseListenAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("expected 127.0.0.1:9100"), std::string::npos);
    }
  }
}

TEST(MetricsHttpServer, ServesMetricsIndexAnd404) {
  std::atomic<int> renders{0};
  auto s = startOrDie("127.0.0.1:0", [&] {
    ++renders;
    return std::string("sluice_up 1\n");
  });
  ASSERT_TRUE(s);
  ASSERT_NE(s->port(), 0);
  {
    Client c(s->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool ended = false;
    std::string r = c.readAll(&ended);
    EXPECT_TRUE(ended) << "Connection: close means the server closes";
    EXPECT_EQ(r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                 "Content-Length: 12\r\nConnection: close\r\n\r\nsluice_up 1\n");
  }
  {
    Client c(s->port());
    ASSERT_TRUE(c.send("HEAD /metrics HTTP/1.1\r\n\r\n"));
    std::string r = c.readAll();
    EXPECT_NE(r.find("Content-Length: 12\r\n"), std::string::npos);
    EXPECT_EQ(body(r), "");
  }
  {
    Client c(s->port());
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_NE(c.readAll().find("href=\"/metrics\""), std::string::npos);
  }
  {
    Client c(s->port());
    ASSERT_TRUE(c.send("GET /other HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(c.readAll().rfind("HTTP/1.1 404 ", 0), 0u);
  }
  {
    Client c(s->port());
    ASSERT_TRUE(c.send("DELETE /metrics HTTP/1.1\r\n\r\n"));
    std::string r = c.readAll();
    EXPECT_EQ(r.rfind("HTTP/1.1 405 ", 0), 0u);
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
  }
  EXPECT_EQ(renders.load(), 2);
}

TEST(MetricsHttpServer, RequestInPiecesIsAssembled) {
  auto s = startOrDie("127.0.0.1:0", [] { return std::string("x 1\n"); });
  ASSERT_TRUE(s);
  Client c(s->port());
  for (const char* piece : {"GE", "T /met", "rics HTTP/1.1\r", "\nHost: a\r\n", "\r\n"}) {
    ASSERT_TRUE(c.send(piece));
    std::this_thread::sleep_for(5ms);  // let each piece arrive alone (correct either way)
  }
  EXPECT_EQ(body(c.readAll()), "x 1\n");
}

TEST(MetricsHttpServer, OversizedHeadGets431) {
  auto s = startOrDie("127.0.0.1:0", [] { return std::string("x 1\n"); });
  ASSERT_TRUE(s);
  Client c(s->port());
  std::string head = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(kMaxRequestHead + 100, 'a') + "\r\n\r\n";
  c.send(head);  // the server may answer before reading it all
  bool ended = false;
  std::string r = c.readAll(&ended);
  EXPECT_EQ(r.rfind("HTTP/1.1 431 ", 0), 0u) << r;
  EXPECT_TRUE(ended);
}

TEST(MetricsHttpServer, StalledClientDoesNotBlockOthersAndIsClosedAtDeadline) {
  HttpServerOptions o;
  o.deadline = 300ms;
  auto s = startOrDie("127.0.0.1:0", [] { return std::string("x 1\n"); }, o);
  ASSERT_TRUE(s);
  Client slow(s->port());
  ASSERT_TRUE(slow.send("GET /metrics HTTP/1.1\r\nHost:"));  // and nothing more
  Client fast(s->port());
  ASSERT_TRUE(fast.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body(fast.readAll()), "x 1\n");
  bool ended = false;
  EXPECT_EQ(slow.readAll(&ended), "");
  EXPECT_TRUE(ended) << "the stalled client must be closed by its deadline, not by the read timeout";
}

TEST(MetricsHttpServer, ClientThatDoesNotReadIsClosedAtDeadline) {
  HttpServerOptions o;
  o.deadline = 300ms;
  const std::string big(32 << 20, 'x');  // more than loopback's socket buffers hold
  auto s = startOrDie("127.0.0.1:0", [&] { return big; }, o);
  ASSERT_TRUE(s);
  Client reader_that_stalls(s->port());
  int small = 4096;
  ::setsockopt(reader_that_stalls.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(reader_that_stalls.send("GET /metrics HTTP/1.1\r\n\r\n"));
  Client other(s->port());
  ASSERT_TRUE(other.send("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(other.readAll().rfind("HTTP/1.1 200 OK", 0), 0u);
  // Wait for the server to give up (it resets the connection), then read: the part
  // already in flight, then the reset.
  pollfd p{reader_that_stalls.fd(), POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no reset within 10 s of a 300 ms deadline";
  EXPECT_TRUE(p.revents & (POLLERR | POLLHUP | POLLRDHUP));
  bool ended = false;
  std::string got = reader_that_stalls.readAll(&ended);
  EXPECT_TRUE(ended);
  EXPECT_LT(got.size(), big.size()) << "the server gave up on the stalled reader";
}

TEST(MetricsHttpServer, ConcurrentClients) {
  std::atomic<int> renders{0};
  auto s = startOrDie("127.0.0.1:0", [&] {
    ++renders;
    return std::string(100000, 'm') + "\n";
  });
  ASSERT_TRUE(s);
  constexpr int kClients = 24;
  std::vector<std::string> bodies(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Client c(s->port());
      if (c.send("GET /metrics HTTP/1.1\r\n\r\n")) bodies[i] = body(c.readAll());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& b : bodies) EXPECT_EQ(b.size(), 100001u);
  EXPECT_EQ(renders.load(), kClients);
}

TEST(MetricsHttpServer, ConnectionsBeyondTheCapWaitForASlot) {
  HttpServerOptions o;
  o.max_connections = 2;  // deadline stays 5 s: the held slots stay held during the check
  auto s = startOrDie("127.0.0.1:0", [] { return std::string("x 1\n"); }, o);
  ASSERT_TRUE(s);
  Client hold1(s->port()), hold2(s->port());
  ASSERT_TRUE(hold1.send("GET"));
  ASSERT_TRUE(hold2.send("GET"));
  std::this_thread::sleep_for(50ms);  // let the server accept both (else the third may take a slot)
  Client third(s->port(), false, 300ms);
  ASSERT_TRUE(third.connected());  // the kernel's backlog takes it
  ASSERT_TRUE(third.send("GET /metrics HTTP/1.1\r\n\r\n"));
  bool ended = true;
  EXPECT_EQ(third.readAll(&ended), "") << "served beyond the cap";
  EXPECT_FALSE(ended);
  hold1.close();  // frees a slot
  timeval tv{10, 0};
  ::setsockopt(third.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(body(third.readAll()), "x 1\n");
}

TEST(MetricsHttpServer, StopWithAClientConnected) {
  auto s = startOrDie("127.0.0.1:0", [] { return std::string("x 1\n"); });
  ASSERT_TRUE(s);
  Client c(s->port());
  ASSERT_TRUE(c.send("GET /met"));
  std::this_thread::sleep_for(20ms);
  s->stop();
  bool ended = false;
  c.readAll(&ended);
  EXPECT_TRUE(ended);
  s->stop();  // idempotent
  Client after(s->port());
  EXPECT_FALSE(after.connected());
}

TEST(MetricsHttpServer, Ipv6LoopbackAndAnyAddress) {
  auto s = HttpServer::start("[::1]:0", [] { return std::string("x 1\n"); });
  if (!s.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << s.error().message;
  Client c((*s)->port(), true);
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body(c.readAll()), "x 1\n");

  auto any = startOrDie(":0", [] { return std::string("y 1\n"); });
  ASSERT_TRUE(any);
  Client v4(any->port());
  ASSERT_TRUE(v4.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body(v4.readAll()), "y 1\n");
  Client v6(any->port(), true);
  ASSERT_TRUE(v6.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body(v6.readAll()), "y 1\n");
}

TEST(MetricsHttpServer, PortInUseIsAClearError) {
  auto first = startOrDie("127.0.0.1:0", [] { return std::string(); });
  ASSERT_TRUE(first);
  auto second = HttpServer::start("127.0.0.1:" + std::to_string(first->port()), [] { return std::string(); });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("choose another --metrics port"), std::string::npos) << second.error().message;
}

}  // namespace
}  // namespace sluice::metrics
