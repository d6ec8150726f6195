// fwd::rewriteEnd and friends: the rewritten packet must equal the same packet built from
// scratch with the new addresses (whose checksums the builder computes in full), so the
// incremental updates (RFC 1624) are checked against a full computation.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "fwd/nat.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/packet.h"
#include "support/packet_builder.h"

namespace sluice::testing {
namespace {

std::array<uint8_t, 16> addr16(const char* s) { return net::IpAddr::parse(s)->bytes; }

Bytes rewritten(Bytes in, fwd::End end, const char* addr, uint16_t port) {
  net::ParseResult pr = net::parseFrame(in);
  EXPECT_EQ(pr.status, net::ParseStatus::kOk);
  const net::Parsed& p = pr.pkt;
  auto a = addr16(addr);
  fwd::rewriteEnd(in, p.family, p.l3_off, p.l4_off, p.l4_len, p.proto, end, a.data(), htons(port));
  return in;
}

TEST(FwdNat, TcpIpv4DestinationAndSourceMatchAFullComputation) {
  for (uint16_t sport : {1, 80, 40000, 65535}) {
    for (const char* rs : {"10.0.2.11", "192.168.255.254", "0.0.0.1"}) {
      Bytes in = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv4("10.0.1.2", "10.0.2.100").tcp(sport, 80, net::kTcpAck)
                     .payload("some payload").build();
      Bytes want = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv4("10.0.1.2", rs).tcp(sport, 8080, net::kTcpAck)
                       .payload("some payload").build();
      Bytes got = rewritten(in, fwd::End::kDest, rs, 8080);
      EXPECT_TRUE(framesEqual(want, got)) << rs << " " << sport << "\n" << frameDiff(want, got);
      // And back, as a reply's source.
      Bytes back_in = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv4(rs, "10.0.1.2").tcp(8080, sport, net::kTcpAck).payload("r").build();
      Bytes back_want = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv4("10.0.2.100", "10.0.1.2").tcp(80, sport, net::kTcpAck).payload("r").build();
      Bytes back = rewritten(back_in, fwd::End::kSource, "10.0.2.100", 80);
      EXPECT_TRUE(framesEqual(back_want, back)) << frameDiff(back_want, back);
    }
  }
}

TEST(FwdNat, Ipv6AndUdp) {
  Bytes in = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv6("2001:db8:1::2", "2001:db8:2::100").udp(5000, 53).payload("q").build();
  Bytes want = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv6("2001:db8:1::2", "2001:db8:2::11").udp(5000, 5353).payload("q").build();
  Bytes got = rewritten(in, fwd::End::kDest, "2001:db8:2::11", 5353);
  EXPECT_TRUE(framesEqual(want, got)) << frameDiff(want, got);
  in = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv6("2001:db8:1::2", "2001:db8:2::100").tcp(1, 2, net::kTcpSyn).build();
  want = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv6("2001:db8:1::2", "fd00::1").tcp(1, 3, net::kTcpSyn).build();
  got = rewritten(in, fwd::End::kDest, "fd00::1", 3);
  EXPECT_TRUE(framesEqual(want, got)) << frameDiff(want, got);
}

TEST(FwdNat, UdpIpv4WithoutChecksumStaysWithout) {
  Bytes in = PacketBuilder().eth("02:00:00:00:00:01", "02:00:00:00:00:02").ipv4("10.0.1.2", "10.0.2.100").udp(5000, 53).payload("q").build();
  in[14 + 20 + 6] = in[14 + 20 + 7] = 0;
  Bytes got = rewritten(in, fwd::End::kDest, "10.0.2.11", 5353);
  EXPECT_EQ(got[14 + 20 + 6], 0);
  EXPECT_EQ(got[14 + 20 + 7], 0);
  net::ParseResult pr = net::parseFrame(got);
  ASSERT_EQ(pr.status, net::ParseStatus::kOk);
  EXPECT_EQ(pr.pkt.daddr, *net::IpAddr::parse("10.0.2.11"));
  EXPECT_EQ(pr.pkt.dport, 5353);
  EXPECT_EQ(net::ipv4HeaderChecksum(std::span<const uint8_t>(got).subspan(14, 20)),
            net::load16be(got.data() + 14 + 10));
}

TEST(FwdNat, RewritesVerifyAcrossManyValues) {
  // Whatever the values, the result verifies (and a UDP checksum never becomes 0).
  uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 1103515245u + 12345u;
    char rs[32];
    snprintf(rs, sizeof rs, "10.%u.%u.%u", (x >> 8) & 255, (x >> 16) & 255, (x >> 24) & 255);
    const bool udp = i & 1;
    PacketBuilder b;
    b.eth("02:00:00:00:00:01", "02:00:00:00:00:02");
    b.ipv4("10.0.1.2", "10.0.2.100");
    if (udp) b.udp(uint16_t(x), 53);
    else b.tcp(uint16_t(x), 80, net::kTcpAck);
    Bytes got = rewritten(b.payloadFill(i % 50, uint8_t(x >> 3)).build(), fwd::End::kDest, rs,
                          uint16_t(x >> 7));
    net::ParseResult pr = net::parseFrame(got);
    ASSERT_EQ(pr.status, net::ParseStatus::kOk);
    const net::Parsed& p = pr.pkt;
    EXPECT_TRUE(net::l4ChecksumOk(p.saddr, p.daddr, p.proto, std::span<const uint8_t>(got).subspan(p.l4_off, p.l4_len)));
    EXPECT_TRUE(net::checksumOk(std::span<const uint8_t>(got).subspan(14, 20)));
    if (udp) {
      EXPECT_NE(net::load16be(got.data() + 14 + 20 + 6), 0);
    }
  }
}

}  // namespace
}  // namespace sluice::testing
