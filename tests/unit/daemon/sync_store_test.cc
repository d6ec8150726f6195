// Session sync's store over an in-memory Director: synced entries are bound to this
// director's own service and real-server ids and counted as the slow path counts its own;
// a walk gives back what was installed; the feed turns local connections into updates.
#include "daemon/sync_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "cluster/sync_conn.h"
#include "unit/cluster/entries.h"

namespace sluice::daemon {
namespace {

using cluster::SyncEntry;
using cluster::Urgency;
using cluster::testing::drConn;
using cluster::testing::ep;

class NoNextHops final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr&) override { return std::nullopt; }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 0; }
};

class SyncStoreTest : public ::testing::Test {
 protected:
  SyncStoreTest() : director_(clock_, DirectorLimits{1024, 16, 64}, hops_), store_(director_) {
    addService(vip80(), false, {"10.0.0.10:80", "10.0.0.11:80"});
    addService(vip443(), true, {"10.0.0.10:443"});
  }
  static svc::ServiceKey vip80() { return {svc::Proto::kTcp, *net::IpAddr::parse("192.0.2.1"), 80}; }
  static svc::ServiceKey vip443() { return {svc::Proto::kTcp, *net::IpAddr::parse("192.0.2.1"), 443}; }
  void addService(const svc::ServiceKey& k, bool persistent, std::vector<const char*> dests) {
    svc::ServiceConfig s;
    s.key = k;
    s.scheduler = "rr";
    s.persistent = persistent;
    ASSERT_TRUE(director_.addService(s));
    for (const char* d : dests) {
      svc::DestConfig dc;
      dc.ep = *net::Endpoint::parse(d);
      ASSERT_TRUE(director_.addDest(k, dc));
    }
  }
  ctl::DestInfo destInfo(const svc::ServiceKey& k, const char* rs) {
    auto l = director_.listServices(k);
    EXPECT_TRUE(l.ok());
    for (const ctl::DestInfo& d : (*l)[0].dests)
      if (d.cfg.ep == *net::Endpoint::parse(rs)) return d;
    ADD_FAILURE() << rs;
    return {};
  }
  std::vector<SyncEntry> walked() {
    std::vector<SyncEntry> v;
    store_.walk([&](const SyncEntry& e) { v.push_back(e); });
    return v;
  }
  // A persistent connection to 192.0.2.1:443 and its template.
  static SyncEntry persistentConn() {
    SyncEntry e = drConn(41000);
    e.vip = ep("192.0.2.1", 443);
    e.svc_port = 443;
    e.dest = ep("10.0.0.10", 443);
    e.state = cluster::testing::drConn().state;
    e.has_template = true;
    e.tmpl_caddr = *net::IpAddr::parse("198.51.100.7");
    e.tmpl_vport = 443;
    return e;
  }
  static SyncEntry persistTemplate() {
    SyncEntry t = persistentConn();
    t.kind = SL_KEY_TEMPLATE;
    t.state = SL_TCP_NONE;
    t.flags = SL_CONN_F_TEMPLATE | SL_CONN_F_ASSURED;
    t.timeout_s = 300;
    t.client.port = 0;
    t.has_template = false;
    t.tmpl_caddr = {};
    t.tmpl_vport = 0;
    return t;
  }

  ManualClock clock_;
  NoNextHops hops_;
  Director director_;
  DirectorSyncStore store_;
};

TEST_F(SyncStoreTest, AnInstalledEntryIsAConnectionOfTheLocalServiceAndServer) {
  ASSERT_TRUE(cluster::validateEntry(drConn()));
  store_.install(drConn());
  auto conns = director_.listConns();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].client, ep("198.51.100.7", 40000));
  EXPECT_EQ(conns[0].vip, ep("192.0.2.1", 80));
  EXPECT_EQ(conns[0].dest, ep("10.0.0.10", 80));
  EXPECT_EQ(conns[0].state, "ESTABLISHED");
  EXPECT_EQ(conns[0].expire_s, 900u);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").active, 1u) << "counted as the slow path counts";
  EXPECT_EQ(destInfo(vip80(), "10.0.0.11:80").active, 0u);
  EXPECT_EQ(store_.stats().installed, 1u);

  SyncEntry syn = drConn(40001);
  syn.state = SL_TCP_CLOSE_WAIT;
  store_.install(syn);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").inactive, 1u);
}

