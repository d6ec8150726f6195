// TOA insertion and the SYN-ACK's MSS, byte for byte against frames built whole by the
// PacketBuilder (full checksums): the edges the golden tests do not reach (a VLAN tag,
// Ethernet padding, options that just fit or just do not, an MSS at an odd offset,
// malformed options, no room in the buffer).
#include "fwd/fullnat.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "net/packet.h"
#include "support/packet_builder.h"

namespace sluice::testing {
namespace {

Bytes toa4() { return Bytes{254, 8, 0x9c, 0x40, 10, 0, 1, 2}; }  // 40000, 10.0.1.2

// Inserts TOA for 10.0.1.2:40000 into `in`; returns the frame as it comes out.
Bytes withToa(Bytes in, fwd::ToaStatus want, size_t room = 64) {
  const size_t n = in.size();
  const net::ParseResult pr = net::parseFrame(in);
  EXPECT_EQ(int(pr.status), int(net::ParseStatus::kOk));
  in.resize(n + room);
  const uint8_t caddr[4] = {10, 0, 1, 2};
  const fwd::ToaResult r = fwd::insertToa(in, n, pr.pkt, caddr, htons(40000));
  EXPECT_EQ(int(r.status), int(want));
  in.resize(r.status == fwd::ToaStatus::kInserted ? r.len : n);
  return in;
}

PacketBuilder seg(bool vlan = false) {
  PacketBuilder b;
  b.eth(mac("02:00:00:00:02:10"), mac("02:00:00:00:02:11"));
  if (vlan) b.vlan(100);
  b.ipv4("10.0.3.1", "10.0.2.11");
  return b;
}

TEST(InsertToa, AfterTheOptionsInAVlanFrameWithPayload) {
  const Bytes ts = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
  Bytes out = withToa(seg(true).tcp(1024, 80, net::kTcpAck).tcpOptions(ts).payload("hello").build(),
                      fwd::ToaStatus::kInserted);
  Bytes opts = ts;
  const Bytes toa = toa4();
  opts.insert(opts.end(), toa.begin(), toa.end());
  const Bytes want = seg(true).tcp(1024, 80, net::kTcpAck).tcpOptions(opts).payload("hello").build();
  EXPECT_TRUE(framesEqual(want, out)) << frameDiff(want, out);
}

TEST(InsertToa, EthernetPaddingIsDropped) {
  Bytes in = seg().tcp(1024, 80, net::kTcpAck).build();  // 54 bytes
  in.resize(60, 0);                                       // padded as on the wire
  const Bytes out = withToa(in, fwd::ToaStatus::kInserted);
  const Bytes want = seg().tcp(1024, 80, net::kTcpAck).tcpOptions(toa4()).build();
  EXPECT_TRUE(framesEqual(want, out)) << frameDiff(want, out);
}

TEST(InsertToa, ThirtyTwoBytesOfOptionsStillTakeIt) {
  const Bytes opts(32, 1);
  const Bytes out = withToa(seg().tcp(1024, 80, net::kTcpAck).tcpOptions(opts).build(),
                            fwd::ToaStatus::kInserted);
  Bytes all = opts;
  const Bytes toa = toa4();
  all.insert(all.end(), toa.begin(), toa.end());
  const Bytes want = seg().tcp(1024, 80, net::kTcpAck).tcpOptions(all).build();
  EXPECT_TRUE(framesEqual(want, out)) << frameDiff(want, out);
}

TEST(InsertToa, ThirtySixBytesOrNoRoomLeaveTheFrameAlone) {
  const Bytes full = seg().tcp(1024, 80, net::kTcpAck).tcpOptions(Bytes(36, 1)).build();
  EXPECT_EQ(withToa(full, fwd::ToaStatus::kNoOptionRoom), full);
  const Bytes plain = seg().tcp(1024, 80, net::kTcpAck).payload("x").build();
  EXPECT_EQ(withToa(plain, fwd::ToaStatus::kNoBufferRoom, 4), plain);
}

// The MSS option of a SYN-ACK, lowered with the checksum updated.
Bytes lowered(Bytes in, uint16_t by, bool want_done) {
  const net::ParseResult pr = net::parseFrame(in);
  EXPECT_EQ(fwd::lowerMss(in, pr.pkt, by), want_done);
  return in;
}

TEST(LowerMss, AtAnEvenAndAnOddOffset) {
  const auto synack = [](Bytes opts) {
    return seg().tcp(80, 40000, net::kTcpSyn | net::kTcpAck).tcpOptions(std::move(opts)).build();
  };
  EXPECT_EQ(lowered(synack({2, 4, 0x05, 0xb4}), 8, true), synack({2, 4, 0x05, 0xac}));
  // After one NOP: the value's bytes straddle two 16-bit words of the header.
  EXPECT_EQ(lowered(synack({1, 2, 4, 0x05, 0xb4, 1, 1, 1}), 20, true),
            synack({1, 2, 4, 0x05, 0xa0, 1, 1, 1}));
  // Never below 536 + the option; a malformed list (a length running past the header) or
  // no MSS at all is left alone.
  const Bytes small = synack({2, 4, 0x02, 0x20});
  EXPECT_EQ(lowered(small, 20, false), small);
  const Bytes bad = synack({3, 9, 0, 0, 2, 4, 0x05, 0xb4});
  EXPECT_EQ(lowered(bad, 8, false), bad);
  const Bytes none = synack({1, 1, 1, 1});
  EXPECT_EQ(lowered(none, 8, false), none);
}

}  // namespace
}  // namespace sluice::testing
