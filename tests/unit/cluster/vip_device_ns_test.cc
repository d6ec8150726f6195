// The VIP device against a real kernel, inside a throw-away namespace (skipped without root):
// the device appears up with no queue, addresses come and go one at a time, an existing name
// is refused, and the device with its addresses vanishes when the object is destroyed.
#include <gtest/gtest.h>

#include "cluster/vip_device.h"
#include "unit/io/netns_fixture.h"

namespace sluice::cluster {
namespace {

using namespace sluice::io::testing;
using net::IpAddr;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

class VipDeviceNs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!netnsAvailable()) GTEST_SKIP() << "needs root and network namespaces";
    if (access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/net/tun";
    ns_ = std::make_unique<Netns>("vip");
    ASSERT_TRUE(ns_->ok());
    ASSERT_TRUE(ns_->exec("ip link set lo up"));
  }
  std::string addrs() { return ns_->out("ip -o addr show dev tvip | awk \"{print \\$4}\""); }
  std::unique_ptr<Netns> ns_;
};

TEST_F(VipDeviceNs, ComesUpEmptyWithNoQueueAndNoLinkLocal) {
  EnterNetns in(*ns_);
  ASSERT_TRUE(in.ok());
  auto d = VipDevice::create("tvip");
  ASSERT_TRUE(d.ok()) << d.error().message;
  std::string link = ns_->out("ip -d link show tvip");
  EXPECT_NE(link.find(",UP,"), std::string::npos) << link;
  EXPECT_NE(link.find("tun type tun"), std::string::npos) << link;
  EXPECT_NE(link.find("persist off"), std::string::npos) << link;
  EXPECT_EQ(link.find("qlen"), std::string::npos) << "expected txqueuelen 0: " << link;
  EXPECT_EQ(addrs(), "");
}

TEST_F(VipDeviceNs, AddsAndRemovesOneAddressAtATime) {
  EnterNetns in(*ns_);
  ASSERT_TRUE(in.ok());
  auto d = VipDevice::create("tvip");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_TRUE((*d)->add(ip("10.20.0.100")).ok());
  ASSERT_TRUE((*d)->add(ip("2001:db8::100")).ok());
  ASSERT_TRUE((*d)->add(ip("10.20.0.101")).ok());
  ASSERT_TRUE((*d)->add(ip("10.20.0.101")).ok());   // already there
  EXPECT_EQ(addrs(), "10.20.0.100/32\n10.20.0.101/32\n2001:db8::100/128");
  // A local address: the kernel answers for it itself (it is in the local table).
  EXPECT_NE(ns_->out("ip route show table local").find("local 10.20.0.101 dev tvip"),
            std::string::npos);
  // No prefix route into the device for the IPv6 VIP.
  EXPECT_EQ(ns_->out("ip -6 route show dev tvip"), "");
  ASSERT_TRUE((*d)->remove(ip("10.20.0.100")).ok());
  EXPECT_EQ(addrs(), "10.20.0.101/32\n2001:db8::100/128");
  ASSERT_TRUE((*d)->remove(ip("10.20.0.100")).ok());   // already gone
  ASSERT_TRUE(ns_->exec("ip addr del 2001:db8::100/128 dev tvip"));   // by hand
  ASSERT_TRUE((*d)->remove(ip("2001:db8::100")).ok());
  EXPECT_EQ(addrs(), "10.20.0.101/32");
  EXPECT_EQ((*d)->addresses(), std::vector<IpAddr>{ip("10.20.0.101")});
}

TEST_F(VipDeviceNs, VanishesWithItsAddressesWhenDestroyed) {
  {
    EnterNetns in(*ns_);
    ASSERT_TRUE(in.ok());
    auto d = VipDevice::create("tvip");
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_TRUE((*d)->add(ip("10.20.0.100")).ok());
    ASSERT_TRUE(ns_->exec("ip link show tvip"));
  }
  EXPECT_FALSE(ns_->exec("ip link show tvip"));
  EXPECT_EQ(ns_->out("ip route show table local").find("10.20.0.100"), std::string::npos);
}

TEST_F(VipDeviceNs, RefusesAnExistingInterface) {
  EnterNetns in(*ns_);
  ASSERT_TRUE(in.ok());
  auto first = VipDevice::create("tvip");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE((*first)->add(ip("10.20.0.100")).ok());
  auto second = VipDevice::create("tvip");   // another sluiced
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already exists"), std::string::npos)
      << second.error().message;
  EXPECT_EQ(addrs(), "10.20.0.100/32");   // the first one's device is untouched

  ASSERT_TRUE(ns_->exec("ip link add tdummy type veth peer name tpeer"));   // not a TUN at all
  auto third = VipDevice::create("tdummy");
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().message.find("ip link del tdummy"), std::string::npos)
      << third.error().message;
  ASSERT_TRUE(ns_->exec("ip tuntap add dev tpers mode tun"));   // a persistent leftover
  EXPECT_FALSE(VipDevice::create("tpers").ok());
}

}  // namespace
}  // namespace sluice::cluster
