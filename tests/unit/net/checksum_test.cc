// Internet checksum: published vectors, vectors computed by an independent implementation
// (a few lines of Python, recorded here as constants), a naive word-by-word reference on
// random data, and incremental updates checked against full recomputation.
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "net/bytes.h"
#include "net/packet.h"
#include "support/packet_builder.h"

namespace sluice::net {
namespace {

using sluice::testing::Bytes;
using sluice::testing::PacketBuilder;

// The textbook definition: big-endian 16-bit words, odd byte padded, end-around carry.
uint16_t referenceChecksum(std::span<const uint8_t> d) {
  uint64_t s = 0;
  for (size_t i = 0; i + 1 < d.size(); i += 2) s += uint32_t(d[i]) << 8 | d[i + 1];
  if (d.size() % 2) s += uint32_t(d.back()) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

Bytes randomBytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: these words sum to ddf2.
  const Bytes d = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csumFold(csumPartial(d)), 0xddf2);
  EXPECT_EQ(internetChecksum(d), 0x220d);
}

TEST(Checksum, OddLengthPadsLastByte) {
  EXPECT_EQ(internetChecksum(Bytes{0x01}), 0xfeff);
  EXPECT_EQ(internetChecksum(Bytes{0x00, 0x01, 0xf2}), uint16_t(~(0x0001 + 0xf200)));
  EXPECT_EQ(internetChecksum(Bytes{}), 0xffff);
}

TEST(Checksum, Ipv4HeaderKnownVector) {
  // A widely quoted header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum is b861.
  Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4HeaderChecksum(h), 0xb861);
  h[10] = 0x12;  // a stale value in the field is ignored
  h[11] = 0x34;
  EXPECT_EQ(ipv4HeaderChecksum(h), 0xb861);
  store16be(h.data() + 10, 0xb861);
  EXPECT_TRUE(checksumOk(h));
  h[8] = 0x3f;  // TTL decremented without fixing the checksum
  EXPECT_FALSE(checksumOk(h));
}

TEST(Checksum, MatchesReferenceOnRandomData) {
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 2000; ++iter) {
    const Bytes d = randomBytes(rng, rng() % 200);
    ASSERT_EQ(internetChecksum(d), referenceChecksum(d)) << "length " << d.size();
  }
  // All-0xff data exercises the carries hardest.
  const Bytes ff(1001, 0xff);
  EXPECT_EQ(internetChecksum(ff), referenceChecksum(ff));
}

TEST(Checksum, PartialSumsChainAtEvenSplits) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 500; ++iter) {
    const Bytes d = randomBytes(rng, 2 + rng() % 300);
    const size_t split = (rng() % d.size()) & ~size_t(1);
    const std::span<const uint8_t> s(d);
    uint32_t sum = csumPartial(s.first(split));
    sum = csumPartial(s.subspan(split), sum);
    ASSERT_EQ(csumFinish(sum), referenceChecksum(d)) << "split " << split;
  }
  // csumAdd16/32 are the same as summing the bytes.
  const Bytes w = {0x12, 0x34, 0xab, 0xcd, 0xff, 0xff};
  EXPECT_EQ(csumFold(csumAdd16(csumAdd32(0, 0x1234abcd), 0xffff)), csumFold(csumPartial(w)));
}

TEST(Checksum, TcpIpv4KnownVector) {
  // 192.168.1.10:12345 -> 192.168.1.20:80, seq 0x01020304, SYN, window 8192, "abc".
  auto f = PacketBuilder().ipv4("192.168.1.10", "192.168.1.20").tcp(12345, 80, kTcpSyn)
               .seq(0x01020304).window(8192).payload("abc").build();
  const std::span<const uint8_t> tcp = std::span<const uint8_t>(f).subspan(20);
  EXPECT_EQ(load16be(tcp.data() + 16), 0x137f);
  EXPECT_EQ(l4Checksum(sluice::testing::ip("192.168.1.10"), sluice::testing::ip("192.168.1.20"),
                       kProtoTcp, tcp, 16),
            0x137f);
  EXPECT_TRUE(l4ChecksumOk(sluice::testing::ip("192.168.1.10"),
                           sluice::testing::ip("192.168.1.20"), kProtoTcp, tcp));
  // The same bytes from another source address do not verify: the pseudo header counts.
  EXPECT_FALSE(l4ChecksumOk(sluice::testing::ip("192.168.1.11"),
                            sluice::testing::ip("192.168.1.20"), kProtoTcp, tcp));
}

