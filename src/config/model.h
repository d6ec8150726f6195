// What a config file says, once parsed: the LVS part of keepalived.conf or an ldirectord.cf,
// in one model. The parsers (config/keepalived.h, config/ldirectord.h) fill it and resolve
// keepalived's inheritance (virtual server -> real server -> checker) and defaults, so every
// value here is concrete; the daemon turns it into service-table operations (config/diff.h)
// and checker targets (health/). Every item keeps where it was written (file:line) for the
// messages a person reads.
//
// Trade-off: one model for both formats rather than one per format, so the health manager,
// the reload diff and the metrics never ask which file a service came from; ldirectord's
// options map onto keepalived's (quiescent -> inhibit_on_failure, fallback -> sorry_server,
// checktype negotiate -> HTTP_GET/SMTP/DNS... by service) in its parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::config {

struct Where {
  std::string file;
  int line = 0;
  friend bool operator==(const Where&, const Where&) = default;
};

// One problem found in a file: "FILE:LINE: message". Warnings do not stop a load (they are
// logged); errors do (the whole file is refused, a running daemon keeps its configuration).
struct Diag {
  Where at;
  std::string message;
  bool error = true;
};

enum class Format : uint8_t { kAuto, kKeepalived, kLdirectord };

enum class CheckKind : uint8_t {
  kTcp,   // TCP_CHECK, ldirectord connect
  kHttp,  // HTTP_GET, ldirectord negotiate for http
  kSsl,   // SSL_GET, ldirectord negotiate/connect for https
  kMisc,  // MISC_CHECK, ldirectord external
  kDns,   // DNS_CHECK, ldirectord negotiate for dns
  kUdp,   // UDP_CHECK
  kPing,  // PING_CHECK, ldirectord ping
  kSmtp,  // SMTP_CHECK, ldirectord negotiate for smtp
  kFile,  // FILE_CHECK (track_file)
  kOn,    // ldirectord checktype=on: always up
  kOff,   // ldirectord checktype=off: always down
};
const char* checkKindName(CheckKind k);  // "TCP_CHECK", "HTTP_GET", ...

// An HTTP_GET / SSL_GET url block (or ldirectord's request/receive).
struct UrlCheck {
  std::string path = "/";
  std::string digest;                           // lower-case hex MD5 of the body, or empty
  std::vector<std::pair<int, int>> status_codes;  // inclusive ranges; empty = 200..299
  std::string virtualhost;                      // Host header; empty = the checker's/RS's
  std::string regex;                            // POSIX extended; empty = none
  bool regex_no_match = false;                  // up when the regex does NOT match
  friend bool operator==(const UrlCheck&, const UrlCheck&) = default;
};

// One checker on one real server, every value resolved (defaults and inheritance applied).
struct CheckerConfig {
  CheckKind kind = CheckKind::kTcp;
  Where at;
  // Where to connect: connect_ip / connect_port default to the real server's.
  std::optional<net::IpAddr> connect_ip;
  uint16_t connect_port = 0;  // 0 = the real server's port
  std::optional<net::IpAddr> bindto;
  uint16_t bind_port = 0;
  std::string bind_if;
  uint32_t fwmark = 0;
  // Timing (keepalived's defaults: delay_loop 60 s, connect_timeout 5 s, retry 1 (DNS 3,
  // MISC 0), delay_before_retry 1 s (HTTP/SSL 3 s, DNS = delay_loop), warmup = delay_loop).
  Nanos delay_loop = 60 * kSecond;
  Nanos connect_timeout = 5 * kSecond;
  unsigned retry = 1;
  Nanos delay_before_retry = 1 * kSecond;
  Nanos warmup = 60 * kSecond;
  bool log_all_failures = false;
  bool alpha = false;  // start down until the first success (else start up)
  // HTTP_GET / SSL_GET
  std::string http_protocol = "1.0";  // "1.0", "1.0C" (Connection: close), "1.1"
  std::string http_method = "GET";    // "GET", or "HEAD" (ldirectord httpmethod)
  std::vector<UrlCheck> urls;
  std::string virtualhost;  // default Host for every url
  bool enable_sni = false;
  bool fast_recovery = false;
  // SMTP_CHECK
  std::string helo_name;
  // DNS_CHECK
  std::string dns_type = "SOA";
  std::string dns_name = ".";
  // MISC_CHECK
  std::string misc_path;  // the command line as written
  Nanos misc_timeout = 0;  // 0 = delay_loop
  bool misc_dynamic = false;
  bool misc_shell = false;  // run through /bin/sh -c (only when asked; default: split words)
  std::string misc_user;
  // UDP_CHECK
  std::vector<uint8_t> udp_payload;
  bool require_reply = false;
  std::vector<uint8_t> udp_reply;  // expected reply prefix when given
  uint32_t min_reply_length = 0;
  uint32_t max_reply_length = 0;  // 0 = no limit
  // FILE_CHECK: the tracked file, and keepalived's weight rule (file's number x weight,
  // negative with reverse); weight 0 means "non-zero value = down".
  std::string file_path;
  int32_t file_weight = 0;
  bool file_reverse = false;