// A NAT connection from a peer comes with its reply twin, made here from the local real
// server (port mapping included), so the server's replies find it after a failover; the
// twin is no connection of its own, and the walk gives back the connection alone.
TEST_F(SyncStoreTest, ANatConnectionIsInstalledWithItsReplyTwin) {
  svc::ServiceConfig s;
  s.key = {svc::Proto::kTcp, *net::IpAddr::parse("192.0.2.2"), 80};
  s.scheduler = "rr";
  ASSERT_TRUE(director_.addService(s));
  svc::DestConfig dc;
  dc.ep = *net::Endpoint::parse("10.0.0.20:8080");
  dc.fwd = svc::FwdMethod::kNat;
  ASSERT_TRUE(director_.addDest(s.key, dc));
  SyncEntry e = drConn(40002);
  e.vip = ep("192.0.2.2", 80);
  e.svc_port = 80;
  e.dest = ep("10.0.0.20", 8080);
  e.fwd = SL_FWD_NAT;
  ASSERT_TRUE(cluster::validateEntry(e));
  store_.install(e);
  EXPECT_EQ(store_.stats().installed, 1u);
  EXPECT_EQ(director_.listConns().size(), 1u) << "the twin is not listed as a connection";
  sl_conn_key twin{};
  std::memcpy(twin.caddr, net::IpAddr::parse("198.51.100.7")->bytes.data(), 16);
  std::memcpy(twin.vaddr, net::IpAddr::parse("10.0.0.20")->bytes.data(), 16);
  twin.cport = htons(40002);
  twin.vport = htons(8080);
  twin.proto = IPPROTO_TCP;
  twin.family = SL_AF_V4;
  twin.kind = SL_KEY_REPLY;
  const sl_conn* t = director_.conns().lookup(twin, clock_.now());
  ASSERT_NE(t, nullptr) << "the reply twin RIP:8080 -> CIP:40002";
  EXPECT_TRUE(conn::ConnTable::isReplyTwin(*t));
  EXPECT_EQ(walked().size(), 1u);
}

