#include "svc/snapshot.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/service_table.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::svc;
using namespace sluice::svc::testing;

namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

class SnapshotTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  std::vector<sl_dest_counts> counts_ = std::vector<sl_dest_counts>(64);
  ServiceTable table_{clock_, counts_};

  void add(const ServiceConfig& c) { ASSERT_TRUE(table_.addService(c).ok()); }
  void addDest(const ServiceKey& k, const DestConfig& d) { ASSERT_TRUE(table_.addDest(k, d).ok()); }
  uint32_t svcId(const ServiceKey& k) { return table_.get(k)->svc_id; }
};

// The packet step's view (dp::SnapshotView) of the same snapshot: plain copies of what it
// needs, the scheduler and its real servers in the same order, deleted dests marked.
TEST_F(SnapshotTest, ThePacketStepsViewMatchesTheServices) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 0), "rr");
  c.persistent = true;
  c.persistence_timeout = 120;
  c.persistence_prefix = 24;
  add(c);
  addDest(c.key, destCfg("192.168.0.1:80"));
  addDest(c.key, destCfg("192.168.0.2:80"));
  for (auto& n : counts_) n.active = 1;  // a connection each: the deleted one goes to the trash
  ASSERT_TRUE(table_.delDest(c.key, table_.get(c.key)->dests[0].cfg.ep).ok());
  auto s = table_.snapshot();
  const dp::SnapshotView& view = *s;
  const ServiceRt* rt = s->findService(kTcp, ip("10.0.0.1"), 8080);
  const dp::ServiceView* v = view.serviceView(kTcp, ip("10.0.0.1"), 8080);
  ASSERT_NE(rt, nullptr);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->svc_id, rt->svc_id);
  EXPECT_TRUE(v->persistent);
  EXPECT_TRUE(v->any_port);
  EXPECT_EQ(v->persistence_prefix, 24u);
  EXPECT_EQ(v->persistence_timeout, 120u);
  ASSERT_EQ(v->dests.size(), rt->dest_rt.size());
  ASSERT_EQ(v->fwd.size(), rt->dest_rt.size());
  for (size_t i = 0; i < rt->dest_rt.size(); ++i) {
    EXPECT_EQ(v->dests[i].dest_id, rt->dest_rt[i].dest_id);
    EXPECT_EQ(v->fwd[i], uint8_t(rt->dest_rt[i].cfg.fwd));
    const dp::DestView* d = view.destView(rt->dest_rt[i].dest_id);
    ASSERT_NE(d, nullptr);
    EXPECT_FALSE(d->trashed);
    EXPECT_EQ(d->svc_id, rt->svc_id);
  }
  EXPECT_EQ(v->scheduler, rt->scheduler.get()) << "the same scheduler";
  ASSERT_EQ(s->trash().size(), 1u);
  for (const DestRt& t : s->trash()) {
    const dp::DestView* d = view.destView(t.dest_id);
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->trashed);
  }
  EXPECT_EQ(view.serviceView(kTcp, ip("10.0.0.2"), 80), nullptr);
  EXPECT_EQ(view.destView(999), nullptr);
}

TEST_F(SnapshotTest, ExactMatchByProtocolAddressAndPort) {
  add(svcCfg(tcpKey("10.0.0.1", 80)));
  add(svcCfg(udpKey("10.0.0.1", 80)));
  add(svcCfg(tcpKey("10.0.0.2", 80)));
  auto s = table_.snapshot();
  const ServiceRt* t = s->findService(kTcp, ip("10.0.0.1"), 80);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->cfg.key, tcpKey("10.0.0.1", 80));
  EXPECT_EQ(t->svc_id, svcId(tcpKey("10.0.0.1", 80)));
  const ServiceRt* u = s->findService(kUdp, ip("10.0.0.1"), 80);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->cfg.key, udpKey("10.0.0.1", 80));
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.1"), 81), nullptr);
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.3"), 80), nullptr);
}

