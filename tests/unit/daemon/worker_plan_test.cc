// The worker count and queue split rule (daemon/worker_plan.h), and the CPU list parser.
#include "daemon/worker_plan.h"

#include <gtest/gtest.h>

#include <map>

#include "io/queues.h"
#include "abi/steer.h"

namespace sluice::daemon {
namespace {

InterfaceQueues veth(const char* name, uint32_t ifindex, uint32_t queues) {
  return InterfaceQueues{name, ifindex, queues, {}};
}

TEST(WorkerPlan, DefaultOnDevicesWithoutInterruptsIsQueuesCappedByCpus) {
  std::vector<InterfaceQueues> one{veth("eth0", 2, 4)};
  EXPECT_EQ(defaultWorkers(one, 2), 2u);
  EXPECT_EQ(defaultWorkers(one, 16), 4u);
  std::vector<InterfaceQueues> single{veth("eth0", 2, 1)};
  EXPECT_EQ(defaultWorkers(single, 16), 1u);
}

TEST(WorkerPlan, DefaultFollowsTheInterruptCores) {
  InterfaceQueues nic{"ens1", 3, 8, {0, 1, 2}};
  std::vector<InterfaceQueues> ifs{nic};
  EXPECT_EQ(defaultWorkers(ifs, 32), 3u);
}

TEST(WorkerPlan, NeverMoreWorkersThanTheSmallestInterfaceHasQueues) {
  std::vector<InterfaceQueues> ifs{veth("eth0", 2, 8), veth("eth1", 3, 2)};
  EXPECT_EQ(defaultWorkers(ifs, 16), 2u);
  auto bad = planWorkers(ifs, 3, 16);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("eth1 has only 2 receive queue"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("--workers 2"), std::string::npos);
}

TEST(WorkerPlan, EveryQueueOfEveryInterfaceHasExactlyOneWorker) {
  std::vector<InterfaceQueues> ifs{veth("eth0", 2, 4), veth("eth1", 3, 2)};
  auto plan = planWorkers(ifs, 2, 16);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->ports.size(), 2u);
  std::map<std::pair<uint32_t, uint32_t>, int> owners;
  for (const auto& w : plan->ports) {
    bool on_eth0 = false, on_eth1 = false;
    for (const auto& p : w) {
      ++owners[{p.ifindex, p.queue}];
      on_eth0 |= p.ifindex == 2;
      on_eth1 |= p.ifindex == 3;
    }
    EXPECT_TRUE(on_eth0 && on_eth1) << "a worker cannot transmit out of an interface it has no socket on";
  }
  EXPECT_EQ(owners.size(), 6u);
  for (const auto& [port, n] : owners) EXPECT_EQ(n, 1);
  auto text = plan->describe(ifs);
  EXPECT_EQ(text.at(0), "eth0 queues 0,2; eth1 queue 0");
  EXPECT_EQ(text.at(1), "eth0 queues 1,3; eth1 queue 1");
}

TEST(WorkerPlan, RefusesMoreQueuesThanTheXdpProgramHasSlotsFor) {
  std::vector<InterfaceQueues> ifs{veth("eth0", 2, SL_STEER_QUEUES_PER_IFACE + 1)};
  auto plan = planWorkers(ifs, 1, 4);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("ethtool -L eth0 combined"), std::string::npos)
      << plan.error().message;
  ifs[0].queues = SL_STEER_QUEUES_PER_IFACE;
  EXPECT_TRUE(planWorkers(ifs, 1, 4));
}

TEST(CpuList, ParsesRangesAndSingles) {
  EXPECT_EQ(io::parseCpuList("0-3,8,10-11\n"), (std::vector<unsigned>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(io::parseCpuList("5"), (std::vector<unsigned>{5}));
  EXPECT_EQ(io::parseCpuList(""), (std::vector<unsigned>{}));
  EXPECT_EQ(io::parseCpuList("3-1,x,2"), (std::vector<unsigned>{2}));
}

TEST(RxQueues, LoopbackHasAtLeastOne) {
  auto n = io::rxQueueCount("lo");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_GE(*n, 1u);
  EXPECT_FALSE(io::rxQueueCount("no-such-if0"));
  EXPECT_FALSE(io::rxQueueCount("../etc"));
}

}  // namespace
}  // namespace sluice::daemon
