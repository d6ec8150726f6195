// parseFrame: offsets and fields for every protocol, and a named drop counter for every
// way a header can be cut short or lie about its length. The truncation tests derive the
// expected counter from the frame's layout (where each header starts and ends), so they
// cover every cut position rather than a few hand-picked ones.
#include "net/packet.h"

#include <gtest/gtest.h>

#include "net/bytes.h"
#include "support/packet_builder.h"

namespace sluice::net {
namespace {

using dp::Counter;
using sluice::testing::Bytes;
using sluice::testing::PacketBuilder;
using sluice::testing::put16;

const MacAddr kMacA = sluice::testing::mac("02:00:00:00:00:0a");
const MacAddr kMacB = sluice::testing::mac("02:00:00:00:00:0b");

ParseResult parse(const Bytes& f) { return parseFrame(f); }

std::string describe(const ParseResult& r) {
  if (r.status == ParseStatus::kOk) return "ok";
  if (r.status == ParseStatus::kNotIp) return "not-ip";
  return "drop " + std::string(dp::counterName(r.drop));
}

// Every field of Parsed, for "this prefix parses exactly like the whole frame".
auto fields(const Parsed& p) {
  return std::tuple(p.l3_off, p.l4_off, p.ip_len, p.ethertype, p.vlan_tci, p.vlan_depth,
                    p.family, p.proto, p.ttl, p.fragment, p.first_fragment, p.saddr, p.daddr,
                    p.sport, p.dport, p.tcp_flags, p.icmp_type, p.icmp_code, p.l4_len);
}

void expectDrop(const Bytes& f, Counter c) {
  const ParseResult r = parseFrame(f);
  EXPECT_EQ(r.status, ParseStatus::kDrop) << describe(r);
  EXPECT_EQ(r.drop, c) << "got " << describe(r) << ", want " << dp::counterName(c);
}

// ---------------------------------------------------------------- well-formed frames

TEST(ParseFrame, Ipv4Tcp) {
  auto f = PacketBuilder()
               .eth(kMacA, kMacB)
               .ipv4("10.0.0.2", "10.20.0.100")
               .ttl(33)
               .tcp(40000, 80, kTcpSyn | kTcpAck)
               .payload("hello")
               .build();
  auto r = parse(f);
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_EQ(r.drop, Counter::kCount);
  const Parsed& p = r.pkt;
  EXPECT_EQ(p.ethertype, kEthP_IPv4);
  EXPECT_EQ(p.vlan_depth, 0);
  EXPECT_EQ(p.l3_off, 14);
  EXPECT_EQ(p.l4_off, 34);
  EXPECT_EQ(p.ip_len, 20 + 20 + 5);
  EXPECT_EQ(p.l4_len, 25);
  EXPECT_EQ(p.family, Family::kV4);
  EXPECT_EQ(p.proto, kProtoTcp);
  EXPECT_EQ(p.ttl, 33);
  EXPECT_EQ(p.saddr.str(), "10.0.0.2");
  EXPECT_EQ(p.daddr.str(), "10.20.0.100");
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 80);
  EXPECT_EQ(p.tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_FALSE(p.fragment);
  EXPECT_FALSE(p.first_fragment);
}

TEST(ParseFrame, Ipv4OptionsAndTcpOptionsMoveOffsets) {
  auto f = PacketBuilder()
               .eth(kMacA, kMacB)
               .ipv4("10.0.0.2", "10.20.0.100")
               .ipOptions({0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01})  // router alert, NOPs
               .tcp(1234, 443, kTcpSyn)
               .tcpOptions({0x02, 0x04, 0x05, 0xb4})  // MSS 1460
               .build();
  auto r = parse(f);
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_EQ(r.pkt.l4_off, 14 + 28);
  EXPECT_EQ(r.pkt.ip_len, 28 + 24);
  EXPECT_EQ(r.pkt.l4_len, 24);
  EXPECT_EQ(r.pkt.dport, 443);
}

TEST(ParseFrame, Ipv4UdpAndIcmp) {
  auto u = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("1.2.3.4", "5.6.7.8").udp(53, 5353)
                     .payload("q").build());
  ASSERT_EQ(u.status, ParseStatus::kOk) << describe(u);
  EXPECT_EQ(u.pkt.proto, kProtoUdp);
  EXPECT_EQ(u.pkt.sport, 53);
  EXPECT_EQ(u.pkt.dport, 5353);
  EXPECT_EQ(u.pkt.l4_off, 34);
  EXPECT_EQ(u.pkt.l4_len, 9);