// A FULLNAT connection travels with its local end: the receiver builds the reply twin of
// LIP:lport <- RIP:rport with the client's end in its record, holds the port in its own
// pool, and a walk (or the feed) gives the local end back.
TEST_F(SyncStoreTest, AFullNatConnectionTravelsWithItsLocalEnd) {
  svc::ServiceConfig s;
  s.key = {svc::Proto::kTcp, *net::IpAddr::parse("192.0.2.3"), 80};
  s.scheduler = "rr";
  ASSERT_TRUE(director_.addService(s));
  svc::DestConfig dc;
  dc.ep = *net::Endpoint::parse("10.0.0.30:8080");
  dc.fwd = svc::FwdMethod::kFullNat;
  ASSERT_TRUE(director_.addDest(s.key, dc));
  ASSERT_TRUE(director_.addLaddr(s.key, svc::LocalAddress{*net::IpAddr::parse("10.0.0.200"), ""}));
  SyncEntry e = drConn(40003);
  e.vip = ep("192.0.2.3", 80);
  e.svc_port = 80;
  e.dest = ep("10.0.0.30", 8080);
  e.fwd = SL_FWD_FULLNAT;
  e.local = ep("10.0.0.200", 45000);  // the peer's part of the range
  ASSERT_TRUE(cluster::validateEntry(e));
  store_.install(e);
  EXPECT_EQ(store_.stats().installed, 1u);
  EXPECT_EQ(director_.localPorts().inUse(*net::IpAddr::parse("10.0.0.200")), 1u);
  sl_conn_key twin{};
  std::memcpy(twin.caddr, net::IpAddr::parse("10.0.0.200")->bytes.data(), 16);
  std::memcpy(twin.vaddr, net::IpAddr::parse("10.0.0.30")->bytes.data(), 16);
  twin.cport = htons(45000);
  twin.vport = htons(8080);
  twin.proto = IPPROTO_TCP;
  twin.family = SL_AF_V4;
  twin.kind = SL_KEY_REPLY;
  const sl_conn* t = director_.conns().lookup(twin, clock_.now());
  ASSERT_NE(t, nullptr) << "the reply twin RIP:8080 -> LIP:45000";
  const sl_conn_ext& client = director_.conns().ext(*t);
  EXPECT_EQ(net::IpAddr::fromV4Bytes(client.addr), *net::IpAddr::parse("198.51.100.7"));
  EXPECT_EQ(ntohs(client.port), 40003);
  const std::vector<SyncEntry> back = walked();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].local, e.local) << "the walk gives the local end back";
  // The same port again (a peer out of step, or a port this director holds): refused.
  SyncEntry other = e;
  other.client.port = 40004;
  store_.install(other);
  EXPECT_EQ(store_.stats().conflict, 1u);
  // The connection goes: its port and its twin with it.
  ASSERT_TRUE(director_.conns().erase(cluster::connKeyOf(e)));
  EXPECT_EQ(director_.localPorts().inUse(*net::IpAddr::parse("10.0.0.200")), 0u);
  EXPECT_EQ(director_.conns().lookup(twin, clock_.now()), nullptr);
}

TEST_F(SyncStoreTest, EntriesForUnknownServicesOrServersAreSkippedAndCounted) {
  SyncEntry other_vip = drConn();
  other_vip.vip = ep("192.0.2.99", 80);
  SyncEntry other_port = drConn();
  other_port.vip = ep("192.0.2.1", 8080);
  other_port.svc_port = 8080;
  SyncEntry other_rs = drConn();
  other_rs.dest = ep("10.0.0.99", 80);
  SyncEntry fwmark = cluster::testing::udpFwmarkConn();
  for (const SyncEntry& e : {other_vip, other_port, other_rs, fwmark}) store_.install(e);
  EXPECT_TRUE(director_.listConns().empty());
  EXPECT_EQ(store_.stats().unknown_service, 3u);
  EXPECT_EQ(store_.stats().unknown_dest, 1u);
  EXPECT_EQ(store_.stats().installed, 0u);
}

TEST_F(SyncStoreTest, WalkGivesBackWhatWasInstalledTemplatesFirst) {
  std::vector<SyncEntry> in = {drConn(1), drConn(2), persistentConn(), persistTemplate()};
  in[1].dest = ep("10.0.0.11", 80);
  in[1].state = SL_TCP_FIN_WAIT;
  in[1].timeout_s = 120;
  store_.install(in[3]);  // the template before the connection it controls
  for (size_t i = 0; i < 3; ++i) store_.install(in[i]);
  EXPECT_EQ(store_.stats().installed, 4u);
  EXPECT_EQ(store_.stats().unlinked, 0u);
  EXPECT_EQ(destInfo(vip443(), "10.0.0.10:443").persist, 1u);

  auto out = walked();
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out[0], persistTemplate());
  for (const SyncEntry& e : in) EXPECT_NE(std::find(out.begin(), out.end(), e), out.end());
}

TEST_F(SyncStoreTest, AConnectionWhoseTemplateIsMissingIsInstalledUnlinked) {
  SyncEntry c = persistentConn();
  c.flags = SL_CONN_F_CONTROLLED;
  store_.install(c);
  EXPECT_EQ(store_.stats().unlinked, 1u);
  auto out = walked();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].has_template);
  EXPECT_EQ(out[0].flags & SL_CONN_F_CONTROLLED, 0) << "controlled by nothing here";
}