TEST_F(SnapshotTest, PortZeroPersistentServiceCatchesOtherPorts) {
  ServiceConfig any = svcCfg(tcpKey("10.0.0.1", 0));
  any.persistent = true;
  add(any);
  add(svcCfg(tcpKey("10.0.0.1", 80)));
  auto s = table_.snapshot();
  // The exact service wins; any other port falls back to the port-0 one.
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.1"), 80)->cfg.key.port, 80);
  const ServiceRt* f = s->findService(kTcp, ip("10.0.0.1"), 443);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->cfg.key.port, 0);
  EXPECT_TRUE(f->cfg.persistent);
  // Not for another protocol or address.
  EXPECT_EQ(s->findService(kUdp, ip("10.0.0.1"), 443), nullptr);
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.2"), 443), nullptr);
}

TEST_F(SnapshotTest, Ipv6Services) {
  add(svcCfg(tcpKey("2001:db8::1", 443)));
  addDest(tcpKey("2001:db8::1", 443), destCfg("[2001:db8::10]:443"));
  auto s = table_.snapshot();
  const ServiceRt* r = s->findService(kTcp, ip("2001:db8::1"), 443);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->dests.size(), 1u);
  EXPECT_EQ(r->dests[0].ep, ep("[2001:db8::10]:443"));
  EXPECT_EQ(s->findService(kTcp, ip("2001:db8::2"), 443), nullptr);
  // An IPv4 address with the same leading bytes is another address.
  EXPECT_EQ(s->findService(kTcp, ip("32.1.13.184"), 443), nullptr);
  EXPECT_TRUE(s->isVip(ip("2001:db8::1")));
  EXPECT_FALSE(s->isVip(ip("2001:db8::10")));
}

TEST_F(SnapshotTest, FwmarkLookupAndPrecedence) {
  // The ServiceTable refuses fwmark services until packets carry their mark to the data
  // path; the snapshot's lookup for them is built directly.
  std::vector<std::shared_ptr<const ServiceRt>> rts;
  const ServiceKey keys[] = {markKey(7), markKey(7, net::Family::kV6), tcpKey("10.0.0.1", 80)};
  for (uint32_t id = 0; id < 3; ++id) {
    auto rt = makeServiceRt(id, svcCfg(keys[id]), {}, nullptr);
    ASSERT_TRUE(rt.ok()) << rt.error().message;
    rts.push_back(std::move(*rt));
  }
  auto s = std::make_shared<const Snapshot>(1, std::move(rts), std::vector<DestRt>{});
  const ServiceRt* m4 = s->findFwmark(net::Family::kV4, 7);
  const ServiceRt* m6 = s->findFwmark(net::Family::kV6, 7);
  ASSERT_NE(m4, nullptr);
  ASSERT_NE(m6, nullptr);
  EXPECT_NE(m4, m6);
  EXPECT_EQ(s->findFwmark(net::Family::kV4, 8), nullptr);
  EXPECT_EQ(s->findFwmark(net::Family::kV4, 0), nullptr);
  // A marked packet goes to the fwmark service even when a port service matches.
  EXPECT_EQ(s->lookup(7, kTcp, ip("10.0.0.1"), 80), m4);
  EXPECT_EQ(s->lookup(0, kTcp, ip("10.0.0.1"), 80)->cfg.key, tcpKey("10.0.0.1", 80));
  EXPECT_EQ(s->lookup(9, kTcp, ip("10.0.0.1"), 80)->cfg.key, tcpKey("10.0.0.1", 80));
  // fwmark services own no address.
  EXPECT_FALSE(s->isVip(ip("0.0.0.0")));
}

