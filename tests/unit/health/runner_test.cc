// health::Runner: keepalived's retry/up/down rules, alpha, set() semantics, scale; and the
// TCP_CHECK try, which the runner tests drive.
#include "health/runner.h"

#include <gtest/gtest.h>

#include "common/log.h"
#include "unit/health/health_test_util.h"

namespace sluice::health {
namespace {

using namespace testing;
using config::CheckKind;

TEST(HealthTcp, UpWhenListeningV4AndV6) {
  for (bool v6 : {false, true}) {
    uint16_t port = 0;
    int l = listenOn(SOCK_STREAM, v6, &port);
    ASSERT_GE(l, 0);
    auto o = tryOnce(fastCheck(CheckKind::kTcp), loopback(port, v6));
    EXPECT_TRUE(o.ok) << o.reason;
    EXPECT_EQ(o.reason, "connected");
    close(l);
  }
}

TEST(HealthTcp, DownWhenRefused) {
  auto o = tryOnce(fastCheck(CheckKind::kTcp), loopback(closedPort()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "connect: Connection refused");
}

TEST(HealthTcp, ConnectPortOverridesTheRealServersPort) {
  uint16_t port = 0;
  int l = listenOn(SOCK_STREAM, false, &port);
  auto c = fastCheck(CheckKind::kTcp);
  c.connect_port = port;
  c.bindto = net::IpAddr::parse("127.0.0.1");
  EXPECT_TRUE(tryOnce(c, loopback(closedPort())).ok);
  c.connect_ip = net::IpAddr::parse("::1");  // bindto of the other family: a clear failure
  auto o = tryOnce(c, loopback(closedPort()));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.reason.find("not of the family"), std::string::npos) << o.reason;
  close(l);
}

TEST(HealthTcp, SourceOptionsBindIfAndFwmark) {
  uint16_t port = 0;
  int l = listenOn(SOCK_STREAM, false, &port);
  auto c = fastCheck(CheckKind::kTcp);
  c.bind_if = "lo";
  c.fwmark = 7;
  c.bindto = net::IpAddr::parse("127.0.0.2");
  auto o = tryOnce(c, loopback(port));
  EXPECT_TRUE(o.ok) << o.reason;
  c.bind_if = "nosuchdev0";
  o = tryOnce(c, loopback(port));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, "bind_if nosuchdev0: No such device");
  close(l);
}

Target tcpTarget(uint64_t id, uint16_t port, config::CheckerConfig c = fastCheck(CheckKind::kTcp)) {
  return Target{id, c, loopback(port), svc::Proto::kTcp};
}

TEST(HealthRunner, DownAfterRetriesThenUpAgain) {
  Verdicts v;
  Runner r(v.sink());
  uint16_t port = 0;
  int l = listenOn(SOCK_STREAM, false, &port);
  auto c = fastCheck(CheckKind::kTcp);
  c.retry = 3;
  r.set({tcpTarget(1, port, c)});
  r.start();
  // Up from the start (alpha off) and the server answers: checks run, no callback.
  auto checked = [&](uint64_t n) {
    for (int i = 0; i < 400; ++i) {
      auto st = r.status();
      if (!st.empty() && st[0].checks_run >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(checked(2));
  EXPECT_TRUE(v.all().empty());
  close(l);  // now refused
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 1; }));
  auto st = r.status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_FALSE(st[0].up);
  EXPECT_EQ(v.all()[0].reason, "connect: Connection refused");
  EXPECT_FALSE(v.all()[0].up);
  // retry = 3: the down verdict came after 1 + 3 failed tries, not before.
  EXPECT_GE(st[0].checks_failed, 4u);
  int l2 = -1;
  {
    // Listen on the same port again (it may be briefly unavailable; bounded tries).
    for (int i = 0; i < 100 && l2 < 0; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 16) == 0) {
        l2 = fd;
      } else {
        close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  ASSERT_GE(l2, 0);
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 2; }));
  EXPECT_TRUE(v.all()[1].up);
  EXPECT_EQ(v.all()[1].id, 1u);
  close(l2);
}

TEST(HealthRunner, RetryCountsFailedTriesBeforeDown) {
  // A down verdict needs exactly 1 + retry failed tries while up.
  for (unsigned retry : {0u, 2u}) {
    Verdicts v;
    Runner r(v.sink());
    auto c = fastCheck(CheckKind::kTcp);
    c.retry = retry;
    c.delay_loop = 3600 * kSecond;  // after going down, no further try during the test
    r.set({tcpTarget(7, closedPort(), c)});
    r.start();
    ASSERT_TRUE(v.waitFor([](auto& a) { return !a.empty(); }));
    auto st = r.status();
    EXPECT_EQ(st[0].checks_failed, 1u + retry);
    EXPECT_EQ(st[0].checks_run, 1u + retry);
  }
}

