#include "svc/service_table.h"

#include <climits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "svc/stats.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::svc;
using namespace sluice::svc::testing;

namespace {

TableLimits noGrace(uint32_t max_services = 4096, uint32_t max_dests = 65536) {
  TableLimits l;
  l.max_services = max_services;
  l.max_dests = max_dests;
  l.trash_grace = 0;
  return l;
}

class ServiceTableTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  std::vector<sl_dest_counts> counts_ = std::vector<sl_dest_counts>(64);
  ServiceTable table_{clock_, counts_, noGrace()};

  void expectError(const Status& st, const std::string& message) {
    ASSERT_FALSE(st.ok()) << "expected: " << message;
    EXPECT_EQ(st.error().message, message);
  }
  void expectErrorContains(const Status& st, const std::string& part) {
    ASSERT_FALSE(st.ok()) << "expected an error containing: " << part;
    EXPECT_NE(st.error().message.find(part), std::string::npos) << st.error().message;
  }
  uint32_t destId(const ServiceKey& k, const char* endpoint) {
    auto s = table_.get(k);
    EXPECT_TRUE(s.ok());
    for (const auto& d : s->dests)
      if (d.cfg.ep == ep(endpoint)) return d.dest_id;
    ADD_FAILURE() << "no dest " << endpoint;
    return UINT32_MAX;
  }
};

// ---- services ---------------------------------------------------------------------------

TEST_F(ServiceTableTest, ListsServicesInInsertionOrder) {
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.3", 80))).ok());
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.1", 80))).ok());
  ASSERT_TRUE(table_.addService(svcCfg(udpKey("10.0.0.2", 53))).ok());
  auto l = table_.list();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].cfg.key, tcpKey("10.0.0.3", 80));
  EXPECT_EQ(l[1].cfg.key, tcpKey("10.0.0.1", 80));
  EXPECT_EQ(l[2].cfg.key, udpKey("10.0.0.2", 53));
  EXPECT_EQ(table_.serviceCount(), 3u);
}

TEST_F(ServiceTableTest, DuplicateAndMissingServices) {
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.1", 80))).ok());
  expectError(table_.addService(svcCfg(tcpKey("10.0.0.1", 80), "wlc")), "Service already exists");
  // Same address and port, other protocol: a different service.
  EXPECT_TRUE(table_.addService(svcCfg(udpKey("10.0.0.1", 80))).ok());
  expectError(table_.editService(svcCfg(tcpKey("10.0.0.9", 80))), "No such service");
  expectError(table_.delService(tcpKey("10.0.0.9", 80)), "No such service");
  EXPECT_EQ(table_.get(tcpKey("10.0.0.9", 80)).error().message, "No such service");
  EXPECT_TRUE(table_.delService(tcpKey("10.0.0.1", 80)).ok());
  expectError(table_.delService(tcpKey("10.0.0.1", 80)), "No such service");
}

TEST_F(ServiceTableTest, ZeroPortNeedsPersistence) {
  expectError(table_.addService(svcCfg(tcpKey("10.0.0.1", 0))),
              "Zero port specified for non-persistent service");
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 0));
  c.persistent = true;
  ASSERT_TRUE(table_.addService(c).ok());
  // Editing it back to non-persistent is refused too.
  c.persistent = false;
  expectError(table_.editService(c), "Zero port specified for non-persistent service");
  EXPECT_TRUE(table_.get(c.key)->cfg.persistent);
}

// NAT maps ports (ipvsadm -m keeps the real server's port); a port-0 service's NAT real
// server cannot, since its replies keep their source port.
TEST_F(ServiceTableTest, NatKeepsTheRealServersPortExceptOnPortZeroServices) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:8080", FwdMethod::kNat)).ok());
  EXPECT_EQ(table_.get(k)->dests.at(0).cfg.ep.port, 8080);
  ServiceConfig any = svcCfg(tcpKey("10.0.0.2", 0));
  any.persistent = true;
  ASSERT_TRUE(table_.addService(any).ok());
  expectError(table_.addDest(any.key, destCfg("192.168.0.1:8080", FwdMethod::kNat)),
              "A NAT real server of a port-0 (all ports) service cannot map ports: give it port 0 "
              "(or no port), so each connection keeps the client's port");
  EXPECT_TRUE(table_.addDest(any.key, destCfg("192.168.0.1:0", FwdMethod::kNat)).ok());
}

