// config::desired and config::diff: what the file and the health of its real servers ask of
// the table, and the operations that get it there without touching anything else.
#include "config/desired.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/service_table.h"

namespace sluice::config {
namespace {

net::Endpoint ep(const char* s) { return *net::Endpoint::parse(s); }

VirtualServerConfig webVs() {
  VirtualServerConfig vs;
  vs.name = "10.0.0.100 80";
  svc::ServiceConfig sc;
  sc.key.addr = *net::IpAddr::parse("10.0.0.100");
  sc.key.port = 80;
  sc.scheduler = "rr";
  vs.services.push_back(sc);
  for (const char* r : {"10.0.0.11:80", "10.0.0.12:80"}) {
    RealServerConfig rs;
    rs.dest.ep = ep(r);
    rs.dest.weight = 2;
    vs.real_servers.push_back(rs);
  }
  return vs;
}

Config oneVs(VirtualServerConfig vs) {
  Config c;
  c.virtual_servers.push_back(std::move(vs));
  return c;
}

DesiredService only(const Desired& d) {  // a copy: callers pass temporaries
  EXPECT_EQ(d.size(), 1u);
  return d.begin()->second;
}

TEST(ConfigDesired, UpServersAreInWithTheirWeight) {
  Config c = oneVs(webVs());
  const DesiredService ds = only(desired(c, {}, {}));
  ASSERT_EQ(ds.dests.size(), 2u);
  EXPECT_EQ(ds.dests[0].ep, ep("10.0.0.11:80"));
  EXPECT_EQ(ds.dests[0].weight, 2);
}

TEST(ConfigDesired, DownServerIsRemovedOrInhibited) {
  Config c = oneVs(webVs());
  HealthMap h;
  h[RsId{"10.0.0.100 80", ep("10.0.0.11:80")}] = RsHealth{false, {}};
  EXPECT_EQ(only(desired(c, h, {})).dests.size(), 1u);
  c.virtual_servers[0].real_servers[0].inhibit_on_failure = true;
  const DesiredService ds = only(desired(c, h, {}));
  ASSERT_EQ(ds.dests.size(), 2u);
  EXPECT_EQ(ds.dests[0].weight, 0);
  EXPECT_EQ(ds.dests[1].weight, 2);
}

TEST(ConfigDesired, DynamicWeightReplacesTheConfiguredOne) {
  Config c = oneVs(webVs());
  HealthMap h;
  h[RsId{"10.0.0.100 80", ep("10.0.0.12:80")}] = RsHealth{true, 7};
  EXPECT_EQ(only(desired(c, h, {})).dests[1].weight, 7);
}

TEST(ConfigDesired, QuorumWithHysteresis) {
  VirtualServerConfig vs = webVs();
  vs.quorum = 3;
  vs.hysteresis = 1;
  EXPECT_TRUE(quorumHeld(vs, 3, std::nullopt));
  EXPECT_FALSE(quorumHeld(vs, 2, std::nullopt));
  EXPECT_TRUE(quorumHeld(vs, 2, true));    // lost only below quorum - hysteresis
  EXPECT_FALSE(quorumHeld(vs, 1, true));
  EXPECT_FALSE(quorumHeld(vs, 3, false));  // gained only at quorum + hysteresis
  EXPECT_TRUE(quorumHeld(vs, 4, false));
  HealthMap h;
  h[RsId{vs.name, ep("10.0.0.11:80")}] = RsHealth{false, {}};
  EXPECT_EQ(liveWeight(vs, h), 2);
}

TEST(ConfigDesired, SorryServerAloneWhileQuorumIsLost) {
  VirtualServerConfig vs = webVs();
  vs.sorry_server = SorryServer{ep("10.0.0.250:0"), svc::FwdMethod::kDr, false};
  Config c = oneVs(vs);
  QuorumMap lost{{vs.name, false}};
  const DesiredService ds = only(desired(c, {}, lost));
  ASSERT_EQ(ds.dests.size(), 1u);
  EXPECT_EQ(ds.dests[0].ep, ep("10.0.0.250:80"));
  EXPECT_EQ(ds.dests[0].weight, 1);
  // Quorum held: no sorry server, unless sorry_server_inhibit keeps it at weight 0.
  EXPECT_EQ(only(desired(c, {}, {})).dests.size(), 2u);
  c.virtual_servers[0].sorry_server->inhibit = true;
  const DesiredService held = only(desired(c, {}, {}));
  ASSERT_EQ(held.dests.size(), 3u);
  EXPECT_EQ(held.dests[2].weight, 0);
}

TEST(ConfigDesired, WithoutSorryServerLiveServersStayWhenQuorumIsLost) {
  Config c = oneVs(webVs());
  EXPECT_EQ(only(desired(c, {}, QuorumMap{{"10.0.0.100 80", false}})).dests.size(), 2u);
}

class ConfigDiff : public ::testing::Test {
 protected:
  ManualClock clock;
  svc::ServiceTable table{clock, {}};

