// SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, MISC_CHECK and FILE_CHECK against loopback
// servers, child processes and files made here.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "health/dns_message.h"
#include "unit/health/health_test_util.h"

namespace sluice::health {
namespace {

using namespace testing;
using config::CheckKind;

// ---- SMTP ----

TEST(HealthSmtp, GreetingHeloQuit) {
  std::mutex mu;
  std::string helo;
  TcpServer s([&](int fd, const std::atomic<bool>&) {
    sendAll(fd, "220-mx.example.org ESMTP\r\n220 welcome\r\n");
    std::string h = readUntil(fd, "\r\n");
    sendAll(fd, "250 hello\r\n");
    readUntil(fd, "QUIT\r\n");
    std::lock_guard lk(mu);
    helo = h;
  });
  auto c = fastCheck(CheckKind::kSmtp);
  c.helo_name = "checker.example.org";
  auto o = tryOnce(c, loopback(s.port()));
  EXPECT_TRUE(o.ok) << o.reason;
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lk(mu);
      if (!helo.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lk(mu);
  EXPECT_EQ(helo, "HELO checker.example.org\r\n");
}

TEST(HealthSmtp, FailuresHaveReasons) {
  auto c = fastCheck(CheckKind::kSmtp);
  c.connect_timeout = kSecond / 2;
  auto reason = [&](TcpServer::Handler h) {
    TcpServer s(std::move(h));
    auto o = tryOnce(c, loopback(s.port()));
    EXPECT_FALSE(o.ok);
    return o.reason;
  };
  EXPECT_EQ(reason([](int fd, const std::atomic<bool>&) { sendAll(fd, "554 go away\r\n"); }),
            "SMTP greeting 554 (expected 220)");
  EXPECT_EQ(reason([](int fd, const std::atomic<bool>&) {
              sendAll(fd, "220 hi\r\n");
              readUntil(fd, "\r\n");
              sendAll(fd, "501 bad helo\r\n");
            }),
            "SMTP HELO answered 501 (expected 250)");
  EXPECT_EQ(reason([](int fd, const std::atomic<bool>&) { sendAll(fd, "garbage\r\n"); }), "not an SMTP reply");
  EXPECT_EQ(reason([](int fd, const std::atomic<bool>& stop) {
              for (int i = 0; i < 200 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }),
            "timeout after 0.5 s");
}

// ---- DNS and UDP: a UDP responder on loopback ----

class UdpResponder {
 public:
  using Reply = std::function<std::vector<uint8_t>(const std::vector<uint8_t>&)>;
  explicit UdpResponder(Reply r, bool v6 = false) : reply_(std::move(r)) {
    fd_ = listenOn(SOCK_DGRAM, v6, &port_);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        uint8_t buf[4096];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) continue;
        auto out = reply_(std::vector<uint8_t>(buf, buf + n));
        if (!out.empty()) sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~UdpResponder() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  Reply reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Answers any query with one A record (or `rcode`, or an answer of another type).
std::vector<uint8_t> dnsAnswer(const std::vector<uint8_t>& q, uint16_t type, int rcode = 0) {
  std::vector<uint8_t> r = q;
  r[2] |= 0x80;
  r[3] = uint8_t(0x80 | rcode);
  if (rcode) return r;
  r[7] = 1;
  std::vector<uint8_t> rr = {0xC0, 12, uint8_t(type >> 8), uint8_t(type), 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1};
  r.insert(r.end(), rr.begin(), rr.end());
  return r;
}

TEST(HealthDns, UpOnAnAnswerDownOtherwise) {
  auto c = fastCheck(CheckKind::kDns);
  c.dns_type = "A";
  c.dns_name = "www.example.org";
  c.connect_timeout = kSecond / 2;
  {
    UdpResponder good([](auto& q) { return dnsAnswer(q, 1); });
    auto o = tryOnce(c, loopback(good.port()), svc::Proto::kUdp);
    EXPECT_TRUE(o.ok) << o.reason;
  }
  {
    UdpResponder v6([](auto& q) { return dnsAnswer(q, 1); }, true);
    EXPECT_TRUE(tryOnce(c, loopback(v6.port(), true), svc::Proto::kUdp).ok);
  }
  {
    UdpResponder nx([](auto& q) { return dnsAnswer(q, 1, 3); });
    EXPECT_EQ(tryOnce(c, loopback(nx.port())).reason, "DNS RCODE 3 (NXDOMAIN)");
  }
  {
    UdpResponder wrong([](auto& q) { return dnsAnswer(q, 28); });
    EXPECT_EQ(tryOnce(c, loopback(wrong.port())).reason, "no answer of type 1 in the DNS reply");
  }
  {
    UdpResponder other_id([](auto& q) {
      auto r = dnsAnswer(q, 1);
      r[1] ^= 1;
      return r;
    });
    EXPECT_EQ(tryOnce(c, loopback(other_id.port())).reason, "DNS reply id mismatch");
  }
  {
    UdpResponder silent([](auto&) { return std::vector<uint8_t>{}; });
    EXPECT_EQ(tryOnce(c, loopback(silent.port())).reason, "no DNS reply within 0.5 s");
  }
  EXPECT_EQ(tryOnce(c, loopback(closedPort())).reason, "port unreachable");
}

TEST(HealthUdp, RequireReplyPrefixAndLengths) {
  auto c = fastCheck(CheckKind::kUdp);
  c.connect_timeout = kSecond / 2;
  c.udp_payload = {'p', 'i', 'n', 'g'};
  std::vector<uint8_t> seen;
  std::mutex mu;
  UdpResponder echo([&](auto& q) {
    std::lock_guard lk(mu);
    seen = q;
    return std::vector<uint8_t>{'p', 'o', 'n', 'g', '!'};
  });
  // Without require_reply, no port unreachable is success (here a reply came: fine too).
  EXPECT_TRUE(tryOnce(c, loopback(echo.port()), svc::Proto::kUdp).ok);
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(seen, c.udp_payload);
  }
  c.require_reply = true;
  c.udp_reply = {'p', 'o', 'n'};
  EXPECT_TRUE(tryOnce(c, loopback(echo.port())).ok);
  c.udp_reply = {'p', 'o', 'x'};
  EXPECT_EQ(tryOnce(c, loopback(echo.port())).reason, "UDP reply does not match");
  c.udp_reply = {};
  c.max_reply_length = 4;
  EXPECT_EQ(tryOnce(c, loopback(echo.port())).reason, "UDP reply of 5 bytes, over 4");
  c.max_reply_length = 0;
  c.min_reply_length = 6;
  EXPECT_EQ(tryOnce(c, loopback(echo.port())).reason, "UDP reply of 5 bytes, under 6");
  UdpResponder silent([](auto&) { return std::vector<uint8_t>{}; });
  c.min_reply_length = 0;
  EXPECT_EQ(tryOnce(c, loopback(silent.port())).reason, "no UDP reply within 0.5 s");
  c.require_reply = false;
  EXPECT_TRUE(tryOnce(c, loopback(silent.port())).ok);
  EXPECT_EQ(tryOnce(c, loopback(closedPort())).reason, "port unreachable");
}

// ---- PING ----

TEST(HealthPing, LoopbackAnswersV4AndV6) {
  auto c = fastCheck(CheckKind::kPing);
  for (bool v6 : {false, true}) {
    auto o = tryOnce(c, loopback(0, v6));
    if (!o.ok && o.reason.find("ICMP socket:") == 0) GTEST_SKIP() << "no CAP_NET_RAW: " << o.reason;
    EXPECT_TRUE(o.ok) << (v6 ? "v6: " : "v4: ") << o.reason;
  }
}

TEST(HealthPing, DownWhenTheHostIsUnreachable) {
  // In a fresh network namespace (a forked child's own) loopback is down: the echo cannot
  // be sent. The child reports through its exit status; the wait is bounded.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    auto o = tryOnce(fastCheck(CheckKind::kPing), loopback(0));
    if (!o.ok && o.reason == "ICMP connect: Network is unreachable") _exit(0);
    fprintf(stderr, "ping in an empty namespace: %s %s\n", o.ok ? "up" : "down", o.reason.c_str());
    _exit(o.ok ? 1 : 3);
  }
  int status = -1;
  for (int i = 0; i < 3000; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (i == 2999) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
  }
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "cannot create a network namespace";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---- MISC ----

class HealthMisc : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-misc-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string script(const std::string& name, const std::string& body) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    chmod(p.c_str(), 0755);
    return p;
  }
  std::string dir_;
};

TEST_F(HealthMisc, ExitCodesAndDynamicWeight) {
  auto c = fastCheck(CheckKind::kMisc);
  c.misc_path = script("exit0", "exit 0");
  EXPECT_TRUE(tryOnce(c, loopback(80)).ok);
  c.misc_path = script("exit1", "echo 'disk full'; exit 1");
  auto o = tryOnce(c, loopback(80));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "exit status 1: disk full");
  c.misc_path = script("exit12", "exit 12");
  o = tryOnce(c, loopback(80));
  EXPECT_FALSE(o.ok);  // without misc_dynamic any non-zero status is down
  c.misc_dynamic = true;
  o = tryOnce(c, loopback(80));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.weight, 10);
  c.misc_path = script("exit1", "exit 1");
  EXPECT_FALSE(tryOnce(c, loopback(80)).ok);
}

