// The interface lookups the cluster role makes on this host: which interface carries the
// sync address (sluiceadm -L --daemon's mcast=).
#include <gtest/gtest.h>

#include "daemon/cluster_role.h"

namespace sluice::daemon {
namespace {

TEST(LocalInterfaces, EveryLocalAddressHasItsInterfaceAndOthersNone) {
  auto addrs = localAddresses();
  ASSERT_TRUE(addrs.ok()) << addrs.error().message;
  for (const net::IpAddr& a : *addrs) {
    auto name = interfaceWithAddress(a);
    ASSERT_TRUE(name.ok()) << name.error().message;
    EXPECT_FALSE(name->empty()) << a.str();
    if (a == *net::IpAddr::parse("127.0.0.1")) EXPECT_EQ(*name, "lo");
  }
  // TEST-NET-1 (RFC 5737): on no interface of a test host.
  auto none = interfaceWithAddress(*net::IpAddr::parse("192.0.2.254"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

}  // namespace
}  // namespace sluice::daemon
