// The bulk copy: how a joining or restarted director receives its peers' tables before it
// announces its VIPs.
//
// The joiner sends BULK_REQUEST with a fresh request id to each peer; each peer walks its
// table and answers with BULK_CHUNK messages of that id, numbered from 0, the final one
// marked last (an empty table still sends one, empty and last). Over UDP chunks may arrive
// out of order, twice, or not at all, so the receiver tracks which indices it holds: the copy
// is complete when the last chunk and every index below it have arrived. A gap that does
// not fill within the caller's timeout means loss; the caller asks again with a new id
// (chunks of an old id are then refused, so two copies never interleave). Entries are
// idempotent to install, so a repeated copy costs time, not correctness.
//
// BulkWriter is the sending side's framing, BulkReceiver the joiner's bookkeeping for one
// peer. Both pure; memory bounded by kMaxBulkChunks.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cluster/sync_wire.h"

namespace sluice::cluster {

// 2^20 chunks of 11 entries: 11.5 million connections, a 128 KiB bitmap at most.
constexpr uint32_t kMaxBulkChunks = 1u << 20;

class BulkWriter {
 public:
  explicit BulkWriter(uint32_t request_id);

  // Adds one entry; returns a full chunk, ready to seal, when this entry completed one.
  std::optional<Message> add(const SyncEntry& e);
  // The final chunk (whatever is left, possibly nothing), marked last.
  Message finish();

  uint32_t chunksMade() const { return next_index_; }

 private:
  Message take(bool last);

  uint32_t request_id_;
  uint32_t next_index_ = 0;
  std::vector<SyncEntry> pending_;
};

enum class BulkVerdict : uint8_t {
  kAccepted,      // new: install its entries
  kDuplicate,     // this index arrived before
  kOtherRequest,  // not an answer to the current request (an older copy, or not a chunk)
  kOutOfRange,    // index past the limit or past the last chunk, or a second, different last
};

class BulkReceiver {
 public:
  explicit BulkReceiver(uint32_t request_id, uint32_t max_chunks = kMaxBulkChunks);

  BulkVerdict onChunk(const Message& m);

  bool complete() const { return last_.has_value() && received_ == *last_ + 1; }
  uint32_t received() const { return received_; }
  uint32_t requestId() const { return request_id_; }

 private:
  bool has(uint32_t i) const;

  uint32_t request_id_;
  uint32_t max_chunks_;
  std::optional<uint32_t> last_;  // index of the chunk marked last
  uint32_t highest_ = 0;          // highest index received
  uint32_t received_ = 0;
  std::vector<uint64_t> bits_;
};

}  // namespace sluice::cluster
