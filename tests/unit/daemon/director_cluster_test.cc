// The Director's cluster-mode settings reach every worker's Datapath and the fast path:
// adopt mid-flow (the config record), the peer directors' MACs (each worker, and the
// ServiceListener that keeps the BPF map), the connection-event sink.
#include <gtest/gtest.h>

#include <vector>

#include "common/clock.h"
#include "daemon/director.h"
#include "support/packet_builder.h"

namespace sluice::daemon {
namespace {

using testing::Bytes;
using testing::PacketBuilder;
using testing::ip;
using testing::mac;

const net::MacAddr kDir = mac("02:00:00:00:02:10");
const net::MacAddr kRouter = mac("02:00:00:00:02:01");
const net::MacAddr kPeer = mac("02:00:00:00:02:20");

class Resolved final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr&) override {
    return NextHop{7, kDir, mac("02:00:00:00:02:11")};
  }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 1; }
};

class RecordingListener final : public ServiceListener {
 public:
  Status servicesChanged(const svc::Snapshot&) override { return {}; }
  Status peerMacsChanged(std::span<const net::MacAddr> macs) override {
    sets.emplace_back(macs.begin(), macs.end());
    if (refuse) return makeError("map full");
    return {};
  }
  std::vector<std::vector<net::MacAddr>> sets;
  bool refuse = false;
};

class CountingSink final : public dp::ConnEventSink {
 public:
  void connCreated(const sl_conn&, const sl_conn*, const sl_conn_ext&) noexcept override { ++calls; }
  int calls = 0;
};

class DirectorCluster : public ::testing::Test {
 protected:
  DirectorCluster()
      : conns_(1024), dests_(16), counts_(16), stats_(16),
        shared_{conns_, dests_, counts_, stats_, 1, &cfg_},
        d_(clock_, DirectorLimits{1024, 16, 16, conn::ConnTable::kDefaultSeed, 2}, hops_,
           &listener_, &shared_) {
    svc::ServiceConfig s;
    s.key = svc::ServiceKey{svc::Proto::kTcp, ip("10.0.2.100"), 80};
    s.scheduler = "mh";
    EXPECT_TRUE(d_.addService(s));
    svc::DestConfig rs;
    rs.ep = *net::Endpoint::parse("10.0.2.11:80");
    rs.weight = 1;
    EXPECT_TRUE(d_.addDest(s.key, rs));
  }
  dp::Action run(unsigned worker, const net::MacAddr& src, uint16_t sport, uint8_t flags) {
    Bytes f = PacketBuilder().eth(src, kDir).ipv4("10.0.1.2", "10.0.2.100").tcp(sport, 80, flags).build();
    return d_.datapath(worker).process(f, *d_.services().snapshot(), clock_.now()).action;
  }

  ManualClock clock_;
  Resolved hops_;
  RecordingListener listener_;
  std::vector<sl_conn> conns_;
  std::vector<sl_dest> dests_;
  std::vector<sl_dest_counts> counts_;
  std::vector<sl_stats> stats_;
  sl_dp_config cfg_{};
  SharedTables shared_;
  Director d_;
};

TEST_F(DirectorCluster, AdoptMidflowInEveryWorkerAndTheFastPath) {
  EXPECT_EQ(cfg_.adopt_midflow, 0u);
  EXPECT_EQ(run(0, kRouter, 40000, net::kTcpAck), dp::Action::kPass);
  d_.setAdoptMidflow(true);
  EXPECT_EQ(cfg_.adopt_midflow, 1u);
  EXPECT_EQ(run(0, kRouter, 40001, net::kTcpAck), dp::Action::kTx);
  EXPECT_EQ(run(1, kRouter, 40002, net::kTcpAck), dp::Action::kTx);
  d_.setAdoptMidflow(false);
  EXPECT_EQ(cfg_.adopt_midflow, 0u);
  EXPECT_EQ(run(1, kRouter, 40003, net::kTcpAck), dp::Action::kPass);
}

