// svc/model: the tunnel options as values (svc::checkTunnel, ipvsadm 1.31's rules) and
// what of them the data plane cannot carry yet (svc::checkImplemented).
#include "svc/model.h"

#include <gtest/gtest.h>

namespace sluice::svc {
namespace {

DestConfig tun(uint8_t type, uint16_t port = 0, uint8_t flags = 0) {
  DestConfig d;
  d.ep = {*net::IpAddr::parse("10.1.0.2"), 80};
  d.fwd = FwdMethod::kTun;
  d.tun_type = type;
  d.tun_port = port;
  d.tun_flags = flags;
  return d;
}

std::string why(const Status& s) { return s ? "" : s.error().message; }

TEST(Model, TunnelTypeNames) {
  EXPECT_STREQ(tunTypeName(SL_TUN_IPIP), "ipip");
  EXPECT_STREQ(tunTypeName(SL_TUN_GUE), "gue");
  EXPECT_STREQ(tunTypeName(SL_TUN_GRE), "gre");
  EXPECT_STREQ(tunTypeName(9), "?");
  EXPECT_EQ(tunTypeFromName("gue"), SL_TUN_GUE);
  EXPECT_EQ(tunTypeFromName("GUE"), std::nullopt);  // ipvsadm compares with strcmp
  EXPECT_EQ(tunTypeFromName(""), std::nullopt);
}

TEST(Model, CheckTunnelAcceptsWhatIpvsadmAccepts) {
  EXPECT_TRUE(checkTunnel(DestConfig{}));  // DR, no tunnel options
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_IPIP)));
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_GUE, 6080)));
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_GUE, 6080, SL_TUN_F_CSUM)));
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_GUE, 6080, SL_TUN_F_REMCSUM)));
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_GRE)));
  EXPECT_TRUE(checkTunnel(tun(SL_TUN_GRE, 0, SL_TUN_F_CSUM)));
}

TEST(Model, CheckTunnelRefusals) {
  for (FwdMethod m : {FwdMethod::kDr, FwdMethod::kNat, FwdMethod::kFullNat}) {
    DestConfig d = tun(SL_TUN_GUE, 6080);
    d.fwd = m;
    EXPECT_EQ(why(checkTunnel(d)), "Tunnel options conflict with forward method: --tun-* need -i (tunnelling)");
    d = tun(SL_TUN_IPIP, 0, SL_TUN_F_CSUM);
    d.fwd = m;
    EXPECT_FALSE(checkTunnel(d));
  }
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_GUE))), "You need to supply the 'tun-port' option for the 'gue' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_IPIP, 6080))), "Illegal 'tun-port' option with the 'ipip' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_GRE, 6080))), "Illegal 'tun-port' option with the 'gre' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_IPIP, 0, SL_TUN_F_CSUM))), "Illegal 'tun-csum' option with the 'ipip' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_GRE, 0, SL_TUN_F_REMCSUM))),
            "Illegal 'tun-remcsum' option with the 'gre' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_GUE, 1, SL_TUN_F_CSUM | SL_TUN_F_REMCSUM))),
            "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type");
  EXPECT_EQ(why(checkTunnel(tun(3))), "Invalid tunnel type 3");
  EXPECT_EQ(why(checkTunnel(tun(SL_TUN_GUE, 1, 0x80))), "Invalid tunnel flags 0x80");
}

TEST(Model, NotImplementedTunnelOptions) {
  // DR is carried; its (absent) tunnel options are nothing to refuse.
  EXPECT_TRUE(checkImplemented(DestConfig{}));
  // What the method itself is refused for comes first (while it is).
  DestConfig local;
  local.fwd = FwdMethod::kLocal;
  EXPECT_EQ(why(checkImplemented(local)), why(checkImplemented(FwdMethod::kLocal)));
  // FULLNAT is carried (issue 10).
  DestConfig fnat;
  fnat.fwd = FwdMethod::kFullNat;
  EXPECT_TRUE(checkImplemented(fnat));
  EXPECT_TRUE(checkImplemented(tun(SL_TUN_IPIP)));
  EXPECT_TRUE(checkImplemented(tun(SL_TUN_GUE, 6080)));
  EXPECT_TRUE(checkImplemented(tun(SL_TUN_GUE, 6080, SL_TUN_F_CSUM)));
  EXPECT_EQ(why(checkImplemented(tun(SL_TUN_GRE))), "GRE tunnels are not implemented yet; use ipip or gue");
  EXPECT_EQ(why(checkImplemented(tun(SL_TUN_GRE, 0, SL_TUN_F_CSUM))),
            "GRE tunnels are not implemented yet; use ipip or gue");
  EXPECT_EQ(why(checkImplemented(tun(SL_TUN_GUE, 6080, SL_TUN_F_REMCSUM))),
            "Remote checksum offload (--tun-remcsum) is not implemented yet; use --tun-csum or --tun-nocsum");
}

}  // namespace
}  // namespace sluice::svc
