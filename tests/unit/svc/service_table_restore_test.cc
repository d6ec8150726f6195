// ServiceTable::exportState / restore: a restarted daemon gets the same ids back, and a
// state that does not add up is refused whole.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/service_table.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::svc;
using namespace sluice::svc::testing;

namespace {

TableLimits limits(uint32_t max_services = 16, uint32_t max_dests = 64) {
  TableLimits l;
  l.max_services = max_services;
  l.max_dests = max_dests;
  l.trash_grace = 0;
  return l;
}

class RestoreTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  std::vector<sl_dest_counts> counts_ = std::vector<sl_dest_counts>(64);

  // A table whose ids are not the ones a fresh table would hand out in the same order:
  // ids freed and reused, a trashed dest still carrying a connection, and a deleted
  // service kept alive by one.
  void build(ServiceTable& t) {
    ASSERT_TRUE(t.addService(svcCfg(tcpKey("10.0.0.9", 80))).ok());   // svc 0, deleted below
    ASSERT_TRUE(t.addService(svcCfg(tcpKey("10.0.0.1", 80))).ok());   // svc 1
    ASSERT_TRUE(t.addService(svcCfg(udpKey("10.0.0.2", 53), "wrr")).ok());  // svc 2
    ASSERT_TRUE(t.addDest(tcpKey("10.0.0.9", 80), destCfg("10.1.0.9:80")).ok());  // dest 0
    ASSERT_TRUE(t.addDest(tcpKey("10.0.0.1", 80), destCfg("10.1.0.1:80")).ok());  // dest 1
    ASSERT_TRUE(t.addDest(tcpKey("10.0.0.1", 80), destCfg("10.1.0.2:80", FwdMethod::kDr, 3)).ok());
    ASSERT_TRUE(t.addDest(udpKey("10.0.0.2", 53), destCfg("10.1.0.3:53")).ok());  // dest 3
    counts_[0].active = 1;  // the deleted service's dest carries a connection
    counts_[1].inactive = 2;
    ASSERT_TRUE(t.delService(tcpKey("10.0.0.9", 80)).ok());
    ASSERT_TRUE(t.delDest(tcpKey("10.0.0.1", 80), ep("10.1.0.1:80")).ok());
    ASSERT_TRUE(t.addDest(tcpKey("10.0.0.1", 80), destCfg("10.1.0.4:80")).ok());  // dest 4
  }
};

TEST_F(RestoreTest, RoundTripKeepsEveryIdAndTheTrash) {
  ServiceTable a(clock_, counts_, limits());
  build(a);
  TableState st = a.exportState();
  ASSERT_EQ(st.services.size(), 2u);
  ASSERT_EQ(st.trash.size(), 2u);

  ServiceTable b(clock_, counts_, limits());
  Status r = b.restore(st.services, st.trash);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto la = a.list(), lb = b.list();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i].svc_id, lb[i].svc_id);
    EXPECT_EQ(la[i].cfg.key, lb[i].cfg.key);
    EXPECT_EQ(la[i].cfg.scheduler, lb[i].cfg.scheduler);
    ASSERT_EQ(la[i].dests.size(), lb[i].dests.size());
    for (size_t k = 0; k < la[i].dests.size(); ++k) {
      EXPECT_EQ(la[i].dests[k].dest_id, lb[i].dests[k].dest_id);
      EXPECT_EQ(la[i].dests[k].cfg.ep, lb[i].dests[k].cfg.ep);
      EXPECT_EQ(la[i].dests[k].cfg.weight, lb[i].dests[k].cfg.weight);
    }
  }
  EXPECT_EQ(b.trashCount(), 2u);
  // The data plane still finds the trashed dests by id (connections point at them).
  auto snap = b.snapshot();
  ASSERT_NE(snap->findDest(0), nullptr);
  EXPECT_EQ(snap->findDest(0)->cfg.ep, ep("10.1.0.9:80"));
  ASSERT_NE(snap->findDest(1), nullptr);
  EXPECT_TRUE(snap->findDest(1)->trashed);
  // Exporting the restored table gives the same state back.
  TableState again = b.exportState();
  ASSERT_EQ(again.trash.size(), st.trash.size());
  for (size_t i = 0; i < st.trash.size(); ++i) {
    EXPECT_EQ(again.trash[i].dest_id, st.trash[i].dest_id);
    EXPECT_EQ(again.trash[i].svc_id, st.trash[i].svc_id);
    EXPECT_EQ(again.trash[i].svc_key, st.trash[i].svc_key);
  }
}