TEST_F(ServiceTableTest, SchedulerMustExist) {
  expectError(table_.addService(svcCfg(tcpKey("10.0.0.1", 80), "foo")), "Scheduler not found: foo");
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.1", 80), "rr")).ok());
  expectError(table_.editService(svcCfg(tcpKey("10.0.0.1", 80), "bogus")),
              "Scheduler not found: bogus");
  EXPECT_EQ(table_.get(tcpKey("10.0.0.1", 80))->cfg.scheduler, "rr");
  ASSERT_TRUE(table_.editService(svcCfg(tcpKey("10.0.0.1", 80), "wlc")).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.1", 80))->cfg.scheduler, "wlc");
  EXPECT_EQ(table_.snapshot()->services()[0]->scheduler->name(), "wlc");
}

TEST_F(ServiceTableTest, SchedulerFlagsAreChecked) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.sched_flags = kSchedFlag1 | kSchedFlag2 | kSchedFlag3;
  EXPECT_TRUE(table_.addService(c).ok());
  c.key.port = 81;
  c.sched_flags = 0x8;
  expectError(table_.addService(c), "Invalid scheduler flags 0x8");
}

TEST_F(ServiceTableTest, OnePacketOnlyForUdpOrFwmark) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 53));
  c.one_packet = true;
  expectError(table_.addService(c), "One-Packet Scheduling is only for UDP virtual services");
  c.key = udpKey("10.0.0.1", 53);
  EXPECT_TRUE(table_.addService(c).ok());
}

TEST_F(ServiceTableTest, PersistenceTimeoutRange) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.persistent = true;
  c.persistence_timeout = 0;
  expectErrorContains(table_.addService(c), "Invalid persistence timeout 0");
  c.persistence_timeout = kMaxPersistenceTimeout + 1;
  expectErrorContains(table_.addService(c), "Invalid persistence timeout");
  c.persistence_timeout = kMaxPersistenceTimeout;
  EXPECT_TRUE(table_.addService(c).ok());
}

TEST_F(ServiceTableTest, PersistenceNetmaskValidForFamily) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.persistent = true;
  c.persistence_prefix = 33;
  expectError(table_.addService(c), "Invalid persistence netmask /33 for an IPv4 service");
  c.persistence_prefix = 0;  // 0.0.0.0: every client to one server; IPVS takes it
  EXPECT_TRUE(table_.addService(c).ok());

  ServiceConfig v6 = svcCfg(tcpKey("2001:db8::1", 80));
  v6.persistent = true;
  v6.persistence_prefix = 129;
  expectError(table_.addService(v6), "Invalid persistence netmask /129 for an IPv6 service");
  v6.persistence_prefix = 0;
  expectError(table_.addService(v6), "Invalid persistence netmask /0 for an IPv6 service");
  v6.persistence_prefix = 64;
  EXPECT_TRUE(table_.addService(v6).ok());
  EXPECT_EQ(table_.get(v6.key)->cfg.persistence_prefix, 64u);
}

TEST_F(ServiceTableTest, NetmaskWithoutPersistenceIsKeptAndChecked) {
  // ipvsadm sends -M without -p and IPVS keeps it (unused until the service is persistent).
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.persistence_prefix = 24;
  ASSERT_TRUE(table_.addService(c).ok());
  EXPECT_EQ(table_.get(c.key)->cfg.persistence_prefix, 24u);
  EXPECT_FALSE(table_.get(c.key)->cfg.persistent);
  // It is checked as with -p: IPVS refuses an IPv6 prefix of 0 whether persistent or not.
  c.key.port = 81;
  c.persistence_prefix = 33;
  expectError(table_.addService(c), "Invalid persistence netmask /33 for an IPv4 service");
  ServiceConfig v6 = svcCfg(tcpKey("2001:db8::1", 80));
  v6.persistence_prefix = 0;
  expectError(table_.addService(v6), "Invalid persistence netmask /0 for an IPv6 service");
  v6.persistence_prefix = 64;
  ASSERT_TRUE(table_.addService(v6).ok());
  EXPECT_EQ(table_.get(v6.key)->cfg.persistence_prefix, 64u);
  // The model's default (32) on a non-persistent IPv6 service is no -M: stored as /128.
  v6.key.port = 81;
  v6.persistence_prefix = 32;
  ASSERT_TRUE(table_.addService(v6).ok());
  EXPECT_EQ(table_.get(v6.key)->cfg.persistence_prefix, 128u);
}

TEST_F(ServiceTableTest, ServiceAddressAndProtocolChecked) {
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.key.addr = net::IpAddr{};
  expectError(table_.addService(c), "Service address missing");
  c = svcCfg(tcpKey("10.0.0.1", 80));
  c.key.proto = Proto(1);
  expectError(table_.addService(c), "Unsupported protocol 1: only TCP and UDP services");
}

