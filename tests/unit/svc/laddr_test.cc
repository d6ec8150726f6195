// FULLNAT local addresses and the client-address mode in the model: validation, the one
// mutation path, the snapshot the data path reads, and restart.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/ops.h"
#include "svc/service_table.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::svc;
using namespace sluice::svc::testing;

namespace {

LocalAddress la(const char* a, std::string ifname = {}) { return LocalAddress{ip(a), std::move(ifname)}; }

std::string why(const Status& s) { return s ? std::string("ok") : s.error().message; }

class LaddrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(table_.addService(svcCfg(k4_)).ok());
    ASSERT_TRUE(table_.addService(svcCfg(k6_)).ok());
  }
  std::vector<std::string> addrs(const ServiceKey& k) {
    std::vector<std::string> out;
    const auto s = table_.get(k);  // held: the loop must not outlive the Result
    for (const auto& l : s->laddrs) out.push_back(l.addr.str() + "/" + l.ifname);
    return out;
  }

  ManualClock clock_;
  ServiceTable table_{clock_, {}};
  ServiceKey k4_ = tcpKey("10.0.0.1", 80);
  ServiceKey k6_ = tcpKey("2001:db8::1", 443);
};

TEST_F(LaddrTest, AddDeleteInOrder) {
  ASSERT_TRUE(apply(table_, AddLaddr{k4_, la("192.168.100.200", "eth1")}).ok());
  ASSERT_TRUE(apply(table_, AddLaddr{k4_, la("192.168.100.201")}).ok());
  ASSERT_TRUE(apply(table_, AddLaddr{k4_, la("192.168.100.199", "eth1")}).ok());
  EXPECT_EQ(addrs(k4_), (std::vector<std::string>{"192.168.100.200/eth1", "192.168.100.201/",
                                                  "192.168.100.199/eth1"}));
  // Deleting by address; an ifname, when given, must match.
  EXPECT_EQ(why(apply(table_, DelLaddr{k4_, la("192.168.100.200", "eth2")})),
            "No such local address: 192.168.100.200 is on eth1, not eth2");
  ASSERT_TRUE(apply(table_, DelLaddr{k4_, la("192.168.100.200")}).ok());
  EXPECT_EQ(addrs(k4_), (std::vector<std::string>{"192.168.100.201/", "192.168.100.199/eth1"}));
  EXPECT_STREQ(opName(Op{AddLaddr{}}), "add local address");
  EXPECT_STREQ(opName(Op{DelLaddr{}}), "delete local address");
}

TEST_F(LaddrTest, Refusals) {
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.200")).ok());
  EXPECT_EQ(why(table_.addLaddr(k4_, la("192.168.100.200", "eth9"))), "Local address already exists");
  EXPECT_EQ(why(table_.delLaddr(k4_, la("192.168.100.9"))), "No such local address");
  EXPECT_EQ(why(table_.addLaddr(tcpKey("10.0.0.9", 80), la("192.168.100.1"))), "Service not defined");
  EXPECT_EQ(why(table_.delLaddr(tcpKey("10.0.0.9", 80), la("192.168.100.1"))), "Service not defined");
  EXPECT_EQ(why(table_.addLaddr(k6_, la("192.168.100.1"))),
            "IPv4 local address 192.168.100.1 for an IPv6 service: local addresses must be of the "
            "service's family (NAT64 is not supported)");
  EXPECT_EQ(why(table_.addLaddr(k4_, la("2001:db8::5"))),
            "IPv6 local address 2001:db8::5 for an IPv4 service: local addresses must be of the "
            "service's family (NAT64 is not supported)");
  for (const char* bad : {"0.0.0.0", "224.0.0.1", "255.255.255.255"})
    EXPECT_EQ(why(table_.addLaddr(k4_, la(bad))),
              std::string("Invalid local address ") + bad + ": it must be a unicast address of this director");
  EXPECT_EQ(why(table_.addLaddr(k6_, la("ff02::1"))),
            "Invalid local address ff02::1: it must be a unicast address of this director");
  EXPECT_EQ(why(table_.addLaddr(k4_, la("192.168.100.7", "a/b"))),
            "Invalid interface name 'a/b' for local address 192.168.100.7");
  EXPECT_EQ(why(table_.addLaddr(k4_, la("192.168.100.7", "sixteen-chars-xx"))),
            "Invalid interface name 'sixteen-chars-xx' for local address 192.168.100.7");
  EXPECT_EQ(why(table_.addLaddr(k4_, LocalAddress{})), "Local address missing");
  EXPECT_EQ(addrs(k4_), std::vector<std::string>{"192.168.100.200/"});
}

TEST_F(LaddrTest, CapPerService) {
  for (uint32_t i = 0; i < kMaxLaddrsPerService; ++i)
    ASSERT_TRUE(table_.addLaddr(k4_, LocalAddress{net::IpAddr::v4(0x0a010000 + i + 1), ""}).ok()) << i;
  EXPECT_EQ(why(table_.addLaddr(k4_, la("10.2.0.1"))), "Too many local addresses: the limit is 256 per service");
  // Another service has its own.
  EXPECT_TRUE(table_.addLaddr(k6_, la("2001:db8::100")).ok());
}