  auto i = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("1.2.3.4", "5.6.7.8").icmpEcho(7, 9)
                     .payload("ping").build());
  ASSERT_EQ(i.status, ParseStatus::kOk) << describe(i);
  EXPECT_EQ(i.pkt.proto, kProtoIcmp);
  EXPECT_EQ(i.pkt.icmp_type, 8);
  EXPECT_EQ(i.pkt.icmp_code, 0);
  EXPECT_EQ(i.pkt.sport, 0);
  EXPECT_EQ(i.pkt.dport, 0);
  EXPECT_EQ(i.pkt.l4_off, 34);
  EXPECT_EQ(i.pkt.l4_len, 12);

  auto e = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("1.2.3.4", "5.6.7.8")
                     .icmp(3, 4, 1400).payload("inner").build());
  ASSERT_EQ(e.status, ParseStatus::kOk) << describe(e);
  EXPECT_EQ(e.pkt.icmp_type, 3);
  EXPECT_EQ(e.pkt.icmp_code, 4);
}

TEST(ParseFrame, Ipv6TcpUdpIcmp6) {
  auto t = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8:1::100")
                     .ttl(7).tcp(50000, 8080, kTcpSyn).build());
  ASSERT_EQ(t.status, ParseStatus::kOk) << describe(t);
  EXPECT_EQ(t.pkt.family, Family::kV6);
  EXPECT_EQ(t.pkt.ethertype, kEthP_IPv6);
  EXPECT_EQ(t.pkt.l3_off, 14);
  EXPECT_EQ(t.pkt.l4_off, 54);
  EXPECT_EQ(t.pkt.ip_len, 60);
  EXPECT_EQ(t.pkt.ttl, 7);
  EXPECT_EQ(t.pkt.saddr.str(), "2001:db8::2");
  EXPECT_EQ(t.pkt.daddr.str(), "2001:db8:1::100");
  EXPECT_EQ(t.pkt.sport, 50000);
  EXPECT_EQ(t.pkt.dport, 8080);
  EXPECT_EQ(t.pkt.tcp_flags, kTcpSyn);

  auto u = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3")
                     .udp(1, 2).payload("xyz").build());
  ASSERT_EQ(u.status, ParseStatus::kOk) << describe(u);
  EXPECT_EQ(u.pkt.proto, kProtoUdp);
  EXPECT_EQ(u.pkt.l4_len, 11);

  auto i = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3")
                     .icmp6Echo(1, 1, true).build());
  ASSERT_EQ(i.status, ParseStatus::kOk) << describe(i);
  EXPECT_EQ(i.pkt.proto, kProtoIcmp6);
  EXPECT_EQ(i.pkt.icmp_type, 129);
  EXPECT_EQ(i.pkt.l4_off, 54);
}

TEST(ParseFrame, Ipv6ExtensionChainWithFirstFragment) {
  auto f = PacketBuilder()
               .eth(kMacA, kMacB)
               .ipv6("2001:db8::2", "2001:db8::3")
               .hopByHop({0x05, 0x02, 0x00, 0x00})  // router alert
               .destOpts()
               .fragment(0, true, 77)
               .udp(4000, 53)
               .payload("first piece")
               .build();
  auto r = parse(f);
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_EQ(r.pkt.proto, kProtoUdp);
  EXPECT_EQ(r.pkt.l4_off, 14 + 40 + 8 + 8 + 8);
  EXPECT_TRUE(r.pkt.fragment);
  EXPECT_TRUE(r.pkt.first_fragment);
  EXPECT_EQ(r.pkt.sport, 4000);
}

TEST(ParseFrame, Ipv6NonFirstFragmentHasNoL4) {
  auto f = PacketBuilder()
               .eth(kMacA, kMacB)
               .ipv6("2001:db8::2", "2001:db8::3")
               .fragment(1448, false)
               .rawL4(kProtoUdp)
               .payloadFill(100)
               .build();
  auto r = parse(f);
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_TRUE(r.pkt.fragment);
  EXPECT_FALSE(r.pkt.first_fragment);
  EXPECT_EQ(r.pkt.proto, kProtoUdp);
  EXPECT_EQ(r.pkt.l4_off, 0);
  EXPECT_EQ(r.pkt.sport, 0);
  EXPECT_EQ(r.pkt.dport, 0);
}