TEST(Checksum, Ipv6PseudoHeaderKnownVectors) {
  const IpAddr s = sluice::testing::ip("2001:db8::1"), d = sluice::testing::ip("2001:db8::2");
  auto u = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").udp(5000, 53).payload("hello")
               .build();
  EXPECT_EQ(load16be(u.data() + 40 + 6), 0x4cd0);
  EXPECT_TRUE(l4ChecksumOk(s, d, kProtoUdp, std::span<const uint8_t>(u).subspan(40)));

  auto i = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").icmp6Echo(1, 2).payload("ping")
               .build();
  EXPECT_EQ(load16be(i.data() + 40 + 2), 0x4570);
  // ICMPv6 includes a pseudo header, ICMPv4 does not: swapping them must not verify.
  EXPECT_TRUE(l4ChecksumOk(s, d, kProtoIcmp6, std::span<const uint8_t>(i).subspan(40)));
  EXPECT_FALSE(l4ChecksumOk(s, d, kProtoIcmp, std::span<const uint8_t>(i).subspan(40)));
}

TEST(Checksum, Ipv4IcmpHasNoPseudoHeader) {
  auto f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(3, 4).payload("x").build();
  const std::span<const uint8_t> icmp = std::span<const uint8_t>(f).subspan(20);
  EXPECT_TRUE(checksumOk(icmp));
  EXPECT_EQ(load16be(icmp.data() + 2), referenceChecksum(Bytes{8, 0, 0, 0, 0, 3, 0, 4, 'x'}));
}

TEST(Checksum, UdpZeroBecomesAllOnes) {
  // Choose two payload bytes that make the computed checksum 0.
  const IpAddr s = sluice::testing::ip("10.0.0.1"), d = sluice::testing::ip("10.0.0.2");
  Bytes udp = {0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00};
  const uint16_t folded = csumFold(csumPartial(udp, pseudoHeaderSum(s, d, kProtoUdp, 10)));
  store16be(udp.data() + 8, uint16_t(0xffff - folded));
  EXPECT_EQ(csumFinish(csumPartial(udp, pseudoHeaderSum(s, d, kProtoUdp, 10))), 0);
  EXPECT_EQ(l4Checksum(s, d, kProtoUdp, udp, 6), 0xffff);
  store16be(udp.data() + 6, 0xffff);
  EXPECT_TRUE(l4ChecksumOk(s, d, kProtoUdp, udp));
  // UDP/IPv4 with no checksum verifies; any other zero must still add up.
  store16be(udp.data() + 6, 0);
  EXPECT_TRUE(l4ChecksumOk(s, d, kProtoUdp, udp));
}

// A sender with checksum offload on a veth leaves the field half-done; finishing it must give
// exactly the checksum a sender without offload computes, and a complete checksum (or UDP's
// "none") must be left alone.
TEST(Checksum, FinishesHalfDoneChecksums) {
  for (const bool v6 : {false, true}) {
    for (const uint8_t proto : {kProtoTcp, kProtoUdp}) {
      auto build = [&](bool partial) {
        PacketBuilder b;
        if (v6) b.ipv6("2001:db8::2", "2001:db8::100");
        else b.ipv4("10.0.1.2", "10.0.2.100");
        if (proto == kProtoTcp) b.tcp(40000, 80, kTcpSyn);
        else b.udp(40000, 53);
        b.payload("a payload of odd length");
        if (partial) b.partialL4Checksum();
        return b.build();
      };
      const Bytes full = build(false);
      Bytes half = build(true);
      const size_t l3 = v6 ? 40 : 20;
      const IpAddr s = sluice::testing::ip(v6 ? "2001:db8::2" : "10.0.1.2");
      const IpAddr d = sluice::testing::ip(v6 ? "2001:db8::100" : "10.0.2.100");
      std::span<uint8_t> l4 = std::span<uint8_t>(half).subspan(l3);
      ASSERT_NE(half, full);
      EXPECT_FALSE(l4ChecksumOk(s, d, proto, l4));
      EXPECT_TRUE(isPartialChecksum(s, d, proto, l4));
      EXPECT_TRUE(finishPartialChecksum(s, d, proto, l4));
      EXPECT_EQ(half, full) << (v6 ? "v6 " : "v4 ") << int(proto);
      EXPECT_TRUE(l4ChecksumOk(s, d, proto, l4));
      // Now complete: a second call changes nothing.
      EXPECT_FALSE(finishPartialChecksum(s, d, proto, l4));
      EXPECT_EQ(half, full);
    }
  }
  // UDP over IPv4 without a checksum stays without one.
  Bytes udp = {0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x41, 0x42};
  const IpAddr s = sluice::testing::ip("10.0.0.1"), d = sluice::testing::ip("10.0.0.2");
  EXPECT_FALSE(finishPartialChecksum(s, d, kProtoUdp, udp));
  EXPECT_EQ(load16be(udp.data() + 6), 0);
}

