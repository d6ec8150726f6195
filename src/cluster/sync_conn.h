// Between a connection-table entry (abi/records.h sl_conn) and a synced entry. The sender
// knows its own ids; the wire carries addresses; the receiver turns addresses back into its
// own ids. This file is the pure part of both directions: the id lookups (service table,
// dest table, template slot) are the caller's, passed in resolved.
#pragma once

#include <optional>

#include "abi/records.h"
#include "cluster/sync_entry.h"
#include "common/clock.h"
#include "net/addr.h"

namespace sluice::cluster {

// What the sender resolves from its own ids for one entry.
struct ConnContext {
  net::Endpoint dest;        // the real server (dest_id's address and port)
  uint32_t svc_fwmark = 0;   // the service (svc_id's key)
  uint16_t svc_port = 0;
  const sl_conn_key* tmpl = nullptr;  // the controlling template's key, if any
  net::Endpoint local;       // FULLNAT's local address/port; empty otherwise
};

// The synced form of `c` at time `now`: its remaining timeout is rounded up to whole seconds
// and at least 1 (an entry about to expire still tells the peer where the flow went). The
// result still has to pass validateEntry(): a caller holding a damaged entry gets the reason.
SyncEntry entryFromConn(const sl_conn& c, const ConnContext& ctx, Nanos now);

// The receiver's side: the table key the entry lives under, and, for a controlled
// connection, its template's key.
sl_conn_key connKeyOf(const SyncEntry& e);
std::optional<sl_conn_key> templateKeyOf(const SyncEntry& e);

}  // namespace sluice::cluster