TEST(ParseFrame, Ipv6AtomicFragmentIsWholePacket) {
  auto r = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3")
                     .fragment(0, false).tcp(1, 2).build());
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_FALSE(r.pkt.fragment);
  EXPECT_EQ(r.pkt.l4_off, 14 + 40 + 8);
  EXPECT_EQ(r.pkt.dport, 2);
}

TEST(ParseFrame, Ipv6AuthHeaderUsesFourByteUnits) {
  Bytes ah_body(10, 0x11);  // SPI, sequence, 2 bytes of ICV: 12 bytes in all
  auto r = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3")
                     .ipv6Ext(51, ah_body).tcp(1, 2).build());
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_EQ(r.pkt.l4_off, 14 + 40 + 12);
  EXPECT_EQ(r.pkt.proto, kProtoTcp);
}

TEST(ParseFrame, Ipv6EspAndNoNextHeaderEndTheChain) {
  for (uint8_t proto : {uint8_t(50), uint8_t(59)}) {
    auto r = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3")
                       .destOpts().rawL4(proto).payloadFill(3).build());
    ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
    EXPECT_EQ(r.pkt.proto, proto);
    EXPECT_EQ(r.pkt.l4_off, 0);
  }
}

TEST(ParseFrame, Ipv6ExtensionHeaderLimit) {
  PacketBuilder b;
  b.eth(kMacA, kMacB).ipv6("2001:db8::2", "2001:db8::3");
  for (unsigned i = 0; i < kMaxIpv6ExtHeaders; ++i) b.destOpts();
  b.udp(1, 2);
  auto ok = parse(b.build());
  ASSERT_EQ(ok.status, ParseStatus::kOk) << describe(ok);
  EXPECT_EQ(ok.pkt.l4_off, 14 + 40 + 8 * kMaxIpv6ExtHeaders);
  b.destOpts();
  expectDrop(b.build(), Counter::kIpv6ExtTooMany);
}

TEST(ParseFrame, Ipv4Fragments) {
  // First fragment: the UDP length covers the whole datagram, more than is here.
  auto first = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2")
                   .fragment(0, true, 99).udp(1000, 2000).payloadFill(64).build();
  put16(first, 14 + 20 + 4, 1500);
  auto r1 = parse(first);
  ASSERT_EQ(r1.status, ParseStatus::kOk) << describe(r1);
  EXPECT_TRUE(r1.pkt.fragment);
  EXPECT_TRUE(r1.pkt.first_fragment);
  EXPECT_EQ(r1.pkt.sport, 1000);
  EXPECT_EQ(r1.pkt.l4_off, 34);

  auto later = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2")
                   .fragment(1480, false).rawL4(kProtoUdp).payloadFill(20).build();
  auto r2 = parse(later);
  ASSERT_EQ(r2.status, ParseStatus::kOk) << describe(r2);
  EXPECT_TRUE(r2.pkt.fragment);
  EXPECT_FALSE(r2.pkt.first_fragment);
  EXPECT_EQ(r2.pkt.l4_off, 0);
  EXPECT_EQ(r2.pkt.sport, 0);
  EXPECT_EQ(r2.pkt.proto, kProtoUdp);

  auto df = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").df()
                      .tcp(1, 2).build());
  ASSERT_EQ(df.status, ParseStatus::kOk);
  EXPECT_FALSE(df.pkt.fragment);
}