TEST_F(SnapshotTest, DestsCarryIdsForwardingAndCounts) {
  auto k = tcpKey("10.0.0.1", 80);
  add(svcCfg(k));
  DestConfig a = destCfg("192.168.0.1:80", FwdMethod::kDr, 5);
  a.u_threshold = 100;
  a.l_threshold = 50;
  addDest(k, a);
  addDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, 0));
  auto s = table_.snapshot();
  const ServiceRt* r = s->findService(kTcp, ip("10.0.0.1"), 80);
  ASSERT_EQ(r->dests.size(), 2u);
  ASSERT_EQ(r->dest_rt.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r->dests[i].dest_id, r->dest_rt[i].dest_id);
    EXPECT_EQ(r->dests[i].counts, &counts_[r->dests[i].dest_id]);
    EXPECT_EQ(s->findDest(r->dests[i].dest_id), &r->dest_rt[i]);
  }
  // IPVS's order: the newest first, so a (added first) is second.
  EXPECT_EQ(r->dests[1].weight, 5);
  EXPECT_EQ(r->dest_rt[1].cfg.fwd, FwdMethod::kDr);
  EXPECT_EQ(r->dest_rt[1].cfg.u_threshold, 100u);
  EXPECT_EQ(r->dest_rt[1].cfg.l_threshold, 50u);
  EXPECT_EQ(r->dest_rt[0].cfg.weight, 0);
  EXPECT_FALSE(r->dests[0].available());  // weight 0: quiescent
  EXPECT_EQ(s->findServiceById(r->svc_id), r);
  EXPECT_EQ(s->findDest(999), nullptr);
}

TEST_F(SnapshotTest, SchedulingSkipsQuiescentAndFailsWhenNoneAvailable) {
  auto k = tcpKey("10.0.0.1", 80);
  add(svcCfg(k, "rr"));
  auto s = table_.snapshot();
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.1"), 80)->schedule({}), -1);
  addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 0));
  addDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, 1));
  s = table_.snapshot();
  const ServiceRt* r = s->findService(kTcp, ip("10.0.0.1"), 80);
  // Listed newest first: .2 (weight 1) at 0, the quiescent .1 at 1.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r->schedule({}), 0);
}

TEST_F(SnapshotTest, SchedulersSurviveUnrelatedChanges) {
  auto a = tcpKey("10.0.0.1", 80), b = tcpKey("10.0.0.2", 80);
  add(svcCfg(a, "rr"));
  add(svcCfg(b, "rr"));
  for (const char* rs : {"192.168.0.1:80", "192.168.0.2:80", "192.168.0.3:80"}) {
    addDest(a, destCfg(rs));
    addDest(b, destCfg(rs));
  }
  auto s1 = table_.snapshot();
  const ServiceRt* a1 = s1->findService(kTcp, ip("10.0.0.1"), 80);
  EXPECT_EQ(a1->schedule({}), 0);
  EXPECT_EQ(a1->schedule({}), 1);

  // Edits of another service, of a's own non-scheduling fields, and a new service.
  ASSERT_TRUE(table_.editDest(b, destCfg("192.168.0.1:80", FwdMethod::kDr, 9)).ok());
  ASSERT_TRUE(table_.delDest(b, ep("192.168.0.3:80")).ok());
  add(svcCfg(tcpKey("10.0.0.3", 80)));
  auto s2 = table_.snapshot();
  const ServiceRt* a2 = s2->findService(kTcp, ip("10.0.0.1"), 80);
  EXPECT_EQ(a2, a1);  // the very same object
  EXPECT_EQ(a2->schedule({}), 2);

  DestConfig t = destCfg("192.168.0.1:80");
  t.u_threshold = 500;
  ASSERT_TRUE(table_.editDest(a, t).ok());
  ServiceConfig pa = svcCfg(a, "rr");
  pa.persistent = true;
  ASSERT_TRUE(table_.editService(pa).ok());
  auto s3 = table_.snapshot();
  const ServiceRt* a3 = s3->findService(kTcp, ip("10.0.0.1"), 80);
  EXPECT_NE(a3, a1);
  EXPECT_EQ(a3->dest_rt[2].cfg.u_threshold, 500u);  // .1, added first, is listed last
  EXPECT_TRUE(a3->cfg.persistent);
  EXPECT_EQ(a3->scheduler, a1->scheduler);  // same dests, weights: same scheduler
  EXPECT_EQ(a3->schedule({}), 0);           // continues the cycle 0,1,2,0

  // A weight change rebuilds a's scheduler, and only a's.
  const ServiceRt* b3 = s3->findService(kTcp, ip("10.0.0.2"), 80);
  ASSERT_TRUE(table_.editDest(a, destCfg("192.168.0.2:80", FwdMethod::kDr, 3)).ok());
  auto s4 = table_.snapshot();
  EXPECT_NE(s4->findService(kTcp, ip("10.0.0.1"), 80)->scheduler, a1->scheduler);
  EXPECT_EQ(s4->findService(kTcp, ip("10.0.0.2"), 80), b3);
}

