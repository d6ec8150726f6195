// Parsing of rtnetlink messages built by hand (no kernel, no root), and the neighbour
// table's publish/read protocol.
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "io/neighbour_table.h"
#include "io/netlink.h"

namespace sluice::io {
namespace {

using net::IpAddr;
using net::MacAddr;

constexpr MacAddr kMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

struct Msg {
  alignas(nlmsghdr) char buf[1024] = {};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
};

Msg neighMsg(uint16_t type, uint8_t family, int ifindex, uint16_t state, const IpAddr& a,
             const MacAddr* mac, uint8_t flags = 0) {
  Msg m;
  m.nlh->nlmsg_type = type;
  auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(ndmsg)));
  nd->ndm_family = family;
  nd->ndm_ifindex = ifindex;
  nd->ndm_state = state;
  nd->ndm_flags = flags;
  mnl_attr_put(m.nlh, NDA_DST, a.size(), a.bytes.data());
  if (mac) mnl_attr_put(m.nlh, NDA_LLADDR, 6, mac->data());
  return m;
}

TEST(NetlinkParse, NeighbourV4Reachable) {
  auto a = *IpAddr::parse("10.1.2.3");
  auto m = neighMsg(RTM_NEWNEIGH, AF_INET, 7, NUD_REACHABLE, a, &kMac);
  auto u = parseNeighMessage(m.nlh);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->ifindex, 7u);
  EXPECT_EQ(u->addr, a);
  ASSERT_TRUE(u->mac);
  EXPECT_EQ(*u->mac, kMac);
  EXPECT_FALSE(u->deleted);
  EXPECT_TRUE(u->usable());
}

TEST(NetlinkParse, NeighbourV6Stale) {
  auto a = *IpAddr::parse("2001:db8::7");
  auto m = neighMsg(RTM_NEWNEIGH, AF_INET6, 2, NUD_STALE, a, &kMac);
  auto u = parseNeighMessage(m.nlh);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->addr, a);
  EXPECT_TRUE(u->usable());
}

TEST(NetlinkParse, IncompleteFailedAndDeletedAreNotUsable) {
  auto a = *IpAddr::parse("10.1.2.3");
  auto inc = neighMsg(RTM_NEWNEIGH, AF_INET, 7, NUD_INCOMPLETE, a, nullptr);
  ASSERT_TRUE(parseNeighMessage(inc.nlh));
  EXPECT_FALSE(parseNeighMessage(inc.nlh)->usable());
  auto failed = neighMsg(RTM_NEWNEIGH, AF_INET, 7, NUD_FAILED, a, &kMac);
  EXPECT_FALSE(parseNeighMessage(failed.nlh)->usable());
  auto del = neighMsg(RTM_DELNEIGH, AF_INET, 7, NUD_REACHABLE, a, &kMac);
  auto u = parseNeighMessage(del.nlh);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->deleted);
  EXPECT_FALSE(u->usable());
}

TEST(NetlinkParse, UsableStates) {
  for (uint16_t s : {NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_PERMANENT, NUD_NOARP})
    EXPECT_TRUE(neighStateUsable(s)) << s;
  for (uint16_t s : {NUD_NONE, NUD_INCOMPLETE, NUD_FAILED}) EXPECT_FALSE(neighStateUsable(s)) << s;
}

TEST(NetlinkParse, IgnoresBridgeProxyAndMalformedNeighbours) {
  auto a = *IpAddr::parse("10.1.2.3");
  auto bridge = neighMsg(RTM_NEWNEIGH, AF_BRIDGE, 7, NUD_REACHABLE, a, &kMac);
  EXPECT_FALSE(parseNeighMessage(bridge.nlh));
  auto proxy = neighMsg(RTM_NEWNEIGH, AF_INET, 7, NUD_REACHABLE, a, &kMac, NTF_PROXY);
  EXPECT_FALSE(parseNeighMessage(proxy.nlh));
  // An IPv6 message carrying a 4-byte address is not trusted.
  auto wrong = neighMsg(RTM_NEWNEIGH, AF_INET6, 7, NUD_REACHABLE, a, &kMac);
  EXPECT_FALSE(parseNeighMessage(wrong.nlh));
  // Truncated: header only.
  Msg shortm;
  shortm.nlh->nlmsg_type = RTM_NEWNEIGH;
  EXPECT_FALSE(parseNeighMessage(shortm.nlh));
  // A link message is not a neighbour.
  auto link = neighMsg(RTM_NEWNEIGH, AF_INET, 7, NUD_REACHABLE, a, &kMac);
  link.nlh->nlmsg_type = RTM_NEWLINK;
  EXPECT_FALSE(parseNeighMessage(link.nlh));
}