TEST(ParseFrame, Vlans) {
  auto one = parse(PacketBuilder().eth(kMacA, kMacB).vlan(100, 5).ipv4("10.0.0.1", "10.0.0.2")
                       .tcp(1, 2).build());
  ASSERT_EQ(one.status, ParseStatus::kOk) << describe(one);
  EXPECT_EQ(one.pkt.vlan_depth, 1);
  EXPECT_EQ(one.pkt.vlan_tci, (5 << 13) | 100);
  EXPECT_EQ(one.pkt.l3_off, 18);
  EXPECT_EQ(one.pkt.l4_off, 38);

  auto two = parse(PacketBuilder().eth(kMacA, kMacB).vlan(10, 0, kEthP_8021AD).vlan(200)
                       .ipv6("2001:db8::1", "2001:db8::2").udp(1, 2).build());
  ASSERT_EQ(two.status, ParseStatus::kOk) << describe(two);
  EXPECT_EQ(two.pkt.vlan_depth, 2);
  EXPECT_EQ(two.pkt.vlan_tci, 200);  // the inner tag
  EXPECT_EQ(two.pkt.l3_off, 22);
  EXPECT_EQ(two.pkt.l4_off, 62);

  expectDrop(PacketBuilder().eth(kMacA, kMacB).vlan(1, 0, kEthP_8021AD).vlan(2).vlan(3)
                 .ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build(),
             Counter::kVlanTooDeep);

  auto arp = parse(PacketBuilder().eth(kMacA, kMacB).vlan(7).ethertype(kEthP_ARP)
                       .payloadFill(28, 0).build());
  EXPECT_EQ(arp.status, ParseStatus::kNotIp);
  EXPECT_EQ(arp.pkt.ethertype, kEthP_ARP);
  EXPECT_EQ(arp.pkt.vlan_depth, 1);
}

TEST(ParseFrame, NonIpIsHandedOn) {
  for (uint16_t type : {kEthP_ARP, uint16_t(0x88cc), uint16_t(0x8847)}) {
    auto r = parse(PacketBuilder().eth(kMacA, kMacB).ethertype(type).payloadFill(46, 0).build());
    EXPECT_EQ(r.status, ParseStatus::kNotIp) << std::hex << type;
    EXPECT_EQ(r.drop, Counter::kCount);
    EXPECT_EQ(r.pkt.ethertype, type);
  }
}

TEST(ParseFrame, OtherIpProtocolsAreOkWithoutL4) {
  auto gre = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").rawL4(47)
                       .payloadFill(4).build());
  ASSERT_EQ(gre.status, ParseStatus::kOk) << describe(gre);
  EXPECT_EQ(gre.pkt.proto, 47);
  EXPECT_EQ(gre.pkt.l4_off, 0);
  // Too short to be SCTP, but SCTP is not parsed, so not dropped either.
  auto sctp = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2")
                        .rawL4(132).payloadFill(2).build());
  ASSERT_EQ(sctp.status, ParseStatus::kOk) << describe(sctp);
  EXPECT_EQ(sctp.pkt.proto, 132);
  // ICMPv4's protocol number inside IPv6 is not ICMPv6: no L4 parsing.
  auto odd = parse(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2")
                       .rawL4(kProtoIcmp).payloadFill(2).build());
  ASSERT_EQ(odd.status, ParseStatus::kOk) << describe(odd);
  EXPECT_EQ(odd.pkt.l4_off, 0);
  // ... nor ICMPv6's inside IPv4.
  auto odd4 = parse(PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2")
                        .rawL4(kProtoIcmp6).payloadFill(2).build());
  ASSERT_EQ(odd4.status, ParseStatus::kOk) << describe(odd4);
  EXPECT_EQ(odd4.pkt.l4_off, 0);
}

TEST(ParseFrame, EthernetPaddingIsIgnored) {
  auto f = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2)
               .payload("x").padTo(60).build();
  ASSERT_EQ(f.size(), 60u);
  auto r = parse(f);
  ASSERT_EQ(r.status, ParseStatus::kOk) << describe(r);
  EXPECT_EQ(r.pkt.ip_len, 29);
  EXPECT_EQ(r.pkt.l4_len, 9);  // the UDP datagram, not the padding
}

// ---------------------------------------------------------------- lying length fields

TEST(ParseFrame, BadIpv4Fields) {
  auto base = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2)
                  .payloadFill(8).build();
  auto f = base;
  f[14] = 0x55;  // version 5
  expectDrop(f, Counter::kIpv4BadVersion);
  f = base;
  f[14] = 0x44;  // IHL 4
  expectDrop(f, Counter::kIpv4BadIhl);
  f = base;
  f[14] = 0x4f;  // IHL 15: 60 bytes, but only 48 are present
  expectDrop(f, Counter::kIpv4Truncated);
  f = base;
  put16(f, 16, 19);  // total length below the header
  expectDrop(f, Counter::kIpv4BadTotalLen);
  f = base;
  put16(f, 16, uint16_t(f.size() - 14 + 1));  // one byte more than present
  expectDrop(f, Counter::kIpv4BadTotalLen);
}