TEST_F(ServiceTableTest, FwmarkServicesAreRefusedUntilImplemented) {
  const std::string why =
      "Firewall-mark services (-f) are not implemented yet; use -t or -u with the virtual "
      "address and port";
  expectError(table_.addService(svcCfg(markKey(7))), why);
  expectError(table_.addService(svcCfg(markKey(7, net::Family::kV6))), why);
  expectError(table_.editService(svcCfg(markKey(7))), why);
  EXPECT_EQ(table_.serviceCount(), 0u);
}

// ---- real servers -----------------------------------------------------------------------

TEST_F(ServiceTableTest, DestOperationsNeedTheService) {
  auto k = tcpKey("10.0.0.1", 80);
  expectError(table_.addDest(k, destCfg("192.168.0.1:80")), "Service not defined");
  expectError(table_.editDest(k, destCfg("192.168.0.1:80")), "Service not defined");
  expectError(table_.delDest(k, ep("192.168.0.1:80")), "Service not defined");
}

TEST_F(ServiceTableTest, DuplicateAndMissingDests) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
  expectError(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 5)),
              "Destination already exists");
  expectError(table_.editDest(k, destCfg("192.168.0.2:80")), "No such destination");
  expectError(table_.delDest(k, ep("192.168.0.2:80")), "No such destination");
  EXPECT_TRUE(table_.delDest(k, ep("192.168.0.1:80")).ok());
  expectError(table_.delDest(k, ep("192.168.0.1:80")), "No such destination");
}

TEST_F(ServiceTableTest, WeightRange) {
  // ipvsadm 1.31 takes -w 0..65535; the daemon refuses what sluiceadm would.
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  expectError(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, -1)),
              "Invalid weight -1: must be 0..65535");
  expectError(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 65536)),
              "Invalid weight 65536: must be 0..65535");
  EXPECT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 65535)).ok());
  EXPECT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, 0)).ok());
  expectError(table_.editDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, INT32_MAX)),
              "Invalid weight 2147483647: must be 0..65535");
  expectError(table_.editDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, INT32_MIN)),
              "Invalid weight -2147483648: must be 0..65535");
}

TEST_F(ServiceTableTest, ThresholdRangeAndOrder) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  // ipvsadm 1.31 takes -x and -y 0..INT_MAX.
  DestConfig d = destCfg("192.168.0.1:80");
  d.u_threshold = 2147483648u;
  expectError(table_.addDest(k, d), "Invalid upper threshold 2147483648: must be 0..2147483647");
  d.u_threshold = 100;
  d.l_threshold = 2147483648u;
  expectError(table_.addDest(k, d), "Invalid lower threshold 2147483648: must be 0..2147483647");
  d.l_threshold = 101;
  expectError(table_.addDest(k, d), "Lower threshold 101 is higher than upper threshold 100");
  d.l_threshold = 75;
  ASSERT_TRUE(table_.addDest(k, d).ok());
  d.u_threshold = 2147483647u;
  d.l_threshold = 2147483647u;
  ASSERT_TRUE(table_.editDest(k, d).ok());
  EXPECT_EQ(table_.get(k)->dests[0].cfg.u_threshold, 2147483647u);
  EXPECT_EQ(table_.get(k)->dests[0].cfg.l_threshold, 2147483647u);
}

TEST_F(ServiceTableTest, FamiliesMustMatch) {
  auto v6 = tcpKey("2001:db8::1", 80);
  auto v4 = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(v6)).ok());
  ASSERT_TRUE(table_.addService(svcCfg(v4)).ok());
  expectErrorContains(table_.addDest(v6, destCfg("192.168.0.1:80", FwdMethod::kDr)),
                      "IPv4 real server for an IPv6 service");
  expectErrorContains(table_.addDest(v4, destCfg("[2001:db8::9]:80", FwdMethod::kDr)),
                      "IPv6 real server for an IPv4 service");
  EXPECT_TRUE(table_.addDest(v6, destCfg("[2001:db8::2]:80", FwdMethod::kDr)).ok());
  DestConfig none;
  expectError(table_.addDest(v4, none), "Real server address missing");
}