// DPVS allows a FULLNAT real server before any local address (its connections are then
// dropped and counted by the data path), and per-dest methods, as IPVS does.
TEST_F(LaddrTest, FullNatRealServersAndMixedMethods) {
  ASSERT_TRUE(table_.addDest(k4_, destCfg("192.168.0.1:8080", FwdMethod::kFullNat)).ok());
  ASSERT_TRUE(table_.addDest(k4_, destCfg("192.168.0.2:80", FwdMethod::kDr)).ok());
  ASSERT_TRUE(table_.addDest(k4_, destCfg("192.168.0.3:8080", FwdMethod::kNat)).ok());
  EXPECT_EQ(table_.get(k4_)->dests.size(), 3u);
  EXPECT_TRUE(table_.get(k4_)->laddrs.empty());
  // A FULLNAT real server keeps its own port (no DR-style forcing).
  EXPECT_EQ(table_.get(k4_)->dests.back().cfg.ep.port, 8080);
}

TEST_F(LaddrTest, ClientAddrModes) {
  ServiceConfig c = svcCfg(k4_);
  EXPECT_EQ(c.client_addr, ClientAddr::kToa) << "DPVS inserts TOA by default";
  c.client_addr = ClientAddr::kNone;
  ASSERT_TRUE(apply(table_, EditService{c}).ok());
  EXPECT_EQ(table_.get(k4_)->cfg.client_addr, ClientAddr::kNone);
  c.client_addr = ClientAddr::kProxyV2;
  EXPECT_EQ(why(apply(table_, EditService{c})), "PROXY protocol v2 is not implemented yet; use toa");
  EXPECT_EQ(why(table_.addService([&] {
              ServiceConfig n = svcCfg(tcpKey("10.0.0.2", 80));
              n.client_addr = ClientAddr::kProxyV2;
              return n;
            }())),
            "PROXY protocol v2 is not implemented yet; use toa");
  c.client_addr = ClientAddr(7);
  EXPECT_EQ(why(table_.editService(c)), "Invalid client address mode 7");
  EXPECT_EQ(table_.get(k4_)->cfg.client_addr, ClientAddr::kNone);
  EXPECT_STREQ(clientAddrName(ClientAddr::kProxyV2), "proxy-v2");
  EXPECT_EQ(clientAddrFromName("toa"), ClientAddr::kToa);
  EXPECT_EQ(clientAddrFromName("TOA"), std::nullopt);
}

// Editing a service (-E) keeps its local addresses: they are not part of -E's settings.
TEST_F(LaddrTest, EditServiceKeepsLaddrs) {
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.200")).ok());
  ASSERT_TRUE(table_.editService(svcCfg(k4_, "wlc")).ok());
  EXPECT_EQ(addrs(k4_), std::vector<std::string>{"192.168.100.200/"});
}

TEST_F(LaddrTest, SnapshotViewOwnsTheAddresses) {
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.200", "eth1")).ok());
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.201")).ok());
  ASSERT_TRUE(table_.addLaddr(k6_, la("2001:db8::200")).ok());
  ServiceConfig c = svcCfg(k6_);
  c.client_addr = ClientAddr::kNone;
  ASSERT_TRUE(table_.editService(c).ok());
  auto snap = table_.snapshot();
  const dp::ServiceView* v4 = snap->serviceView(6, ip("10.0.0.1"), 80);
  ASSERT_NE(v4, nullptr);
  ASSERT_EQ(v4->laddrs.size(), 2u);
  EXPECT_EQ(v4->laddrs[0], ip("192.168.100.200"));
  EXPECT_EQ(v4->laddrs[1], ip("192.168.100.201"));
  EXPECT_EQ(v4->client_addr, SL_CA_TOA);
  const dp::ServiceView* v6 = snap->serviceView(6, ip("2001:db8::1"), 443);
  ASSERT_NE(v6, nullptr);
  ASSERT_EQ(v6->laddrs.size(), 1u);
  EXPECT_EQ(v6->laddrs[0], ip("2001:db8::200"));
  EXPECT_EQ(v6->client_addr, SL_CA_NONE);
  // The view outlives later changes: the old snapshot is immutable.
  ASSERT_TRUE(table_.delLaddr(k4_, la("192.168.100.200")).ok());
  EXPECT_EQ(v4->laddrs.size(), 2u);
  const dp::ServiceView* now = table_.snapshot()->serviceView(6, ip("10.0.0.1"), 80);
  ASSERT_EQ(now->laddrs.size(), 1u);
  EXPECT_EQ(now->laddrs[0], ip("192.168.100.201"));
  EXPECT_EQ(table_.snapshot()->findServiceById(now->svc_id)->laddrs.size(), 1u);
}

TEST_F(LaddrTest, ExportAndRestore) {
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.200", "eth1")).ok());
  ASSERT_TRUE(table_.addLaddr(k4_, la("192.168.100.201")).ok());
  TableState st = table_.exportState();
  ManualClock clock;
  ServiceTable back(clock, {});
  ASSERT_TRUE(back.restore(st.services, st.trash).ok());
  EXPECT_EQ(back.get(k4_)->laddrs, table_.get(k4_)->laddrs);
  EXPECT_EQ(back.snapshot()->serviceView(6, ip("10.0.0.1"), 80)->laddrs.size(), 2u);

  // A state file's local addresses are checked as -P checks them.
  st.services[0].laddrs.push_back(la("2001:db8::9"));
  ServiceTable bad(clock, {});
  EXPECT_EQ(why(bad.restore(st.services, st.trash)),
            "restoring local address 2001:db8::9 of TCP 10.0.0.1:80: IPv6 local address 2001:db8::9 "
            "for an IPv4 service: local addresses must be of the service's family (NAT64 is not "
            "supported)");
  st.services[0].laddrs.back() = la("192.168.100.201");
  EXPECT_EQ(why(bad.restore(st.services, st.trash)),
            "restoring local address 192.168.100.201 of TCP 10.0.0.1:80: Local address already exists");
  EXPECT_EQ(bad.serviceCount(), 0u);
}

}  // namespace