TEST(ParseFrame, BadIpv6Fields) {
  auto base = PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2").udp(1, 2)
                  .build();
  auto f = base;
  f[14] = 0x45;
  expectDrop(f, Counter::kIpv6BadVersion);
  f = base;
  put16(f, 14 + 4, 9);
  expectDrop(f, Counter::kIpv6BadPayloadLen);
}

TEST(ParseFrame, BadTcpDataOffset) {
  auto base = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2)
                  .payloadFill(10).build();
  for (uint8_t doff : {0, 1, 4}) {
    auto f = base;
    f[34 + 12] = uint8_t(doff << 4);
    expectDrop(f, Counter::kTcpBadDoff);
  }
  auto f = base;
  f[34 + 12] = 0x80;  // 32 bytes of header in a 30-byte segment
  expectDrop(f, Counter::kTcpBadDoff);
  f[34 + 12] = 0x70;  // 28 bytes: fits
  EXPECT_EQ(parse(f).status, ParseStatus::kOk);
}

TEST(ParseFrame, BadUdpLength) {
  auto base = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2)
                  .payloadFill(10).build();
  auto f = base;
  put16(f, 34 + 4, 7);
  expectDrop(f, Counter::kUdpBadLen);
  put16(f, 34 + 4, 19);  // one more than the datagram holds
  expectDrop(f, Counter::kUdpBadLen);
  put16(f, 34 + 4, 8);  // shorter than the datagram is allowed
  EXPECT_EQ(parse(f).status, ParseStatus::kOk);
}

// Shrinks the IP length field (frame unchanged, the rest reads as padding) to every value
// from the end of the L3 headers to the full datagram. `boundaries` lists, in order, where
// each header that must be complete ends (relative to l3) and the counter if it is cut.
struct Boundary {
  size_t end;  // relative to l3_off
  Counter counter;
};

void shrinkIpLength(const Bytes& base, size_t l3_hdr, const std::vector<Boundary>& boundaries) {
  const ParseResult full = parseFrame(base);
  ASSERT_EQ(full.status, ParseStatus::kOk) << describe(full);
  const bool v6 = full.pkt.family == Family::kV6;
  const size_t l3 = full.pkt.l3_off;
  for (size_t len = l3_hdr; len <= full.pkt.ip_len; ++len) {
    Bytes f = base;
    put16(f, l3 + (v6 ? 4 : 2), uint16_t(v6 ? len - 40 : len));
    const ParseResult r = parseFrame(f);
    const Boundary* cut = nullptr;
    for (const auto& b : boundaries)
      if (len < b.end) {
        cut = &b;
        break;
      }
    if (cut) {
      EXPECT_EQ(r.status, ParseStatus::kDrop) << "ip len " << len << ": " << describe(r);
      EXPECT_EQ(r.drop, cut->counter) << "ip len " << len << ": " << describe(r);
    } else {
      ASSERT_EQ(r.status, ParseStatus::kOk) << "ip len " << len << ": " << describe(r);
      EXPECT_EQ(r.pkt.l4_len, len - (full.pkt.l4_off - l3)) << "ip len " << len;
      EXPECT_EQ(r.pkt.l4_off, full.pkt.l4_off);
    }
  }
}