TEST_F(SnapshotTest, OldSnapshotsStayValidWhileHeld) {
  auto k = tcpKey("10.0.0.1", 80);
  add(svcCfg(k));
  addDest(k, destCfg("192.168.0.1:80"));
  auto old = table_.snapshot();
  ASSERT_TRUE(table_.delService(k).ok());
  const ServiceRt* r = old->findService(kTcp, ip("10.0.0.1"), 80);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dests[0].ep, ep("192.168.0.1:80"));
  EXPECT_EQ(table_.snapshot()->findService(kTcp, ip("10.0.0.1"), 80), nullptr);
}

TEST_F(SnapshotTest, ReaderPicksUpNewVersionsOnly) {
  SnapshotReader reader(table_.publisher());
  const Snapshot* first = &reader.acquire();
  EXPECT_EQ(first, &reader.acquire());
  EXPECT_EQ(first->findService(kTcp, ip("10.0.0.1"), 80), nullptr);
  add(svcCfg(tcpKey("10.0.0.1", 80)));
  const Snapshot& second = reader.acquire();
  EXPECT_NE(&second, first);
  EXPECT_EQ(second.version(), table_.publisher().version());
  EXPECT_NE(second.findService(kTcp, ip("10.0.0.1"), 80), nullptr);
  EXPECT_EQ(&reader.acquire(), &second);
}

TEST_F(SnapshotTest, ReadersRaceWithPublishes) {
  // Workers acquire and schedule while the control plane rewrites the table. Each snapshot
  // must be internally consistent: a service found always has its two dests.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> seen_versions{0};
  auto worker = [&] {
    SnapshotReader reader(table_.publisher());
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const Snapshot& s = reader.acquire();
      EXPECT_GE(s.version(), last);
      if (s.version() != last) seen_versions.fetch_add(1, std::memory_order_relaxed);
      last = s.version();
      if (const ServiceRt* r = s.findService(kTcp, ip("10.0.0.1"), 80)) {
        EXPECT_EQ(r->dests.size(), 2u);
        int i = r->schedule({});
        EXPECT_TRUE(i == 0 || i == 1);
      }
    }
    // However the threads were scheduled, the last publish is visible after stop.
    if (reader.acquire().version() != last) seen_versions.fetch_add(1, std::memory_order_relaxed);
  };
  std::thread w1(worker), w2(worker);
  auto k = tcpKey("10.0.0.1", 80);
  for (int i = 0; i < 300; ++i) {
    {
      ServiceTable::Batch b(table_);  // readers never see the service with fewer dests
      ASSERT_TRUE(table_.addService(svcCfg(k, i % 2 ? "rr" : "wlc")).ok());
      ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
      ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80")).ok());
    }
    ASSERT_TRUE(table_.delService(k).ok());
    table_.purgeTrash();
  }
  stop = true;
  w1.join();
  w2.join();
  EXPECT_GE(seen_versions.load(), 2u);
}

TEST(SnapshotPublisherTest, StartsEmpty) {
  SnapshotPublisher p;
  auto s = p.current();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->version(), 0u);
  EXPECT_TRUE(s->services().empty());
  EXPECT_EQ(s->findService(kTcp, ip("10.0.0.1"), 80), nullptr);
  EXPECT_EQ(s->findDest(0), nullptr);
  EXPECT_EQ(s->findServiceById(0), nullptr);
}

TEST(MakeServiceRtTest, UnknownSchedulerIsAnError) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80), "nope");
  auto r = makeServiceRt(0, c, {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nope"), std::string::npos);
}

}  // namespace
