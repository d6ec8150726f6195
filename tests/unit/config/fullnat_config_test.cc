// FULLNAT in keepalived.conf, as DPVS's keepalived reads it: lb_kind FNAT, the top-level
// local_address_group (addresses and a.b.c.d-e ranges, each with an interface), a
// virtual_server's laddr_group_name and proxy_protocol, and Sluice's client_addr; then the
// reload diff that adds and removes local addresses.
#include <variant>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "config/desired.h"
#include "config/load.h"
#include "config_test_util.h"
#include "svc/service_table.h"

namespace sluice::config {
namespace {

using namespace testing;

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

// DPVS's tutorial shape (doc/tutorial.md, "Full-NAT with Keepalived").
constexpr std::string_view kFnat = R"(local_address_group laddr_g1 {
    192.168.100.200 dpdk0
    192.168.100.201 dpdk0
    10.0.5.7-9 eth1
}

virtual_server 192.168.100.254 80 {
    delay_loop 3
    lb_algo rr
    lb_kind FNAT
    protocol TCP
    laddr_group_name laddr_g1
    real_server 192.168.100.2 8080 {
        weight 100
    }
    real_server 192.168.100.3 80 {
        lvs_method DR
    }
}
)";

TEST(ConfigFullNat, DpvsStyleFileLoads) {
  Config c = ka(kFnat);
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_TRUE(c.diags.empty()) << allDiags(c);
  ASSERT_EQ(c.virtual_servers.size(), 1u);
  const VirtualServerConfig& vs = c.virtual_servers[0];
  EXPECT_EQ(vs.laddr_group, "laddr_g1");
  ASSERT_EQ(vs.laddrs.size(), 5u);
  EXPECT_EQ(vs.laddrs[0], (svc::LocalAddress{ip("192.168.100.200"), "dpdk0"}));
  EXPECT_EQ(vs.laddrs[1], (svc::LocalAddress{ip("192.168.100.201"), "dpdk0"}));
  EXPECT_EQ(vs.laddrs[2], (svc::LocalAddress{ip("10.0.5.7"), "eth1"}));
  EXPECT_EQ(vs.laddrs[4], (svc::LocalAddress{ip("10.0.5.9"), "eth1"}));
  ASSERT_EQ(vs.real_servers.size(), 2u);
  EXPECT_EQ(vs.real_servers[0].dest.fwd, svc::FwdMethod::kFullNat);
  EXPECT_EQ(vs.real_servers[0].dest.ep.port, 8080);
  // A real server's own method, as in IPVS: one service may mix them.
  EXPECT_EQ(vs.real_servers[1].dest.fwd, svc::FwdMethod::kDr);
  EXPECT_EQ(vs.services[0].client_addr, svc::ClientAddr::kToa);

  const Desired want = desired(c, {}, {});
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(want.begin()->second.laddrs, vs.laddrs);
}

TEST(ConfigFullNat, LaddrGroupWithoutInterfaceAndIpv6) {
  Config c = ka(R"(local_address_group v6 {
  2001:db8::10
  2001:db8::20-22 eth2
}
virtual_server 2001:db8::1 443 {
  protocol TCP
  lb_kind FNAT
  laddr_group_name v6
  real_server 2001:db8:1::5 443 { }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& l = c.virtual_servers[0].laddrs;
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0], (svc::LocalAddress{ip("2001:db8::10"), ""}));
  EXPECT_EQ(l[3], (svc::LocalAddress{ip("2001:db8::22"), "eth2"}));
}

