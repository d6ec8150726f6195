// keepalived's checker blocks (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK,
// MISC_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK) and the timing values a checker inherits
// from its real server and virtual server. Internal to config/keepalived.cc.
//
// Trade-off: a checker is parsed into a draft whose inheritable values are optional, and
// resolved once its real server and virtual server are known, instead of copying parent
// values down while parsing, so the order of lines inside a block never matters.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/lexer.h"
#include "config/model.h"

namespace sluice::config::keepalived {

// Values a virtual server passes to its real servers, and a real server to its checkers.
struct Inherit {
  std::optional<Nanos> delay_loop, connect_timeout, delay_before_retry, warmup;
  std::optional<unsigned> retry;
  std::optional<bool> alpha, inhibit_on_failure, log_all_failures;
  std::optional<std::string> virtualhost;
};

// Reads one inheritable keyword into `inh`. Returns false when `n` is not one.
bool parseInheritable(const Node& n, Inherit& inh, Config& cfg);

struct CheckerDraft {
  CheckerConfig c;  // kind, where, and the values that do not inherit
  Inherit own;
  std::string track_file;  // FILE_CHECK
  std::optional<int32_t> file_weight;
  std::optional<bool> file_reverse;
};

// True when `key` names a checker block (or BFD_CHECK, which is refused).
bool isCheckerKeyword(const std::string& key);

// Parses a checker block; SMTP_CHECK with host { } sub-blocks gives one draft per host.
std::vector<CheckerDraft> parseChecker(const Node& n, Config& cfg);

struct TrackFile {
  Where at;
  std::string path;
  int32_t weight = 1;
  bool reverse = false;
};

// Parses a top-level `track_file NAME { file P; weight N [reverse]; init_file ... }`.
std::optional<std::pair<std::string, TrackFile>> parseTrackFile(const Node& n, Config& cfg);

// Applies the inheritance chain checker -> real server -> virtual server -> default.
CheckerConfig resolveChecker(const CheckerDraft& d, const Inherit& rs, const Inherit& vs,
                             bool global_log_all_failures,
                             const std::map<std::string, TrackFile>& track_files, Config& cfg);

// Shared argument helpers.
bool wantArgs(const Node& n, size_t min, size_t max, Config& cfg);
std::string joinArgs(const Node& n, size_t from = 0);
std::optional<bool> boolArg(const Node& n, Config& cfg);  // absent = true
std::optional<Nanos> timeArg(const Node& n, Config& cfg);
std::optional<uint64_t> uintArg(const Node& n, uint64_t max, Config& cfg, size_t idx = 0);
std::optional<net::IpAddr> ipArg(const Node& n, Config& cfg, size_t idx = 0);
std::optional<uint16_t> portArg(const Node& n, Config& cfg, size_t idx = 0);
void unknownKeyword(const Node& n, const char* where, Config& cfg);
// Statements inside the LVS blocks: block keywords (real_server, url, the checkers...) need
// their { }, every other keyword takes none. False (with an error) when `n` breaks that.
bool shapeOk(const Node& n, Config& cfg);
void notSupported(const Node& n, const std::string& why, Config& cfg);

}  // namespace sluice::config::keepalived
