// CtlServer on a real Unix socket in a temporary directory, driven by the real client and
// by raw sockets that misbehave.
#include "ctl/server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ctl/client.h"
#include "support/ctl_fake_backend.h"

namespace sluice::ctl {
namespace {

class CtlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-ctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/sluiced.sock";  // parent directory does not exist yet
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A raw client: connect, optionally send, read answer lines.
  int rawConnect() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return fd;
  }
  static void sendAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += size_t(n);
    }
  }
  // Reads until `lines` newlines or EOF/timeout; returns what arrived.
  static std::string readLines(int fd, int lines, int timeout_ms = 5000) {
    std::string got;
    char buf[4096];
    while (std::count(got.begin(), got.end(), '\n') < lines) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) break;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, size_t(n));
    }
    return got;
  }
  static bool peerClosed(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, 0) == 0;
  }

  std::string dir_, path_;
  testing::FakeBackend backend_;
};

TEST_F(CtlServerTest, ClientTalksToBackendThroughSocket) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.start().ok());
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto t = UnixTransport::connect(path_);
  ASSERT_TRUE(t.ok()) << t.error().message;
  Client client(**t);
  svc::ServiceConfig s;
  s.key.addr = *net::IpAddr::parse("10.0.0.1");
  s.key.port = 80;
  s.scheduler = "rr";
  ASSERT_TRUE(client.addService(s).ok());
  auto again = client.addService(s);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "Service already exists");
  svc::DestConfig d;
  d.ep = *net::Endpoint::parse("192.168.1.1:80");
  ASSERT_TRUE(client.addDest(s.key, d).ok());
  auto list = client.list(std::nullopt);
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->conn_table_size, 4096u);
  ASSERT_EQ(list->services.size(), 1u);
  EXPECT_EQ(list->services[0].cfg.scheduler, "rr");
  EXPECT_EQ(list->services[0].dests[0].cfg.ep, d.ep);
  auto timeouts = client.timeouts();
  ASSERT_TRUE(timeouts.ok());
  EXPECT_EQ(timeouts->tcp, 900u);
  EXPECT_TRUE(client.listConns().ok());

  server.stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(CtlServerTest, ConnectErrorNamesThePath) {
  auto t = UnixTransport::connect(path_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "Could not connect to sluiced at " + path_ + ": No such file or directory");
}

TEST_F(CtlServerTest, MalformedLinesGetErrorsAndTheConnectionGoesOn) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.start().ok());
  int fd = rawConnect();
  sendAll(fd, "garbage\n{\"op\":\"nope\"}\r\n\n{\"op\":\"get_timeouts\"}\n");
  std::string got = readLines(fd, 3);
  auto first_nl = got.find('\n');
  ASSERT_NE(first_nl, std::string::npos);
  EXPECT_EQ(Json::parse(got.substr(0, first_nl))["ok"], false);
  auto second_nl = got.find('\n', first_nl + 1);
  ASSERT_NE(second_nl, std::string::npos);
  EXPECT_EQ(Json::parse(got.substr(first_nl + 1, second_nl - first_nl - 1))["ok"], false);
  Json third = Json::parse(got.substr(second_nl + 1));
  EXPECT_EQ(third["timeouts"]["udp"], 300);
  ::close(fd);
}

TEST_F(CtlServerTest, DisconnectMidLineAndIdleClientsDoNotHurt) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.start().ok());
  int idle = rawConnect();  // connects and never sends
  int half = rawConnect();
  sendAll(half, "{\"op\":\"cle");
  ::close(half);
  auto t = UnixTransport::connect(path_);
  ASSERT_TRUE(t.ok());
  Client client(**t);
  EXPECT_TRUE(client.clear().ok());
  EXPECT_EQ(backend_.calls, 1);  // the half line was not run
  ::close(idle);
}

TEST_F(CtlServerTest, AnswersAClientThatShutsDownItsSendSide) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.start().ok());
  int fd = rawConnect();
  sendAll(fd, "{\"op\":\"list\"}\n");
  ::shutdown(fd, SHUT_WR);  // like `socat -` after stdin ends
  std::string got = readLines(fd, 1);
  EXPECT_EQ(Json::parse(got)["ok"], true);
  EXPECT_TRUE(peerClosed(fd));
  ::close(fd);
}

TEST_F(CtlServerTest, OversizedLineIsRefusedAndClosed) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.start().ok());
  int fd = rawConnect();
  sendAll(fd, std::string(kMaxRequestBytes + 10, 'a'));
  std::string got = readLines(fd, 1);
  Json j = Json::parse(got);
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"].get<std::string>().find("longer than 1048576 bytes"), std::string::npos);
  EXPECT_TRUE(peerClosed(fd));
  ::close(fd);
}

TEST_F(CtlServerTest, StaleSocketIsReplacedLiveOneAndFilesAreNot) {
  {
    CtlServer first(path_, backend_);
    ASSERT_TRUE(first.start().ok());
    CtlServer second(path_, backend_);
    auto s = second.open();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, "another process is already serving the control socket " + path_);
    // `second` must not remove the live server's socket when it goes away.
  }
  // Leave a socket file nobody listens on, as a crashed daemon would.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ::close(fd);
  CtlServer third(path_, backend_);
  ASSERT_TRUE(third.start().ok());
  third.stop();

  std::ofstream(path_) << "not a socket";
  CtlServer fourth(path_, backend_);
  auto s = fourth.open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, path_ + " exists and is not a socket; refusing to replace it");
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(CtlServerTest, RunOnTheCallersThreadStopsOnRequest) {
  CtlServer server(path_, backend_);
  ASSERT_TRUE(server.open().ok());
  std::thread t([&] { server.run(); });
  auto c = UnixTransport::connect(path_);
  ASSERT_TRUE(c.ok());
  Client client(**c);
  EXPECT_TRUE(client.zero(std::nullopt).ok());
  server.requestStop();
  t.join();
  server.stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace sluice::ctl