// Every method the data path cannot forward is refused where it comes in, with what to
// use instead, never stored and then black-holed packet by packet.
TEST_F(ServiceTableTest, ForwardingMethodsNotImplementedAreRefused) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  const std::pair<FwdMethod, const char*> refused[] = {
      {FwdMethod::kLocal, "Local forwarding (a real server on the director itself) is not "
                          "implemented yet; use -g (DR) to another host"},
  };
  for (const auto& [method, why] : refused) {
    expectError(table_.addDest(k, destCfg("192.168.0.1:8080", method)), why);
    EXPECT_TRUE(table_.get(k)->dests.empty());
  }
  // Tunnelling is carried (fwd/tun.h), to a real server of either family.
  EXPECT_TRUE(table_.addDest(k, destCfg("[2001:db8::9]:80", FwdMethod::kTun)).ok());
  // A GRE tunnel's other-family server gets the GRE answer, not the family rule's.
  DestConfig gre = destCfg("[2001:db8::9]:80", FwdMethod::kTun);
  gre.tun_type = SL_TUN_GRE;
  expectError(table_.addDest(k, gre), "GRE tunnels are not implemented yet; use ipip or gue");
  // Nor can an existing DR server be switched to one.
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 3)).ok());
  expectError(table_.editDest(k, destCfg("192.168.0.1:80", FwdMethod::kLocal, 9)),
              "Local forwarding (a real server on the director itself) is not implemented yet; use "
              "-g (DR) to another host");
  auto got = table_.get(k)->dests[0].cfg;
  EXPECT_EQ(got.fwd, FwdMethod::kDr);
  EXPECT_EQ(got.weight, 3);
  EXPECT_EQ(table_.snapshot()->findDest(table_.get(k)->dests[0].dest_id)->cfg.fwd, FwdMethod::kDr);
}

// The tunnel options are checked as values on every way in (svc::checkTunnel): a control
// request or state file cannot give a DR server a GUE port the command line would refuse.
TEST_F(ServiceTableTest, TunnelOptionsOnlyWithTunnels) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  DestConfig d = destCfg("192.168.0.1:80", FwdMethod::kDr);
  d.tun_type = SL_TUN_GUE;
  d.tun_port = 6080;
  expectError(table_.addDest(k, d), "Tunnel options conflict with forward method: --tun-* need -i (tunnelling)");
  d = destCfg("192.168.0.1:80", FwdMethod::kDr);
  d.tun_flags = SL_TUN_F_CSUM;
  expectError(table_.addDest(k, d), "Tunnel options conflict with forward method: --tun-* need -i (tunnelling)");
  EXPECT_TRUE(table_.get(k)->dests.empty());
}

// NAT may map the port; TUN, like DR, takes the service's. A tunnelled server may be of
// the other family, and keeps its tunnel options.
TEST_F(ServiceTableTest, NatMapsThePortTunKeepsTheServicePort) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:8080", FwdMethod::kNat)).ok());
  DestConfig gue = destCfg("192.168.0.2:8080", FwdMethod::kTun);
  gue.tun_type = SL_TUN_GUE;
  gue.tun_port = 6080;
  gue.tun_flags = SL_TUN_F_CSUM;
  ASSERT_TRUE(table_.addDest(k, gue).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("[2001:db8::9]:8080", FwdMethod::kTun)).ok());
  auto s = table_.get(k);
  ASSERT_EQ(s->dests.size(), 3u);  // newest first
  EXPECT_EQ(s->dests[2].cfg.ep, ep("192.168.0.1:8080"));
  EXPECT_EQ(s->dests[1].cfg.ep, ep("192.168.0.2:80"));
  EXPECT_EQ(s->dests[1].cfg.tun_type, SL_TUN_GUE);
  EXPECT_EQ(s->dests[1].cfg.tun_port, 6080);
  EXPECT_EQ(s->dests[1].cfg.tun_flags, SL_TUN_F_CSUM);
  EXPECT_EQ(s->dests[0].cfg.ep.port, 80);
  // The published record carries them too.
  EXPECT_EQ(table_.snapshot()->findDest(s->dests[1].dest_id)->cfg.tun_port, 6080);
  gue.tun_port = 0;
  expectError(table_.editDest(k, gue), "You need to supply the 'tun-port' option for the 'gue' tunnel type");
  gue.tun_port = 6080;
  gue.tun_flags = SL_TUN_F_REMCSUM;
  expectError(table_.editDest(k, gue),
              "Remote checksum offload (--tun-remcsum) is not implemented yet; use --tun-csum or --tun-nocsum");
}

