// Golden packet tests for TUN (ip_vs_tunnel_xmit / ip_vs_tunnel_xmit_v6): a client's frame
// in, the encapsulated frame out, byte for byte. The expected frames are built with the
// PacketBuilder (an outer IP header whose payload is the client's packet), never by the
// code under test; what the outer header must carry is listed in src/abi/tun.h.
// Covers IPIP and IPv6-in-IPv6, the mixed families, GUE, VLAN tags, TOS/ECN, DF and ID,
// and path MTU (fragmentation needed / packet too big back to the client).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "support/dr_fixture.h"

namespace sluice::testing {
namespace {

using dp::Action;
using dp::Counter;

constexpr size_t kRoom = 256;  // what the AF_XDP worker gives: more than any tunnel adds
constexpr uint16_t kGuePort = 6080;

class TunGolden : public DrFixture {
 protected:
  struct Out {
    dp::Verdict v;
    Bytes frame;
  };
  // Runs `in` through the step with `room` bytes to grow into; the frame as it leaves.
  Out run(const Bytes& in, size_t room = kRoom) {
    Bytes buf = in;
    buf.resize(in.size() + room);
    Out o;
    o.v = dp_.process(std::span<uint8_t>(buf.data(), in.size()), *table_.snapshot(), clock_.now(),
                      room);
    buf.resize(o.v.len ? o.v.len : in.size());
    o.frame = std::move(buf);
    return o;
  }

  // A TCP service on `vip`:80 with one TUN real server `rip`, resolved to kRs1Mac, outer
  // source `laddr`, egress MTU `mtu`. Returns the dest id.
  uint32_t addTun(const char* vip, const char* rip, const char* laddr, uint16_t mtu = 1500,
                  uint8_t type = SL_TUN_IPIP, uint8_t flags = 0, uint16_t port = 80,
                  svc::Proto proto = svc::Proto::kTcp) {
    svc::ServiceConfig s;
    s.key = svc::ServiceKey{proto, ip(vip), port};
    s.scheduler = "rr";
    EXPECT_TRUE(table_.addService(s));
    svc::DestConfig d;
    const bool v6 = ip(rip).isV6();
    d.ep = *net::Endpoint::parse(v6 ? "[" + std::string(rip) + "]:" + std::to_string(port)
                                    : std::string(rip) + ":" + std::to_string(port));
    d.fwd = svc::FwdMethod::kTun;
    d.tun_type = type;
    d.tun_port = type == SL_TUN_GUE ? kGuePort : 0;
    d.tun_flags = flags;
    EXPECT_TRUE(table_.addDest(s.key, d));
    auto snap = table_.snapshot();
    for (const auto& sv : snap->services()) {
      if (!(sv->cfg.key == s.key)) continue;
      for (const auto& dr : sv->dest_rt) {
        sl_dest e = dp::makeDestRecord(dr.cfg.ep, uint8_t(dr.cfg.fwd), &kDirectorMac, &kRs1Mac, kIfindex);
        dp::setTunnel(e, dr.cfg.tun_type, dr.cfg.tun_port, dr.cfg.tun_flags, ip(laddr), mtu);
        dests_.write(dr.dest_id, e);
        return dr.dest_id;
      }
    }
    ADD_FAILURE() << "service not found";
    return 0;
  }
};

// A client's frame: `inner` (a bare IP packet) behind the router's Ethernet header.
Bytes fromClient(const Bytes& inner, bool vlan = false) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  return b.ethertype((inner[0] >> 4) == 6 ? net::kEthP_IPv6 : net::kEthP_IPv4).payload(inner).build();
}
// The outer packet as the real server (kRs1Mac) must receive it: `outer` is an IP header
// builder (addresses, TTL, TOS, ...), to which the encapsulation and `inner` are added.
Bytes toServer(PacketBuilder outer, uint8_t proto, const Bytes& inner, bool vlan = false) {
  PacketBuilder b = outer;
  b.eth(kDirectorMac, kRs1Mac);
  if (vlan) b.vlan(100);
  return b.rawL4(proto).payload(inner).build();
}
// A complete outer packet (the builder's own UDP, with its checksum) to the real server.
Bytes atServer(PacketBuilder b) {
  b.eth(kDirectorMac, kRs1Mac);
  return b.build();
}
// A GUE payload (RFC draft-ietf-intarea-gue, variant 0, as ipvs_gue_encap writes it) for
// `inner`, behind a UDP header from `sport` to kGuePort with checksum `csum`.
Bytes gue(const Bytes& inner, uint16_t sport, bool with_udp = true, uint16_t csum = 0) {
  Bytes out;
  if (with_udp) {
    out = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(kGuePort >> 8), uint8_t(kGuePort & 0xff),
           0, 0, uint8_t(csum >> 8), uint8_t(csum)};
    put16(out, 4, uint16_t(12 + inner.size()));
  }
  const uint8_t proto = (inner[0] >> 4) == 6 ? 41 : 4;
  out.insert(out.end(), {0, proto, 0, 0});
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}

