// The announcement policy: what goes on the VIP device and when (available, ready, not
// draining), one device call per change, withdrawals before announcements.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/announcer.h"

namespace sluice::cluster {
namespace {

using net::IpAddr;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

class RecordingLink : public VipLink {
 public:
  explicit RecordingLink(std::vector<std::string>* log) : log_(log) {}
  Status addAddress(const IpAddr& a) override { log_->push_back("add " + a.str()); return {}; }
  Status removeAddress(const IpAddr& a) override { log_->push_back("del " + a.str()); return {}; }

 private:
  std::vector<std::string>* log_;
};

struct AnnouncerTest : ::testing::Test {
  std::vector<std::string> log;
  std::unique_ptr<VipDevice> dev =
      std::move(*VipDevice::withLink("sluice-vip", std::make_unique<RecordingLink>(&log)));
  Announcer a{*dev};
};

TEST_F(AnnouncerTest, NothingBeforeReadyThenOnlyWhatIsAvailable) {
  a.setAvailable({ip("10.31.0.100"), ip("2001:db8:31::100")});
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(a.announced().empty());
  a.setReady(true);
  EXPECT_EQ(log, (std::vector<std::string>{"add 10.31.0.100", "add 2001:db8:31::100"}));
}

TEST_F(AnnouncerTest, EachChangeTouchesOnlyItsVip) {
  a.setReady(true);
  a.setAvailable({ip("10.31.0.100")});
  log.clear();
  a.setAvailable({ip("10.31.0.100"), ip("10.31.0.101")});
  EXPECT_EQ(log, std::vector<std::string>{"add 10.31.0.101"});
  log.clear();
  a.setAvailable({ip("10.31.0.101")});
  EXPECT_EQ(log, std::vector<std::string>{"del 10.31.0.100"});
  log.clear();
  a.setAvailable({ip("10.31.0.101")});  // no change, no call
  EXPECT_TRUE(log.empty());
}

TEST_F(AnnouncerTest, DrainWithdrawsEverythingForGood) {
  a.setReady(true);
  a.setAvailable({ip("10.31.0.100"), ip("10.31.0.101")});
  log.clear();
  a.drain();
  EXPECT_EQ(log, (std::vector<std::string>{"del 10.31.0.100", "del 10.31.0.101"}));
  log.clear();
  a.setAvailable({ip("10.31.0.100"), ip("10.31.0.102")});
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(a.announced().empty());
}

}  // namespace
}  // namespace sluice::cluster