TEST_F(ServiceTableTest, DrUsesTheServicePort) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:8080", FwdMethod::kDr)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2", FwdMethod::kDr)).ok());
  auto s = table_.get(k);
  ASSERT_EQ(s->dests.size(), 2u);  // newest first
  EXPECT_EQ(s->dests[1].cfg.ep, ep("192.168.0.1:80"));
  EXPECT_EQ(s->dests[0].cfg.ep, ep("192.168.0.2:80"));  // no port: the service's
  // The forced port names the dest: -r 192.168.0.1 and -r 192.168.0.1:9999 -g are it.
  expectError(table_.addDest(k, destCfg("192.168.0.1:9999", FwdMethod::kDr)),
              "Destination already exists");
  EXPECT_TRUE(table_.editDest(k, destCfg("192.168.0.1:1", FwdMethod::kDr, 7)).ok());
  EXPECT_EQ(table_.get(k)->dests[1].cfg.weight, 7);
  EXPECT_TRUE(table_.delDest(k, ep("192.168.0.1")).ok());
  EXPECT_EQ(table_.get(k)->dests.size(), 1u);
}

TEST_F(ServiceTableTest, EditDestReplacesFields) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 3)).ok());
  DestConfig d = destCfg("192.168.0.1:80", FwdMethod::kDr, 9);
  d.u_threshold = 10;
  ASSERT_TRUE(table_.editDest(k, d).ok());
  auto got = table_.get(k)->dests[0].cfg;
  EXPECT_EQ(got.weight, 9);
  EXPECT_EQ(got.u_threshold, 10u);
  const DestRt* rt = table_.snapshot()->findDest(table_.get(k)->dests[0].dest_id);
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->cfg.weight, 9);
  EXPECT_EQ(rt->cfg.u_threshold, 10u);
}

// ---- ids, trash, limits -----------------------------------------------------------------

TEST_F(ServiceTableTest, ServiceIdsAreSmallAndRecycledLowestFirst) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.1", uint16_t(80 + i)))).ok());
  auto l = table_.list();
  EXPECT_EQ(l[0].svc_id, 0u);
  EXPECT_EQ(l[1].svc_id, 1u);
  EXPECT_EQ(l[2].svc_id, 2u);
  ASSERT_TRUE(table_.delService(tcpKey("10.0.0.1", 81)).ok());  // no dests: id free at once
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.2", 80))).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.2", 80))->svc_id, 1u);
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.3", 80))).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.3", 80))->svc_id, 3u);
}

TEST_F(ServiceTableTest, DestIdIsNotReusedWhileConnectionsPointAtIt) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
  uint32_t id = destId(k, "192.168.0.1:80");
  EXPECT_EQ(id, 0u);
  counts_[id].active = 1;
  counts_[id].persist = 2;
  ASSERT_TRUE(table_.delDest(k, ep("192.168.0.1:80")).ok());
  EXPECT_EQ(table_.trashCount(), 1u);
  EXPECT_EQ(table_.purgeTrash(), 0u);
  // Still reachable by the data path.
  const DestRt* d = table_.snapshot()->findDest(id);
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->trashed);
  EXPECT_EQ(d->cfg.ep, ep("192.168.0.1:80"));
  EXPECT_EQ(d->counts, &counts_[id]);

  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80")).ok());
  EXPECT_EQ(destId(k, "192.168.0.2:80"), 1u);  // not 0

  counts_[id].active = 0;  // persistence templates still point at it
  EXPECT_EQ(table_.purgeTrash(), 0u);
  counts_[id].persist = 0;
  counts_[id].inactive = 1;
  EXPECT_EQ(table_.purgeTrash(), 0u);
  counts_[id].inactive = 0;
  EXPECT_EQ(table_.purgeTrash(), 1u);
  EXPECT_EQ(table_.trashCount(), 0u);
  EXPECT_EQ(table_.snapshot()->findDest(id), nullptr);

  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.3:80")).ok());
  EXPECT_EQ(destId(k, "192.168.0.3:80"), 0u);  // recycled
}

TEST(ServiceTableGrace, IdleDestsWaitOutTheGracePeriod) {
  ManualClock clock;
  std::vector<sl_dest_counts> counts(8);
  TableLimits lim;
  lim.trash_grace = 5 * kSecond;
  ServiceTable t(clock, counts, lim);
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(t.addService(svcCfg(k)).ok());
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.1:80")).ok());
  ASSERT_TRUE(t.delDest(k, ep("192.168.0.1:80")).ok());
  EXPECT_EQ(t.purgeTrash(), 0u);  // idle from now
  clock.advance(4 * kSecond);
  EXPECT_EQ(t.purgeTrash(), 0u);
  counts[0].inactive = 1;  // a late connection: the clock restarts when it goes
  clock.advance(2 * kSecond);
  EXPECT_EQ(t.purgeTrash(), 0u);
  counts[0].inactive = 0;
  EXPECT_EQ(t.purgeTrash(), 0u);
  clock.advance(4 * kSecond);
  EXPECT_EQ(t.purgeTrash(), 0u);
  clock.advance(1 * kSecond);
  EXPECT_EQ(t.purgeTrash(), 1u);
}