Bytes syn4(uint16_t cport = 40000) {
  return PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").tcp(cport, 80, net::kTcpSyn).build();
}
Bytes syn6(uint16_t cport = 40000) {
  return PacketBuilder().ipv6("2001:db8:1::2", "2001:db8:2::100").tcp(cport, 80, net::kTcpSyn).build();
}

TEST_F(TunGolden, Ipv4InIpv4) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1");
  // No DF inside: no DF outside, and the inner ID (1, the builder's) as the outer ID.
  const Bytes inner = syn4();
  Out o = run(fromClient(inner));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  EXPECT_EQ(o.v.ifindex, kIfindex);
  Bytes want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11").ipId(1), 4, inner);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);

  // DF, TOS with CE, TTL 17: DF copied with ID 0, DSCP copied, CE -> ECT(0), TTL copied.
  const Bytes ack = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").df().ipId(777).tos(0xbb).ttl(17)
                        .tcp(40000, 80, net::kTcpAck).payload("GET / HTTP/1.0\r\n\r\n").build();
  o = run(fromClient(ack));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11").df().ipId(0).tos(0xba).ttl(17), 4, ack);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  EXPECT_EQ(dp_.counters()[Counter::kTxPackets], 2u);
  EXPECT_EQ(dp_.counters()[Counter::kConnNew], 1u);
}

TEST_F(TunGolden, Ipv6InIpv6) {
  addTun("2001:db8:2::100", "2001:db8:3::11", "2001:db8:2::1");
  const Bytes inner = PacketBuilder().ipv6("2001:db8:1::2", "2001:db8:2::100").tos(0x2b).ttl(9)
                          .flowLabel(0x12345).tcp(40000, 80, net::kTcpSyn).build();
  Out o = run(fromClient(inner));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  // Traffic class copied (ECN 11 = CE -> ECT(0)), hop limit copied, flow label 0.
  Bytes want = toServer(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11").tos(0x2a).ttl(9), 41, inner);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

// The families the kernel mixes (ip_vs_tunnel_xmit carries IPv6 over an IPv4 real server's
// tunnel and the other way round since 5.3): the outer family is the real server's.
TEST_F(TunGolden, MixedFamilies) {
  addTun("10.0.2.100", "2001:db8:3::11", "2001:db8:2::1");
  const Bytes in4 = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").df().tos(0x10).ttl(50)
                        .tcp(40000, 80, net::kTcpSyn).build();
  Out o = run(fromClient(in4));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  Bytes want = toServer(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11").tos(0x10).ttl(50), 4, in4);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);

  addTun("2001:db8:2::100", "10.0.3.11", "10.0.2.1");
  const Bytes in6 = syn6();
  o = run(fromClient(in6));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  // IPv6 inside: DF outside (routers never fragment IPv6 either), so ID 0.
  want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11").df().ipId(0), 41, in6);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

TEST_F(TunGolden, VlanTagsStay) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1");
  const Bytes inner = syn4();
  Out o = run(fromClient(inner, true));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  Bytes want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner, true);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

// Link padding after a short datagram stays behind it (both paths keep it, the outer
// length says where the datagram ends).
TEST_F(TunGolden, PaddingIsKept) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1");
  const Bytes inner = syn4();
  Bytes in = fromClient(inner);
  in.resize(in.size() + 6, 0);
  Out o = run(in);
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  Bytes want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner);
  want.resize(want.size() + 6, 0);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

TEST_F(TunGolden, GueOverIpv4NoChecksum) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1", 1500, SL_TUN_GUE);
  const Bytes inner = syn4();
  Out o = run(fromClient(inner));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  const uint16_t sport = uint16_t(0xc000 | (conns_.hash(key4(40000, 80, net::kProtoTcp)) & 0x3fff));
  Bytes want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 17, gue(inner, sport));
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  // The source port is the connection's: the next packet has the same.
  const Bytes ack = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").tcp(40000, 80, net::kTcpAck).build();
  o = run(fromClient(ack));
  want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 17, gue(ack, sport));
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

