#include "io/mem_backend.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace sluice::io {
namespace {

std::vector<uint8_t> frameOf(size_t n, uint8_t seed) {
  std::vector<uint8_t> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = uint8_t(seed + i);
  return f;
}

TEST(MemIo, ReceivesInjectedFramesInOrderWithTheirInterface) {
  MemIo io;
  auto a = frameOf(60, 1), b = frameOf(90, 7);
  ASSERT_TRUE(io.inject(3, a));
  ASSERT_TRUE(io.inject(5, b));
  std::array<Packet, 8> pkts;
  ASSERT_EQ(io.rxBurst(pkts), 2u);
  EXPECT_EQ(pkts[0].ifindex, 3u);
  EXPECT_EQ(std::vector<uint8_t>(pkts[0].data, pkts[0].data + pkts[0].len), a);
  EXPECT_EQ(pkts[1].ifindex, 5u);
  EXPECT_EQ(std::vector<uint8_t>(pkts[1].data, pkts[1].data + pkts[1].len), b);
  EXPECT_EQ(io.buffersOnLoan(), 2u);
  EXPECT_EQ(io.rxBurst(pkts), 0u);
  io.drop(std::span(pkts.data(), 2));
  EXPECT_EQ(io.buffersOnLoan(), 0u);
  EXPECT_EQ(io.stats().rx, 2u);
  EXPECT_EQ(io.stats().dropped, 2u);
}

TEST(MemIo, BurstIsBoundedByTheSpan) {
  MemIo io;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(io.inject(1, frameOf(64, uint8_t(i))));
  std::array<Packet, 3> pkts;
  EXPECT_EQ(io.rxBurst(pkts), 3u);
  EXPECT_EQ(io.pendingRx(), 2u);
  io.drop(pkts);
}

TEST(MemIo, TransmitsRewrittenAndGrownFramesOutOfTheChosenInterface) {
  MemIo io(MemIo::Options{.ifindexes = {3, 4}});
  auto a = frameOf(64, 0);
  ASSERT_TRUE(io.inject(3, a));
  Packet p;
  ASSERT_EQ(io.rxBurst(std::span(&p, 1)), 1u);
  ASSERT_GE(p.headroom(), 256u);
  // Encapsulate: 20 bytes in front, which the worker fills.
  ASSERT_TRUE(p.pushFront(20));
  for (int i = 0; i < 20; ++i) p.data[i] = 0xee;
  p.ifindex = 4;
  EXPECT_EQ(io.txBurst(std::span(&p, 1)), 1u);
  auto out = io.takeTransmitted();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ifindex, 4u);
  ASSERT_EQ(out[0].bytes.size(), 84u);
  EXPECT_EQ(out[0].bytes[19], 0xee);
  EXPECT_EQ(std::vector<uint8_t>(out[0].bytes.begin() + 20, out[0].bytes.end()), a);
  EXPECT_EQ(io.buffersOnLoan(), 0u);
}

TEST(MemIo, UnknownEgressAndFullRingDropAndCount) {
  MemIo io(MemIo::Options{.ifindexes = {3}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(io.inject(3, frameOf(64, 0)));
  std::array<Packet, 3> p;
  ASSERT_EQ(io.rxBurst(p), 3u);
  p[0].ifindex = 9;  // not ours
  p[1].ifindex = 3;
  p[2].ifindex = 3;
  io.failNextTx(1);
  EXPECT_EQ(io.txBurst(p), 1u);
  EXPECT_EQ(io.stats().tx_bad_iface, 1u);
  EXPECT_EQ(io.stats().tx_ring_full, 1u);
  EXPECT_EQ(io.takeTransmitted().size(), 1u);
  EXPECT_EQ(io.buffersOnLoan(), 0u);
}

TEST(MemIo, GivingAFrameBackTwiceIsCountedAsMisuse) {
  MemIo io;
  ASSERT_TRUE(io.inject(1, frameOf(64, 0)));
  Packet p;
  ASSERT_EQ(io.rxBurst(std::span(&p, 1)), 1u);
  io.drop(std::span(&p, 1));
  EXPECT_EQ(io.misuse(), 0u);
  p.ifindex = 1;
  EXPECT_EQ(io.txBurst(std::span(&p, 1)), 0u);
  EXPECT_EQ(io.misuse(), 1u);
  EXPECT_TRUE(io.takeTransmitted().empty());
}

TEST(MemIo, FrameGrownPastItsBufferIsNotTransmitted) {
  MemIo io(MemIo::Options{.buffers = 4, .buf_size = 2048, .headroom = 64, .ifindexes = {}});
  ASSERT_TRUE(io.inject(1, frameOf(64, 0)));
  Packet p;
  ASSERT_EQ(io.rxBurst(std::span(&p, 1)), 1u);
  EXPECT_FALSE(p.pushFront(65));
  EXPECT_FALSE(p.resize(2048 - 64 + 1));
  EXPECT_TRUE(p.resize(2048 - 64));
  p.len = 5000;  // a buggy worker
  p.ifindex = 1;
  EXPECT_EQ(io.txBurst(std::span(&p, 1)), 0u);
  EXPECT_EQ(io.stats().tx_bad_frame, 1u);
  EXPECT_EQ(io.buffersOnLoan(), 0u);
}

TEST(MemIo, PassedFramesAreCollectedSeparately) {
  MemIo io;
  ASSERT_TRUE(io.inject(2, frameOf(60, 4)));
  Packet p;
  ASSERT_EQ(io.rxBurst(std::span(&p, 1)), 1u);
  io.pass(std::span(&p, 1));
  auto passed = io.takePassed();
  ASSERT_EQ(passed.size(), 1u);
  EXPECT_EQ(passed[0].ifindex, 2u);
  EXPECT_EQ(passed[0].bytes, frameOf(60, 4));
  EXPECT_TRUE(io.takeTransmitted().empty());
}

TEST(MemIo, AllocRunsOutAndRecovers) {
  MemIo io(MemIo::Options{.buffers = 2, .buf_size = 4096, .headroom = 256, .ifindexes = {}});
  Packet a, b, c;
  ASSERT_TRUE(io.alloc(a));
  ASSERT_TRUE(io.alloc(b));
  EXPECT_FALSE(io.alloc(c));
  EXPECT_EQ(io.stats().alloc_failed, 1u);
  EXPECT_FALSE(io.inject(1, frameOf(60, 0)));  // no buffer for rx either
  EXPECT_EQ(a.len, 0u);
  EXPECT_GE(a.headroom(), 256u);
  io.drop(std::span(&a, 1));
  EXPECT_TRUE(io.alloc(c));
  io.drop(std::span(&b, 1));
  io.drop(std::span(&c, 1));
  EXPECT_EQ(io.buffersOnLoan(), 0u);
}

TEST(MemIo, RejectsFramesLargerThanABuffer) {
  MemIo io(MemIo::Options{.buffers = 2, .buf_size = 2048, .headroom = 256, .ifindexes = {}});
  EXPECT_FALSE(io.inject(1, frameOf(2048 - 256 + 1, 0)));
  EXPECT_TRUE(io.inject(1, frameOf(2048 - 256, 0)));
}

}  // namespace
}  // namespace sluice::io