TEST_F(ServiceTableTest, ReAddingATrashedDestRevivesIt) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80")).ok());
  uint32_t id = destId(k, "192.168.0.1:80");
  counts_[id].active = 3;
  ASSERT_TRUE(table_.delDest(k, ep("192.168.0.1:80")).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 4)).ok());
  EXPECT_EQ(destId(k, "192.168.0.1:80"), id);
  EXPECT_EQ(table_.trashCount(), 0u);
  EXPECT_FALSE(table_.snapshot()->findDest(id)->trashed);
  // Revived at the head, as IPVS's ip_vs_add_dest re-links a dest taken from its trash.
  EXPECT_EQ(table_.get(k)->dests.front().cfg.weight, 4);
}

TEST_F(ServiceTableTest, NewRealServersGoToTheHeadOfTheList) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k, "rr")).ok());
  for (const char* rs : {"192.168.0.1:80", "192.168.0.2:80", "192.168.0.3:80"})
    ASSERT_TRUE(table_.addDest(k, destCfg(rs)).ok());
  auto s = table_.get(k);
  ASSERT_EQ(s->dests.size(), 3u);
  EXPECT_EQ(s->dests[0].cfg.ep, ep("192.168.0.3:80"));  // ipvsadm -Ln: newest first
  EXPECT_EQ(s->dests[1].cfg.ep, ep("192.168.0.2:80"));
  EXPECT_EQ(s->dests[2].cfg.ep, ep("192.168.0.1:80"));
  // The data path sees the same order: rr starts with the newest.
  const ServiceRt* rt = table_.snapshot()->findServiceById(s->svc_id);
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->dests[size_t(rt->schedule({}))].ep, ep("192.168.0.3:80"));
}

TEST_F(ServiceTableTest, RrKeepsItsPlaceAcrossEditsAndAdditions) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k, "rr")).ok());
  for (const char* rs : {"192.168.0.3:80", "192.168.0.2:80", "192.168.0.1:80"})
    ASSERT_TRUE(table_.addDest(k, destCfg(rs)).ok());  // listed .1 .2 .3
  auto next = [&] {
    auto snap = table_.snapshot();
    const ServiceRt* rt = snap->services()[0].get();
    return rt->dests[size_t(rt->schedule({}))].ep;
  };
  EXPECT_EQ(next(), ep("192.168.0.1:80"));
  EXPECT_EQ(next(), ep("192.168.0.2:80"));
  ASSERT_TRUE(table_.editDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 5)).ok());
  EXPECT_EQ(next(), ep("192.168.0.3:80"));  // not back to .1
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.4:80")).ok());  // at the head
  EXPECT_EQ(next(), ep("192.168.0.4:80"));  // the walk wraps to the head, the newcomer
  EXPECT_EQ(next(), ep("192.168.0.1:80"));
}

TEST_F(ServiceTableTest, QuiescingKeepsTheLastWeightForMh) {
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k, "mh")).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 3)).ok());
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80", FwdMethod::kDr, 0)).ok());
  auto destOf = [&](const char* rs) -> const sched::SchedDest& {
    const ServiceRt* rt = table_.snapshot()->services()[0].get();
    for (const auto& d : rt->dests)
      if (d.ep == ep(rs)) return d;
    ADD_FAILURE() << rs;
    return rt->dests[0];
  };
  EXPECT_EQ(destOf("192.168.0.2:80").last_weight, 0);  // added with -w 0: no slots
  ASSERT_TRUE(table_.editDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 0)).ok());
  EXPECT_EQ(destOf("192.168.0.1:80").weight, 0);
  EXPECT_EQ(destOf("192.168.0.1:80").last_weight, 3);
  ASSERT_TRUE(table_.editDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, 2)).ok());
  EXPECT_EQ(destOf("192.168.0.1:80").last_weight, 2);
}

TEST_F(ServiceTableTest, LblcrIsRefusedAsNotImplemented) {
  expectError(table_.addService(svcCfg(tcpKey("10.0.0.1", 80), "lblcr")),
              "Scheduler not found: lblcr is not implemented in Sluice (lblc, without "
              "replication, is)");
}

