// Director::counters(): the slow path's counters (what its worker counted) beside those of
// an injected fast-path source, one row per counter in dp::kCounterNames order.
#include "daemon/director.h"
#include "daemon/worker.h"

#include <gtest/gtest.h>

#include <array>

#include "io/mem_backend.h"

namespace sluice::daemon {
namespace {

class NoNextHops final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr&) override { return std::nullopt; }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 0; }
};

class DirectorCountersTest : public ::testing::Test {
 protected:
  DirectorCountersTest() : director_(clock_, limits(), next_hops_) {}
  static DirectorLimits limits() {
    DirectorLimits l;
    l.conn_capacity = 1024;
    l.max_dests = 16;
    return l;
  }
  // An ARP frame: not a service's, so the worker passes it to the kernel and counts it.
  void passOneFrame() {
    std::array<uint8_t, 42> arp{};
    arp.fill(0xff);
    arp[12] = 0x08;
    arp[13] = 0x06;
    ASSERT_TRUE(io_.inject(1, arp));
    std::array<io::Packet, 4> pkts;
    size_t n = io_.rxBurst(pkts);
    ASSERT_EQ(n, 1u);
    Worker(director_, 0, io_).processBatch(std::span(pkts.data(), n));
    ASSERT_EQ(io_.takePassed().size(), 1u);
  }
  static const ctl::CounterInfo& row(const std::vector<ctl::CounterInfo>& v, dp::Counter c) {
    return v.at(size_t(c));
  }

  ManualClock clock_;
  NoNextHops next_hops_;
  io::MemIo io_;
  Director director_;
};

TEST_F(DirectorCountersTest, EveryCounterInOrderWithoutAFastPath) {
  passOneFrame();
  auto v = director_.counters();
  ASSERT_EQ(v.size(), dp::kNumCounters);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].name, dp::kCounterNames[i]);
    EXPECT_EQ(v[i].drop, dp::kCounterIsDrop[i]) << v[i].name;
    EXPECT_EQ(v[i].fast, 0u) << v[i].name;
  }
  EXPECT_EQ(row(v, dp::Counter::kRxPackets).slow, 1u);
  EXPECT_EQ(row(v, dp::Counter::kPassPackets).slow, 1u);
  EXPECT_EQ(row(v, dp::Counter::kTxPackets).slow, 0u);
  EXPECT_TRUE(row(v, dp::Counter::kNoNeighbour).drop);
}

TEST_F(DirectorCountersTest, FastPathSourceFillsTheFastColumn) {
  int reads = 0;
  director_.setFastCounterSource([&]() -> std::optional<dp::Counters> {
    ++reads;
    dp::Counters c;
    c.inc(dp::Counter::kRxPackets, 500);
    c.inc(dp::Counter::kTxPackets, 480);
    c.inc(dp::Counter::kNoConnNotSyn, 3);
    return c;
  });
  passOneFrame();
  auto v = director_.counters();
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(row(v, dp::Counter::kRxPackets).slow, 1u);
  EXPECT_EQ(row(v, dp::Counter::kRxPackets).fast, 500u);
  EXPECT_EQ(row(v, dp::Counter::kTxPackets).slow, 0u);
  EXPECT_EQ(row(v, dp::Counter::kTxPackets).fast, 480u);
  EXPECT_EQ(row(v, dp::Counter::kNoConnNotSyn).fast, 3u);
  EXPECT_EQ(row(v, dp::Counter::kPassPackets).fast, 0u);
}

TEST_F(DirectorCountersTest, UnreadableFastPathShowsZeroNotStaleValues) {
  bool readable = true;
  director_.setFastCounterSource([&]() -> std::optional<dp::Counters> {
    if (!readable) return std::nullopt;
    dp::Counters c;
    c.inc(dp::Counter::kTxPackets, 9);
    return c;
  });
  EXPECT_EQ(row(director_.counters(), dp::Counter::kTxPackets).fast, 9u);
  readable = false;
  passOneFrame();
  auto v = director_.counters();
  EXPECT_EQ(row(v, dp::Counter::kTxPackets).fast, 0u);
  EXPECT_EQ(row(v, dp::Counter::kPassPackets).slow, 1u);  // the slow path still answers
}

}  // namespace
}  // namespace sluice::daemon