TEST(ConfigFullNat, ErrorsWithFileAndLine) {
  const std::pair<std::string, std::string> bad[] = {
      // Unknown group, at the laddr_group_name line.
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  laddr_group_name nosuch\n}\n",
       "k.conf:3: laddr_group_name nosuch: no local_address_group of that name"},
      // A v4 group for a v6 service (DPVS's NAT64 is refused).
      {"local_address_group g {\n  10.0.0.5\n}\nvirtual_server 2001:db8::1 80 {\n  protocol TCP\n"
       "  laddr_group_name g\n}\n",
       "k.conf:6: laddr_group_name g: its addresses are IPv4 but the virtual service TCP [2001:db8::1]:80 "
       "is IPv6 (local addresses must be of the service's family; NAT64 is not supported)"},
      {"local_address_group g {\n  10.0.0.5\n  2001:db8::5\n}\n",
       "k.conf:3: local_address_group g: cannot mix IPv4 and IPv6"},
      {"local_address_group g {\n  10.0.0.5\n  10.0.0.4-6\n}\n",
       "k.conf:3: local_address_group g: 10.0.0.5 listed twice"},
      {"local_address_group g {\n  10.0.0.9-5\n}\n", "k.conf:2: 10.0.0.9-5: the range ends before it starts"},
      {"local_address_group g {\n  not-an-address eth0\n}\n",
       "k.conf:2: local_address_group g: 'not-an-address' is not an address or range"},
      {"local_address_group g {\n  10.0.0.5 eth0 extra\n}\n",
       "k.conf:2: local_address_group g: a member is ADDRESS [IFNAME] or RANGE [IFNAME], not '10.0.0.5 eth0 "
       "extra'"},
      {"local_address_group g {\n  10.0.0.5 a/b\n}\n", "k.conf:2: local_address_group g: 'a/b' is not an interface name"},
      {"local_address_group g {\n  10.0.0.0/23\n}\n", "k.conf:2: local_address_group g has more than 256 addresses"},
      {"local_address_group g {\n}\n", "k.conf:1: local_address_group g is empty"},
      {"local_address_group g {\n  10.0.0.5\n}\nlocal_address_group g {\n  10.0.0.6\n}\n",
       "k.conf:4: local_address_group g defined twice (first at k.conf:1)"},
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  proxy_protocol v2\n}\n",
       "k.conf:3: proxy_protocol v2: PROXY protocol v2 is not implemented yet; use toa"},
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  client_addr proxy-v2\n}\n",
       "k.conf:3: client_addr proxy-v2: PROXY protocol v2 is not implemented yet; use toa"},
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  client_addr tcp-option\n}\n",
       "k.conf:3: client_addr: 'tcp-option' is not toa, none or proxy-v2"},
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  proxy_protocol v3\n}\n",
       "k.conf:3: proxy_protocol: 'v3' is not v2 or disable"},
      {"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind FNAT type gue\n}\n",
       "k.conf:3: lb_kind: options after FNAT (only TUN takes tunnel options)"},
  };
  for (const auto& [text, message] : bad) {
    Config c = ka(text);
    EXPECT_FALSE(c.ok()) << text;
    EXPECT_TRUE(hasDiag(c, message)) << "want: " << message << "\ngot:\n" << allDiags(c);
  }
  // proxy_protocol v1 is DPVS's, not ours: refused with what to write instead.
  Config v1 = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  proxy_protocol v1\n}\n");
  EXPECT_FALSE(v1.ok());
  EXPECT_TRUE(hasDiagContaining(v1, "k.conf:3: proxy_protocol: not supported by sluiced: PROXY protocol v1 and "
                                    "the insecure variants are not implemented")) << allDiags(v1);
}

TEST(ConfigFullNat, ClientAddrAndDisable) {
  Config c = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  client_addr none\n}\n"
                "virtual_server 10.0.0.2 80 {\n  protocol TCP\n  proxy_protocol disable\n}\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_EQ(c.virtual_servers[0].services[0].client_addr, svc::ClientAddr::kNone);
  EXPECT_EQ(c.virtual_servers[1].services[0].client_addr, svc::ClientAddr::kToa);
}

// FULLNAT real servers without local addresses load (DPVS allows it) with a warning.
TEST(ConfigFullNat, NoLaddrGroupIsAWarning) {
  Config c = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind FNAT\n"
                "  real_server 10.0.1.1 80 { }\n}\n");
  EXPECT_TRUE(c.ok()) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:1: warning: virtual_server 10.0.0.1 80: FULLNAT real servers but no laddr_group_name: "
                         "new connections are dropped (and counted) until local addresses are added"))
      << allDiags(c);
}

class FullNatReload : public ::testing::Test {
 protected:
  ManualClock clock;
  svc::ServiceTable table{clock, {}};