  friend bool operator==(const CheckerConfig&, const CheckerConfig&) = default;
};

struct RealServerConfig {
  Where at;
  svc::DestConfig dest;  // endpoint (port 0 -> the service's), method, weight, thresholds
  bool inhibit_on_failure = false;  // down -> weight 0 (stays in the table) instead of removed
  bool alpha = false;               // start down until the checkers pass (else start up)
  std::string notify_up;            // commands, as written
  std::string notify_down;
  std::vector<CheckerConfig> checkers;  // all must pass; none = always up
  friend bool operator==(const RealServerConfig&, const RealServerConfig&) = default;
};

struct SorryServer {
  net::Endpoint ep;  // port 0 -> the service's
  svc::FwdMethod fwd = svc::FwdMethod::kDr;
  uint8_t tun_type = SL_TUN_IPIP;  // TUN: as svc::DestConfig's
  uint16_t tun_port = 0;
  uint8_t tun_flags = 0;
  bool inhibit = false;  // sorry_server_inhibit: kept at weight 0 while not in use
  friend bool operator==(const SorryServer&, const SorryServer&) = default;
};

struct VirtualServerConfig {
  Where at;
  std::string name;  // as written: "10.0.0.1 80", "fwmark 7", "group WEB", ldirectord "virtual=..."
  // The IPVS services this block makes: one, or one per member of a virtual_server_group.
  // Each carries the block's scheduler, persistence and flags.
  std::vector<svc::ServiceConfig> services;
  std::vector<RealServerConfig> real_servers;
  std::optional<SorryServer> sorry_server;  // keepalived sorry_server, ldirectord fallback
  uint32_t quorum = 1;       // sum of the weights of live real servers needed
  uint32_t hysteresis = 0;
  std::string quorum_up;     // commands, as written
  std::string quorum_down;
  bool omega = false;        // run quorum_down at start/stop even when quorum was never lost
  bool ha_suspend = false;
  std::string virtualhost;
  bool scheduler_given = false;  // lb_algo/lvs_sched/scheduler= written (else a cluster uses mh)
  // FULLNAT local addresses (DPVS keepalived's laddr_group_name: its local_address_group's
  // members), given to each of the block's services. Their client-address mode is in
  // services[i].client_addr (proxy_protocol / client_addr).
  std::string laddr_group;
  std::vector<svc::LocalAddress> laddrs;
  friend bool operator==(const VirtualServerConfig&, const VirtualServerConfig&) = default;
};

struct GlobalConfig {
  std::string router_id;
  std::optional<svc::Timeouts> lvs_timeouts;  // lvs_timeouts tcp S tcpfin S udp S
  bool lvs_flush = false;                     // clear the table at start
  bool lvs_flush_on_stop = false;
  std::string lvs_notify_fifo;  // "VS [ip]:tcp:80 UP|DOWN" lines
  bool checker_log_all_failures = false;
  bool enable_script_security = false;
  std::string script_user;
  // ldirectord globals
  bool autoreload = false;
  std::string emailalert;  // logged, never sent
};

// The `sluice_cluster { ... }` block (in keepalived.conf, or alone in the file given to
// sluiced --cluster): the directors of an active-active cluster. Every director may read the
// same block: a director is the one whose address is local, unless node_id says otherwise.
struct ClusterDirector {
  uint32_t node_id = 0;  // 1..kMaxClusterNodeId, unique in the block
  net::IpAddr addr;      // its sync address (unicast UDP, sync_port)
  Where where;
  friend bool operator==(const ClusterDirector&, const ClusterDirector&) = default;
};

inline constexpr uint32_t kMaxClusterNodeId = 255;

struct ClusterConfig {
  bool present = false;
  Where where;
  std::optional<uint32_t> node_id;  // this director; derived from a local address if unset
  std::vector<ClusterDirector> directors;
  std::string vip_interface = "sluice-vip";
  std::string shared_key_file;     // the key every director holds (at least 32 bytes)
  uint16_t sync_port = 8848;       // IPVS's sync port
  uint32_t join_timeout_ms = 5000;  // longest wait for peers' bulk copies before announcing
  uint32_t drain_ms = 5000;         // graceful stop: forwarding goes on this long after withdraw
  uint64_t sync_bandwidth = 10'000'000;  // bytes per second per peer
  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

struct Config {
  Format format = Format::kKeepalived;
  GlobalConfig global;
  std::vector<VirtualServerConfig> virtual_servers;
  ClusterConfig cluster;
  std::vector<std::string> files;     // every file read (the main one and its includes)
  std::vector<std::string> skipped;   // "vrrp_instance VI_1 (FILE:LINE)": not Sluice's, logged once
  std::vector<Diag> diags;            // errors and warnings, in file order
  bool ok() const;                    // no error among diags
};

}  // namespace sluice::config