TEST_F(SyncStoreTest, AnExistingEntryKeepsItsServerAndIsOnlyExtended) {
  SyncEntry e = drConn();
  e.timeout_s = 60;
  store_.install(e);
  clock_.advance(30 * kSecond);
  e.timeout_s = 900;  // the peer's refresh
  store_.install(e);
  EXPECT_EQ(store_.stats().refreshed, 1u);
  EXPECT_EQ(director_.listConns().at(0).expire_s, 900u);

  e.timeout_s = 10;  // shorter than what is left here: left alone
  store_.install(e);
  EXPECT_EQ(store_.stats().refreshed, 1u);
  EXPECT_EQ(director_.listConns().at(0).expire_s, 900u);

  SyncEntry elsewhere = drConn();
  elsewhere.dest = ep("10.0.0.11", 80);
  store_.install(elsewhere);
  EXPECT_EQ(store_.stats().conflict, 1u);
  ASSERT_EQ(director_.listConns().size(), 1u);
  EXPECT_EQ(director_.listConns()[0].dest, ep("10.0.0.10", 80));
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").active, 1u);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.11:80").active, 0u);
}

// A client reuses its port once its connection is over; when the new connection was
// scheduled elsewhere (another director, whose real servers differed for a moment), the
// peer's entry must replace the finished one here, or the flow goes to the old real server
// (which resets it) as soon as the router moves it to this director.
TEST_F(SyncStoreTest, APeersLaterConnectionReplacesAFinishedOneOnTheSameTuple) {
  SyncEntry old = drConn();
  old.state = SL_TCP_TIME_WAIT;
  old.timeout_s = 120;
  store_.install(old);
  SyncEntry later = drConn();
  later.dest = ep("10.0.0.11", 80);
  later.state = SL_TCP_SYN_RECV;
  later.timeout_s = 60;
  store_.install(later);
  EXPECT_EQ(store_.stats().superseded, 1u);
  EXPECT_EQ(store_.stats().conflict, 0u);
  ASSERT_EQ(director_.listConns().size(), 1u);
  EXPECT_EQ(director_.listConns()[0].dest, ep("10.0.0.11", 80));
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").inactive, 0u);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.11:80").active, 1u);
}

// The end of a connection travels (a peer saw its FIN or RST) and is taken as it is, where a
// refresh only ever extends; a later refresh of the old copy does not bring it back; a new
// connection on the same ports (still in its handshake) does replace it.
TEST_F(SyncStoreTest, AnEndTravelsAndAStaleRefreshDoesNotUndoIt) {
  store_.install(drConn());  // ESTABLISHED, 900 s
  SyncEntry end = drConn();
  end.state = SL_TCP_CLOSE;
  end.timeout_s = 10;
  store_.install(end);
  ASSERT_EQ(director_.listConns().size(), 1u);
  EXPECT_EQ(director_.listConns()[0].state, "CLOSE");
  EXPECT_EQ(director_.listConns()[0].expire_s, 10u);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").active, 0u);

  store_.install(drConn());  // a peer's refresh, sent before the end reached it
  EXPECT_EQ(store_.stats().stale, 1u);
  EXPECT_EQ(director_.listConns()[0].state, "CLOSE");
  EXPECT_EQ(director_.listConns()[0].expire_s, 10u);

  SyncEntry next = drConn();  // the client's next connection on the same ports
  next.state = SL_TCP_SYN_RECV;
  next.timeout_s = 60;
  store_.install(next);
  EXPECT_EQ(director_.listConns()[0].state, "SYN_RECV");
  EXPECT_EQ(director_.listConns()[0].expire_s, 60u);
  EXPECT_EQ(destInfo(vip80(), "10.0.0.10:80").active, 1u);
}