TEST_F(DirectorCluster, PeerMacsInEveryWorkerAndTheListener) {
  const net::MacAddr other = mac("02:00:00:00:02:21");
  ASSERT_TRUE(d_.setPeerMacs({kPeer, other, kPeer}));
  ASSERT_EQ(listener_.sets.size(), 1u);
  EXPECT_EQ(listener_.sets[0], (std::vector<net::MacAddr>{kPeer, other})) << "duplicates dropped";
  for (unsigned w : {0u, 1u}) {
    EXPECT_EQ(run(w, kPeer, uint16_t(40010 + w), net::kTcpSyn), dp::Action::kPass) << "worker " << w;
    EXPECT_EQ(d_.datapath(w).counters()[dp::Counter::kPeerBalanced], 1u);
    EXPECT_EQ(run(w, kRouter, uint16_t(40010 + w), net::kTcpSyn), dp::Action::kTx);
  }
  ASSERT_TRUE(d_.setPeerMacs({}));
  EXPECT_EQ(run(0, kPeer, 40020, net::kTcpSyn), dp::Action::kTx);
}

TEST_F(DirectorCluster, TooManyPeersChangeNothing) {
  ASSERT_TRUE(d_.setPeerMacs({kPeer}));
  std::vector<net::MacAddr> many;
  for (int i = 0; i <= SL_MAX_PEER_MACS; ++i) many.push_back(net::MacAddr{2, 0, 0, 1, uint8_t(i >> 8), uint8_t(i)});
  Status st = d_.setPeerMacs(many);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("at most 64"), std::string::npos) << st.error().message;
  EXPECT_EQ(listener_.sets.size(), 1u);
  EXPECT_EQ(run(0, kPeer, 40030, net::kTcpSyn), dp::Action::kPass) << "the old set stands";
}

TEST_F(DirectorCluster, FastPathRefusalIsReported) {
  listener_.refuse = true;
  Status st = d_.setPeerMacs({kPeer});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("map full"), std::string::npos) << st.error().message;
  EXPECT_EQ(run(0, kPeer, 40040, net::kTcpSyn), dp::Action::kPass) << "the slow path has it";
}

TEST_F(DirectorCluster, SinkInEveryWorker) {
  CountingSink sink;
  d_.setConnEventSink(&sink);
  run(0, kRouter, 40050, net::kTcpSyn);
  run(1, kRouter, 40051, net::kTcpSyn);
  run(1, kRouter, 40051, net::kTcpAck);
  EXPECT_EQ(sink.calls, 2);
  d_.setConnEventSink(nullptr);
  run(0, kRouter, 40052, net::kTcpSyn);
  EXPECT_EQ(sink.calls, 2);
}

// sluiceadm's sync-daemon commands, through the Director: nothing without the cluster
// role's source, its description and ctl/sync_daemon.h's answers with one.
TEST_F(DirectorCluster, SyncDaemonsFromTheClusterRole) {
  auto none = d_.syncDaemons();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ctl::SyncDaemonArgs args;
  EXPECT_EQ(d_.stopDaemon(args).error().message, "No daemon is running");
  EXPECT_FALSE(d_.startDaemon(args).ok());

  int asked = 0;
  d_.setSyncDaemonSource([&asked] {
    ++asked;
    ctl::SyncDaemonInfo x;
    x.interface = "eth1";
    x.addr = ip("10.0.0.11");
    x.syncid = 3;
    x.port = 8848;
    x.maxlen = 1400;
    return x;
  });
  auto running = d_.syncDaemons();
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE(running->has_value());
  EXPECT_EQ((*running)->syncid, 3u);
  args.mcast_interface = "eth1";
  args.syncid = 3;
  EXPECT_TRUE(d_.startDaemon(args).ok());
  args.syncid = 4;
  EXPECT_FALSE(d_.startDaemon(args).ok());
  EXPECT_FALSE(d_.stopDaemon(args).ok());
  EXPECT_EQ(asked, 4);  // asked each time: the interface may change under a running sync
  d_.setSyncDaemonSource(nullptr);
  EXPECT_FALSE(d_.syncDaemons()->has_value());
}

}  // namespace
}  // namespace sluice::daemon
