// sluice-toa's answering side with a table for a lookup: answers, refusals that keep the
// connection usable, a client that never sends (or sends garbage) not holding up another,
// and the socket file's life (a stale one replaced, a live one refused, removed at the end).
#include "toa/lookup_server.h"

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sluice::toa {
namespace {

namespace fs = std::filesystem;

Tuple tuple(uint16_t peer_port) {
  Tuple t;
  t.family = kFamilyV4;
  inet_pton(AF_INET, "10.0.2.11", t.local.data());
  inet_pton(AF_INET, "10.0.2.10", t.peer.data());
  t.local_port = 80;
  t.peer_port = peer_port;
  return t;
}

Client client() {
  Client c;
  c.family = kFamilyV4;
  inet_pton(AF_INET, "203.0.113.7", c.addr.data());
  c.port = 4242;
  return c;
}

class ToaLookupServer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sluice-toa-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/toa.sock";
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir_);
  }

  // Known: peer port 40001 only.
  void start() {
    auto s = LookupServer::listen(path_, [](const Tuple& t) -> std::optional<Client> {
      if (t == tuple(40001)) return client();
      return std::nullopt;
    });
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { served_ = server_->serve(stop_fd_); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    ASSERT_EQ(write(stop_fd_, &one, sizeof(one)), ssize_t(sizeof(one)));
    thread_.join();
    close(stop_fd_);
    EXPECT_TRUE(served_) << served_.error().message;
  }

  int connectClient() {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
    EXPECT_EQ(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
    timeval tv{5, 0};  // a lost answer fails the test instead of hanging it
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
  }

  DecodedAnswer ask(int s, const uint8_t* msg, size_t n) {
    EXPECT_EQ(send(s, msg, n, MSG_NOSIGNAL), ssize_t(n));
    uint8_t buf[64];
    const ssize_t got = recv(s, buf, sizeof(buf), 0);
    EXPECT_GT(got, 0) << strerror(errno);
    return decodeAnswer(buf, got > 0 ? size_t(got) : 0);
  }
  DecodedAnswer ask(int s, const Tuple& t) {
    const auto m = encodeRequest(t);
    return ask(s, m.data(), m.size());
  }

  std::string dir_, path_;
  std::unique_ptr<LookupServer> server_;
  int stop_fd_ = -1;
  std::thread thread_;
  Status served_;
};

TEST_F(ToaLookupServer, AnswersFoundAndUnknown) {
  start();
  const int s = connectClient();
  DecodedAnswer a = ask(s, tuple(40001));
  ASSERT_EQ(a.error, DecodeError::kNone);
  EXPECT_EQ(a.answer.status, AnswerStatus::kFound);
  EXPECT_EQ(a.answer.client, client());
  a = ask(s, tuple(40002));  // a second request on the same connection
  ASSERT_EQ(a.error, DecodeError::kNone);
  EXPECT_EQ(a.answer.status, AnswerStatus::kUnknown);
  close(s);
  stop();
  EXPECT_EQ(server_->stats().found, 1u);
  EXPECT_EQ(server_->stats().unknown, 1u);
}

TEST_F(ToaLookupServer, MalformedRequestsGetAnErrorAndTheConnectionStaysUsable) {
  start();
  const int s = connectClient();
  const uint8_t garbage[] = {'G', 'E', 'T', ' ', '/'};
  EXPECT_EQ(ask(s, garbage, sizeof(garbage)).answer.status, AnswerStatus::kBadRequest);
  uint8_t big[200] = {};
  const auto good = encodeRequest(tuple(40001));
  std::memcpy(big, good.data(), good.size());  // a valid request followed by more bytes
  EXPECT_EQ(ask(s, big, sizeof(big)).answer.status, AnswerStatus::kBadRequest);
  auto future = good;
  future[2] = kVersion + 1;
  EXPECT_EQ(ask(s, future.data(), future.size()).answer.status, AnswerStatus::kBadVersion);
  EXPECT_EQ(ask(s, tuple(40001)).answer.status, AnswerStatus::kFound);
  close(s);
  stop();
  EXPECT_EQ(server_->stats().bad_requests, 3u);
}

TEST_F(ToaLookupServer, AClientThatNeverSendsDoesNotHoldUpAnother) {
  start();
  const int idle = connectClient();
  const uint8_t half[] = {'S', 'T'};
  const int garbler = connectClient();
  ASSERT_EQ(send(garbler, half, sizeof(half), 0), 2);  // and never reads the answer
  const int s = connectClient();
  EXPECT_EQ(ask(s, tuple(40001)).answer.status, AnswerStatus::kFound);
  close(s);
  close(garbler);
  close(idle);
}

TEST_F(ToaLookupServer, TheOldestConnectionMakesRoomWhenFull) {
  auto srv = LookupServer::listen(path_, [](const Tuple&) { return std::optional<Client>(); }, 2);
  ASSERT_TRUE(srv) << srv.error().message;
  server_ = std::move(*srv);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { served_ = server_->serve(stop_fd_); });
  const int a = connectClient();
  const int b = connectClient();
  EXPECT_EQ(ask(b, tuple(1)).answer.status, AnswerStatus::kUnknown);  // a and b accepted
  const int c = connectClient();
  EXPECT_EQ(ask(c, tuple(1)).answer.status, AnswerStatus::kUnknown);
  uint8_t buf[8];
  EXPECT_EQ(recv(a, buf, sizeof(buf), 0), 0) << "the oldest connection should be closed";
  close(a);
  close(b);
  close(c);
  stop();
  EXPECT_EQ(server_->stats().dropped, 1u);
}

TEST_F(ToaLookupServer, SocketFileLife) {
  // A stale socket file (no one listening) is replaced.
  {
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(s);
  }
  start();
  struct stat st{};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  // A live one is refused, and left alone.
  auto second = LookupServer::listen(path_, [](const Tuple&) { return std::optional<Client>(); });
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another sluice-toa"), std::string::npos);
  EXPECT_TRUE(fs::exists(path_));
  // Not a socket: refused with the path named.
  auto not_sock = LookupServer::listen(dir_, [](const Tuple&) { return std::optional<Client>(); });
  EXPECT_FALSE(not_sock);
  stop();
  server_.reset();
  EXPECT_FALSE(fs::exists(path_));
}

}  // namespace
}  // namespace sluice::toa
