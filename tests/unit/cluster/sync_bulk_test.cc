#include "cluster/sync_bulk.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "unit/cluster/entries.h"

namespace sluice::cluster {
namespace {

using testing::drConn;

std::vector<Message> copyOf(uint32_t request_id, size_t n_entries) {
  BulkWriter w(request_id);
  std::vector<Message> out;
  for (size_t i = 0; i < n_entries; ++i)
    if (auto m = w.add(drConn(uint16_t(i + 1)))) out.push_back(std::move(*m));
  out.push_back(w.finish());
  return out;
}

TEST(SyncBulk, WriterFillsChunksNumbersThemAndMarksTheLast) {
  auto chunks = copyOf(7, 2 * kMaxChunkEntries + 3);
  ASSERT_EQ(chunks.size(), 3u);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].chunk_index, i);
    EXPECT_EQ(chunks[i].request_id, 7u);
    EXPECT_EQ(chunks[i].last_chunk, i + 1 == chunks.size());
    EXPECT_TRUE(validateMessage(chunks[i]).ok());  // every chunk fits one datagram
    total += chunks[i].entries.size();
  }
  EXPECT_EQ(total, 2 * kMaxChunkEntries + 3);
  // A full final chunk is followed by an empty last one; an empty table sends one, last.
  EXPECT_EQ(copyOf(7, kMaxChunkEntries).back().entries.size(), 0u);
  auto empty = copyOf(7, 0);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty[0].last_chunk);
}

TEST(SyncBulk, ReceiverCompletesWhateverTheOrderAndCountsDuplicates) {
  auto chunks = copyOf(9, 5 * kMaxChunkEntries);  // 6 chunks, the last empty
  std::reverse(chunks.begin(), chunks.end());
  BulkReceiver r(9);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_FALSE(r.complete());
    EXPECT_EQ(r.onChunk(chunks[i]), BulkVerdict::kAccepted) << i;
  }
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.onChunk(chunks[2]), BulkVerdict::kDuplicate);
  EXPECT_EQ(r.received(), 6u);
}

TEST(SyncBulk, AGapKeepsTheCopyIncomplete) {
  auto chunks = copyOf(9, 3 * kMaxChunkEntries + 1);  // 4 chunks
  BulkReceiver r(9);
  for (size_t i : {0, 1, 3}) EXPECT_EQ(r.onChunk(chunks[i]), BulkVerdict::kAccepted);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.onChunk(chunks[2]), BulkVerdict::kAccepted);
  EXPECT_TRUE(r.complete());
}

TEST(SyncBulk, ChunksOfAnotherRequestOrPastTheEndAreRefused) {
  auto old = copyOf(8, 1);
  auto cur = copyOf(9, kMaxChunkEntries + 1);  // 2 chunks
  BulkReceiver r(9, 100);
  EXPECT_EQ(r.onChunk(old[0]), BulkVerdict::kOtherRequest);
  EXPECT_EQ(r.onChunk(testing::heartbeat()), BulkVerdict::kOtherRequest);
  EXPECT_EQ(r.onChunk(cur[1]), BulkVerdict::kAccepted);  // last, index 1
  Message beyond = cur[0];
  beyond.chunk_index = 2;
  EXPECT_EQ(r.onChunk(beyond), BulkVerdict::kOutOfRange);
  Message second_last = cur[0];
  second_last.last_chunk = true;
  EXPECT_EQ(r.onChunk(second_last), BulkVerdict::kOutOfRange);
  Message huge = cur[0];
  huge.chunk_index = 100;
  EXPECT_EQ(r.onChunk(huge), BulkVerdict::kOutOfRange);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.onChunk(cur[0]), BulkVerdict::kAccepted);
  EXPECT_TRUE(r.complete());
}

TEST(SyncBulk, ALastChunkBelowOneAlreadyReceivedIsRefused) {
  auto cur = copyOf(9, 3 * kMaxChunkEntries);  // 4 chunks
  BulkReceiver r(9);
  EXPECT_EQ(r.onChunk(cur[2]), BulkVerdict::kAccepted);
  Message early_last = cur[1];
  early_last.last_chunk = true;
  EXPECT_EQ(r.onChunk(early_last), BulkVerdict::kOutOfRange);
}

}  // namespace
}  // namespace sluice::cluster
