// Pinned steering state (sluiced --state-dir): the shared maps outlive the loader and are
// reused with their contents, a pinned link keeps the program attached and is taken over
// by the next loader, and releasePins() detaches. Needs root and a bpffs at /sys/fs/bpf.
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "io/xdp_loader.h"
#include "unit/io/netns_fixture.h"

namespace sluice::io {
namespace {

using namespace sluice::io::testing;

bool bpffsAvailable() {
  struct statfs st{};
  return geteuid() == 0 && statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

class XdpPin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bpffsAvailable()) GTEST_SKIP() << "needs root and bpffs at /sys/fs/bpf";
    dir_ = fmt::format("/sys/fs/bpf/sluice-unit-{}", getpid());
  }
  void TearDown() override {
    if (!dir_.empty()) (void)SteerProgram::releasePins(dir_);
  }
  Result<std::unique_ptr<SteerProgram>> load(uint32_t cap = 1024) {
    return SteerProgram::load({}, SteerProgram::Sizes{cap, 64}, SteerProgram::Pinning{dir_});
  }
  std::string dir_;
};

TEST_F(XdpPin, MapsOutliveTheLoaderAndAreReusedWithTheirContents) {
  {
    auto p = load();
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE((*p)->reusedPinnedMaps());
    (*p)->conns()[5].dest_id = 42;
    (*p)->dests()[3].ifindex = 7;
    (*p)->destCounts()[3].active = 9;
    (*p)->config()->conn_seed = 0xabcdef;
  }
  for (const auto& n : SteerProgram::pinnedMapNames())
    EXPECT_EQ(access((dir_ + "/" + n).c_str(), F_OK), 0) << n;
  auto p = load();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE((*p)->reusedPinnedMaps());
  EXPECT_EQ((*p)->conns()[5].dest_id, 42u);
  EXPECT_EQ((*p)->dests()[3].ifindex, 7u);
  EXPECT_EQ((*p)->destCounts()[3].active, 9u);
  EXPECT_EQ((*p)->config()->conn_seed, 0xabcdefu);
}

TEST_F(XdpPin, ASizeMismatchNamesTheOptionToChange) {
  ASSERT_TRUE(load(1024));
  auto p = load(2048);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("--conn-table-size 1024"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("--release"), std::string::npos);
}

TEST_F(XdpPin, IncompletePinnedStateIsRefused) {
  ASSERT_TRUE(load());
  ASSERT_EQ(unlink((dir_ + "/dest_stats").c_str()), 0);
  auto p = load();
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("incomplete"), std::string::npos) << p.error().message;
}

TEST_F(XdpPin, PinnedLinkStaysAttachedAndIsTakenOver) {
  if (!netnsAvailable()) GTEST_SKIP() << "needs network namespaces";
  Netns ns("pin");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.exec("ip link add io-p0 type veth peer name io-p1"));
  ASSERT_TRUE(ns.exec("ip link set io-p0 up"));
  ASSERT_TRUE(ns.exec("ip link set io-p1 up"));
  EnterNetns enter(ns);
  ASSERT_TRUE(enter.ok());
  uint32_t ifindex = if_nametoindex("io-p0");
  ASSERT_NE(ifindex, 0u);
  auto progId = [&] {
    uint32_t id = 0;
    return bpf_xdp_query_id(int(ifindex), 0, &id) == 0 ? id : 0;
  };

  uint32_t first = 0;
  {
    auto p = load();
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_TRUE((*p)->attach(ifindex, XdpMode::kNative));
    EXPECT_FALSE((*p)->tookOverLink(ifindex));
    first = progId();
    EXPECT_NE(first, 0u);
  }
  // The loader is gone (as a daemon that exited or crashed); the program is not.
  EXPECT_EQ(progId(), first);
  EXPECT_EQ(access((dir_ + "/link-io-p0").c_str(), F_OK), 0);

  {
    auto p = load();
    ASSERT_TRUE(p) << p.error().message;
    // The link's mode cannot change under it.
    EXPECT_FALSE((*p)->attach(ifindex, XdpMode::kGeneric));
    Status st = (*p)->attach(ifindex, XdpMode::kNativeOrGeneric);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_TRUE((*p)->tookOverLink(ifindex));
    EXPECT_EQ((*p)->attachedMode(ifindex), XdpMode::kNative);
    uint32_t second = progId();
    EXPECT_NE(second, 0u);
    EXPECT_NE(second, first);  // the new program, swapped into the same link
    // Released while this loader still holds the link: attached until it lets go.
    auto r = SteerProgram::releasePins(dir_);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(progId(), second);
  }
  EXPECT_EQ(progId(), 0u);
  EXPECT_NE(access(dir_.c_str(), F_OK), 0);
}

TEST_F(XdpPin, WithoutPinningNothingOutlivesTheLoader) {
  if (!netnsAvailable()) GTEST_SKIP() << "needs network namespaces";
  Netns ns("nopin");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.exec("ip link add io-p0 type veth peer name io-p1"));
  EnterNetns enter(ns);
  ASSERT_TRUE(enter.ok());
  uint32_t ifindex = if_nametoindex("io-p0");
  {
    auto p = SteerProgram::load();
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_TRUE((*p)->attach(ifindex, XdpMode::kNative));
  }
  uint32_t id = 1;
  ASSERT_EQ(bpf_xdp_query_id(int(ifindex), 0, &id), 0);
  EXPECT_EQ(id, 0u);
}

}  // namespace
}  // namespace sluice::io
