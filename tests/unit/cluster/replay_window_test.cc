#include "cluster/replay_window.h"

#include <gtest/gtest.h>

namespace sluice::cluster {
namespace {

void accept(ReplayWindow& w, uint64_t epoch, uint64_t seq) {
  ASSERT_EQ(w.check(epoch, seq), ReplayVerdict::kFresh) << epoch << "/" << seq;
  w.commit(epoch, seq);
}

TEST(ReplayWindow, ReorderedWithinTheWindowIsAcceptedOnce) {
  ReplayWindow w;
  for (uint64_t s : {5, 3, 1, 4, 2}) accept(w, 7, s);
  for (uint64_t s = 1; s <= 5; ++s) EXPECT_EQ(w.check(7, s), ReplayVerdict::kReplay) << s;
  EXPECT_EQ(w.highest(), 5u);
}

TEST(ReplayWindow, OlderThanTheWindowIsRefused) {
  ReplayWindow w;
  accept(w, 7, 2000);
  EXPECT_EQ(w.check(7, 2000 - kReplayWindow), ReplayVerdict::kReplay);
  accept(w, 7, 2000 - kReplayWindow + 1);  // the oldest still inside
}

TEST(ReplayWindow, SlidingClearsTheSlotsItPasses) {
  ReplayWindow w;
  accept(w, 7, 10);
  accept(w, 7, 11);
  // 10 + kReplayWindow shares 10's slot: it is new, and 11's slot, still inside the window,
  // keeps its flag.
  accept(w, 7, 10 + kReplayWindow);
  EXPECT_EQ(w.check(7, 11), ReplayVerdict::kReplay);
  accept(w, 7, 12);
  EXPECT_EQ(w.check(7, 10), ReplayVerdict::kReplay);  // now below the window
  // 11 + kReplayWindow moves the window past 11; its slot holds the new flag only.
  accept(w, 7, 11 + kReplayWindow);
  EXPECT_EQ(w.check(7, 11 + kReplayWindow), ReplayVerdict::kReplay);
  EXPECT_EQ(w.check(7, 11), ReplayVerdict::kReplay);  // too old now
  EXPECT_EQ(w.check(7, 12), ReplayVerdict::kReplay);  // seen, still inside
  // A jump further than the window forgets everything below.
  accept(w, 7, 100000);
  for (uint64_t s = 100000 - kReplayWindow + 1; s < 100000; s += 97) accept(w, 7, s);
  EXPECT_EQ(w.check(7, 100000), ReplayVerdict::kReplay);
}

TEST(ReplayWindow, NewEpochRestartsOldEpochIsRefused) {
  ReplayWindow w;
  accept(w, 7, 500);
  accept(w, 8, 1);  // restart: sequence numbers start again
  EXPECT_EQ(w.epoch(), 8u);
  EXPECT_EQ(w.check(8, 1), ReplayVerdict::kReplay);
  accept(w, 8, 2);
  EXPECT_EQ(w.check(7, 501), ReplayVerdict::kOldEpoch);
  // A commit for an old epoch (never after a kFresh check) changes nothing.
  w.commit(7, 501);
  EXPECT_EQ(w.epoch(), 8u);
  EXPECT_EQ(w.highest(), 2u);
}

}  // namespace
}  // namespace sluice::cluster
