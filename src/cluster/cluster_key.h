// The cluster's shared key file, from which every director derives the sync key
// (SyncKey::derive). Kept apart from the config file so that the config can be world-readable
// and versioned while the secret is not: the loader refuses a key file that group or others
// may read, as ssh refuses a private key, because a leaked key lets anyone on the sync
// network install connections into every director.
#pragma once

#include <string>

#include "common/result.h"

namespace sluice::cluster {

// At least this many bytes of key material (e.g. 32 random bytes, or 64 hex digits).
constexpr size_t kMinClusterKeyFile = 32;
// Larger files are refused: a key file is a line, not a document.
constexpr size_t kMaxClusterKeyFile = 4096;

// The file's content without its trailing newline (\n or \r\n). Refuses a file shorter than
// kMinClusterKeyFile, longer than kMaxClusterKeyFile, not a regular file, or readable by
// group or others (the message names `chmod 600`).
Result<std::string> loadClusterKey(const std::string& path);

}  // namespace sluice::cluster
