// Operations as values: each applies the table's own operation, with its validation and
// its error, so every source of change (CLI, reload, health verdicts, sync) gets one
// behaviour.
#include "svc/ops.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/service_table.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::svc;
using namespace sluice::svc::testing;

namespace {

TEST(Ops, EachOperationChangesTheTableAsItsCommandDoes) {
  ManualClock clock;
  std::vector<sl_dest_counts> counts(64);
  ServiceTable table(clock, counts);
  const ServiceKey k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(apply(table, AddService{svcCfg(k, "rr")}).ok());
  ASSERT_TRUE(apply(table, AddDest{k, destCfg("192.168.0.1:80")}).ok());
  ASSERT_TRUE(apply(table, EditDest{k, destCfg("192.168.0.1:80", FwdMethod::kDr, 7)}).ok());
  EXPECT_EQ(table.get(k)->dests.at(0).cfg.weight, 7);
  ASSERT_TRUE(apply(table, EditService{svcCfg(k, "wlc")}).ok());
  EXPECT_EQ(table.get(k)->cfg.scheduler, "wlc");
  // The table's validation and messages, unchanged.
  Status dup = apply(table, AddService{svcCfg(k, "rr")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, table.addService(svcCfg(k, "rr")).error().message);
  EXPECT_FALSE(apply(table, AddDest{k, destCfg("192.168.0.2:80", FwdMethod::kLocal)}).ok())
      << "refused as the table refuses it";
  ASSERT_TRUE(apply(table, DelDest{k, ep("192.168.0.1:80")}).ok());
  EXPECT_TRUE(table.get(k)->dests.empty());
  ASSERT_TRUE(apply(table, DelService{k}).ok());
  EXPECT_FALSE(table.get(k).ok());
  ASSERT_TRUE(apply(table, AddService{svcCfg(k, "rr")}).ok());
  ASSERT_TRUE(apply(table, ClearServices{}).ok());
  EXPECT_EQ(table.serviceCount(), 0u);
}

TEST(Ops, NamesForLogs) {
  EXPECT_STREQ(opName(Op{AddService{}}), "add service");
  EXPECT_STREQ(opName(Op{DelDest{}}), "delete real server");
  EXPECT_STREQ(opName(Op{ClearServices{}}), "clear");
}

}  // namespace
