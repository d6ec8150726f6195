// The builder is the ground truth of golden tests, so its own output is checked against
// what the wire formats require: lengths, checksums, header chains.
#include "support/packet_builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "net/bytes.h"
#include "net/checksum.h"

namespace sluice::testing {
namespace {

using net::load16be;

TEST(PacketBuilder, Ipv4TcpLayoutAndChecksums) {
  auto f = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").vlan(100)
               .ipv4("10.0.0.2", "10.20.0.100").ipId(0x4242).df().ttl(17)
               .tcp(40000, 80, net::kTcpSyn).seq(1000).window(512).payload("hi").build();
  ASSERT_EQ(f.size(), 14u + 4 + 20 + 20 + 2);
  EXPECT_EQ(f[0], 0x02);
  EXPECT_EQ(f[5], 0x02);  // destination first
  EXPECT_EQ(f[11], 0x01);
  EXPECT_EQ(load16be(&f[12]), net::kEthP_8021Q);
  EXPECT_EQ(load16be(&f[14]), 100);
  EXPECT_EQ(load16be(&f[16]), net::kEthP_IPv4);
  const uint8_t* ip4 = &f[18];
  EXPECT_EQ(ip4[0], 0x45);
  EXPECT_EQ(load16be(ip4 + 2), 42);
  EXPECT_EQ(load16be(ip4 + 4), 0x4242);
  EXPECT_EQ(load16be(ip4 + 6), 0x4000);
  EXPECT_EQ(ip4[8], 17);
  EXPECT_TRUE(net::checksumOk(std::span(ip4, 20)));
  const uint8_t* tcp = ip4 + 20;
  EXPECT_EQ(net::load32be(tcp + 4), 1000u);
  EXPECT_EQ(tcp[12], 0x50);
  EXPECT_EQ(load16be(tcp + 14), 512);
  EXPECT_TRUE(net::l4ChecksumOk(ip("10.0.0.2"), ip("10.20.0.100"), net::kProtoTcp,
                                std::span(tcp, 22)));
}

TEST(PacketBuilder, Ipv6ChainAndUdp) {
  auto f = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").hopByHop().fragment(8, true, 5)
               .udp(1, 2).payload("abc").build();
  ASSERT_EQ(f.size(), 40u + 8 + 8 + 8 + 3);
  EXPECT_EQ(f[0] >> 4, 6);
  EXPECT_EQ(load16be(&f[4]), 8 + 8 + 8 + 3);
  EXPECT_EQ(f[6], 0);         // -> hop-by-hop
  EXPECT_EQ(f[40], 44);       // -> fragment
  EXPECT_EQ(f[41], 0);        // 8 bytes
  EXPECT_EQ(f[42], 1);        // PadN over the rest
  EXPECT_EQ(f[48], 17);       // -> UDP
  EXPECT_EQ(load16be(&f[50]), 8 | 1);
  EXPECT_EQ(net::load32be(&f[52]), 5u);
  EXPECT_EQ(load16be(&f[56 + 4]), 11);
  EXPECT_TRUE(net::l4ChecksumOk(ip("2001:db8::1"), ip("2001:db8::2"), net::kProtoUdp,
                                std::span(&f[56], 11)));
}

TEST(PacketBuilder, BadChecksumAndMisuse) {
  auto f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).badL4Checksum().build();
  EXPECT_FALSE(net::l4ChecksumOk(ip("10.0.0.1"), ip("10.0.0.2"), net::kProtoUdp,
                                 std::span(&f[20], 8)));
  EXPECT_THROW(PacketBuilder().tcp(1, 2), std::invalid_argument);
  EXPECT_THROW(PacketBuilder().ipv4("10.0.0.1", "2001:db8::1"), std::invalid_argument);
  EXPECT_THROW(PacketBuilder().eth("02:00:00:00:00", "02:00:00:00:00:02"), std::invalid_argument);
  EXPECT_THROW(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").hopByHop(), std::invalid_argument);
  EXPECT_THROW(PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").build(),
               std::invalid_argument);
}

TEST(PacketBuilder, DiffNamesTheHeader) {
  auto a = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02")
               .ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
  auto b = a;
  EXPECT_EQ(frameDiff(a, b), "");
  EXPECT_TRUE(framesEqual(a, b));
  b[14 + 8] = 1;  // TTL
  const std::string d = frameDiff(a, b);
  EXPECT_NE(d.find("first at 0x0016 (IPv4 header +8)"), std::string::npos) << d;
  EXPECT_NE(d.find("^^"), std::string::npos) << d;
  EXPECT_FALSE(framesEqual(a, b));
  b = a;
  b[34 + 2] = 9;
  EXPECT_NE(frameDiff(a, b).find("(TCP +2)"), std::string::npos) << frameDiff(a, b);
  b.push_back(0);
  EXPECT_NE(frameDiff(a, b).find("actual 55 bytes"), std::string::npos) << frameDiff(a, b);
  EXPECT_EQ(hexDump(Bytes{0xde, 0xad}), "0000  de ad\n");
}

// Regenerates fuzz/corpus/packet/. Run by hand:
//   ./build/bin/sluice_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteFuzzSeeds'
TEST(PacketBuilder, DISABLED_WriteFuzzSeeds) {
  const std::filesystem::path dir =
      std::filesystem::path(SLUICE_TEST_DATA).parent_path().parent_path() / "fuzz/corpus/packet";
  std::filesystem::create_directories(dir);
  const char* m1 = "02:00:00:00:00:01";
  const char* m2 = "02:00:00:00:00:02";
  const std::vector<std::pair<const char*, Bytes>> seeds = {
      {"v4_tcp_syn", PacketBuilder().eth(m1, m2).ipv4("10.0.0.2", "10.20.0.100")
                         .tcp(40000, 80, net::kTcpSyn).tcpOptions({2, 4, 5, 0xb4}).build()},
      {"v4_opts_udp_vlan", PacketBuilder().eth(m1, m2).vlan(100).ipv4("10.0.0.2", "10.0.0.3")
                               .ipOptions({1, 1, 1, 1}).udp(53, 53).payload("q").padTo(60)
                               .build()},
      {"v4_icmp_qinq", PacketBuilder().eth(m1, m2).vlan(1, 0, net::kEthP_8021AD).vlan(2)
                           .ipv4("10.0.0.2", "10.0.0.3").icmpEcho(1, 1).build()},
      {"v4_frag_later", PacketBuilder().eth(m1, m2).ipv4("10.0.0.2", "10.0.0.3")
                            .fragment(1480, false).rawL4(net::kProtoUdp).payloadFill(16).build()},
      {"v6_ext_frag_udp", PacketBuilder().eth(m1, m2).ipv6("2001:db8::1", "2001:db8::2")
                              .hopByHop().destOpts().fragment(0, true).udp(1, 2).payload("x")
                              .build()},
      {"v6_ah_tcp", PacketBuilder().eth(m1, m2).ipv6("2001:db8::1", "2001:db8::2")
                        .ipv6Ext(51, Bytes(10, 0)).tcp(1, 2).build()},
      {"v6_icmp6", PacketBuilder().eth(m1, m2).ipv6("2001:db8::1", "2001:db8::2")
                       .icmp6Echo(1, 2).build()},
      {"arp", PacketBuilder().eth(m1, m2).ethertype(net::kEthP_ARP).payloadFill(28, 0).build()},
      {"v4_icmp_frag_needed", PacketBuilder().eth(m1, m2).ipv4("10.0.0.1", "10.20.0.100")
                                  .icmp(3, 4, 1400)
                                  .payload(PacketBuilder().ipv4("10.20.0.100", "10.0.0.2")
                                               .tcp(80, 40000).payloadFill(20).build())
                                  .build()},
      {"v6_icmp6_too_big_ext", PacketBuilder().eth(m1, m2).ipv6("2001:db8::9", "2001:db8::2")
                                   .icmp(2, 0, 1400)
                                   .payload(PacketBuilder().ipv6("2001:db8::2", "2001:db8::1")
                                                .destOpts().fragment(0, true).udp(53, 40000)
                                                .payload("x").build())
                                   .build()},
  };
  for (const auto& [name, frame] : seeds) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(frame.data()), std::streamsize(frame.size()));
  }
}

}  // namespace
}  // namespace sluice::testing
