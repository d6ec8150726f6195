// parseIcmpQuote: where the quoted headers lie and what they say, for both families, with
// the 8-byte minimum quote and a full one; a named counter for every way a quote is cut
// short or lies; "not ours" for what no connection can own.
#include "net/icmp_quote.h"

#include <gtest/gtest.h>

#include "support/packet_builder.h"

namespace sluice::net {
namespace {

using dp::Counter;
using sluice::testing::Bytes;
using sluice::testing::PacketBuilder;
using sluice::testing::put16;

const MacAddr kMacA = sluice::testing::mac("02:00:00:00:00:0a");
const MacAddr kMacB = sluice::testing::mac("02:00:00:00:00:0b");

// A reply from the VIP as a real server sends it in DR, with room to cut.
Bytes reply4(uint8_t proto = kProtoTcp) {
  PacketBuilder b;
  b.ipv4("10.0.2.100", "10.0.1.2").df();
  if (proto == kProtoTcp) b.tcp(80, 40000, kTcpAck); else b.udp(53, 40000);
  return b.payloadFill(1400).build();
}
Bytes reply6(uint8_t proto = kProtoTcp) {
  PacketBuilder b;
  b.ipv6("2001:db8:2::100", "2001:db8:1::2");
  if (proto == kProtoTcp) b.tcp(80, 40000, kTcpAck); else b.udp(53, 40000);
  return b.payloadFill(1400).build();
}
Bytes cut(Bytes b, size_t n) {
  b.resize(std::min(n, b.size()));
  return b;
}

Bytes error4(const Bytes& quote, uint8_t type = kIcmpDestUnreach, uint8_t code = 4) {
  return PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.1.1", "10.0.2.100").icmp(type, code, 1400)
      .payload(quote).build();
}
Bytes error6(const Bytes& quote, uint8_t type = kIcmp6PacketTooBig) {
  return PacketBuilder().eth(kMacA, kMacB).ipv6("2001:db8:1::1", "2001:db8:2::100")
      .icmp(type, 0, 1400).payload(quote).build();
}

QuoteResult quoteOf(const Bytes& frame) {
  ParseResult pr = parseFrame(frame);
  EXPECT_EQ(pr.status, ParseStatus::kOk);
  EXPECT_TRUE(isIcmpError(pr.pkt));
  return parseIcmpQuote(frame, pr.pkt);
}

void expectDrop(const Bytes& frame, Counter c) {
  QuoteResult r = quoteOf(frame);
  EXPECT_EQ(r.status, QuoteStatus::kDrop);
  EXPECT_EQ(r.drop, c) << dp::counterName(r.drop);
}

TEST(IcmpQuote, Ipv4EightBytesAndFull) {
  for (size_t len : {size_t(28), size_t(548)}) {
    SCOPED_TRACE(len);
    Bytes f = error4(cut(reply4(), len));
    QuoteResult r = quoteOf(f);
    ASSERT_EQ(r.status, QuoteStatus::kOk);
    EXPECT_EQ(r.quote.ip_off, 14 + 20 + 8);
    EXPECT_EQ(r.quote.l4_off, 14 + 20 + 8 + 20);
    EXPECT_EQ(r.quote.end, f.size());
    EXPECT_EQ(r.quote.proto, kProtoTcp);
    EXPECT_EQ(r.quote.family, Family::kV4);
    EXPECT_EQ(r.quote.saddr.str(), "10.0.2.100");
    EXPECT_EQ(r.quote.daddr.str(), "10.0.1.2");
    EXPECT_EQ(r.quote.sport, 80);
    EXPECT_EQ(r.quote.dport, 40000);
  }
}

TEST(IcmpQuote, Ipv6EightBytesFullAndExtensionHeaders) {
  Bytes ext = PacketBuilder().ipv6("2001:db8:2::100", "2001:db8:1::2").destOpts().udp(53, 40000)
                  .payloadFill(100).build();
  struct Case {
    const char* what;
    Bytes quote;
    size_t l4;
    uint8_t proto;
  } cases[] = {{"8 bytes", cut(reply6(), 48), 40, kProtoTcp},
               {"full", cut(reply6(), 1232), 40, kProtoTcp},
               {"UDP after destination options", cut(ext, 56), 48, kProtoUdp}};
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    QuoteResult r = quoteOf(error6(c.quote));
    ASSERT_EQ(r.status, QuoteStatus::kOk) << dp::counterName(r.drop);
    EXPECT_EQ(r.quote.l4_off, 14 + 40 + 8 + c.l4);
    EXPECT_EQ(r.quote.proto, c.proto);
    EXPECT_EQ(r.quote.saddr.str(), "2001:db8:2::100");
    EXPECT_EQ(r.quote.dport, 40000);
  }
}

TEST(IcmpQuote, WhichMessagesAreErrors) {
  auto errs = [](const Bytes& f) { return isIcmpError(parseFrame(f).pkt); };
  for (uint8_t t : {kIcmpDestUnreach, kIcmpTimeExceeded, kIcmpParamProblem})
    EXPECT_TRUE(errs(error4(cut(reply4(), 28), t))) << int(t);
  for (uint8_t t : {kIcmp6DestUnreach, kIcmp6PacketTooBig, kIcmp6TimeExceeded, kIcmp6ParamProblem})
    EXPECT_TRUE(errs(error6(cut(reply6(), 48), t))) << int(t);
  EXPECT_FALSE(errs(error4(cut(reply4(), 28), 8))) << "echo request";
  EXPECT_FALSE(errs(error4(cut(reply4(), 28), 4))) << "source quench (RFC 6633: ignored)";
  EXPECT_FALSE(errs(error6(cut(reply6(), 48), 128))) << "echo request";
  EXPECT_FALSE(errs(error6(cut(reply6(), 48), 135))) << "neighbour solicitation";
  EXPECT_FALSE(errs(PacketBuilder().eth(kMacA, kMacB).ipv4("10.0.1.1", "10.0.2.100").tcp(1, 80).build()));
}

TEST(IcmpQuote, EveryCutOfTheHeadersHasItsCounter) {
  const Bytes r4 = reply4(), r6 = reply6();
  for (size_t len = 0; len < 28; ++len) expectDrop(error4(cut(r4, len)), Counter::kIcmpQuoteTruncated);
  for (size_t len = 0; len < 48; ++len) expectDrop(error6(cut(r6, len)), Counter::kIcmpQuoteTruncated);
  // IPv4 options: the header is 24 bytes, the quote ends inside it.
  Bytes opts = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").ipOptions({1, 1, 1, 1}).tcp(80, 40000)
                   .payloadFill(100).build();
  expectDrop(error4(cut(opts, 22)), Counter::kIcmpQuoteTruncated);
  expectDrop(error4(cut(opts, 31)), Counter::kIcmpQuoteTruncated);
  EXPECT_EQ(quoteOf(error4(cut(opts, 32))).status, QuoteStatus::kOk);
  // IPv6: the quote ends inside an extension header.
  Bytes ext = PacketBuilder().ipv6("2001:db8:2::100", "2001:db8:1::2").destOpts(Bytes(10, 0))
                  .tcp(80, 40000).build();
  expectDrop(error6(cut(ext, 44)), Counter::kIcmpQuoteTruncated);
  expectDrop(error6(cut(ext, 50)), Counter::kIcmpQuoteTruncated);
  expectDrop(error6(cut(ext, 63)), Counter::kIcmpQuoteTruncated);
}

TEST(IcmpQuote, LyingHeadersHaveTheirCounters) {
  Bytes q = cut(reply4(), 28);
  Bytes ver = q;
  ver[0] = 0x65;
  expectDrop(error4(ver), Counter::kIcmpQuoteBadHeader);
  Bytes ihl = q;
  ihl[0] = 0x44;
  expectDrop(error4(ihl), Counter::kIcmpQuoteBadHeader);
  Bytes tot = q;
  put16(tot, 2, 19);  // less than its own header
  expectDrop(error4(tot), Counter::kIcmpQuoteBadLen);
  put16(tot, 2, 20 + 19);  // less than a TCP header
  expectDrop(error4(tot), Counter::kIcmpQuoteBadLen);
  Bytes ulen = cut(reply4(kProtoUdp), 28);
  put16(ulen, 24, 7);
  expectDrop(error4(ulen), Counter::kIcmpQuoteBadLen);
  put16(ulen, 24, 1409);  // longer than the datagram it was sent in
  expectDrop(error4(ulen), Counter::kIcmpQuoteBadLen);
  Bytes doff = cut(reply4(), 40);
  doff[20 + 12] = 0x40;
  expectDrop(error4(doff), Counter::kIcmpQuoteBadLen);
  EXPECT_EQ(quoteOf(error4(cut(doff, 28))).status, QuoteStatus::kOk) << "data offset not quoted";

  Bytes v6 = cut(reply6(), 48);
  Bytes ver6 = v6;
  ver6[0] = 0x45;
  expectDrop(error6(ver6), Counter::kIcmpQuoteBadHeader);
  Bytes plen = v6;
  put16(plen, 4, 19);
  expectDrop(error6(plen), Counter::kIcmpQuoteBadLen);
  Bytes many = PacketBuilder().ipv6("2001:db8:2::100", "2001:db8:1::2").destOpts().destOpts()
                   .destOpts().destOpts().destOpts().destOpts().destOpts().destOpts().destOpts()
                   .tcp(80, 40000).build();
  expectDrop(error6(many), Counter::kIcmpQuoteBadHeader);
  // An ICMPv4 error quoting an IPv6 packet.
  expectDrop(error4(cut(reply6(), 48)), Counter::kIcmpQuoteBadHeader);
}

TEST(IcmpQuote, WhatNoConnectionOwnsIsNotOurs) {
  Bytes echo = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").icmpEcho(1, 1, true).build();
  EXPECT_EQ(quoteOf(error4(echo)).status, QuoteStatus::kNotOurs);
  Bytes later = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").fragment(1480, false).rawL4(kProtoUdp)
                    .payloadFill(40).build();
  EXPECT_EQ(quoteOf(error4(later)).status, QuoteStatus::kNotOurs);
  Bytes later6 = PacketBuilder().ipv6("2001:db8:2::100", "2001:db8:1::2").fragment(1448, false)
                     .rawL4(kProtoTcp).payloadFill(40).build();
  EXPECT_EQ(quoteOf(error6(later6)).status, QuoteStatus::kNotOurs);
  // A first fragment's UDP length is the whole datagram's: not a lie.
  Bytes first = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").fragment(0, true).udp(53, 40000)
                    .payloadFill(100).build();
  put16(first, 24, 3000);
  EXPECT_EQ(quoteOf(error4(cut(first, 28))).status, QuoteStatus::kOk);
}

}  // namespace
}  // namespace sluice::net
