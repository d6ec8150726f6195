#include "config/keepalived_checkers.h"

#include <fmt/format.h>

#include "config/values.h"

namespace sluice::config::keepalived {

// ---- argument helpers ----

bool wantArgs(const Node& n, size_t min, size_t max, Config& cfg) {
  if (n.args.size() >= min && n.args.size() <= max) return true;
  if (min == max)
    addError(cfg, n.at, fmt::format("{} takes {} argument{}", n.key, min, min == 1 ? "" : "s"));
  else if (max == SIZE_MAX)
    addError(cfg, n.at, fmt::format("{} takes at least {} argument{}", n.key, min, min == 1 ? "" : "s"));
  else
    addError(cfg, n.at, fmt::format("{} takes {} to {} arguments", n.key, min, max));
  return false;
}

std::string joinArgs(const Node& n, size_t from) {
  std::string out;
  for (size_t i = from; i < n.args.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += n.args[i].text;
  }
  return out;
}

std::optional<bool> boolArg(const Node& n, Config& cfg) {
  if (n.args.empty()) return true;
  if (!wantArgs(n, 0, 1, cfg)) return std::nullopt;
  auto b = parseBool(n.args[0].text);
  if (!b) addError(cfg, n.at, fmt::format("{}: '{}' is not a boolean (on/off, true/false, yes/no)",
                                          n.key, n.args[0].text));
  return b;
}

std::optional<Nanos> timeArg(const Node& n, Config& cfg) {
  if (!wantArgs(n, 1, 1, cfg)) return std::nullopt;
  auto t = parseSeconds(n.args[0].text);
  if (!t) addError(cfg, n.at, fmt::format("{}: '{}' is not a time in seconds (0 to 86400)", n.key,
                                          n.args[0].text));
  return t;
}

std::optional<uint64_t> uintArg(const Node& n, uint64_t max, Config& cfg, size_t idx) {
  if (idx >= n.args.size()) {
    addError(cfg, n.at, fmt::format("{} needs a number", n.key));
    return std::nullopt;
  }
  auto v = parseUint(n.args[idx].text, max);
  if (!v) addError(cfg, n.at, fmt::format("{}: '{}' is not a number from 0 to {}", n.key,
                                          n.args[idx].text, max));
  return v;
}

std::optional<net::IpAddr> ipArg(const Node& n, Config& cfg, size_t idx) {
  if (idx >= n.args.size()) {
    addError(cfg, n.at, fmt::format("{} needs an IP address", n.key));
    return std::nullopt;
  }
  auto a = net::IpAddr::parse(n.args[idx].text);
  if (!a) addError(cfg, n.at, fmt::format("{}: '{}' is not an IP address", n.key, n.args[idx].text));
  return a;
}

std::optional<uint16_t> portArg(const Node& n, Config& cfg, size_t idx) {
  auto v = uintArg(n, 65535, cfg, idx);
  if (!v) return std::nullopt;
  return uint16_t(*v);
}

void unknownKeyword(const Node& n, const char* where, Config& cfg) {
  addError(cfg, n.at, fmt::format("unknown keyword '{}' in {}", n.key, where));
}

bool shapeOk(const Node& n, Config& cfg) {
  static constexpr const char* kBlocks[] = {"global_defs", "virtual_server_group", "virtual_server",
                                            "real_server", "url", "host", "local_address_group"};
  // (track_file is a block at the top level, a statement in FILE_CHECK: its callers check it.)
  bool wants_block = isCheckerKeyword(n.key);
  for (const char* b : kBlocks) wants_block |= n.key == b;
  if (wants_block && !n.block) {
    addError(cfg, n.at, fmt::format("{} needs a {{ }} block", n.key));
    return false;
  }
  if (!wants_block && n.block) {
    addError(cfg, n.at, fmt::format("{} takes no {{ }} block", n.key));
    return false;
  }
  return true;
}

void notSupported(const Node& n, const std::string& why, Config& cfg) {
  addError(cfg, n.at, fmt::format("{}: not supported by sluiced: {}", n.key, why));
}

// ---- inheritance ----

bool parseInheritable(const Node& n, Inherit& inh, Config& cfg) {
  const std::string& k = n.key;
  if (k == "delay_loop") {
    if (auto t = timeArg(n, cfg)) {
      if (*t == 0) addError(cfg, n.at, "delay_loop must be more than 0");
      else inh.delay_loop = *t;
    }
  } else if (k == "connect_timeout") {
    if (auto t = timeArg(n, cfg)) {
      if (*t == 0) addError(cfg, n.at, "connect_timeout must be more than 0");
      else inh.connect_timeout = *t;
    }
  } else if (k == "delay_before_retry") {
    if (auto t = timeArg(n, cfg)) inh.delay_before_retry = *t;
  } else if (k == "warmup") {
    if (auto t = timeArg(n, cfg)) inh.warmup = *t;
  } else if (k == "retry" || k == "nb_get_retry") {
    if (wantArgs(n, 1, 1, cfg))
      if (auto v = uintArg(n, 1000000, cfg)) inh.retry = unsigned(*v);
  } else if (k == "alpha") {
    if (auto b = boolArg(n, cfg)) inh.alpha = *b;
  } else if (k == "inhibit_on_failure") {
    if (auto b = boolArg(n, cfg)) inh.inhibit_on_failure = *b;
  } else if (k == "log_all_failures") {
    if (auto b = boolArg(n, cfg)) inh.log_all_failures = *b;
  } else if (k == "virtualhost") {
    if (wantArgs(n, 1, 1, cfg)) inh.virtualhost = n.args[0].text;
  } else {
    return false;
  }
  return true;
}

// ---- checkers ----

namespace {

struct KindName {
  const char* key;
  CheckKind kind;
};
constexpr KindName kKinds[] = {
    {"TCP_CHECK", CheckKind::kTcp},   {"HTTP_GET", CheckKind::kHttp},
    {"SSL_GET", CheckKind::kSsl},     {"MISC_CHECK", CheckKind::kMisc},
    {"DNS_CHECK", CheckKind::kDns},   {"UDP_CHECK", CheckKind::kUdp},
    {"PING_CHECK", CheckKind::kPing}, {"SMTP_CHECK", CheckKind::kSmtp},
    {"FILE_CHECK", CheckKind::kFile},
};

bool connects(CheckKind k) { return k != CheckKind::kMisc && k != CheckKind::kFile; }

// Where the checker connects: shared by every connecting checker and SMTP's host blocks.
bool parseConnectOption(const Node& n, CheckerConfig& c, Config& cfg) {
  const std::string& k = n.key;
  if (k != "connect_ip" && k != "connect_port" && k != "bindto" && k != "bind_port" &&
      k != "bind_if" && k != "fwmark")
    return false;
  if (!connects(c.kind)) {
    addError(cfg, n.at, fmt::format("{} has no meaning in {}", k, checkKindName(c.kind)));
    return true;
  }
  if (!wantArgs(n, 1, 1, cfg)) return true;
  if (k == "connect_ip") {
    if (auto a = ipArg(n, cfg)) c.connect_ip = *a;
  } else if (k == "connect_port") {
    if (auto p = portArg(n, cfg)) c.connect_port = *p;
  } else if (k == "bindto") {
    if (auto a = ipArg(n, cfg)) c.bindto = *a;
  } else if (k == "bind_port") {
    if (auto p = portArg(n, cfg)) c.bind_port = *p;
  } else if (k == "bind_if") {
    c.bind_if = n.args[0].text;
  } else if (auto v = uintArg(n, UINT32_MAX, cfg)) {
    c.fwmark = uint32_t(*v);
  }
  return true;
}

void parseUrl(const Node& n, CheckerDraft& d, Config& cfg) {
  UrlCheck u;
  bool has_path = false;
  for (const Node& s : n.children) {
    if (!shapeOk(s, cfg)) continue;
    const std::string& k = s.key;
    if (k == "path") {
      if (wantArgs(s, 1, 1, cfg)) {
        u.path = s.args[0].text;
        has_path = true;
      }
    } else if (k == "digest") {
      if (wantArgs(s, 1, 1, cfg)) {
        auto h = parseHex(s.args[0].text);
        if (!h || h->size() != 16) addError(cfg, s.at, "digest must be 32 hex digits (an MD5 sum)");
        else u.digest = lower(s.args[0].text);
      }
    } else if (k == "status_code") {
      if (wantArgs(s, 1, SIZE_MAX, cfg))
        for (const Token& t : s.args) {
          auto r = parseStatusRange(t.text);
          if (!r) addError(cfg, s.at, fmt::format("status_code: '{}' is not N or N-M within 100-599",
                                                  t.text));
          else u.status_codes.push_back(*r);
        }
    } else if (k == "virtualhost") {
      if (wantArgs(s, 1, 1, cfg)) u.virtualhost = s.args[0].text;
    } else if (k == "regex") {
      if (wantArgs(s, 1, SIZE_MAX, cfg)) u.regex = joinArgs(s);
    } else if (k == "regex_no_match") {
      if (wantArgs(s, 0, 0, cfg)) u.regex_no_match = true;
    } else if (k == "regex_stack") {
      addWarning(cfg, s.at, "regex_stack: ignored (sluiced uses POSIX regular expressions)");
    } else if (k == "regex_options" || k == "regex_min_offset" || k == "regex_max_offset") {
      notSupported(s, "sluiced matches POSIX extended regular expressions over the whole body", cfg);
    } else {
      unknownKeyword(s, "url", cfg);
    }
  }
  if (!has_path) addError(cfg, n.at, "url block without a path");
  if (u.regex_no_match && u.regex.empty()) addError(cfg, n.at, "regex_no_match without a regex");
  d.c.urls.push_back(std::move(u));
}

// Options of one checker kind (besides the common ones). False: not one of them.
bool parseKindOption(const Node& n, CheckerDraft& d, Config& cfg) {
  CheckerConfig& c = d.c;
  const std::string& k = n.key;
  switch (c.kind) {
    case CheckKind::kHttp:
    case CheckKind::kSsl:
      if (k == "url") {
        parseUrl(n, d, cfg);
      } else if (k == "http_protocol") {
        if (wantArgs(n, 1, 1, cfg)) {
          const std::string& v = n.args[0].text;
          if (v == "1.0" || v == "1.1" || v == "1.0C" || v == "1.0c") c.http_protocol = v == "1.0c" ? "1.0C" : v;
          else addError(cfg, n.at, fmt::format("http_protocol: '{}' is not 1.0, 1.0C or 1.1", v));
        }
      } else if (k == "fast_recovery") {
        if (auto b = boolArg(n, cfg)) c.fast_recovery = *b;
      } else if (k == "enable_sni" && c.kind == CheckKind::kSsl) {
        if (auto b = boolArg(n, cfg)) c.enable_sni = *b;
      } else {
        return false;
      }
      return true;
    case CheckKind::kSmtp:
      if (k == "helo_name") {
        if (wantArgs(n, 1, 1, cfg)) c.helo_name = n.args[0].text;
        return true;
      }
      return false;
    case CheckKind::kDns:
      if (k == "type") {
        if (wantArgs(n, 1, 1, cfg)) {
          std::string t = n.args[0].text;
          for (char& ch : t) ch = char(toupper(static_cast<unsigned char>(ch)));
          if (t == "A" || t == "NS" || t == "CNAME" || t == "SOA" || t == "MX" || t == "TXT" ||
              t == "AAAA")
            c.dns_type = t;
          else
            addError(cfg, n.at, fmt::format("type: '{}' is not A, NS, CNAME, SOA, MX, TXT or AAAA",
                                            n.args[0].text));
        }
      } else if (k == "name") {
        if (wantArgs(n, 1, 1, cfg)) c.dns_name = n.args[0].text;
      } else {
        return false;
      }
      return true;
    case CheckKind::kMisc:
      if (k == "misc_path") {
        if (wantArgs(n, 1, SIZE_MAX, cfg)) c.misc_path = joinArgs(n);
      } else if (k == "misc_timeout") {
        if (auto t = timeArg(n, cfg)) c.misc_timeout = *t;
      } else if (k == "misc_dynamic") {
        if (auto b = boolArg(n, cfg)) c.misc_dynamic = *b;
      } else if (k == "user") {
        if (wantArgs(n, 1, 2, cfg)) c.misc_user = joinArgs(n);
      } else {
        return false;
      }
      return true;
    case CheckKind::kUdp:
      if (k == "payload") {
        if (wantArgs(n, 1, SIZE_MAX, cfg)) {
          auto h = parseHex(joinArgs(n));
          if (!h) addError(cfg, n.at, "payload: not a list of hex bytes");
          else c.udp_payload = std::move(*h);
        }
      } else if (k == "require_reply") {
        c.require_reply = true;
        if (!n.args.empty()) {
          auto h = parseHex(joinArgs(n));
          if (!h) addError(cfg, n.at, "require_reply: not a list of hex bytes");
          else c.udp_reply = std::move(*h);
        }
      } else if (k == "min_reply_length") {
        if (auto v = uintArg(n, 65535, cfg)) c.min_reply_length = uint32_t(*v);
      } else if (k == "max_reply_length") {
        if (auto v = uintArg(n, 65535, cfg)) c.max_reply_length = uint32_t(*v);
      } else {
        return false;
      }
      return true;
    case CheckKind::kFile:
      if (k == "track_file") {
        if (wantArgs(n, 1, 1, cfg)) d.track_file = n.args[0].text;
      } else if (k == "weight") {
        if (wantArgs(n, 1, 2, cfg)) {
          std::string_view w = n.args[0].text;
          bool neg = !w.empty() && w[0] == '-';
          auto v = parseUint(neg ? w.substr(1) : w, 254);
          if (!v) addError(cfg, n.at, fmt::format("weight: '{}' is not a number from -254 to 254", w));
          else d.file_weight = neg ? -int32_t(*v) : int32_t(*v);
          if (n.args.size() == 2) {
            if (n.args[1].text == "reverse") d.file_reverse = true;
            else addError(cfg, n.at, fmt::format("weight: '{}' is not 'reverse'", n.args[1].text));
          }
        }
      } else {
        return false;
      }
      return true;
    default:
      return false;
  }
}

}  // namespace

bool isCheckerKeyword(const std::string& key) {
  for (const KindName& k : kKinds)
    if (key == k.key) return true;
  return key == "BFD_CHECK";
}

std::vector<CheckerDraft> parseChecker(const Node& n, Config& cfg) {
  if (n.key == "BFD_CHECK") {
    notSupported(n, "sluiced has no BFD; use a TCP_CHECK or PING_CHECK", cfg);
    return {};
  }
  CheckerDraft d;
  for (const KindName& k : kKinds)
    if (n.key == k.key) d.c.kind = k.kind;
  d.c.at = n.at;
  if (!n.args.empty()) addError(cfg, n.at, fmt::format("{} takes no arguments before its '{{'", n.key));
  std::vector<const Node*> hosts;
  for (const Node& s : n.children) {
    if (!shapeOk(s, cfg)) continue;
    if (s.key == "host" && d.c.kind == CheckKind::kSmtp) {
      hosts.push_back(&s);
    } else if (parseConnectOption(s, d.c, cfg) || parseKindOption(s, d, cfg)) {
    } else if (s.key != "inhibit_on_failure" && s.key != "virtualhost" &&
               parseInheritable(s, d.own, cfg)) {
    } else if (s.key == "virtualhost" &&
               (d.c.kind == CheckKind::kHttp || d.c.kind == CheckKind::kSsl)) {
      parseInheritable(s, d.own, cfg);
    } else {
      unknownKeyword(s, n.key.c_str(), cfg);
    }
  }
  if ((d.c.kind == CheckKind::kHttp || d.c.kind == CheckKind::kSsl) && d.c.urls.empty())
    addError(cfg, n.at, fmt::format("{} without a url block", n.key));
  if (d.c.kind == CheckKind::kMisc && d.c.misc_path.empty())
    addError(cfg, n.at, "MISC_CHECK without misc_path");
  if (d.c.kind == CheckKind::kFile && d.track_file.empty())
    addError(cfg, n.at, "FILE_CHECK without track_file");
  if (d.c.kind == CheckKind::kUdp && d.c.max_reply_length != 0 &&
      d.c.max_reply_length < d.c.min_reply_length)
    addError(cfg, n.at, "UDP_CHECK: max_reply_length is less than min_reply_length");
  if (hosts.empty()) return {d};
  // keepalived 1.x: SMTP_CHECK { host { connect_ip ... } ... } checks each host; every one
  // must pass, which is what separate checkers on the real server mean here.
  std::vector<CheckerDraft> out;
  for (const Node* h : hosts) {
    CheckerDraft hd = d;
    hd.c.at = h->at;
    for (const Node& s : h->children)
      if (shapeOk(s, cfg) && !parseConnectOption(s, hd.c, cfg) && !parseInheritable(s, hd.own, cfg))
        unknownKeyword(s, "SMTP_CHECK host", cfg);
    out.push_back(std::move(hd));
  }
  return out;
}

std::optional<std::pair<std::string, TrackFile>> parseTrackFile(const Node& n, Config& cfg) {
  if (!wantArgs(n, 1, 1, cfg)) return std::nullopt;
  TrackFile t;
  t.at = n.at;
  for (const Node& s : n.children) {
    if (!shapeOk(s, cfg)) continue;
    if (s.key == "file") {
      if (wantArgs(s, 1, 1, cfg)) t.path = s.args[0].text;
    } else if (s.key == "weight") {
      if (wantArgs(s, 1, 2, cfg)) {
        std::string_view w = s.args[0].text;
        bool neg = !w.empty() && w[0] == '-';
        auto v = parseUint(neg ? w.substr(1) : w, 254);
        if (!v) addError(cfg, s.at, fmt::format("weight: '{}' is not a number from -254 to 254", w));
        else t.weight = neg ? -int32_t(*v) : int32_t(*v);
        if (s.args.size() == 2) {
          if (s.args[1].text == "reverse") t.reverse = true;
          else addError(cfg, s.at, fmt::format("weight: '{}' is not 'reverse'", s.args[1].text));
        }
      }
    } else if (s.key == "init_file") {
      addWarning(cfg, s.at, "init_file: ignored (sluiced does not create tracked files)");
    } else {
      unknownKeyword(s, "track_file", cfg);
    }
  }
  if (t.path.empty()) addError(cfg, n.at, fmt::format("track_file {} without a file", n.args[0].text));
  return std::pair<std::string, TrackFile>{n.args[0].text, t};
}

CheckerConfig resolveChecker(const CheckerDraft& d, const Inherit& rs, const Inherit& vs,
                             bool global_log_all_failures,
                             const std::map<std::string, TrackFile>& track_files, Config& cfg) {
  CheckerConfig c = d.c;
  auto pick = [](const auto& a, const auto& b, const auto& v) { return a ? a : b ? b : v; };
  c.delay_loop = pick(d.own.delay_loop, rs.delay_loop, vs.delay_loop).value_or(60 * kSecond);
  c.connect_timeout =
      pick(d.own.connect_timeout, rs.connect_timeout, vs.connect_timeout).value_or(5 * kSecond);
  unsigned retry_default = c.kind == CheckKind::kDns ? 3 : c.kind == CheckKind::kMisc ? 0 : 1;
  c.retry = pick(d.own.retry, rs.retry, vs.retry).value_or(retry_default);
  Nanos dbr_default = (c.kind == CheckKind::kHttp || c.kind == CheckKind::kSsl) ? 3 * kSecond
                      : c.kind == CheckKind::kDns                                ? c.delay_loop
                                                                                 : 1 * kSecond;
  c.delay_before_retry =
      pick(d.own.delay_before_retry, rs.delay_before_retry, vs.delay_before_retry).value_or(dbr_default);
  c.warmup = pick(d.own.warmup, rs.warmup, vs.warmup).value_or(c.delay_loop);
  c.alpha = pick(d.own.alpha, rs.alpha, vs.alpha).value_or(false);
  c.log_all_failures =
      pick(d.own.log_all_failures, rs.log_all_failures, vs.log_all_failures).value_or(global_log_all_failures);
  if (c.kind == CheckKind::kHttp || c.kind == CheckKind::kSsl)
    c.virtualhost = pick(d.own.virtualhost, rs.virtualhost, vs.virtualhost).value_or("");
  if (c.kind == CheckKind::kMisc && c.misc_timeout == 0) c.misc_timeout = c.delay_loop;
  if (c.kind == CheckKind::kFile && !d.track_file.empty()) {
    auto it = track_files.find(d.track_file);
    if (it == track_files.end()) {
      addError(cfg, d.c.at, fmt::format("FILE_CHECK: no track_file block named '{}'", d.track_file));
    } else {
      c.file_path = it->second.path;
      c.file_weight = d.file_weight.value_or(it->second.weight);
      c.file_reverse = d.file_reverse.value_or(it->second.reverse);
    }
  }
  return c;
}

}  // namespace sluice::config::keepalived
