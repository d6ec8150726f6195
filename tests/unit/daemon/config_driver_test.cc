// The config driver over an in-memory Director: a file's services go in, a failing checker
// takes its real server out, a reload applies only the difference and keeps services added
// by hand, a broken file changes nothing. The checkers are MISC_CHECKs running /bin/true and
// /bin/false, so the verdicts are real ones from the health runner.
#include "daemon/config_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "daemon/director.h"

namespace sluice::daemon {
namespace {

class NoNextHops final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr&) override { return std::nullopt; }
  void request(const net::IpAddr&) override {}
  uint64_t version() const override { return 1; }
};

std::string kaFile(const char* rs2_check, int rs2_weight) {
  return fmt::format(R"(virtual_server 10.0.0.100 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.0.11 80 {{
        weight 1
        MISC_CHECK {{
            misc_path /bin/true
        }}
    }}
    real_server 10.0.0.12 80 {{
        weight {}
        MISC_CHECK {{
            misc_path {}
            warmup 0
        }}
    }}
}}
)",
                     rs2_weight, rs2_check);
}

class ConfigDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("sluice-cfgdrv-{}-{}", getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "keepalived.conf").string();
    director_ = std::make_unique<Director>(clock_, DirectorLimits{1024, 16, 64}, hops_);
  }
  void TearDown() override {
    driver_.reset();
    director_.reset();
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  Status start() {
    driver_ = std::make_unique<ConfigDriver>(*director_, path_, config::Format::kAuto);
    director_->setConfigDriver(driver_.get());
    return driver_->start();
  }
  svc::ServiceKey key() const {
    svc::ServiceKey k;
    k.addr = *net::IpAddr::parse("10.0.0.100");
    k.port = 80;
    return k;
  }
  std::vector<std::string> dests() const {
    std::vector<std::string> out;
    auto s = director_->services().get(key());
    if (!s) return out;
    for (const auto& d : s->dests) out.push_back(fmt::format("{} w{}", d.cfg.ep.str(), d.cfg.weight));
    std::sort(out.begin(), out.end());
    return out;
  }
  // Waits (bounded: 15 s) until the table's real servers are `want`.
  bool waitDests(const std::vector<std::string>& want) {
    for (int i = 0; i < 300; ++i) {
      if (dests() == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  MonotonicClock clock_;
  NoNextHops hops_;
  std::unique_ptr<Director> director_;
  std::unique_ptr<ConfigDriver> driver_;
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(ConfigDriverTest, FailingCheckerTakesItsServerOutAndHealthSaysWhy) {
  write(kaFile("/bin/false", 1));
  ASSERT_TRUE(start().ok());
  EXPECT_TRUE(waitDests({"10.0.0.11:80 w1"})) << fmt::format("{}", fmt::join(dests(), ", "));
  auto h = director_->health();
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_TRUE((*h)[0].up);
  EXPECT_FALSE((*h)[1].up);
  EXPECT_FALSE((*h)[1].in_table);
  ASSERT_EQ((*h)[1].checkers.size(), 1u);
  EXPECT_EQ((*h)[1].checkers[0].kind, "MISC_CHECK");
  EXPECT_FALSE((*h)[1].reason.empty());
}

TEST_F(ConfigDriverTest, ReloadAppliesOnlyTheDifferenceAndKeepsHandMadeServices) {
  write(kaFile("/bin/true", 1));
  ASSERT_TRUE(start().ok());
  ASSERT_TRUE(waitDests({"10.0.0.11:80 w1", "10.0.0.12:80 w1"}));
  const uint32_t svc_id = director_->services().list().at(0).svc_id;
  svc::ServiceConfig hand;
  hand.key.addr = *net::IpAddr::parse("10.0.0.200");
  hand.key.port = 443;
  ASSERT_TRUE(director_->addService(hand).ok());

  write(kaFile("/bin/true", 5));
  auto r = director_->reload();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(waitDests({"10.0.0.11:80 w1", "10.0.0.12:80 w5"}));
  auto list = director_->services().list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].svc_id, svc_id);  // the same service, edited in place
  EXPECT_EQ(list[1].cfg.key, hand.key);

  // A broken file: refused with its line, nothing changes.
  write("virtual_server 10.0.0.100 80 {\n    lb_algo rr\n    bogus 1\n}\n");
  auto bad = director_->reload();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(path_ + ":3:"), std::string::npos) << bad.error().message;
  EXPECT_EQ(director_->services().list().size(), 2u);
  EXPECT_EQ(dests(), (std::vector<std::string>{"10.0.0.11:80 w1", "10.0.0.12:80 w5"}));

  // The file drops its service: the hand-made one stays.
  write("global_defs {\n    router_id X\n}\n");
  ASSERT_TRUE(director_->reload().ok());
  list = director_->services().list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].cfg.key, hand.key);
}

// FULLNAT: a reload that changes the members of a local_address_group changes only the
// service's local addresses: the same service and real servers (ids), nothing else applied.
TEST_F(ConfigDriverTest, ReloadOfALocalAddressGroupChangesOnlyTheLocalAddresses) {
  auto file = [](const char* members) {
    return fmt::format("local_address_group g {{\n{}}}\n"
                       "virtual_server 10.0.0.100 80 {{\n    lb_algo rr\n    lb_kind FNAT\n"
                       "    protocol TCP\n    laddr_group_name g\n"
                       "    real_server 10.0.0.11 8080 {{\n    }}\n}}\n",
                       members);
  };
  write(file("    192.168.100.200 eth1\n    192.168.100.201 eth1\n"));
  ASSERT_TRUE(start().ok());
  ASSERT_TRUE(waitDests({"10.0.0.11:8080 w1"}));
  const svc::ServiceState before = director_->services().get(key()).value();
  ASSERT_EQ(before.laddrs.size(), 2u);
  EXPECT_EQ(before.dests.at(0).cfg.fwd, svc::FwdMethod::kFullNat);

  write(file("    192.168.100.201 eth1\n    192.168.100.202-203 eth1\n"));
  auto r = director_->reload();
  ASSERT_TRUE(r.ok()) << r.error().message;
  const svc::ServiceState after = director_->services().get(key()).value();
  EXPECT_EQ(after.svc_id, before.svc_id);
  ASSERT_EQ(after.dests.size(), 1u);
  EXPECT_EQ(after.dests[0].dest_id, before.dests[0].dest_id);
  EXPECT_EQ(after.dests[0].cfg, before.dests[0].cfg);
  EXPECT_EQ(after.cfg, before.cfg);
  std::vector<std::string> got;
  for (const auto& l : after.laddrs) got.push_back(l.addr.str() + "%" + l.ifname);
  EXPECT_EQ(got, (std::vector<std::string>{"192.168.100.201%eth1", "192.168.100.202%eth1", "192.168.100.203%eth1"}));
  EXPECT_EQ(director_->services().snapshot()->serviceView(6, key().addr, 80)->laddrs.size(), 3u);
}

TEST_F(ConfigDriverTest, ABrokenFileAtStartAppliesNothing) {
  write("virtual_server 10.0.0.100 80 {\n    lb_kind DR\n    weight_of_nothing 3\n}\n");
  Status st = start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(":3:"), std::string::npos) << st.error().message;
  EXPECT_TRUE(director_->services().list().empty());
}

TEST_F(ConfigDriverTest, WithoutAFileReloadAndHealthAreRefused) {
  EXPECT_FALSE(director_->reload().ok());
  EXPECT_FALSE(director_->health().ok());
}

}  // namespace
}  // namespace sluice::daemon
