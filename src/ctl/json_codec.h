// JSON forms of the control-plane model, shared by the control socket (both ends) and
// `sluiceadm --json`. Decoding is strict: wrong types, missing required fields, unknown
// fields and out-of-range numbers all come back as an Error naming the field; nothing
// here throws to the caller. The trade-off: a strict reader rejects requests from a newer
// client instead of silently ignoring what it does not understand, which is what an
// operator wants from a load balancer's control socket (a typo must not become a default).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "ctl/backend.h"
#include "svc/model.h"

namespace sluice::ctl {

using Json = nlohmann::json;

// Field names (all lower_snake_case):
//   Endpoint      {"addr": "10.0.0.1", "port": 80}
//   ServiceKey    {"proto": "tcp"|"udp", "addr": "...", "port": N}
//                 | {"fwmark": N (>0), "family": "ipv4"|"ipv6"}
//   ServiceConfig {"key": ServiceKey, "scheduler": "wlc", "sched_flags": 0..7,
//                  "persistent": bool, "persistence_timeout": s, "persistence_prefix": len,
//                  "one_packet": bool, "client_addr": "none"|"toa"|"proxy-v2"}
//                                                  (only "key" required; client_addr is
//                                                  omitted at toa)
//   LocalAddress  {"addr", "ifname"}               (ifname omitted when empty)
//   LaddrInfo     {"addr", "ifname", "conns"}      (a LocalAddress with its ports in use)
//   DestConfig    {"addr", "port", "fwd": "dr"|"tun"|"nat"|"fullnat"|"local", "weight",
//                  "u_threshold", "l_threshold", "tun_type": "ipip"|"gue"|"gre",
//                  "tun_port": N, "tun_flags": ["csum"|"remcsum"]}
//                                                  (only "addr" and "port" required; the
//                                                  tun_* fields are omitted at ipip/0/[])
//   Timeouts      {"tcp", "tcp_fin", "udp"}        (all required)
//   Stats         {"conns", "inpkts", "outpkts", "inbytes", "outbytes"}
//   Rate          {"cps", "inpps", "outpps", "inbps", "outbps"}
//   DestInfo      {"dest": DestConfig, "active", "inactive", "persist", "stats", "rate"}
//   ServiceInfo   {"service": ServiceConfig, "stats", "rate", "dests": [DestInfo],
//                  "laddrs": [LaddrInfo]}          (laddrs may be absent: none)
//   ConnInfo      {"proto": IP protocol number, "state", "expire_s", "client", "vip",
//                  "dest" (Endpoints), "fwd", "template": bool}
//   CounterInfo   {"name", "drop": bool, "slow", "fast"}
//   CheckerInfo   {"kind", "target": Endpoint, "up", "reason", "checks", "failures",
//                  "last_transition_unix_ns"}
//   HealthInfo    {"service": ServiceKey, "vs", "rs": Endpoint, "up", "sorry", "in_table",
//                  "weight", "quorum", "reason", "last_transition_unix_ns", "checkers": [CheckerInfo]}
//   SyncDaemonArgs {"role": "master"|"backup", "mcast_interface", "syncid", "mcast_group",
//                  "mcast_port", "mcast_ttl", "sync_maxlen"}   (only "role" required)
//   SyncDaemonInfo {"roles": ["master", "backup"], "interface" ("" when none), "addr",
//                  "syncid", "port", "maxlen", "ready", "peers", "peers_alive",
//                  "counters": {name: N}}
Json toJson(const net::Endpoint& e);
Json toJson(const svc::ServiceKey& k);
Json toJson(const svc::ServiceConfig& s);
Json toJson(const svc::DestConfig& d);
Json toJson(const svc::LocalAddress& l);
Json toJson(const LaddrInfo& l);
Json toJson(const svc::Timeouts& t);
Json toJson(const sl_stats& s);
Json toJson(const Rate& r);
Json toJson(const DestInfo& d);
Json toJson(const ServiceInfo& s);
Json toJson(const ConnInfo& c);
Json toJson(const CounterInfo& c);
Json toJson(const CheckerInfo& c);
Json toJson(const HealthInfo& h);
Json toJson(const SyncDaemonArgs& a);
Json toJson(const SyncDaemonInfo& x);

// Defined for every type toJson accepts. `what` names the value in error messages
// ("service", "dest", ...).
template <class T>
Result<T> fromJson(const Json& j, std::string_view what);
template <> Result<net::Endpoint> fromJson(const Json&, std::string_view);
template <> Result<svc::ServiceKey> fromJson(const Json&, std::string_view);
template <> Result<svc::ServiceConfig> fromJson(const Json&, std::string_view);
template <> Result<svc::DestConfig> fromJson(const Json&, std::string_view);
template <> Result<svc::LocalAddress> fromJson(const Json&, std::string_view);
template <> Result<LaddrInfo> fromJson(const Json&, std::string_view);
template <> Result<svc::Timeouts> fromJson(const Json&, std::string_view);
template <> Result<sl_stats> fromJson(const Json&, std::string_view);
template <> Result<Rate> fromJson(const Json&, std::string_view);
template <> Result<DestInfo> fromJson(const Json&, std::string_view);
template <> Result<ServiceInfo> fromJson(const Json&, std::string_view);
template <> Result<ConnInfo> fromJson(const Json&, std::string_view);
template <> Result<CounterInfo> fromJson(const Json&, std::string_view);
template <> Result<CheckerInfo> fromJson(const Json&, std::string_view);
template <> Result<HealthInfo> fromJson(const Json&, std::string_view);
template <> Result<SyncDaemonArgs> fromJson(const Json&, std::string_view);
template <> Result<SyncDaemonInfo> fromJson(const Json&, std::string_view);

// "dr", "tun", "nat", "fullnat", "local".
const char* fwdJsonName(svc::FwdMethod m);

// Serialises without ever throwing (invalid UTF-8 in strings is replaced).
std::string dumpJson(const Json& j);

}  // namespace sluice::ctl