TEST_F(SyncStoreTest, AHandshakeHereGivesWayToTheSameTupleEstablishedAtAPeer) {
  SyncEntry mine = drConn();
  mine.state = SL_TCP_SYN_RECV;
  mine.timeout_s = 60;
  store_.install(mine);
  SyncEntry theirs = drConn();
  theirs.dest = ep("10.0.0.11", 80);
  store_.install(theirs);  // ESTABLISHED
  EXPECT_EQ(store_.stats().superseded, 1u);
  ASSERT_EQ(director_.listConns().size(), 1u);
  EXPECT_EQ(director_.listConns()[0].dest, ep("10.0.0.11", 80));

  // The other way round is a conflict: the established one here stays.
  SyncEntry late_syn = drConn();
  late_syn.state = SL_TCP_SYN_RECV;
  store_.install(late_syn);
  EXPECT_EQ(store_.stats().conflict, 1u);
  EXPECT_EQ(director_.listConns()[0].dest, ep("10.0.0.11", 80));
}

TEST_F(SyncStoreTest, FinishedUdpAndTemplatesAreNeverSuperseded) {
  SyncEntry udp = drConn(5353);
  udp.proto = 17;
  udp.state = SL_STATE_UDP;
  udp.timeout_s = 300;
  svc::ServiceConfig s;
  s.key = {svc::Proto::kUdp, *net::IpAddr::parse("192.0.2.1"), 80};
  s.scheduler = "rr";
  ASSERT_TRUE(director_.addService(s));
  for (const char* d : {"10.0.0.10:80", "10.0.0.11:80"}) {
    svc::DestConfig dc;
    dc.ep = *net::Endpoint::parse(d);
    ASSERT_TRUE(director_.addDest(s.key, dc));
  }
  store_.install(udp);
  udp.dest = ep("10.0.0.11", 80);
  store_.install(udp);
  EXPECT_EQ(store_.stats().conflict, 1u);
  EXPECT_EQ(store_.stats().superseded, 0u);
}

TEST_F(SyncStoreTest, TheFeedPushesNewConnectionsCriticalAndRefreshesEachOnceARound) {
  std::vector<std::pair<SyncEntry, Urgency>> pushed;
  SyncFeed feed(director_, [&](const SyncEntry& e, Urgency u) { pushed.emplace_back(e, u); });
  store_.install(persistTemplate());
  store_.install(persistentConn());
  store_.install(drConn(7));
  SyncEntry closing = drConn(8);
  closing.state = SL_TCP_TIME_WAIT;
  closing.timeout_s = 120;
  store_.install(closing);

  std::vector<sl_conn> local;
  director_.conns().forEach(clock_.now(), [&](const sl_conn& c) { local.push_back(c); });
  auto find = [&](const SyncEntry& e) {
    sl_conn_key k = cluster::connKeyOf(e);
    return *std::find_if(local.begin(), local.end(),
                         [&](const sl_conn& c) { return std::memcmp(&c.key, &k, sizeof k) == 0; });
  };
  sl_conn t = find(persistTemplate());
  feed.connCreated(find(persistentConn()), &t, sl_conn_ext{});
  ASSERT_EQ(pushed.size(), 2u);
  EXPECT_EQ(pushed[0].first, persistTemplate()) << "the template first";
  EXPECT_EQ(pushed[1].first, persistentConn());
  EXPECT_EQ(pushed[1].second, Urgency::kCritical);

  pushed.clear();
  for (uint32_t i = 0; i < SyncFeed::kRefreshSlices; ++i) feed.refresh();
  // Every established connection and template once; the closing one not at all.
  EXPECT_EQ(pushed.size(), 3u);
  for (const auto& [e, u] : pushed) {
    EXPECT_EQ(u, Urgency::kRefresh);
    EXPECT_FALSE(e == closing);
  }

  // A step into a closing state goes out at once, as it stands, with its shorter timeout.
  pushed.clear();
  feed.connStateChanged(find(closing), sl_conn_ext{});
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].second, Urgency::kCritical);
  EXPECT_EQ(pushed[0].first.state, SL_TCP_TIME_WAIT);
  EXPECT_EQ(cluster::connKeyOf(pushed[0].first).cport, cluster::connKeyOf(closing).cport);
}

}  // namespace
}  // namespace sluice::daemon