  void applyAll(const std::vector<svc::Op>& ops) {
    for (const auto& op : ops) {
      Status st = svc::apply(table, op);
      ASSERT_TRUE(st.ok()) << svc::opName(op) << ": " << st.error().message;
    }
  }
};

TEST_F(ConfigDiff, FirstLoadAddsEverythingThenNothingChanges) {
  Config c = oneVs(webVs());
  Desired want = desired(c, {}, {});
  auto ops = diff(want, {}, table.list());
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<svc::AddService>(ops[0]));
  applyAll(ops);
  EXPECT_TRUE(diff(want, want, table.list()).empty());
}

TEST_F(ConfigDiff, AHealthChangeTouchesOnlyThatServer) {
  Config c = oneVs(webVs());
  Desired before = desired(c, {}, {});
  applyAll(diff(before, {}, table.list()));
  HealthMap h;
  h[RsId{"10.0.0.100 80", ep("10.0.0.12:80")}] = RsHealth{false, {}};
  Desired want = desired(c, h, {});
  auto ops = diff(want, before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<svc::DelDest>(ops[0]));
  EXPECT_EQ(std::get<svc::DelDest>(ops[0]).rs, ep("10.0.0.12:80"));
  applyAll(ops);
  // Back up: added again.
  auto back = diff(before, want, table.list());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<svc::AddDest>(back[0]));
}

TEST_F(ConfigDiff, WeightChangeIsAnEditInPlace) {
  Config c = oneVs(webVs());
  Desired before = desired(c, {}, {});
  applyAll(diff(before, {}, table.list()));
  c.virtual_servers[0].real_servers[1].dest.weight = 5;
  auto ops = diff(desired(c, {}, {}), before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<svc::EditDest>(ops[0]));
  EXPECT_EQ(std::get<svc::EditDest>(ops[0]).dest.weight, 5);
}

// A reload that changes only a tunnel's options (its GUE port here) edits the real server,
// and a TUN real server written with another port takes the service's, as DR does.
TEST_F(ConfigDiff, TunnelOptionChangeIsAnEditInPlace) {
  Config c = oneVs(webVs());
  svc::DestConfig& d = c.virtual_servers[0].real_servers[1].dest;
  d.ep = ep("10.0.0.12:8080");
  d.fwd = svc::FwdMethod::kTun;
  d.tun_type = SL_TUN_GUE;
  d.tun_port = 6080;
  Desired before = desired(c, {}, {});
  EXPECT_EQ(only(before).dests[1].ep, ep("10.0.0.12:80"));
  applyAll(diff(before, {}, table.list()));
  d.tun_port = 7000;
  auto ops = diff(desired(c, {}, {}), before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<svc::EditDest>(ops[0]));
  EXPECT_EQ(std::get<svc::EditDest>(ops[0]).dest.tun_port, 7000);
  applyAll(ops);
  EXPECT_EQ(table.list().at(0).dests.size(), 2u);
}

TEST_F(ConfigDiff, ServicesAndServersAddedByHandAreLeftAlone) {
  Config c = oneVs(webVs());
  Desired before = desired(c, {}, {});
  applyAll(diff(before, {}, table.list()));
  // sluiceadm -A -t 10.0.0.200:443, and -a to the file's service.
  svc::ServiceConfig hand;
  hand.key.addr = *net::IpAddr::parse("10.0.0.200");
  hand.key.port = 443;
  applyAll({svc::AddService{hand}});
  svc::DestConfig extra;
  extra.ep = ep("10.0.0.13:80");
  applyAll({svc::AddDest{c.virtual_servers[0].services[0].key, extra}});
  // The file drops its only service: the hand-made ones stay.
  Config empty;
  auto ops = diff(desired(empty, {}, {}), before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<svc::DelService>(ops[0]));
  // And a reload of the same file leaves the extra real server in the file's service.
  EXPECT_TRUE(diff(before, before, table.list()).empty());
}

TEST_F(ConfigDiff, ChangedSchedulerIsAnEditService) {
  Config c = oneVs(webVs());
  Desired before = desired(c, {}, {});
  applyAll(diff(before, {}, table.list()));
  c.virtual_servers[0].services[0].scheduler = "wlc";
  auto ops = diff(desired(c, {}, {}), before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<svc::EditService>(ops[0]));
  applyAll(ops);
  EXPECT_EQ(table.list()[0].dests.size(), 2u);  // its real servers stay
}

}  // namespace
}  // namespace sluice::config