TEST_F(ServiceTableTest, DeletedServiceKeepsItsIdWhileItsDestsCarryConnections) {
  auto a = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(a)).ok());
  ASSERT_TRUE(table_.addDest(a, destCfg("192.168.0.1:80")).ok());
  ASSERT_TRUE(table_.addDest(a, destCfg("192.168.0.2:80")).ok());
  counts_[destId(a, "192.168.0.1:80")].active = 1;
  ASSERT_TRUE(table_.delService(a).ok());
  EXPECT_EQ(table_.trashCount(), 2u);
  const DestRt* d = table_.snapshot()->findDest(0);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->svc_id, 0u);
  EXPECT_EQ(table_.snapshot()->findServiceById(0), nullptr);

  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.2", 80))).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.2", 80))->svc_id, 1u);  // 0 is still held
  EXPECT_EQ(table_.purgeTrash(), 1u);  // the idle dest goes, the busy one stays

  // The same service again takes its old id back, and its busy dest with it.
  ASSERT_TRUE(table_.addService(svcCfg(a)).ok());
  EXPECT_EQ(table_.get(a)->svc_id, 0u);
  ASSERT_TRUE(table_.addDest(a, destCfg("192.168.0.1:80")).ok());
  EXPECT_EQ(destId(a, "192.168.0.1:80"), 0u);
  EXPECT_EQ(table_.trashCount(), 0u);
}

TEST_F(ServiceTableTest, DeletedServiceIdFreedOnceTrashEmpties) {
  auto a = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(a)).ok());
  ASSERT_TRUE(table_.addDest(a, destCfg("192.168.0.1:80")).ok());
  counts_[0].inactive = 1;
  ASSERT_TRUE(table_.delService(a).ok());
  counts_[0].inactive = 0;
  EXPECT_EQ(table_.purgeTrash(), 1u);
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.2", 80))).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.2", 80))->svc_id, 0u);
}

TEST_F(ServiceTableTest, ClearTrashesEverything) {
  auto a = tcpKey("10.0.0.1", 80), b = tcpKey("10.0.0.2", 80);
  ASSERT_TRUE(table_.addService(svcCfg(a)).ok());
  ASSERT_TRUE(table_.addService(svcCfg(b)).ok());
  ASSERT_TRUE(table_.addDest(a, destCfg("192.168.0.1:80")).ok());
  ASSERT_TRUE(table_.addDest(b, destCfg("192.168.0.2:80")).ok());
  counts_[destId(b, "192.168.0.2:80")].active = 1;
  ASSERT_TRUE(table_.clear().ok());
  EXPECT_EQ(table_.serviceCount(), 0u);
  EXPECT_TRUE(table_.list().empty());
  EXPECT_EQ(table_.trashCount(), 2u);
  auto snap = table_.snapshot();
  EXPECT_TRUE(snap->services().empty());
  EXPECT_EQ(snap->findService(6, ip("10.0.0.1"), 80), nullptr);
  EXPECT_NE(snap->findDest(1), nullptr);
  EXPECT_EQ(table_.purgeTrash(), 1u);
  // a's id (0) is free again, b's (1) held by its busy dest.
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.3", 80))).ok());
  ASSERT_TRUE(table_.addService(svcCfg(tcpKey("10.0.0.4", 80))).ok());
  EXPECT_EQ(table_.get(tcpKey("10.0.0.3", 80))->svc_id, 0u);
  EXPECT_EQ(table_.get(tcpKey("10.0.0.4", 80))->svc_id, 2u);
}

TEST(ServiceTableLimits, RefusesServicesBeyondTheLimit) {
  ManualClock clock;
  ServiceTable t(clock, {}, noGrace(2, 16));
  ASSERT_TRUE(t.addService(svcCfg(tcpKey("10.0.0.1", 80))).ok());
  ASSERT_TRUE(t.addService(svcCfg(tcpKey("10.0.0.2", 80))).ok());
  auto st = t.addService(svcCfg(tcpKey("10.0.0.3", 80)));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "Too many virtual services: the limit is 2 (0 deleted ones still carry connections)");
  ASSERT_TRUE(t.delService(tcpKey("10.0.0.1", 80)).ok());
  EXPECT_TRUE(t.addService(svcCfg(tcpKey("10.0.0.3", 80))).ok());
}