TEST(ParseFrame, EveryL4BoundaryUnderAShortIpLength) {
  auto tcp = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2)
                 .tcpOptions({1, 1, 1, 1, 1, 1, 1, 1}).payload("data").build();
  shrinkIpLength(tcp, 20, {{40, Counter::kTcpTruncated}, {48, Counter::kTcpBadDoff}});

  auto udp = PacketBuilder().eth(kMacA, kMacB).vlan(3).ipv4("10.0.0.1", "10.0.0.2")
                 .ipOptions({1, 1, 1, 1}).udp(1, 2).payload("data").build();
  // A UDP length above what the datagram holds is a bad length, down to the 8-byte header.
  shrinkIpLength(udp, 24, {{32, Counter::kUdpTruncated}, {36, Counter::kUdpBadLen}});

  auto icmp = PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2").icmpEcho(1, 2)
                  .payload("data").build();
  shrinkIpLength(icmp, 20, {{28, Counter::kIcmpTruncated}});

  auto icmp6 = PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2")
                   .icmp6Echo(1, 2).payload("data").build();
  shrinkIpLength(icmp6, 40, {{48, Counter::kIcmp6Truncated}});

  auto ext = PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2")
                 .hopByHop().destOpts({1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})  // 16 bytes
                 .fragment(0, false).tcp(1, 2).build();
  shrinkIpLength(ext, 40,
                 {{48, Counter::kIpv6ExtTruncated},
                  {64, Counter::kIpv6ExtTruncated},
                  {72, Counter::kIpv6ExtTruncated},
                  {92, Counter::kTcpTruncated}});
}

// Cuts the frame itself at every length. The expected result comes from the full frame's
// layout: which header the cut lands in, or (past the datagram) the same parse as the full
// frame.
void truncateEverywhere(const Bytes& base) {
  const ParseResult full = parseFrame(base);
  ASSERT_NE(full.status, ParseStatus::kDrop) << describe(full);
  const Parsed& fp = full.pkt;
  const size_t l3 = fp.l3_off;
  const bool v6 = fp.family == Family::kV6;
  const size_t ihl = v6 ? 40 : size_t(base[l3] & 0x0f) * 4;
  for (size_t n = 0; n < base.size(); ++n) {
    const Bytes f(base.begin(), base.begin() + ptrdiff_t(n));
    const ParseResult r = parseFrame(f);
    std::optional<Counter> want;
    if (n < 14) {
      want = Counter::kEthTruncated;
    } else if (n < l3) {
      want = Counter::kVlanTruncated;
    } else if (full.status == ParseStatus::kNotIp) {
      want = std::nullopt;
    } else if (n < l3 + ihl) {
      want = v6 ? Counter::kIpv6Truncated : Counter::kIpv4Truncated;
    } else if (n < l3 + fp.ip_len) {
      want = v6 ? Counter::kIpv6BadPayloadLen : Counter::kIpv4BadTotalLen;
    }
    if (want) {
      EXPECT_EQ(r.status, ParseStatus::kDrop) << "cut at " << n << ": " << describe(r);
      EXPECT_EQ(r.drop, *want) << "cut at " << n << ": " << describe(r);
    } else {
      EXPECT_EQ(r.status, full.status) << "cut at " << n << ": " << describe(r);
      EXPECT_EQ(fields(r.pkt), fields(fp)) << "cut at " << n;
    }
  }
}

TEST(ParseFrame, EveryFrameTruncationHasItsCounter) {
  truncateEverywhere(PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.0.1", "10.0.0.2")
                         .ipOptions({1, 1, 1, 1, 1, 1, 1, 1}).tcp(1, 2).payload("abc")
                         .padTo(90).build());
  truncateEverywhere(PacketBuilder().eth(kMacA, kMacB).vlan(1, 0, kEthP_8021AD).vlan(2)
                         .ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload("abc").build());
  truncateEverywhere(PacketBuilder().eth(kMacA, kMacB).vlan(9).ipv6("2001:db8::1", "2001:db8::2")
                         .hopByHop().fragment(0, true).udp(1, 2).payload("abc").build());
  truncateEverywhere(PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8::1", "2001:db8::2")
                         .icmp6Echo(1, 1).padTo(100).build());
  truncateEverywhere(PacketBuilder().eth(kMacA, kMacB).vlan(4).ethertype(kEthP_ARP)
                         .payloadFill(28).build());
}

TEST(ParseFrame, ShortVlanTag) {
  // 14 bytes whose ethertype says a tag follows, and the tag is cut.
  auto f = PacketBuilder().eth(kMacA, kMacB).vlan(5).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2)
               .build();
  expectDrop(Bytes(f.begin(), f.begin() + 14), Counter::kVlanTruncated);
  expectDrop(Bytes(f.begin(), f.begin() + 17), Counter::kVlanTruncated);
  expectDrop(Bytes(f.begin(), f.begin() + 18), Counter::kIpv4Truncated);
}

}  // namespace
}  // namespace sluice::net