// Over IPv6 (and with --tun-csum) the UDP checksum is computed; the builder's udp() computes
// it independently.
TEST_F(TunGolden, GueWithChecksums) {
  addTun("2001:db8:2::100", "2001:db8:3::11", "2001:db8:2::1", 1500, SL_TUN_GUE);
  const Bytes in6 = syn6();
  Out o = run(fromClient(in6));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  uint16_t sport = uint16_t(0xc000 | (conns_.hash(key6(40000, 80, net::kProtoTcp)) & 0x3fff));
  Bytes want = atServer(PacketBuilder().ipv6("2001:db8:2::1", "2001:db8:3::11").udp(sport, kGuePort)
                       .payload(gue(in6, 0, false)));
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);

  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1", 1500, SL_TUN_GUE, SL_TUN_F_CSUM);
  const Bytes in4 = syn4();
  o = run(fromClient(in4));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  sport = uint16_t(0xc000 | (conns_.hash(key4(40000, 80, net::kProtoTcp)) & 0x3fff));
  want = atServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11").udp(sport, kGuePort).payload(gue(in4, 0, false)));
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
}

// IPVS's pmtu_disc: a datagram that would not fit the tunnel (inner length + overhead over
// the egress MTU) is answered from the VIP with the MTU left inside the tunnel.
TEST_F(TunGolden, TooBigForTheTunnel) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1", 1500);
  // 1480 + 20 fits exactly.
  Bytes fits = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").df().tcp(40000, 80, net::kTcpSyn)
                   .payloadFill(1480 - 40).build();
  ASSERT_EQ(fits.size(), 1480u);
  EXPECT_EQ(int(run(fromClient(fits)).v.action), int(Action::kTx));

  const Bytes big = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").df().tcp(40000, 80, net::kTcpAck)
                        .payloadFill(1481 - 40).build();
  Out o = run(fromClient(big));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  EXPECT_EQ(o.v.ifindex, 0u) << "back out where it came in";
  // Type 3 code 4 with next-hop MTU 1480, quoting the datagram's first 548 bytes (576 in
  // all), from the VIP, as the kernel's icmp_send builds it.
  Bytes want = PacketBuilder().eth(kDirectorMac, kRouterMac).ipv4("10.0.2.100", "10.0.1.2").ipId(0)
                   .tos(0xc0).icmp(3, 4, 1480).payload(firstBytes(big, 548)).build();
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  EXPECT_EQ(dp_.counters()[Counter::kIcmpFragNeededSent], 1u);

  // Without DF the kernel would fragment the outer packet; this director cannot.
  const Bytes nodf = PacketBuilder().ipv4("10.0.1.2", "10.0.2.100").tcp(40000, 80, net::kTcpAck)
                         .payloadFill(1481 - 40).build();
  o = run(fromClient(nodf));
  EXPECT_EQ(int(o.v.action), int(Action::kDrop));
  EXPECT_EQ(o.v.reason, Counter::kTunTooBig);
}

