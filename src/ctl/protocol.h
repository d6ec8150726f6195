// The control-socket protocol: one JSON object per line in each direction over a Unix
// stream socket. A request names an operation ("op") and carries the model values it
// needs; the answer is {"ok":true, ...data} or {"ok":false,"error":"..."}. Line framing
// keeps both ends trivial (socat/nc can drive it) at the cost of no streaming: a list
// answer is one line, however many connections it holds.
//
//   op              request fields                         answer data
//   add_service     service: ServiceConfig                 -
//   edit_service    service: ServiceConfig                 -
//   del_service     key: ServiceKey                        -
//   clear           -                                      -
//   add_dest        key: ServiceKey, dest: DestConfig      -
//   edit_dest       key: ServiceKey, dest: DestConfig      -
//   del_dest        key: ServiceKey, rs: Endpoint          -
//   add_laddr       key: ServiceKey, laddr: LocalAddress   -
//   del_laddr       key: ServiceKey, laddr: LocalAddress   -
//   zero            [key: ServiceKey]                      -
//   set_timeouts    timeouts: Timeouts (0 = unchanged)     -
//   get_timeouts    -                                      timeouts: Timeouts
//   list            [key: ServiceKey]                      conn_table_size, services: [ServiceInfo]
//                                                          (with their local addresses: -G)
//   list_conns      -                                      conns: [ConnInfo]
//   counters        -                                      counters: [CounterInfo]
//   reload          -                                      summary: string
//   health          -                                      health: [HealthInfo]
//   sync_daemons    -                                      sync: SyncDaemonInfo | null
//   start_daemon    daemon: SyncDaemonArgs                 -
//   stop_daemon     daemon: SyncDaemonArgs                 -
// (JSON shapes of the values: ctl/json_codec.h.)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "ctl/backend.h"
#include "ctl/json_codec.h"

namespace sluice::ctl {

// Requests longer than this (without the newline) are refused and the connection closed.
constexpr size_t kMaxRequestBytes = 1 << 20;
// JSON nesting deeper than this is refused before parsing (no request needs more than 4).
constexpr int kMaxJsonDepth = 32;

enum class Op {
  kAddService,
  kEditService,
  kDelService,
  kClear,
  kAddDest,
  kEditDest,
  kDelDest,
  kZero,
  kSetTimeouts,
  kGetTimeouts,
  kList,
  kListConns,
  kCounters,
  kReload,
  kHealth,
  kSyncDaemons,
  kStartDaemon,
  kStopDaemon,
  kAddLaddr,
  kDelLaddr,
};

const char* opName(Op op);
std::optional<Op> opFromName(std::string_view name);

struct Request {
  Op op = Op::kList;
  std::optional<svc::ServiceConfig> service;  // add_service, edit_service
  std::optional<svc::ServiceKey> key;         // *_dest, del_service; optional for zero, list
  std::optional<svc::DestConfig> dest;        // add_dest, edit_dest
  std::optional<net::Endpoint> rs;            // del_dest
  std::optional<svc::LocalAddress> laddr;     // add_laddr, del_laddr
  std::optional<svc::Timeouts> timeouts;      // set_timeouts
  std::optional<SyncDaemonArgs> daemon;       // start_daemon, stop_daemon
};

Json encodeRequest(const Request& r);
// Checks that exactly the fields the op needs are present and valid.
Result<Request> decodeRequest(const Json& j);

// Parses one request line (no trailing newline). Refuses oversize or too deeply nested
// input before handing it to the JSON parser.
Result<Json> parseLine(std::string_view line);

// Runs one request against the backend and builds the answer object.
Json dispatch(Backend& backend, const Request& r);

// The whole server-side step: line in, answer line out (without newline). Never throws.
std::string handleRequestLine(Backend& backend, std::string_view line);

Json okResponse();
Json errorResponse(std::string_view message);

// Client side: parses an answer line; {"ok":false} becomes the daemon's Error.
Result<Json> parseResponse(std::string_view line);

}  // namespace sluice::ctl
