// rtnetlink against a real kernel, inside throw-away namespaces: interface facts, route
// lookups, the neighbour watcher following `ip neigh` changes, and resolution on request.
#include <net/if.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "io/neighbour_table.h"
#include "io/netlink.h"
#include "unit/io/netns_fixture.h"

namespace sluice::io {
namespace {

using namespace sluice::io::testing;
using net::IpAddr;
using net::MacAddr;

template <class Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

class NetlinkNs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!netnsAvailable()) GTEST_SKIP() << "needs root and network namespaces";
    ns_ = std::make_unique<Netns>("nl");
    peer_ = std::make_unique<Netns>("nlp");
    ASSERT_TRUE(ns_->ok() && peer_->ok());
    ASSERT_TRUE(ns_->exec(fmt::format("ip link add io-n0 type veth peer name io-n1 netns {}",
                                      peer_->name())));
    ASSERT_TRUE(ns_->exec("ip link set io-n0 address 02:aa:bb:cc:dd:01 mtu 1400 up"));
    ASSERT_TRUE(ns_->exec("ip addr add 10.88.0.1/24 dev io-n0"));
    ASSERT_TRUE(ns_->exec("ip -6 addr add 2001:db8:88::1/64 dev io-n0 nodad"));
    ASSERT_TRUE(peer_->exec("ip link set io-n1 address 02:aa:bb:cc:dd:02 up"));
    ASSERT_TRUE(peer_->exec("ip addr add 10.88.0.2/24 dev io-n1"));
    enter_ = std::make_unique<EnterNetns>(*ns_);
    ASSERT_TRUE(enter_->ok());
    ifindex_ = if_nametoindex("io-n0");
    ASSERT_NE(ifindex_, 0u);
  }
  void TearDown() override {
    enter_.reset();
    peer_.reset();
    ns_.reset();
  }
  std::unique_ptr<Netns> ns_, peer_;
  std::unique_ptr<EnterNetns> enter_;
  uint32_t ifindex_ = 0;
};

TEST_F(NetlinkNs, InterfaceFacts) {
  auto l = linkByName("io-n0");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->ifindex, ifindex_);
  EXPECT_EQ(l->mac, (MacAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01}));
  EXPECT_EQ(l->mtu, 1400u);
  EXPECT_TRUE(l->up);
  auto same = linkByIndex(ifindex_);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->name, "io-n0");
  auto none = linkByName("io-nope");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("io-nope"), std::string::npos);
}

TEST_F(NetlinkNs, RouteLookup) {
  ASSERT_TRUE(ns_->exec("ip route add 192.0.2.0/24 via 10.88.0.2"));
  ASSERT_TRUE(ns_->exec("ip route add unreachable 198.51.100.0/24"));

  auto onlink = lookupRoute(*IpAddr::parse("10.88.0.2"));
  ASSERT_TRUE(onlink) << onlink.error().message;
  EXPECT_EQ(onlink->oif, ifindex_);
  EXPECT_FALSE(onlink->gateway);
  ASSERT_TRUE(onlink->prefsrc);
  EXPECT_EQ(*onlink->prefsrc, *IpAddr::parse("10.88.0.1"));

  auto via = lookupRoute(*IpAddr::parse("192.0.2.5"));
  ASSERT_TRUE(via) << via.error().message;
  EXPECT_EQ(via->oif, ifindex_);
  ASSERT_TRUE(via->gateway);
  EXPECT_EQ(via->nextHop(*IpAddr::parse("192.0.2.5")), *IpAddr::parse("10.88.0.2"));

  auto v6 = lookupRoute(*IpAddr::parse("2001:db8:88::9"));
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->oif, ifindex_);
  EXPECT_FALSE(v6->gateway);

  auto local = lookupRoute(*IpAddr::parse("10.88.0.1"));
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_TRUE(local->local);

  EXPECT_FALSE(lookupRoute(*IpAddr::parse("198.51.100.1")));
  EXPECT_FALSE(lookupRoute(*IpAddr::parse("203.0.113.1")));  // no default route here

  // A route's own MTU (a TUN real server's path may be narrower than the link).
  EXPECT_EQ(via->mtu, 0u);
  ASSERT_TRUE(ns_->exec("ip route add 198.18.0.0/24 via 10.88.0.2 mtu 1300"));
  auto narrow = lookupRoute(*IpAddr::parse("198.18.0.7"));
  ASSERT_TRUE(narrow) << narrow.error().message;
  EXPECT_EQ(narrow->mtu, 1300u);
}