TEST_F(TunGolden, PacketTooBigIpv6) {
  addTun("2001:db8:2::100", "2001:db8:3::11", "2001:db8:2::1", 1400);
  const Bytes big = PacketBuilder().ipv6("2001:db8:1::2", "2001:db8:2::100").tcp(40000, 80, net::kTcpSyn)
                        .payloadFill(1361 - 60).build();
  Out o = run(fromClient(big));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  Bytes want = PacketBuilder().eth(kDirectorMac, kRouterMac).ipv6("2001:db8:2::100", "2001:db8:1::2")
                   .icmp(2, 0, 1360).payload(firstBytes(big, 1280 - 48)).build();
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);

  // Over an IPv4 tunnel with a small MTU, the client is never told less than 1280.
  addTun("2001:db8:2::100", "10.0.3.11", "10.0.2.1", 1280, SL_TUN_IPIP, 0, 81);
  const Bytes big81 = PacketBuilder().ipv6("2001:db8:1::2", "2001:db8:2::100").tcp(40000, 81, net::kTcpSyn)
                          .payloadFill(1261 - 60).build();
  o = run(fromClient(big81));
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  want = PacketBuilder().eth(kDirectorMac, kRouterMac).ipv6("2001:db8:2::100", "2001:db8:1::2")
             .icmp(2, 0, 1280).payload(firstBytes(big81, 1232)).build();
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  EXPECT_EQ(dp_.counters()[Counter::kIcmpFragNeededSent], 2u);
}

// An ICMP error about a tunnelled connection (a router's "fragmentation needed" for the
// real server's reply) goes to that real server through the tunnel, like the connection's
// packets (ip_vs_in_icmp -> the connection's xmit); one that no longer fits is dropped,
// never answered with another error.
TEST_F(TunGolden, IcmpErrorsGoThroughTheTunnel) {
  addTun("10.0.2.100", "10.0.3.11", "10.0.2.1", 1500);
  ASSERT_EQ(int(run(fromClient(syn4(46000))).v.action), int(Action::kTx));
  const Bytes err = error4(kRouterMac, kDirectorMac, firstBytes(reply4(46000), 548));
  Out o = run(err);
  ASSERT_EQ(int(o.v.action), int(Action::kTx));
  const Bytes inner(err.begin() + 14, err.end());
  const Bytes want = toServer(PacketBuilder().ipv4("10.0.2.1", "10.0.3.11"), 4, inner);
  EXPECT_TRUE(framesEqual(want, o.frame)) << frameDiff(want, o.frame);
  EXPECT_EQ(dp_.counters()[Counter::kIcmpForwarded], 1u);

  // 28 + a quote of 1460 bytes: over the 1480 the tunnel leaves.
  const Bytes quote = PacketBuilder().ipv4("10.0.2.100", "10.0.1.2").df().tcp(80, 46000, net::kTcpAck)
                          .payloadFill(1420).build();
  const Bytes big = error4(kRouterMac, kDirectorMac, quote);
  ASSERT_EQ(big.size(), 14u + 28 + 1460);
  o = run(big);
  EXPECT_EQ(int(o.v.action), int(Action::kDrop));
  EXPECT_EQ(o.v.reason, Counter::kTunTooBig);
  EXPECT_EQ(dp_.counters()[Counter::kIcmpFragNeededSent], 0u);
}

TEST_F(TunGolden, CannotEncapsulate) {
  const uint32_t id = addTun("10.0.2.100", "10.0.3.11", "10.0.2.1");
  Out o = run(fromClient(syn4()), 10);
  EXPECT_EQ(int(o.v.action), int(Action::kDrop));
  EXPECT_EQ(o.v.reason, Counter::kTunNoRoom);
  EXPECT_TRUE(framesEqual(fromClient(syn4()), o.frame)) << "untouched";

  sl_dest e = *dests_.read(id);
  std::memset(e.laddr, 0, 16);
  dests_.write(id, e);
  o = run(fromClient(syn4()));
  EXPECT_EQ(o.v.reason, Counter::kTunNoSource);

  dp::setTunnel(e, SL_TUN_GRE, 0, 0, ip("10.0.2.1"), 1500);
  dests_.write(id, e);
  o = run(fromClient(syn4()));
  EXPECT_EQ(o.v.reason, Counter::kFwdUnsupported);
}

}  // namespace
}  // namespace sluice::testing
