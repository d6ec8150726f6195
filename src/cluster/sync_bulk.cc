// Bulk copy framing and reassembly bookkeeping (see sync_bulk.h).
#include "cluster/sync_bulk.h"

#include <algorithm>

namespace sluice::cluster {

BulkWriter::BulkWriter(uint32_t request_id) : request_id_(request_id) {
  pending_.reserve(kMaxChunkEntries);
}

Message BulkWriter::take(bool last) {
  Message m;
  m.type = MsgType::kBulkChunk;
  m.request_id = request_id_;
  m.chunk_index = next_index_++;
  m.last_chunk = last;
  m.entries.swap(pending_);
  pending_.clear();
  pending_.reserve(kMaxChunkEntries);
  return m;
}

std::optional<Message> BulkWriter::add(const SyncEntry& e) {
  pending_.push_back(e);
  if (pending_.size() < kMaxChunkEntries) return std::nullopt;
  return take(false);
}

Message BulkWriter::finish() { return take(true); }

BulkReceiver::BulkReceiver(uint32_t request_id, uint32_t max_chunks)
    : request_id_(request_id), max_chunks_(std::min(max_chunks, kMaxBulkChunks)) {}

bool BulkReceiver::has(uint32_t i) const {
  size_t w = i / 64;
  return w < bits_.size() && (bits_[w] >> (i % 64) & 1);
}

BulkVerdict BulkReceiver::onChunk(const Message& m) {
  if (m.type != MsgType::kBulkChunk || m.request_id != request_id_) return BulkVerdict::kOtherRequest;
  uint32_t i = m.chunk_index;
  if (i >= max_chunks_) return BulkVerdict::kOutOfRange;
  if (has(i)) {
    // The same index again must say the same thing about being last.
    if (m.last_chunk != (last_ == i)) return BulkVerdict::kOutOfRange;
    return BulkVerdict::kDuplicate;
  }
  if (last_ && i > *last_) return BulkVerdict::kOutOfRange;
  if (m.last_chunk && ((last_ && *last_ != i) || (received_ > 0 && i < highest_)))
    return BulkVerdict::kOutOfRange;
  size_t w = i / 64;
  if (w >= bits_.size()) bits_.resize(w + 1, 0);  // bounded by max_chunks_
  bits_[w] |= uint64_t(1) << (i % 64);
  ++received_;
  highest_ = std::max(highest_, i);
  if (m.last_chunk) last_ = i;
  return BulkVerdict::kAccepted;
}

}  // namespace sluice::cluster