  void applyAll(const std::vector<svc::Op>& ops) {
    for (const auto& op : ops) {
      Status st = svc::apply(table, op);
      ASSERT_TRUE(st.ok()) << svc::opName(op) << ": " << st.error().message;
    }
  }
  static Config file(std::string_view members) {
    std::string text = "local_address_group g {\n" + std::string(members) +
                       "}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind FNAT\n"
                       "  laddr_group_name g\n  real_server 10.0.1.1 80 { }\n}\n";
    Config c = ka(text);
    EXPECT_TRUE(c.ok()) << allDiags(c);
    return c;
  }
  std::vector<svc::LocalAddress> live() { return table.list().at(0).laddrs; }
};

// A reload that adds or removes a member of the group becomes AddLaddr/DelLaddr, and
// nothing else: no service or real-server operation, so no connection is touched.
TEST_F(FullNatReload, GroupMembersBecomeLaddrOps) {
  Desired before = desired(file("  10.0.5.1 eth1\n  10.0.5.2 eth1\n"), {}, {});
  applyAll(diff(before, {}, table.list()));
  ASSERT_EQ(live().size(), 2u);
  EXPECT_TRUE(diff(before, before, table.list()).empty());

  Desired want = desired(file("  10.0.5.2 eth1\n  10.0.5.3 eth1\n"), {}, {});
  auto ops = diff(want, before, table.list());
  ASSERT_EQ(ops.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<svc::DelLaddr>(ops[0]));
  EXPECT_EQ(std::get<svc::DelLaddr>(ops[0]).laddr.addr, ip("10.0.5.1"));
  ASSERT_TRUE(std::holds_alternative<svc::AddLaddr>(ops[1]));
  EXPECT_EQ(std::get<svc::AddLaddr>(ops[1]).laddr, (svc::LocalAddress{ip("10.0.5.3"), "eth1"}));
  applyAll(ops);
  EXPECT_EQ(live(), (std::vector<svc::LocalAddress>{{ip("10.0.5.2"), "eth1"}, {ip("10.0.5.3"), "eth1"}}));

  // An address moved to another interface: deleted and added again.
  Desired moved = desired(file("  10.0.5.2 eth2\n  10.0.5.3 eth1\n"), {}, {});
  ops = diff(moved, want, table.list());
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<svc::DelLaddr>(ops[0]));
  EXPECT_TRUE(std::holds_alternative<svc::AddLaddr>(ops[1]));
  applyAll(ops);
  EXPECT_EQ(live().back(), (svc::LocalAddress{ip("10.0.5.2"), "eth2"}));
}

// One added with sluiceadm -P to the file's service stays, as a hand-added real server does.
TEST_F(FullNatReload, HandAddedLaddrIsLeftAlone) {
  Desired before = desired(file("  10.0.5.1\n"), {}, {});
  applyAll(diff(before, {}, table.list()));
  const svc::ServiceKey key = table.list().at(0).cfg.key;
  applyAll({svc::AddLaddr{key, {ip("10.0.5.99"), ""}}});
  EXPECT_TRUE(diff(before, before, table.list()).empty());
  Desired want = desired(file("  10.0.5.2\n"), {}, {});
  auto ops = diff(want, before, table.list());
  applyAll(ops);
  EXPECT_EQ(live(), (std::vector<svc::LocalAddress>{{ip("10.0.5.99"), ""}, {ip("10.0.5.2"), ""}}));
}

TEST_F(FullNatReload, ClientAddrChangeIsAnEditService) {
  Config c = file("  10.0.5.1\n");
  Desired before = desired(c, {}, {});
  applyAll(diff(before, {}, table.list()));
  c.virtual_servers[0].services[0].client_addr = svc::ClientAddr::kNone;
  auto ops = diff(desired(c, {}, {}), before, table.list());
  ASSERT_EQ(ops.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<svc::EditService>(ops[0]));
  applyAll(ops);
  EXPECT_EQ(table.list().at(0).cfg.client_addr, svc::ClientAddr::kNone);
  EXPECT_EQ(live().size(), 1u) << "an edit keeps the local addresses";
}

}  // namespace
}  // namespace sluice::config
