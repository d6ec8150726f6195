// The VIP device without a kernel: name and address validation, and the bookkeeping over a
// recording link (one kernel call per change, nothing recorded that the kernel refused).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/vip_device.h"

namespace sluice::cluster {
namespace {

using net::IpAddr;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

// Records every call; fails the calls for `refuse`.
struct Calls {
  std::vector<std::string> log;
  std::optional<IpAddr> refuse;
};

class FakeLink : public VipLink {
 public:
  explicit FakeLink(Calls* calls) : calls_(calls) {}
  Status addAddress(const IpAddr& a) override { return call("add", a); }
  Status removeAddress(const IpAddr& a) override { return call("del", a); }

 private:
  Status call(const char* op, const IpAddr& a) {
    calls_->log.push_back(std::string(op) + " " + a.str());
    if (calls_->refuse == a) return makeError("refused");
    return {};
  }
  Calls* calls_;
};

std::unique_ptr<VipDevice> device(Calls* calls) {
  auto d = VipDevice::withLink("sluice-vip", std::make_unique<FakeLink>(calls));
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return std::move(*d);
}

TEST(VipDeviceName, AcceptsOrdinaryNames) {
  for (const char* n : {"sluice-vip", "vip0", "a", "lb_vip.1", "123456789012345"})
    EXPECT_TRUE(validateVipDeviceName(n).ok()) << n;
}

TEST(VipDeviceName, RefusesWhatTheKernelOrTunWouldMisread) {
  struct Case {
    std::string name;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{{"", "empty"},
                                          {"1234567890123456", "at most 15"},
                                          {".", "not a valid"},
                                          {"..", "not a valid"},
                                          {"a/b", "'/'"},
                                          {"vip:1", "':'"},
                                          {"vip%d", "'%'"},
                                          {"vip 0", "\\x20"},
                                          {std::string("v\tx"), "\\x09"},
                                          {std::string("v\xc3\xa9"), "\\xc3"}}) {
    Status st = validateVipDeviceName(c.name);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.error().message.find(c.says), std::string::npos) << st.error().message;
  }
}

TEST(VipDeviceName, WithLinkRefusesABadName) {
  Calls calls;
  auto d = VipDevice::withLink("bad/name", std::make_unique<FakeLink>(&calls));
  EXPECT_FALSE(d.ok());
}

TEST(VipAddress, AcceptsUnicastOfBothFamilies) {
  for (const char* a : {"10.20.0.100", "192.0.2.1", "2001:db8::100", "fd00::1"})
    EXPECT_TRUE(validateVip(ip(a)).ok()) << a;
}

TEST(VipAddress, RefusesWhatCannotBeAnnounced) {
  for (const char* a : {"0.0.0.0", "127.0.0.1", "224.0.0.5", "239.1.1.1", "255.255.255.255",
                        "::", "::1", "ff02::5", "fe80::1", "::ffff:10.0.0.1"})
    EXPECT_FALSE(validateVip(ip(a)).ok()) << a;
  EXPECT_FALSE(validateVip(IpAddr{}).ok());
}

TEST(VipDevice, AddsEachVipOnceAndListsThemSorted) {
  Calls calls;
  auto d = device(&calls);
  ASSERT_TRUE(d->add(ip("10.20.0.101")).ok());
  ASSERT_TRUE(d->add(ip("2001:db8::100")).ok());
  ASSERT_TRUE(d->add(ip("10.20.0.100")).ok());
  ASSERT_TRUE(d->add(ip("10.20.0.100")).ok());   // again: asked again, listed once
  EXPECT_EQ(d->addresses(),
            (std::vector<IpAddr>{ip("10.20.0.100"), ip("10.20.0.101"), ip("2001:db8::100")}));
  EXPECT_EQ(calls.log, (std::vector<std::string>{"add 10.20.0.101", "add 2001:db8::100",
                                                 "add 10.20.0.100", "add 10.20.0.100"}));
}

TEST(VipDevice, RemovingOneVipTouchesOnlyThatOne) {
  Calls calls;
  auto d = device(&calls);
  ASSERT_TRUE(d->add(ip("10.20.0.100")).ok());
  ASSERT_TRUE(d->add(ip("10.20.0.101")).ok());
  calls.log.clear();
  ASSERT_TRUE(d->remove(ip("10.20.0.101")).ok());
  EXPECT_EQ(calls.log, std::vector<std::string>{"del 10.20.0.101"});
  EXPECT_EQ(d->addresses(), std::vector<IpAddr>{ip("10.20.0.100")});
  // Not there: the kernel is still asked (it may have one added by hand), no error.
  ASSERT_TRUE(d->remove(ip("10.20.0.101")).ok());
  EXPECT_EQ(d->addresses(), std::vector<IpAddr>{ip("10.20.0.100")});
}

TEST(VipDevice, RefusedAddIsNotRecordedAndNamesTheCause) {
  Calls calls;
  calls.refuse = ip("10.20.0.100");
  auto d = device(&calls);
  Status st = d->add(ip("10.20.0.100"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "refused");
  EXPECT_TRUE(d->addresses().empty());
}

TEST(VipDevice, RefusedRemoveKeepsTheVipListed) {
  Calls calls;
  auto d = device(&calls);
  ASSERT_TRUE(d->add(ip("10.20.0.100")).ok());
  calls.refuse = ip("10.20.0.100");
  EXPECT_FALSE(d->remove(ip("10.20.0.100")).ok());
  EXPECT_EQ(d->addresses(), std::vector<IpAddr>{ip("10.20.0.100")});
}

TEST(VipDevice, InvalidVipNeverReachesTheKernel) {
  Calls calls;
  auto d = device(&calls);
  Status st = d->add(ip("127.0.0.1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("sluice-vip"), std::string::npos) << st.error().message;
  EXPECT_FALSE(d->remove(IpAddr{}).ok());
  EXPECT_TRUE(calls.log.empty());
}

}  // namespace
}  // namespace sluice::cluster