TEST(ServiceTableLimits, RefusesDestsBeyondTheCountsArray) {
  ManualClock clock;
  std::vector<sl_dest_counts> counts(2);  // caps max_dests at 2
  ServiceTable t(clock, counts, noGrace());
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(t.addService(svcCfg(k)).ok());
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.1:80")).ok());
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.2:80")).ok());
  auto st = t.addDest(k, destCfg("192.168.0.3:80"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "Too many real servers: the limit is 2 (0 deleted ones still carry connections)");
  // A deleted dest still carrying a connection keeps its id...
  counts[0].active = 1;
  ASSERT_TRUE(t.delDest(k, ep("192.168.0.1:80")).ok());
  st = t.addDest(k, destCfg("192.168.0.3:80"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "Too many real servers: the limit is 2 (1 deleted ones still carry connections)");
  // ...and once idle it is recycled on demand, without waiting for purgeTrash().
  counts[0].active = 0;
  counts[0].overloaded = 1;
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.3:80")).ok());
  EXPECT_EQ(counts[0].overloaded, 0u);  // the new owner starts clean
}

TEST(ServiceTableStats, RecycledDestIdStartsFromZeroStats) {
  ManualClock clock;
  std::vector<sl_dest_counts> counts(4);
  Stats stats(clock, 1, 16, 4);
  ServiceTable t(clock, counts, noGrace(16, 4), &stats);
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(t.addService(svcCfg(k)).ok());
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.1:80")).ok());
  auto w = stats.writer(0);
  w.conn(0, 0);
  w.inPacket(0, 0, 100);
  ASSERT_TRUE(t.delDest(k, ep("192.168.0.1:80")).ok());
  EXPECT_EQ(stats.dest(0).conns, 1u);  // kept while trashed
  ASSERT_EQ(t.purgeTrash(), 1u);
  ASSERT_TRUE(t.addDest(k, destCfg("192.168.0.2:80")).ok());
  EXPECT_EQ(stats.dest(0).conns, 0u);
  EXPECT_EQ(stats.dest(0).inbytes, 0u);
  EXPECT_EQ(stats.service(0).conns, 1u);  // the service itself was not re-created
}

// ---- publishing -------------------------------------------------------------------------

TEST_F(ServiceTableTest, EveryChangePublishesAndFailuresDoNot) {
  uint64_t v0 = table_.publisher().version();
  auto k = tcpKey("10.0.0.1", 80);
  ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
  uint64_t v1 = table_.publisher().version();
  EXPECT_GT(v1, v0);
  EXPECT_FALSE(table_.addService(svcCfg(k)).ok());
  EXPECT_FALSE(table_.addDest(k, destCfg("192.168.0.1:80", FwdMethod::kDr, -5)).ok());
  EXPECT_EQ(table_.publisher().version(), v1);
  ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
  EXPECT_GT(table_.publisher().version(), v1);
  EXPECT_EQ(table_.snapshot()->version(), table_.publisher().version());
}

TEST_F(ServiceTableTest, BatchPublishesOnce) {
  uint64_t v0 = table_.publisher().version();
  {
    ServiceTable::Batch b(table_);
    auto k = tcpKey("10.0.0.1", 80);
    ASSERT_TRUE(table_.addService(svcCfg(k)).ok());
    ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.1:80")).ok());
    {
      ServiceTable::Batch inner(table_);
      ASSERT_TRUE(table_.addDest(k, destCfg("192.168.0.2:80")).ok());
    }
    EXPECT_EQ(table_.publisher().version(), v0);
    EXPECT_TRUE(table_.snapshot()->services().empty());
    EXPECT_EQ(table_.list().size(), 1u);  // the model itself is up to date
  }
  EXPECT_EQ(table_.publisher().version(), v0 + 1);
  auto snap = table_.snapshot();
  ASSERT_EQ(snap->services().size(), 1u);
  EXPECT_EQ(snap->services()[0]->dests.size(), 2u);
}

// sluiceadm -A without -s sends no scheduler: the table's default applies (wlc, or mh on a
// cluster's director), and what it chose is what -L shows.
TEST(ServiceTableDefaults, AnEmptySchedulerTakesTheTablesDefault) {
  ManualClock clock;
  ServiceTable t(clock, {}, noGrace(4, 16));
  ServiceConfig c = svcCfg(tcpKey("10.0.0.1", 80));
  c.scheduler.clear();
  ASSERT_TRUE(t.addService(c).ok());
  t.setDefaultScheduler("mh");
  c.key.port = 81;
  ASSERT_TRUE(t.addService(c).ok());
  auto snap = t.snapshot();
  ASSERT_EQ(snap->services().size(), 2u);
  EXPECT_EQ(snap->findService(6, c.key.addr, 80)->cfg.scheduler, "wlc");
  EXPECT_EQ(snap->findService(6, c.key.addr, 81)->cfg.scheduler, "mh");
}

}  // namespace

