// sh and dh: the 256-bucket hashing schedulers.
#include <set>

#include <gtest/gtest.h>

#include "sched_fixture.h"

namespace sluice::sched {
namespace {

using testing::flowFrom;
using testing::Pool;
using testing::randomFlows;

constexpr uint32_t kFallback = 0x1;
constexpr uint32_t kPort = 0x2;

TEST(Sh, SameSourceSameServer) {
  Pool pool({1, 1, 1, 1});
  auto s = pool.make("sh");
  for (const auto& f : randomFlows(500)) {
    const int first = s->schedule(pool.dests(), f);
    ASSERT_GE(first, 0);
    SchedInput other = f;  // another connection from the same client
    other.sport = static_cast<uint16_t>(f.sport + 1);
    other.daddr = net::IpAddr::v4(0x0b000001);
    EXPECT_EQ(s->schedule(pool.dests(), other), first);
  }
  // A second instance over the same servers agrees (no per-instance state).
  auto t = pool.make("sh");
  for (const auto& f : randomFlows(200))
    EXPECT_EQ(s->schedule(pool.dests(), f), t->schedule(pool.dests(), f));
}

TEST(Sh, DifferentSourcesSpread) {
  Pool pool({1, 1, 1, 1});
  auto s = pool.make("sh");
  std::vector<int> got(4, 0);
  // Consecutive addresses of one subnet, the usual case.
  for (uint32_t a = 0; a < 4000; ++a) ++got[s->schedule(pool.dests(), flowFrom(0xc6336400 + a))];
  for (int c : got) EXPECT_NEAR(c, 1000, 150);
}

TEST(Sh, WeightsSetBucketShares) {
  Pool pool({3, 1});
  auto s = pool.make("sh");
  std::vector<int> got(2, 0);
  for (const auto& f : randomFlows(20000)) ++got[s->schedule(pool.dests(), f)];
  EXPECT_NEAR(got[0] / 20000.0, 0.75, 0.03);
}

TEST(Sh, PortFlagSpreadsOneClientsConnections) {
  Pool pool({1, 1, 1, 1});
  auto plain = pool.make("sh");
  auto by_port = pool.make("sh", kPort);
  std::set<int> plain_seen, port_seen;
  for (uint16_t port = 1024; port < 1224; ++port) {
    plain_seen.insert(plain->schedule(pool.dests(), flowFrom(0x0a000001, port)));
    port_seen.insert(by_port->schedule(pool.dests(), flowFrom(0x0a000001, port)));
  }
  EXPECT_EQ(plain_seen.size(), 1u);
  EXPECT_EQ(port_seen.size(), 4u);
  // With the flag, the same source and port is still sticky.
  EXPECT_EQ(by_port->schedule(pool.dests(), flowFrom(0x0a000001, 5555)),
            by_port->schedule(pool.dests(), flowFrom(0x0a000001, 5555)));
}

TEST(Sh, QuiescedServerKeepsItsBucketsSoOthersDoNotMove) {
  Pool full({1, 1, 1});
  Pool quiesced({1, 0, 1});
  auto a = full.make("sh");
  auto b = quiesced.make("sh");
  auto c = quiesced.make("sh", kFallback);
  int orphans = 0;
  for (const auto& f : randomFlows(3000)) {
    const int before = a->schedule(full.dests(), f);
    const int plain = b->schedule(quiesced.dests(), f);
    const int fb = c->schedule(quiesced.dests(), f);
    if (before == 1) {
      ++orphans;
      EXPECT_EQ(plain, -1);  // no fallback: no server
      EXPECT_TRUE(fb == 0 || fb == 2) << fb;
    } else {
      EXPECT_EQ(plain, before);
      EXPECT_EQ(fb, before);
    }
  }
  EXPECT_NEAR(orphans, 1000, 150);
}

TEST(Sh, OverloadFallsBackOnlyForTheAffectedFlows) {
  Pool pool({1, 1, 1});
  auto plain = pool.make("sh");
  auto fb = pool.make("sh", kFallback);
  const auto flows = randomFlows(3000);
  std::vector<int> before;
  for (const auto& f : flows) before.push_back(fb->schedule(pool.dests(), f));
  pool.setOverloaded(1, true);
  int moved = 0;
  for (size_t k = 0; k < flows.size(); ++k) {
    const int p = plain->schedule(pool.dests(), flows[k]);
    const int f = fb->schedule(pool.dests(), flows[k]);
    if (before[k] == 1) {
      EXPECT_EQ(p, -1);
      EXPECT_TRUE(f == 0 || f == 2);
      ++moved;
    } else {
      EXPECT_EQ(p, before[k]);
      EXPECT_EQ(f, before[k]);
    }
  }
  EXPECT_NEAR(moved, 1000, 200);
}

TEST(Sh, Ipv6SourcesHashToo) {
  Pool pool({1, 1, 1, 1});
  auto s = pool.make("sh");
  std::set<int> seen;
  for (int k = 0; k < 64; ++k) {
    SchedInput in;
    in.saddr = *net::IpAddr::parse("2001:db8::" + std::to_string(k + 1));
    seen.insert(s->schedule(pool.dests(), in));
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(Dh, SameDestinationSameServerWhateverTheSource) {
  Pool pool({1, 1, 1});
  auto s = pool.make("dh");
  std::vector<int> got(3, 0);
  for (const auto& f : randomFlows(3000)) {
    const int i = s->schedule(pool.dests(), f);
    ASSERT_GE(i, 0);
    ++got[i];
    SchedInput other = f;
    other.saddr = net::IpAddr::v4(0x01010101);
    other.sport = 9;
    EXPECT_EQ(s->schedule(pool.dests(), other), i);
  }
  for (int c : got) EXPECT_NEAR(c, 1000, 150);
}

TEST(Dh, UnavailableServerMeansNoServer) {
  Pool pool({1, 1});
  auto s = pool.make("dh");
  pool.setOverloaded(0, true);
  int none = 0;
  for (const auto& f : randomFlows(1000)) {
    const int i = s->schedule(pool.dests(), f);
    EXPECT_NE(i, 0);
    none += i < 0;
  }
  EXPECT_NEAR(none, 500, 100);
}

}  // namespace
}  // namespace sluice::sched