TEST_F(RestoreTest, RestoredIdsAreTakenAndTrashRevivesAsBefore) {
  ServiceTable a(clock_, counts_, limits());
  build(a);
  TableState st = a.exportState();
  ServiceTable b(clock_, counts_, limits());
  ASSERT_TRUE(b.restore(st.services, st.trash).ok());

  // A new service and dest get ids nobody holds (0..4 are all held: live or trashed).
  ASSERT_TRUE(b.addService(svcCfg(tcpKey("10.0.0.5", 80))).ok());
  ASSERT_TRUE(b.addDest(tcpKey("10.0.0.5", 80), destCfg("10.1.0.5:80")).ok());
  auto s5 = b.get(tcpKey("10.0.0.5", 80));
  ASSERT_TRUE(s5.ok());
  std::set<uint32_t> held_svc = {1, 2, 0};  // 0: the deleted service still referenced
  EXPECT_EQ(held_svc.count(s5->svc_id), 0u) << s5->svc_id;
  EXPECT_GE(s5->dests[0].dest_id, 5u);

  // Re-adding the trashed real server revives its id, as before the restart.
  ASSERT_TRUE(b.addDest(tcpKey("10.0.0.1", 80), destCfg("10.1.0.1:80")).ok());
  auto s1 = b.get(tcpKey("10.0.0.1", 80));
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->dests.front().dest_id, 1u);  // at the head, as every added real server
  // Re-adding the deleted service takes its id back, its dest too.
  ASSERT_TRUE(b.addService(svcCfg(tcpKey("10.0.0.9", 80))).ok());
  auto s9 = b.get(tcpKey("10.0.0.9", 80));
  ASSERT_TRUE(s9.ok());
  EXPECT_EQ(s9->svc_id, 0u);
  ASSERT_TRUE(b.addDest(tcpKey("10.0.0.9", 80), destCfg("10.1.0.9:80")).ok());
  EXPECT_EQ(b.get(tcpKey("10.0.0.9", 80))->dests[0].dest_id, 0u);
  EXPECT_EQ(b.trashCount(), 0u);
}

TEST_F(RestoreTest, PurgedTrashFreesRestoredIds) {
  ServiceTable a(clock_, counts_, limits());
  build(a);
  TableState st = a.exportState();
  ServiceTable b(clock_, counts_, limits());
  ASSERT_TRUE(b.restore(st.services, st.trash).ok());
  counts_[0] = {};
  counts_[1] = {};
  EXPECT_EQ(b.purgeTrash(), 2u);  // no grace period in these tests
  EXPECT_EQ(b.trashCount(), 0u);
  // The deleted service's id is free again, and the lowest free ids are reused first.
  ASSERT_TRUE(b.addService(svcCfg(tcpKey("10.0.0.7", 80))).ok());
  EXPECT_EQ(b.get(tcpKey("10.0.0.7", 80))->svc_id, 0u);
}

ServiceState svcState(uint32_t id, const ServiceKey& k, std::vector<DestState> dests = {},
                      const char* sched = "rr") {
  ServiceState s;
  s.svc_id = id;
  s.cfg = svcCfg(k, sched);
  s.dests = std::move(dests);
  return s;
}

DestState destState(uint32_t id, const char* endpoint) { return DestState{id, destCfg(endpoint)}; }

TrashedDest trashed(uint32_t dest_id, uint32_t svc_id, const ServiceKey& k, const char* endpoint) {
  return TrashedDest{dest_id, svc_id, k, destCfg(endpoint)};
}

class RestoreValidation : public RestoreTest {
 protected:
  ServiceTable t_{clock_, counts_, limits(4, 8)};
  void expectRefused(const std::vector<ServiceState>& s, const std::vector<TrashedDest>& tr,
                     const std::string& part) {
    Status st = t_.restore(s, tr);
    ASSERT_FALSE(st.ok()) << "expected an error containing: " << part;
    EXPECT_NE(st.error().message.find(part), std::string::npos) << st.error().message;
    // All or nothing: a refused restore leaves the table empty and usable.
    EXPECT_EQ(t_.serviceCount(), 0u);
    EXPECT_EQ(t_.trashCount(), 0u);
    EXPECT_TRUE(t_.addService(svcCfg(tcpKey("10.9.9.9", 80))).ok());
    EXPECT_EQ(t_.get(tcpKey("10.9.9.9", 80))->svc_id, 0u);
    EXPECT_TRUE(t_.delService(tcpKey("10.9.9.9", 80)).ok());
  }
};

TEST_F(RestoreValidation, ValidatesLikeAdd) {
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80), {}, "nosuch")}, {}, "Scheduler not found: nosuch");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 0))}, {}, "Zero port");
  ServiceState mixed = svcState(0, tcpKey("10.0.0.1", 80), {destState(0, "[2001:db8::1]:80")});
  expectRefused({mixed}, {}, "IPv6 real server for an IPv4 service");
}

