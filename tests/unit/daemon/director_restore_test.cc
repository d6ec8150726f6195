// Director restart support: every successful change reaches the config sink (failed ones
// do not), a sink error reaches the operator, and a restored configuration comes back with
// its ids, its timeouts, and live dest records for trashed dests that still carry
// connections (stale records of dead ids are cleared).
#include "daemon/director.h"

#include <vector>

#include <gtest/gtest.h>

#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::daemon;
using namespace sluice::svc::testing;

namespace {

class AllResolved final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr&) override {
    return NextHop{3, {2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
  }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 1; }
};

struct Captured {
  int calls = 0;
  svc::TableState table;
  svc::Timeouts timeouts;
};

Director::ConfigSink capture(Captured& c) {
  return [&c](const svc::TableState& t, const svc::Timeouts& to) -> Status {
    ++c.calls;
    c.table = t;
    c.timeouts = to;
    return {};
  };
}

DirectorLimits small() {
  DirectorLimits l;
  l.conn_capacity = 1024;
  l.max_services = 16;
  l.max_dests = 64;
  return l;
}

TEST(DirectorRestore, SuccessfulChangesReachTheSinkAndComeBack) {
  ManualClock clock;
  AllResolved nh;
  Captured saved;
  svc::ServiceKey k = tcpKey("10.0.0.1", 80);
  {
    Director a(clock, small(), nh);
    a.setConfigSink(capture(saved));
    ASSERT_TRUE(a.addService(svcCfg(k)).ok());
    ASSERT_TRUE(a.addDest(k, destCfg("10.1.0.1:80")).ok());
    ASSERT_TRUE(a.addDest(k, destCfg("10.1.0.2:80", svc::FwdMethod::kDr, 4)).ok());
    EXPECT_EQ(saved.calls, 3);
    EXPECT_FALSE(a.addService(svcCfg(k)).ok());  // refused: nothing new to save
    EXPECT_EQ(saved.calls, 3);
    ASSERT_TRUE(a.setTimeouts(svc::Timeouts{600, 30, 90}).ok());
    EXPECT_EQ(saved.calls, 4);
  }
  ASSERT_EQ(saved.table.services.size(), 1u);
  ASSERT_EQ(saved.table.services[0].dests.size(), 2u);

  Director b(clock, small(), nh);
  Status st = b.restore(saved.table, saved.timeouts);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto list = b.listServices(std::nullopt);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].cfg.key, k);
  ASSERT_EQ((*list)[0].dests.size(), 2u);
  EXPECT_EQ((*list)[0].dests[0].cfg.weight, 4);  // the newest first, in IPVS's order
  auto state = b.services().list();
  EXPECT_EQ(state[0].dests[0].dest_id, saved.table.services[0].dests[0].dest_id);
  EXPECT_EQ(state[0].dests[1].dest_id, saved.table.services[0].dests[1].dest_id);
  svc::Timeouts t = b.timeouts();
  EXPECT_EQ(t.tcp, 600u);
  EXPECT_EQ(t.tcp_fin, 30u);
  EXPECT_EQ(t.udp, 90u);
  // Only into an unconfigured director.
  EXPECT_FALSE(b.restore(saved.table, saved.timeouts).ok());
}

TEST(DirectorRestore, ASinkFailureIsReportedAfterTheChange) {
  ManualClock clock;
  AllResolved nh;
  Director d(clock, small(), nh);
  d.setConfigSink([](const svc::TableState&, const svc::Timeouts&) -> Status {
    return makeError("disk full");
  });
  Status st = d.addService(svcCfg(tcpKey("10.0.0.1", 80)));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("disk full"), std::string::npos);
  EXPECT_EQ(d.services().serviceCount(), 1u);  // the change itself stands
}

TEST(DirectorRestore, RestoredDestsAndTrashAreLiveInTheSharedDestTable) {
  std::vector<sl_conn> conns(1024);
  std::vector<sl_dest> dests(64);
  std::vector<sl_dest_counts> counts(64);
  std::vector<sl_stats> stats(64);
  sl_dp_config cfg{};
  // What a dead daemon left: a record for an id no restored dest has, one torn mid-write,
  // and a connection still counted against the trashed dest.
  dests[20].flags = SL_DEST_F_LIVE | SL_DEST_F_RESOLVED;
  dests[5].seq = 7;
  counts[9].active = 1;
  SharedTables shared{conns, dests, counts, stats, 1, &cfg};

  svc::TableState st;
  svc::ServiceState s;
  s.svc_id = 2;
  s.cfg = svcCfg(tcpKey("10.0.0.1", 80));
  s.dests.push_back({5, destCfg("10.1.0.5:80")});
  st.services.push_back(s);
  st.trash.push_back({9, 2, tcpKey("10.0.0.1", 80), destCfg("10.1.0.9:80")});

  ManualClock clock;
  AllResolved nh;
  Director d(clock, small(), nh, nullptr, &shared);
  Status r = d.restore(st, svc::Timeouts{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (uint32_t id : {5u, 9u}) {
    EXPECT_EQ(dests[id].seq % 2, 0u) << id;
    EXPECT_TRUE(dests[id].flags & SL_DEST_F_LIVE) << id;
    EXPECT_TRUE(dests[id].flags & SL_DEST_F_RESOLVED) << id;
    EXPECT_EQ(dests[id].ifindex, 3u) << id;
  }
  EXPECT_EQ(dests[20].flags, 0) << "a record of an id nobody holds must not stay live";
  EXPECT_EQ(counts[9].active, 1u);  // the counts are the pinned ones, untouched
  EXPECT_EQ(d.services().trashCount(), 1u);
  d.housekeeping();  // the trashed dest carries a connection: it stays
  EXPECT_EQ(d.services().trashCount(), 1u);
  EXPECT_TRUE(dests[9].flags & SL_DEST_F_LIVE);
}

}  // namespace
