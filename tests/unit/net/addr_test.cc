#include "net/addr.h"

#include <gtest/gtest.h>

using namespace sluice::net;

TEST(IpAddr, ParsesBothFamilies) {
  auto a = IpAddr::parse("10.20.0.100");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->isV4());
  EXPECT_EQ(a->str(), "10.20.0.100");
  auto b = IpAddr::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->isV6());
  EXPECT_EQ(b->str(), "2001:db8::1");
  EXPECT_FALSE(IpAddr::parse("10.0.0.256"));
  EXPECT_FALSE(IpAddr::parse(""));
}

TEST(IpAddr, Masks) {
  auto a = *IpAddr::parse("10.20.30.40");
  EXPECT_EQ(a.masked(24).str(), "10.20.30.0");
  EXPECT_EQ(a.masked(20).str(), "10.20.16.0");
  EXPECT_EQ(a.masked(0).str(), "0.0.0.0");
  EXPECT_EQ(netmaskToPrefix(*IpAddr::parse("255.255.255.0")), 24u);
  EXPECT_FALSE(netmaskToPrefix(*IpAddr::parse("255.0.255.0")));
  EXPECT_EQ(prefixToNetmaskV4(24).str(), "255.255.255.0");
}

TEST(Endpoint, ParsesAndPrints) {
  auto e = Endpoint::parse("10.0.0.1:80");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->str(), "10.0.0.1:80");
  auto f = Endpoint::parse("[2001:db8::1]:443");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->str(), "[2001:db8::1]:443");
  auto g = Endpoint::parse("10.0.0.1");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->port, 0);
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:99999"));
  EXPECT_FALSE(Endpoint::parse("[2001:db8::1"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:"));
}