// A state file written before these were refused (or by hand) must not bring back what
// the data path would black-hole: the restore names the entry and the reason.
TEST_F(RestoreValidation, RefusesWhatIsNotImplementedYet) {
  ServiceState local = svcState(0, tcpKey("10.0.0.1", 80), {destState(0, "10.1.0.1:8080")});
  local.dests[0].cfg.fwd = FwdMethod::kLocal;
  expectRefused({local}, {},
                "restoring real server 10.1.0.1:8080 of TCP 10.0.0.1:80: Local forwarding (a real "
                "server on the director itself) is not implemented yet");
  ServiceState pp = svcState(0, tcpKey("10.0.0.1", 80));
  pp.cfg.client_addr = ClientAddr::kProxyV2;
  expectRefused({pp}, {},
                "restoring service TCP 10.0.0.1:80: PROXY protocol v2 is not implemented yet; use toa");
  expectRefused({svcState(0, markKey(7))}, {},
                "restoring service FWM 7: Firewall-mark services (-f) are not implemented yet");
  TrashedDest tlocal = trashed(0, 1, tcpKey("10.0.0.3", 80), "10.1.0.1:80");
  tlocal.cfg.fwd = FwdMethod::kLocal;
  expectRefused({}, {tlocal},
                "restoring deleted real server 10.1.0.1:80 of TCP 10.0.0.3:80: Local forwarding");
  TrashedDest gre = trashed(0, 1, tcpKey("10.0.0.3", 80), "10.1.0.1:80");
  gre.cfg.fwd = FwdMethod::kTun;
  gre.cfg.tun_type = SL_TUN_GRE;
  expectRefused({}, {gre},
                "restoring deleted real server 10.1.0.1:80 of TCP 10.0.0.3:80: GRE tunnels are not "
                "implemented yet; use ipip or gue");
  // A deleted real server of a deleted fwmark service, too.
  expectRefused({}, {trashed(0, 1, markKey(9), "10.1.0.1:80")},
                "Firewall-mark services (-f) are not implemented yet");
}

TEST_F(RestoreValidation, RefusesIdsOutOfRangeOrUsedTwice) {
  expectRefused({svcState(4, tcpKey("10.0.0.1", 80))}, {}, "beyond the limit of 4");
  expectRefused({svcState(1, tcpKey("10.0.0.1", 80)), svcState(1, tcpKey("10.0.0.2", 80))}, {},
                "service id 1 is used twice");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80), {destState(8, "10.1.0.1:80")})}, {},
                "beyond the limit of 8");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80), {destState(3, "10.1.0.1:80")}),
                 svcState(1, tcpKey("10.0.0.2", 80), {destState(3, "10.1.0.2:80")})},
                {}, "dest id 3 is used twice");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80), {destState(3, "10.1.0.1:80")})},
                {trashed(3, 0, tcpKey("10.0.0.1", 80), "10.1.0.2:80")}, "dest id 3 is taken");
}

TEST_F(RestoreValidation, RefusesDuplicatesAndInconsistentTrash) {
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80)), svcState(1, tcpKey("10.0.0.1", 80))}, {},
                "listed twice");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80),
                          {destState(0, "10.1.0.1:80"), destState(1, "10.1.0.1:80")})},
                {}, "listed twice");
  // A trashed dest naming a live service by the wrong id, or another service's id.
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80))},
                {trashed(1, 2, tcpKey("10.0.0.1", 80), "10.1.0.1:80")}, "has id 0, not 2");
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80))},
                {trashed(1, 0, tcpKey("10.0.0.2", 80), "10.1.0.1:80")}, "belongs to TCP 10.0.0.1:80");
  // Trashed and configured at once: impossible (adding it back revives the trashed one).
  expectRefused({svcState(0, tcpKey("10.0.0.1", 80), {destState(0, "10.1.0.1:80")})},
                {trashed(1, 0, tcpKey("10.0.0.1", 80), "10.1.0.1:80")}, "also a configured");
  // One deleted service with two ids.
  expectRefused({}, {trashed(0, 1, tcpKey("10.0.0.3", 80), "10.1.0.1:80"),
                     trashed(1, 2, tcpKey("10.0.0.3", 80), "10.1.0.2:80")},
                "ids 1 and 2");
}

TEST_F(RestoreValidation, OnlyIntoAnEmptyTable) {
  ASSERT_TRUE(t_.addService(svcCfg(tcpKey("10.0.0.1", 80))).ok());
  Status st = t_.restore({svcState(1, tcpKey("10.0.0.2", 80))}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("already has some"), std::string::npos);
  EXPECT_EQ(t_.serviceCount(), 1u);
}

}  // namespace
