// The XDP mode choice: what --xdp-mode auto picks on veth and elsewhere, and the warnings
// that name a condition that would lose packets, with the fix.
#include "io/xdp_mode.h"

#include <gtest/gtest.h>

namespace sluice::io {
namespace {

bool anyContains(const std::vector<std::string>& v, const std::string& what) {
  for (const auto& s : v)
    if (s.find(what) != std::string::npos) return true;
  return false;
}

TEST(XdpMode, AutoIsGenericOnVethAndNativeElsewhere) {
  ModeChoice veth = chooseXdpMode(XdpMode::kNativeOrGeneric, {"eth0", "veth", 1500}, 4096);
  EXPECT_EQ(veth.mode, XdpMode::kGeneric);
  EXPECT_NE(veth.why.find("veth"), std::string::npos) << veth.why;
  EXPECT_TRUE(veth.warnings.empty());
  EXPECT_FALSE(veth.csum_check);

  ModeChoice nic = chooseXdpMode(XdpMode::kNativeOrGeneric, {"ens1f0", "mlx5_core", 1500}, 4096);
  EXPECT_EQ(nic.mode, XdpMode::kNativeOrGeneric) << "native, falling back to generic";
  EXPECT_TRUE(nic.warnings.empty());
  EXPECT_FALSE(nic.csum_check);
}

TEST(XdpMode, NativeOnVethWarnsWithTheFixAndChecksHalfDoneChecksums) {
  ModeChoice c = chooseXdpMode(XdpMode::kNative, {"eth0", "veth", 1500}, 4096);
  EXPECT_EQ(c.mode, XdpMode::kNative);
  EXPECT_TRUE(c.csum_check);
  EXPECT_TRUE(anyContains(c.warnings, "peer")) << "names the peer's XDP program or GRO";
  EXPECT_TRUE(anyContains(c.warnings, "--xdp-mode auto"));
  EXPECT_TRUE(anyContains(c.warnings, "checksum"));
}

TEST(XdpMode, GenericIsKeptAsAsked) {
  ModeChoice c = chooseXdpMode(XdpMode::kGeneric, {"ens1f0", "ixgbe", 1500}, 4096);
  EXPECT_EQ(c.mode, XdpMode::kGeneric);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(XdpMode, AnMtuBeyondTheAfXdpFrameIsNamed) {
  ModeChoice c = chooseXdpMode(XdpMode::kNativeOrGeneric, {"ens1f0", "ice", 9000}, 4096);
  EXPECT_TRUE(anyContains(c.warnings, "MTU 9000")) << (c.warnings.empty() ? "" : c.warnings[0]);
  EXPECT_TRUE(anyContains(c.warnings, "Lower the MTU"));
  EXPECT_TRUE(chooseXdpMode(XdpMode::kNativeOrGeneric, {"ens1f0", "ice", 3000}, 4096)
                  .warnings.empty());
}

}  // namespace
}  // namespace sluice::io