TEST(NetlinkParse, Link) {
  Msg m;
  m.nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(ifinfomsg)));
  ifi->ifi_index = 12;
  ifi->ifi_flags = IFF_UP;
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, "eth7");
  mnl_attr_put_u32(m.nlh, IFLA_MTU, 9000);
  mnl_attr_put(m.nlh, IFLA_ADDRESS, 6, kMac.data());
  auto l = parseLinkMessage(m.nlh);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->ifindex, 12u);
  EXPECT_EQ(l->name, "eth7");
  EXPECT_EQ(l->mtu, 9000u);
  EXPECT_EQ(l->mac, kMac);
  EXPECT_TRUE(l->up);
}

Msg routeMsg(uint8_t family, uint8_t type, uint32_t oif, const IpAddr* gw) {
  Msg m;
  m.nlh->nlmsg_type = RTM_NEWROUTE;
  auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(m.nlh, sizeof(rtmsg)));
  rt->rtm_family = family;
  rt->rtm_type = type;
  if (oif) mnl_attr_put_u32(m.nlh, RTA_OIF, oif);
  if (gw) mnl_attr_put(m.nlh, RTA_GATEWAY, gw->size(), gw->bytes.data());
  return m;
}

TEST(NetlinkParse, RouteViaGatewayAndOnLink) {
  auto gw = *IpAddr::parse("10.0.0.1");
  auto dst = *IpAddr::parse("192.0.2.9");
  auto via = routeMsg(AF_INET, RTN_UNICAST, 4, &gw);
  auto r = parseRouteMessage(via.nlh);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->oif, 4u);
  EXPECT_EQ(r->nextHop(dst), gw);
  EXPECT_FALSE(r->local);

  auto onlink = routeMsg(AF_INET, RTN_UNICAST, 4, nullptr);
  r = parseRouteMessage(onlink.nlh);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->gateway);
  EXPECT_EQ(r->nextHop(dst), dst);

  auto v6gw = *IpAddr::parse("fe80::1");
  auto v6 = routeMsg(AF_INET6, RTN_UNICAST, 3, &v6gw);
  r = parseRouteMessage(v6.nlh);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->gateway, v6gw);
}

TEST(NetlinkParse, RouteThatCannotForward) {
  auto unreach = routeMsg(AF_INET, RTN_UNREACHABLE, 0, nullptr);
  EXPECT_FALSE(parseRouteMessage(unreach.nlh));
  auto black = routeMsg(AF_INET, RTN_BLACKHOLE, 4, nullptr);
  EXPECT_FALSE(parseRouteMessage(black.nlh));
  auto local = routeMsg(AF_INET, RTN_LOCAL, 1, nullptr);
  auto r = parseRouteMessage(local.nlh);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->local);
}

TEST(NeighbourTable, ApplyUpdatesKeepsOnlyUsableEntries) {
  NeighbourSnapshot::Map m;
  auto a = *IpAddr::parse("10.1.2.3");
  NeighUpdate u{.ifindex = 3, .addr = a, .mac = kMac, .state = NUD_REACHABLE};
  EXPECT_TRUE(applyNeighUpdate(m, u));
  EXPECT_FALSE(applyNeighUpdate(m, u));  // same MAC again: no change, no republish
  MacAddr other = kMac;
  other[5] = 0x99;
  u.mac = other;
  u.state = NUD_STALE;
  EXPECT_TRUE(applyNeighUpdate(m, u));
  EXPECT_EQ(m.at({3, a}), other);
  u.state = NUD_FAILED;
  EXPECT_TRUE(applyNeighUpdate(m, u));
  EXPECT_TRUE(m.empty());
  u.state = NUD_PERMANENT;
  applyNeighUpdate(m, u);
  u.deleted = true;
  EXPECT_TRUE(applyNeighUpdate(m, u));
  EXPECT_TRUE(m.empty());
}

TEST(NeighbourTable, ReaderSeesEachPublishedSnapshot) {
  NeighbourTable t;
  NeighbourReader r(t);
  auto a = *IpAddr::parse("10.1.2.3");
  EXPECT_FALSE(r.lookup(3, a));
  NeighbourSnapshot::Map m;
  m[{3, a}] = kMac;
  t.publish(std::make_shared<const NeighbourSnapshot>(m));
  ASSERT_TRUE(r.lookup(3, a));
  EXPECT_EQ(*r.lookup(3, a), kMac);
  EXPECT_FALSE(r.lookup(4, a));  // same address, other interface
  t.publish(std::make_shared<const NeighbourSnapshot>());
  EXPECT_FALSE(r.lookup(3, a));
  EXPECT_FALSE(t.lookup(3, a));
}

}  // namespace
}  // namespace sluice::io