TEST_F(NetlinkNs, WatcherFollowsNeighbourChanges) {
  ASSERT_TRUE(ns_->exec("ip neigh add 10.88.0.40 lladdr 02:00:00:00:00:40 dev io-n0"));
  NeighbourTable table;
  auto w = NeighbourWatcher::start(table);
  ASSERT_TRUE(w) << w.error().message;
  NeighbourReader reader(table);
  const auto a40 = *IpAddr::parse("10.88.0.40"), a50 = *IpAddr::parse("10.88.0.50");
  const auto v6 = *IpAddr::parse("2001:db8:88::50");

  // The initial dump is published before start() returns.
  ASSERT_TRUE(reader.lookup(ifindex_, a40));
  EXPECT_EQ(*reader.lookup(ifindex_, a40), (MacAddr{2, 0, 0, 0, 0, 0x40}));
  EXPECT_FALSE(reader.lookup(ifindex_, a50));
  EXPECT_FALSE(reader.lookup(ifindex_ + 1, a40));

  ASSERT_TRUE(ns_->exec("ip neigh add 10.88.0.50 lladdr 02:00:00:00:00:50 dev io-n0"));
  ASSERT_TRUE(ns_->exec("ip -6 neigh add 2001:db8:88::50 lladdr 02:00:00:00:00:56 dev io-n0"));
  EXPECT_TRUE(waitFor([&] { return reader.lookup(ifindex_, a50).has_value(); }));
  EXPECT_TRUE(waitFor([&] { return reader.lookup(ifindex_, v6).has_value(); }));
  EXPECT_EQ(*reader.lookup(ifindex_, v6), (MacAddr{2, 0, 0, 0, 0, 0x56}));

  ASSERT_TRUE(ns_->exec("ip neigh change 10.88.0.50 lladdr 02:00:00:00:00:51 dev io-n0"));
  EXPECT_TRUE(waitFor([&] {
    auto m = reader.lookup(ifindex_, a50);
    return m && *m == MacAddr{2, 0, 0, 0, 0, 0x51};
  }));

  ASSERT_TRUE(ns_->exec("ip neigh del 10.88.0.50 dev io-n0"));
  EXPECT_TRUE(waitFor([&] { return !reader.lookup(ifindex_, a50).has_value(); }));
  EXPECT_TRUE(reader.lookup(ifindex_, a40).has_value());

  (*w)->stop();
  (*w)->stop();  // idempotent
}

TEST_F(NetlinkNs, RequestNeighbourMakesTheKernelResolveIt) {
  NeighbourTable table;
  auto w = NeighbourWatcher::start(table);
  ASSERT_TRUE(w) << w.error().message;
  const auto peer = *IpAddr::parse("10.88.0.2");
  EXPECT_FALSE(table.lookup(ifindex_, peer));
  Status st = requestNeighbour(ifindex_, peer);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(waitFor([&] { return table.lookup(ifindex_, peer).has_value(); }))
      << "the kernel did not resolve " << peer.str();
  auto mac = table.lookup(ifindex_, peer);
  ASSERT_TRUE(mac);
  EXPECT_EQ(*mac, (MacAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02}));
  // Asking again for an address already known is harmless.
  EXPECT_TRUE(requestNeighbour(ifindex_, peer));
  // A bad interface is reported, not ignored.
  EXPECT_FALSE(requestNeighbour(999999, peer));
}

}  // namespace
}  // namespace sluice::io
