// The dest writer fills a TUN real server's record with what the outer header needs: the
// tunnel options from the configuration, the outer source and egress MTU from its next hop;
// a DR real server's record carries no tunnel.
#include "daemon/dest_writer.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <vector>

#include "common/clock.h"
#include "support/packet_builder.h"
#include "svc/service_table.h"

namespace sluice::daemon {
namespace {

using testing::ip;
using testing::mac;

class FakeNextHops final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr& rs) override {
    auto it = hops.find(rs);
    if (it == hops.end()) return std::nullopt;
    return it->second;
  }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 1; }
  std::map<net::IpAddr, NextHop> hops;
};

TEST(DestWriterTun, RecordCarriesTunnelSourceAndMtu) {
  ManualClock clock;
  std::vector<sl_dest_counts> counts(16);
  svc::TableLimits lim;
  lim.max_dests = 16;
  svc::ServiceTable table(clock, counts, lim);
  dp::DestTable dests(16);
  FakeNextHops hops;
  // Behind a router: the next hop MAC is the gateway's, the source the route's.
  hops.hops[ip("10.9.0.11")] = NextHop{3, mac("02:00:00:00:00:01"), mac("02:00:00:00:00:fe"),
                                       false, ip("10.0.2.1"), 9000};
  hops.hops[ip("2001:db8:9::11")] = NextHop{3, mac("02:00:00:00:00:01"), mac("02:00:00:00:00:fe"),
                                            false, ip("2001:db8:2::1"), 1500};
  hops.hops[ip("10.0.2.12")] = NextHop{3, mac("02:00:00:00:00:01"), mac("02:00:00:00:00:12"),
                                       false, ip("10.0.2.1"), 1500};
  const svc::ServiceKey k{svc::Proto::kTcp, ip("10.0.2.100"), 80};
  svc::ServiceConfig sc;
  sc.key = k;
  ASSERT_TRUE(table.addService(sc).ok());
  svc::DestConfig gue;
  gue.ep = *net::Endpoint::parse("10.9.0.11:80");
  gue.fwd = svc::FwdMethod::kTun;
  gue.tun_type = SL_TUN_GUE;
  gue.tun_port = 6080;
  gue.tun_flags = SL_TUN_F_CSUM;
  ASSERT_TRUE(table.addDest(k, gue).ok());
  svc::DestConfig v6 = gue;
  v6.ep = *net::Endpoint::parse("[2001:db8:9::11]:80");
  v6.tun_type = SL_TUN_IPIP;
  v6.tun_port = 0;
  v6.tun_flags = 0;
  ASSERT_TRUE(table.addDest(k, v6).ok());
  svc::DestConfig dr;
  dr.ep = *net::Endpoint::parse("10.0.2.12:80");
  ASSERT_TRUE(table.addDest(k, dr).ok());

  DestWriter w(clock, hops, dests, 16);
  w.refresh(*table.snapshot());
  int seen = 0;
  for (const auto& d : table.snapshot()->services()[0]->dest_rt) {
    std::optional<sl_dest> e = dests.read(d.dest_id);
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->flags & SL_DEST_F_RESOLVED);
    const NextHop& nh = hops.hops.at(d.cfg.ep.addr);
    EXPECT_EQ(std::memcmp(e->dmac, nh.dmac.data(), 6), 0);
    if (d.cfg.fwd == svc::FwdMethod::kTun) {
      ++seen;
      EXPECT_EQ(std::memcmp(e->laddr, nh.src.bytes.data(), 16), 0) << d.cfg.ep.str();
      EXPECT_EQ(e->mtu, nh.mtu);
      EXPECT_EQ(e->tun_type, d.cfg.tun_type);
      EXPECT_EQ(ntohs(e->tun_port), d.cfg.tun_port);
      EXPECT_EQ(e->tun_flags, d.cfg.tun_flags);
    } else {
      const uint8_t zero[16] = {};
      EXPECT_EQ(std::memcmp(e->laddr, zero, 16), 0);
      EXPECT_EQ(e->mtu, 0u);
    }
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace sluice::daemon