TEST_F(HealthMisc, ArgumentsQuotingAndShell) {
  auto c = fastCheck(CheckKind::kMisc);
  std::string s = script("args", R"([ "$1" = "a b" ] && [ "$2" = c ] && [ $# = 2 ])");
  c.misc_path = s + R"( "a b" c)";
  EXPECT_TRUE(tryOnce(c, loopback(80)).ok);
  c.misc_path = s + " a b c";
  EXPECT_FALSE(tryOnce(c, loopback(80)).ok);
  c.misc_path = "test 1 -eq 1 && exit 3";
  c.misc_shell = true;
  auto o = tryOnce(c, loopback(80));
  EXPECT_EQ(o.reason, "exit status 3");
  c.misc_shell = false;
  c.misc_path = dir_ + "/does-not-exist";
  o = tryOnce(c, loopback(80));
  EXPECT_EQ(o.reason, "exit status 127");
  c.misc_user = "no-such-user-sluice";
  o = tryOnce(c, loopback(80));
  EXPECT_EQ(o.reason, "misc_user no-such-user-sluice: no such user");
}

TEST_F(HealthMisc, TimeoutKillsTheProcessGroup) {
  auto c = fastCheck(CheckKind::kMisc);
  std::string pidfile = dir_ + "/child.pid";
  c.misc_path = script("sleeper", "sleep 30 & echo $! > " + pidfile + "; wait");
  c.misc_timeout = kSecond / 2;
  auto o = tryOnce(c, loopback(80));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "timeout after 0.5 s, killed");
  // The grandchild (sleep) was in the group and is gone too.
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::ifstream st("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    std::getline(st, line);
    gone = !st || line.find(") Z ") != std::string::npos;  // reaped by init, or a zombie
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST_F(HealthMisc, RunnerDynamicWeightChangesAreReported) {
  std::string value = dir_ + "/exit";
  std::ofstream(value) << 12;
  auto c = fastCheck(CheckKind::kMisc);
  c.misc_dynamic = true;
  c.misc_path = script("dyn", "exit $(cat " + value + ")");
  Verdicts v;
  Runner r(v.sink());
  r.set({Target{1, c, loopback(80), svc::Proto::kTcp}});
  r.start();
  ASSERT_TRUE(v.waitFor([](auto& a) { return !a.empty(); }));
  EXPECT_TRUE(v.all()[0].up);
  EXPECT_EQ(v.all()[0].weight, 10);
  std::ofstream(value) << 22;
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 2; }));
  EXPECT_EQ(v.all()[1].weight, 20);
  std::ofstream(value) << 1;
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 3; }));
  EXPECT_FALSE(v.all()[2].up);
}