TEST(HealthRunner, AlphaStartsDownWithoutCallbackAndGoesUp) {
  Verdicts v;
  Runner r(v.sink());
  uint16_t port = 0;
  int l = listenOn(SOCK_STREAM, false, &port);
  auto c = fastCheck(CheckKind::kTcp);
  c.alpha = true;
  auto c2 = fastCheck(CheckKind::kTcp);
  c2.alpha = true;
  c2.delay_loop = 3600 * kSecond;
  c2.warmup = 3600 * kSecond;  // never checked during the test
  r.set({tcpTarget(1, port, c), tcpTarget(2, port, c2)});
  auto before = r.status();
  EXPECT_TRUE(before.empty());  // nothing until the thread runs
  r.start();
  ASSERT_TRUE(v.waitFor([](auto& a) { return !a.empty(); }));
  EXPECT_TRUE(v.all()[0].up);
  EXPECT_EQ(v.all()[0].id, 1u);
  auto st = r.status();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_FALSE(st[1].up);
  EXPECT_EQ(st[1].checks_run, 0u);
  close(l);
}

TEST(HealthRunner, SetKeepsUnchangedTargetsAndRestartsChangedOnes) {
  Verdicts v;
  Runner r(v.sink());
  auto down = fastCheck(CheckKind::kTcp);
  down.delay_loop = 3600 * kSecond;
  r.set({tcpTarget(1, closedPort(), down), tcpTarget(2, closedPort(), down)});
  r.start();
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 2; }));
  // Same config for 1: stays down with its counters; 2 changed to checktype on: restarted
  // from down, goes up; 3 new with alpha off: up, no callback.
  auto t1 = r.status()[0];
  auto on = fastCheck(CheckKind::kOn);
  auto t2 = tcpTarget(2, 1, on);
  auto t3 = tcpTarget(3, 1, on);
  Target same1 = tcpTarget(1, t1.rs.port, down);
  r.set({same1, t2, t3});
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 3; }));
  auto all = v.all();
  EXPECT_EQ(all[2].id, 2u);
  EXPECT_TRUE(all[2].up);
  auto st = r.status();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_FALSE(st[0].up);
  EXPECT_EQ(st[0].checks_run, t1.checks_run);  // no new try: schedule kept (1 h away)
  EXPECT_TRUE(st[2].up);
  r.set({t3});
  for (int i = 0; i < 400 && r.status().size() != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(r.status().size(), 1u);
  EXPECT_EQ(v.all().size(), 3u);  // no callback for 3 (it started up and stays up)
}

TEST(HealthRunner, RepeatedIdIsIgnored) {
  Verdicts v;
  Runner r(v.sink());
  r.set({tcpTarget(1, 1, fastCheck(CheckKind::kOff)), tcpTarget(1, 1, fastCheck(CheckKind::kOn))});
  r.start();
  ASSERT_TRUE(v.waitFor([](auto& a) { return !a.empty(); }));
  EXPECT_FALSE(v.all()[0].up);
  EXPECT_EQ(r.status().size(), 1u);
}

TEST(HealthRunner, StaticOnAndOff) {
  Verdicts v;
  Runner r(v.sink());
  r.set({tcpTarget(1, 1, fastCheck(CheckKind::kOff))});
  r.start();
  ASSERT_TRUE(v.waitFor([](auto& a) { return !a.empty(); }));
  EXPECT_FALSE(v.all()[0].up);
  EXPECT_EQ(v.all()[0].reason, "always down (checktype off)");
}

TEST(HealthRunner, TwoThousandTcpTargetsAllReachAVerdict) {
  log::setLevel(log::Level::kWarn);  // 1000 "success." lines say nothing here
  struct Restore {
    ~Restore() { log::setLevel(log::Level::kInfo); }
  } restore;
  Verdicts v;
  Runner r(v.sink());
  uint16_t port = 0;
  int l = listenOn(SOCK_STREAM, false, &port);  // never accepts: the kernel completes handshakes
  uint16_t dead = closedPort();
  std::vector<Target> ts;
  for (uint64_t id = 0; id < 2000; ++id) {
    auto c = fastCheck(CheckKind::kTcp);
    c.alpha = true;  // every target must report: up via a success, or stay down
    c.delay_loop = 3600 * kSecond;
    c.warmup = kSecond / 2;
    // Generous: on a loaded machine 1000 handshakes may wait for the runner's thread; the
    // timeout only bounds a failure (the closed port answers with a reset at once).
    c.connect_timeout = 10 * kSecond;
    ts.push_back(tcpTarget(id, id % 2 ? dead : port, c));
  }
  r.set(ts);
  r.start();
  // The even half goes up (one callback each); the odd half is checked and stays down.
  ASSERT_TRUE(v.waitFor([](auto& a) { return a.size() >= 1000; }));
  for (int i = 0; i < 2000; ++i) {
    auto st = r.status();
    size_t checked = 0;
    for (auto& s : st) checked += s.checks_run > 0;
    if (checked == 2000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto st = r.status();
  ASSERT_EQ(st.size(), 2000u);
  for (auto& s : st) {
    EXPECT_EQ(s.checks_run, 1u) << s.id;
    EXPECT_EQ(s.up, s.id % 2 == 0) << s.id << " " << s.reason;
  }
  EXPECT_EQ(v.all().size(), 1000u);
  close(l);
}

}  // namespace
}  // namespace sluice::health