TEST(Checksum, IncrementalMatchesFullRecompute) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes d = randomBytes(rng, 40 + rng() % 80);
    const uint16_t before = internetChecksum(d);
    const size_t words = d.size() / 2;
    const int kind = iter % 3;
    const size_t span_words = kind == 0 ? 1 : kind == 1 ? 2 : 8;
    const size_t off = 2 * (rng() % (words - span_words + 1));
    uint16_t after;
    if (kind == 0) {
      const uint16_t old_word = load16be(d.data() + off), new_word = uint16_t(rng());
      store16be(d.data() + off, new_word);
      after = csumReplace16(before, old_word, new_word);
    } else if (kind == 1) {
      const uint32_t old_value = load32be(d.data() + off), new_value = uint32_t(rng());
      store32be(d.data() + off, new_value);
      after = csumReplace32(before, old_value, new_value);
    } else {
      uint8_t old_bytes[16];
      std::memcpy(old_bytes, d.data() + off, 16);
      const Bytes fresh = randomBytes(rng, 16);
      std::memcpy(d.data() + off, fresh.data(), 16);
      after = csumReplace128(before, old_bytes, fresh.data());
    }
    ASSERT_EQ(after, internetChecksum(d)) << "iteration " << iter << " kind " << kind;
  }
}

// The NAT rewrite the datapath will do: change the destination address and port, fix both
// checksums incrementally, and get exactly the frame built from scratch with the new values.
TEST(Checksum, IncrementalNatRewriteEqualsRebuiltFrame) {
  for (bool v6 : {false, true}) {
    const char* vip = v6 ? "2001:db8::100" : "10.20.0.100";
    const char* rip = v6 ? "2001:db8:5::7" : "192.168.7.7";
    const char* cip = v6 ? "2001:db8::2" : "10.0.0.2";
    auto make = [&](const char* dst, uint16_t dport) {
      PacketBuilder b;
      b.eth("02:00:00:00:00:01", "02:00:00:00:00:02");
      if (v6) {
        b.ipv6(cip, dst);
      } else {
        b.ipv4(cip, dst);
      }
      return b.tcp(40000, dport, kTcpSyn).payload("GET / HTTP/1.0\r\n").build();
    };
    Bytes f = make(vip, 80);
    const Bytes want = make(rip, 8080);
    const ParseResult r = parseFrame(f);
    ASSERT_EQ(r.status, ParseStatus::kOk);
    const IpAddr old_addr = r.pkt.daddr, new_addr = sluice::testing::ip(rip);
    uint8_t* l3 = f.data() + r.pkt.l3_off;
    uint8_t* tcp = f.data() + r.pkt.l4_off;
    uint16_t tcsum = load16be(tcp + 16);
    tcsum = csumReplaceAddr(tcsum, old_addr, new_addr);
    tcsum = csumReplace16(tcsum, load16be(tcp + 2), 8080);
    store16be(tcp + 16, tcsum);
    store16be(tcp + 2, 8080);
    if (v6) {
      std::memcpy(l3 + 24, new_addr.bytes.data(), 16);
    } else {
      store16be(l3 + 10, csumReplaceAddr(load16be(l3 + 10), old_addr, new_addr));
      std::memcpy(l3 + 16, new_addr.bytes.data(), 4);
    }
    EXPECT_TRUE(sluice::testing::framesEqual(want, f)) << (v6 ? "IPv6" : "IPv4");
  }
}

}  // namespace
}  // namespace sluice::net