TEST_F(HealthMisc, RemovedTargetsProcessIsKilled) {
  std::string pidfile = dir_ + "/pid";
  auto c = fastCheck(CheckKind::kMisc);
  c.misc_path = script("long", "echo $$ > " + pidfile + ".tmp; mv " + pidfile + ".tmp " + pidfile + "; exec sleep 30");
  c.misc_timeout = 3600 * kSecond;
  Verdicts v;
  Runner r(v.sink());
  r.set({Target{1, c, loopback(80), svc::Proto::kTcp}});
  r.start();
  pid_t pid = 0;
  for (int i = 0; i < 2000 && !pid; ++i) {
    std::ifstream(pidfile) >> pid;
    if (!pid) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(pid, 0);
  r.set({});
  bool gone = false;
  for (int i = 0; i < 2000 && !gone; ++i) {
    gone = kill(pid, 0) != 0;  // killed and reaped by the runner's loop
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(r.status().empty());
}

// ---- FILE ----

TEST_F(HealthMisc, FileCheckValueAndWeight) {
  std::string f = dir_ + "/track";
  auto c = fastCheck(CheckKind::kFile);
  c.file_path = f;
  auto o = tryOnce(c, loopback(80));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.reason.find("No such file"), std::string::npos) << o.reason;
  std::ofstream(f) << "0\n";
  EXPECT_TRUE(tryOnce(c, loopback(80)).ok);
  std::ofstream(f) << "3\n";
  EXPECT_FALSE(tryOnce(c, loopback(80)).ok);  // weight 0: non-zero is down
  c.file_weight = 5;
  o = tryOnce(c, loopback(80));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.weight, 15);
  c.file_reverse = true;
  EXPECT_EQ(tryOnce(c, loopback(80)).weight, -15);
  std::ofstream(f) << "99999999999\n";
  EXPECT_FALSE(tryOnce(c, loopback(80)).ok);
  std::ofstream(f) << "lots\n";
  EXPECT_EQ(tryOnce(c, loopback(80)).reason, f + " does not hold a number");
}

}  // namespace
}  // namespace sluice::health
