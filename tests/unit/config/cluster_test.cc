// The sluice_cluster block: its grammar and errors with file:line, finding this director
// by its local address, mh as the default scheduler of a cluster, and keepalived's own
// blocks beside it untouched.
#include <gtest/gtest.h>

#include "config/cluster.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using testing::allDiags;
using testing::hasDiag;
using testing::hasDiagContaining;
using testing::ka;

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

constexpr const char* kConf = R"(global_defs {
  router_id d1
}
sluice_cluster {
  director 1 10.0.0.11
  director 2 10.0.0.12
  director 3 10.0.0.13
  vip_interface lb-vip
  shared_key_file /etc/sluice/cluster.key
  sync_port 9000
  join_timeout 2.5
  drain_time 4
  sync_bandwidth 2000000
}
virtual_server 10.31.0.100 80 {
  lb_kind DR
  protocol TCP
  real_server 10.0.0.21 80 {
  }
}
virtual_server 10.31.0.100 443 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.0.0.21 443 {
  }
}
)";

TEST(ClusterBlock, ParsesEveryKeyword) {
  Config c = ka(kConf);
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const ClusterConfig& cl = c.cluster;
  ASSERT_TRUE(cl.present);
  EXPECT_EQ(cl.where.line, 4);
  ASSERT_EQ(cl.directors.size(), 3u);
  EXPECT_EQ(cl.directors[1].node_id, 2u);
  EXPECT_EQ(cl.directors[1].addr, ip("10.0.0.12"));
  EXPECT_EQ(cl.directors[1].where.line, 6);
  EXPECT_EQ(cl.vip_interface, "lb-vip");
  EXPECT_EQ(cl.shared_key_file, "/etc/sluice/cluster.key");
  EXPECT_EQ(cl.sync_port, 9000);
  EXPECT_EQ(cl.join_timeout_ms, 2500u);
  EXPECT_EQ(cl.drain_ms, 4000u);
  EXPECT_EQ(cl.sync_bandwidth, 2000000u);
  EXPECT_FALSE(cl.node_id.has_value());
}

TEST(ClusterBlock, MhIsTheDefaultSchedulerOnlyWhereNoneIsWritten) {
  Config c = ka(kConf);
  ASSERT_TRUE(c.ok()) << allDiags(c);
  ASSERT_EQ(c.virtual_servers.size(), 2u);
  EXPECT_EQ(c.virtual_servers[0].services[0].scheduler, "mh");
  EXPECT_EQ(c.virtual_servers[1].services[0].scheduler, "rr");
  // Without the block, the default stays IPVS's.
  std::string plain = kConf;
  plain.erase(plain.find("sluice_cluster"), plain.find("virtual_server") - plain.find("sluice_cluster"));
  Config p = ka(plain);
  ASSERT_TRUE(p.ok()) << allDiags(p);
  EXPECT_FALSE(p.cluster.present);
  EXPECT_EQ(p.virtual_servers[0].services[0].scheduler, "wlc");
  useMhByDefault(p);  // what --cluster FILE does to -f's file
  EXPECT_EQ(p.virtual_servers[0].services[0].scheduler, "mh");
  EXPECT_EQ(p.virtual_servers[1].services[0].scheduler, "rr");
}

TEST(ClusterBlock, ErrorsNameTheirLine) {
  Config c = ka(R"(sluice_cluster {
  director 1 10.0.0.11
  director 1 10.0.0.12
  director 2 10.0.0.11
  director 0 10.0.0.14
  director 3 not-an-address
  director 4 2001:db8::4
  shared_key "secret"
  vip_interface a/b
  join_timeout 0
  sync_port 70000
  bogus 1
  node_id 9
}
)");
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(hasDiag(c, "k.conf:3: director: node id 1 listed twice")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:4: director: address 10.0.0.11 listed twice")) << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:5: director: node id must be 1..255")) << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:6: director: 'not-an-address' is not an IP address"))
      << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:7: director: every director's address must be of one family"))
      << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:8: shared_key: the key is not written in the config"))
      << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:9: vip_interface:")) << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:10: join_timeout")) << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:11: sync_port")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:12: unknown keyword 'bogus' in sluice_cluster")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:1: node_id 9 is not one of the directors listed")) << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:1: sluice_cluster needs shared_key_file")) << allDiags(c);
}

TEST(ClusterBlock, TwoBlocksAndEmptyBlocksAreRefused) {
  Config c = ka("sluice_cluster {\n director 1 10.0.0.1\n shared_key_file /k\n}\nsluice_cluster {\n}\n");
  EXPECT_TRUE(hasDiag(c, "k.conf:5: sluice_cluster given twice (first at k.conf:1)")) << allDiags(c);
  Config e = ka("sluice_cluster {\n}\n");
  EXPECT_TRUE(hasDiagContaining(e, "k.conf:1: sluice_cluster lists no director")) << allDiags(e);
}

TEST(ClusterFile, HoldsOnlyTheBlock) {
  Config ok = loadClusterString("# the directors\nsluice_cluster {\n director 1 10.0.0.1\n"
                                " shared_key_file /k\n}\n", "c.conf");
  ASSERT_TRUE(ok.ok()) << allDiags(ok);
  EXPECT_TRUE(ok.cluster.present);
  Config other = loadClusterString("virtual_server 10.0.0.1 80 {\n}\n", "c.conf");
  EXPECT_TRUE(hasDiagContaining(other, "c.conf:1: 'virtual_server': a --cluster file holds only"))
      << allDiags(other);
  Config none = loadClusterString("# nothing\n", "c.conf");
  EXPECT_TRUE(hasDiag(none, "c.conf: no sluice_cluster block in this file")) << allDiags(none);
}

TEST(ClusterSelf, FoundByLocalAddressOrNodeId) {
  Config c = ka(kConf);
  ASSERT_TRUE(c.ok()) << allDiags(c);
  std::vector<net::IpAddr> local = {ip("127.0.0.1"), ip("10.0.0.12"), ip("::1")};
  auto self = selfOf(c.cluster, local);
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_EQ(self->node_id, 2u);

  std::vector<net::IpAddr> none = {ip("127.0.0.1")};
  auto miss = selfOf(c.cluster, none);
  ASSERT_FALSE(miss.ok());
  EXPECT_NE(miss.error().message.find("none of the directors' addresses"), std::string::npos);

  std::vector<net::IpAddr> two = {ip("10.0.0.11"), ip("10.0.0.13")};
  auto both = selfOf(c.cluster, two);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("say which one this is with node_id"), std::string::npos);

  c.cluster.node_id = 3;
  auto named = selfOf(c.cluster, none);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->addr, ip("10.0.0.13"));
}

}  // namespace
}  // namespace sluice::config
