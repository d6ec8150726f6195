#include "config/ldirectord.h"

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "config/ldirectord_checks.h"
#include "config/lexer.h"
#include "config/values.h"

namespace sluice::config {
namespace {

constexpr size_t kMaxRangeServers = 256;

struct Line {
  Where at;
  std::string key;
  std::string value;  // outer quotes removed
};

// Settings that may be global or per virtual: the virtual's value wins.
struct Settings {
  std::optional<Line> checktimeout, negotiatetimeout, checkinterval, checkcount, failurecount,
      quiescent, fallback, fallback6;
};

struct Virtual {
  Line head;
  Settings set;
  std::vector<Line> lines;
};

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string unquote(std::string_view v) {
  while (!v.empty() && isSpace(v.back())) v.remove_suffix(1);
  while (!v.empty() && isSpace(v.front())) v.remove_prefix(1);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

// Words, with "quoted strings" as one word and a trailing comma dropped.
std::vector<std::string> words(std::string_view v) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < v.size()) {
    if (isSpace(v[i]) || v[i] == ',') {
      ++i;
    } else if (v[i] == '"') {
      size_t e = v.find('"', i + 1);
      if (e == std::string_view::npos) e = v.size();
      out.emplace_back(v.substr(i + 1, e - i - 1));
      i = e + 1;
    } else {
      size_t e = i;
      while (e < v.size() && !isSpace(v[e]) && v[e] != ',') ++e;
      out.emplace_back(v.substr(i, e - i));
      i = e;
    }
  }
  return out;
}

const std::map<std::string, uint16_t>& servicePorts() {
  static const std::map<std::string, uint16_t> m = {
      {"ftp", 21},   {"smtp", 25},   {"domain", 53}, {"dns", 53},   {"http", 80},
      {"www", 80},   {"pop3", 110},  {"nntp", 119},  {"imap", 143}, {"ldap", 389},
      {"https", 443}, {"submission", 587}, {"ldaps", 636}, {"imaps", 993}, {"pop3s", 995},
      {"mysql", 3306}, {"sip", 5060}, {"postgresql", 5432}};
  return m;
}

class Parser {
 public:
  Parser(const std::string& name, Config& cfg) : name_(name), cfg_(cfg) {}

  void run(std::string_view text) {
    size_t pos = 0;
    int line_no = 0;
    Virtual* cur = nullptr;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view raw = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      Where at{name_, line_no};
      bool indented = !raw.empty() && isSpace(raw[0]);
      size_t b = 0;
      while (b < raw.size() && isSpace(raw[b])) ++b;
      std::string_view line = raw.substr(b);
      if (line.empty() || line[0] == '#' || line[0] == '\r') continue;
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        addError(cfg_, at, "not a key=value line");
        continue;
      }
      std::string_view key = line.substr(0, eq);
      while (!key.empty() && isSpace(key.back())) key.remove_suffix(1);
      Line l{at, lower(key), unquote(line.substr(eq + 1))};
      if (l.key == "virtual" || l.key == "virtual6") {
        if (virtuals_.size() >= 4096) {
          addError(cfg_, at, "more than 4096 virtual sections");
          return;
        }
        virtuals_.push_back(Virtual{l, {}, {}});
        cur = &virtuals_.back();
        continue;
      }
      if (!indented) cur = nullptr;
      if (cur) {
        if (!setting(l, cur->set)) cur->lines.push_back(std::move(l));
      } else if (!setting(l, global_)) {
        globalLine(l);
      }
    }
    for (const Virtual& v : virtuals_) virtualSection(v);
  }

 private:
  static bool setting(const Line& l, Settings& s) {
    std::optional<Line>* slot = nullptr;
    if (l.key == "checktimeout") slot = &s.checktimeout;
    else if (l.key == "negotiatetimeout") slot = &s.negotiatetimeout;
    else if (l.key == "checkinterval") slot = &s.checkinterval;
    else if (l.key == "checkcount") slot = &s.checkcount;
    else if (l.key == "failurecount") slot = &s.failurecount;
    else if (l.key == "quiescent") slot = &s.quiescent;
    else if (l.key == "fallback") slot = &s.fallback;
    else if (l.key == "fallback6") slot = &s.fallback6;
    if (!slot) return false;
    *slot = l;
    return true;
  }

  void noEffect(const Line& l, const char* what = "no effect in sluiced") {
    addWarning(cfg_, l.at, fmt::format("{}: {}", l.key, what));
  }
  void refuse(const Line& l, const std::string& why) {
    addError(cfg_, l.at, fmt::format("{}: not supported by sluiced: {}", l.key, why));
  }

  std::optional<bool> yesNo(const Line& l) {
    std::string v = lower(l.value);
    if (v == "yes") return true;
    if (v == "no") return false;
    addError(cfg_, l.at, fmt::format("{}: '{}' is not yes or no", l.key, l.value));
    return std::nullopt;
  }

  void globalLine(const Line& l) {
    const std::string& k = l.key;
    if (k == "autoreload") {
      if (auto b = yesNo(l)) cfg_.global.autoreload = *b;
    } else if (k == "cleanstop") {
      if (auto b = yesNo(l)) cfg_.global.lvs_flush_on_stop = *b;
    } else if (k == "emailalert") {
      cfg_.global.emailalert = l.value;
      noEffect(l, "alerts are logged, not mailed");
    } else if (k == "emailalertfrom" || k == "emailalertfreq" || k == "emailalertstatus" || k == "smtp") {
      noEffect(l, "alerts are logged, not mailed");
    } else if (k == "logfile") {
      noEffect(l, "no effect in sluiced (it logs to stderr/journal)");
    } else if (k == "supervised" || k == "fork" || k == "readdquiescent") {
      noEffect(l);
    } else if (k == "callback") {
      refuse(l, "configuration-change callbacks are not run");
    } else if (k == "fallbackcommand") {
      refuse(l, "fallback commands are not run; use fallback=IP:PORT");
    } else if (k == "execute") {
      refuse(l, "one sluiced reads one configuration; start another instance instead");
    } else if (k == "maintenancedir") {
      refuse(l, "maintenance directories are not watched");
    } else if (k == "real" || k == "real6" || k == "service" || k == "checktype" || k == "request" ||
               k == "receive" || k == "scheduler" || k == "protocol") {
      addError(cfg_, l.at, fmt::format("{} belongs in an indented line under a virtual=", k));
    } else {
      addError(cfg_, l.at, fmt::format("unknown keyword '{}'", k));
    }
  }

  // "IP:PORT", "[v6]:PORT", "IP" -> endpoint (port may be 0).
  std::optional<net::Endpoint> endpoint(const std::string& s, const Where& at, const std::string& key) {
    std::string host = s, port;
    if (!s.empty() && s[0] == '[') {
      size_t e = s.find(']');
      if (e == std::string::npos) {
        addError(cfg_, at, fmt::format("{}: '{}' has no closing ']'", key, s));
        return std::nullopt;
      }
      host = s.substr(1, e - 1);
      if (e + 1 < s.size()) {
        if (s[e + 1] != ':') {
          addError(cfg_, at, fmt::format("{}: '{}' is not [ADDRESS]:PORT", key, s));
          return std::nullopt;
        }
        port = s.substr(e + 2);
      }
    } else if (size_t c = s.find(':'); c != std::string::npos && s.find(':', c + 1) == std::string::npos) {
      host = s.substr(0, c);
      port = s.substr(c + 1);
    }
    net::Endpoint ep;
    auto a = net::IpAddr::parse(host);
    if (!a) {
      addError(cfg_, at, fmt::format("{}: '{}' is not an IP address (sluiced does not resolve host "
                                     "names)", key, host));
      return std::nullopt;
    }
    ep.addr = *a;
    if (!port.empty()) {
      if (auto p = parseUint(port, 65535)) {
        ep.port = uint16_t(*p);
      } else if (auto it = servicePorts().find(lower(port)); it != servicePorts().end()) {
        ep.port = it->second;
      } else {
        addError(cfg_, at, fmt::format("{}: '{}' is not a port number", key, port));
        return std::nullopt;
      }
    }
    return ep;
  }

  std::optional<svc::FwdMethod> method(const std::string& w, const Where& at, const std::string& key) {
    svc::FwdMethod m;
    if (w == "gate") m = svc::FwdMethod::kDr;
    else if (w == "masq") m = svc::FwdMethod::kNat;
    else if (w == "ipip") m = svc::FwdMethod::kTun;
    else {
      addError(cfg_, at, fmt::format("{}: '{}' is not gate, masq or ipip", key, w));
      return std::nullopt;
    }
    Status s = svc::checkImplemented(m);
    if (!s) {
      addError(cfg_, at, fmt::format("{} {}: {}", key, w, s.error().message));
      return std::nullopt;
    }
    return m;
  }

  // Global settings are read for every virtual: a problem with one is said once.
  bool firstTime(const Where& at, int what = 0) {
    return reported_.insert({at.file, at.line, what}).second;
  }

  std::optional<Nanos> seconds(const std::optional<Line>& l, Nanos dflt) {
    if (!l) return dflt;
    auto t = parseSeconds(l->value);
    if (!t || *t == 0) {
      // A bad global value is read for every virtual: said once.
      if (firstTime(l->at))
        addError(cfg_, l->at, fmt::format("{}: '{}' is not a number of seconds", l->key, l->value));
      return std::nullopt;
    }
    return t;
  }

  void virtualSection(const Virtual& v);
  std::vector<RealServerConfig> realLine(const Line& l, const svc::ServiceConfig& svc,
                                         const CheckerConfig& proto_checker, bool http_like);

  std::string name_;
  Config& cfg_;
  Settings global_;
  std::vector<Virtual> virtuals_;
  std::set<svc::ServiceKey> seen_;
  std::set<std::tuple<std::string, int, int>> reported_;
  size_t real_servers_ = 0;
};

void Parser::virtualSection(const Virtual& v) {
  VirtualServerConfig vs;
  vs.at = v.head.at;
  vs.name = fmt::format("{}={}", v.head.key, v.head.value);
  svc::ServiceConfig sc;
  sc.scheduler = "wrr";
  bool fwmark = false;
  if (auto m = parseUint(v.head.value, UINT32_MAX)) {
    fwmark = true;
    sc.key.fwmark = uint32_t(*m);
    sc.key.fwmark_family = v.head.key == "virtual6" ? net::Family::kV6 : net::Family::kV4;
    if (*m == 0) {
      addError(cfg_, v.head.at, "virtual: firewall mark 0 is not a mark");
      return;
    }
  } else {
    auto ep = endpoint(v.head.value, v.head.at, v.head.key);
    if (!ep) return;
    if (ep->port == 0) {
      addError(cfg_, v.head.at, fmt::format("{}: '{}' needs a port", v.head.key, v.head.value));
      return;
    }
    sc.key.addr = ep->addr;
    sc.key.port = ep->port;
    sc.key.proto = ep->port == 53 ? svc::Proto::kUdp : svc::Proto::kTcp;
  }
  std::string service = fwmark ? "none" : ldDefaultService(sc.key.port);
  std::string checktype = "negotiate";
  Where checktype_at = v.head.at;
  CheckerConfig ck;
  std::string request, receive, checkcommand;
  bool request_set = false;
  std::vector<const Line*> reals;
  std::optional<Line> netmask;
  for (const Line& l : v.lines) {
    const std::string& k = l.key;
    if (k == "real" || k == "real6") {
      reals.push_back(&l);
    } else if (k == "service") {
      if (!ldKnownService(lower(l.value))) addError(cfg_, l.at, fmt::format("service: '{}' is not a service ldirectord knows", l.value));
      else service = lower(l.value);
    } else if (k == "checktype") {
      std::string t = lower(l.value);
      checktype_at = l.at;
      if (auto n = parseUint(t, 1000000); n && *n > 0) {
        checktype = "negotiate";
        addWarning(cfg_, l.at, fmt::format("checktype={}: sluiced negotiates on every check instead of "
                                           "once every {} connects", *n, *n));
      } else if (t == "connect" || t == "negotiate" || t == "ping" || t == "on" || t == "off" ||
                 t == "external") {
        checktype = t;
      } else if (t == "external-perl") {
        refuse(l, "perl checks are not run; use checktype=external with a checkcommand");
      } else {
        addError(cfg_, l.at, fmt::format("checktype: '{}' is not connect, negotiate, ping, on, off, "
                                         "external or a number", l.value));
      }
    } else if (k == "checkcommand") {
      checkcommand = l.value;
    } else if (k == "checkport") {
      auto p = parseUint(l.value, 65535);
      if (!p || *p == 0) addError(cfg_, l.at, fmt::format("checkport: '{}' is not a port", l.value));
      else ck.connect_port = uint16_t(*p);
    } else if (k == "request") {
      request = l.value;
      request_set = true;
    } else if (k == "receive") {
      receive = l.value;
    } else if (k == "httpmethod") {
      std::string m = l.value;
      for (char& c : m) c = char(toupper(static_cast<unsigned char>(c)));
      if (m == "GET" || m == "HEAD") ck.http_method = m;
      else addError(cfg_, l.at, fmt::format("httpmethod: '{}' is not GET or HEAD", l.value));
    } else if (k == "virtualhost") {
      ck.virtualhost = l.value;
      vs.virtualhost = l.value;
    } else if (k == "scheduler") {
      auto r = parseScheduler(l.value);
      if (!r) addError(cfg_, l.at, fmt::format("scheduler: {}", r.error().message));
      else sc.scheduler = *r;
      vs.scheduler_given = true;
    } else if (k == "persistent") {
      auto p = parseUint(l.value, 2'678'400);
      if (!p || *p == 0) {
        addError(cfg_, l.at, fmt::format("persistent: '{}' is not a number of seconds", l.value));
      } else {
        sc.persistent = true;
        sc.persistence_timeout = uint32_t(*p);
      }
    } else if (k == "netmask") {
      netmask = l;
    } else if (k == "protocol") {
      std::string p = lower(l.value);
      if (p == "tcp" && !fwmark) sc.key.proto = svc::Proto::kTcp;
      else if (p == "udp" && !fwmark) sc.key.proto = svc::Proto::kUdp;
      else if (p == "fwm" && fwmark) {
      } else
        addError(cfg_, l.at, fmt::format("protocol: '{}' does not fit {} (tcp or udp for IP:PORT, fwm for "
                                         "a firewall mark)", l.value, v.head.value));
    } else if (k == "ops") {
      std::string b = lower(l.value);
      if (b == "yes") sc.one_packet = true;
      else if (b != "no") addError(cfg_, l.at, fmt::format("ops: '{}' is not yes or no", l.value));
    } else if (k == "emailalert" || k == "emailalertfreq" || k == "emailalertstatus") {
      noEffect(l, "alerts are logged, not mailed");
    } else if (k == "monitorfile") {
      noEffect(l);
    } else if (k == "login" || k == "passwd" || k == "database" || k == "secret") {
      noEffect(l, "only used by checks sluiced does not have");
    } else if (k == "servicename" || k == "comment") {
      // names for people: nothing to do.
    } else if (k == "autoreload" || k == "logfile" || k == "callback" || k == "fork" ||
               k == "supervised" || k == "maintenancedir" || k == "cleanstop" || k == "execute") {
      addError(cfg_, l.at, fmt::format("{} is a global option; write it before the first virtual=", k));
    } else {
      addError(cfg_, l.at, fmt::format("unknown keyword '{}'", k));
    }
  }
  if (netmask) {
    unsigned max = sc.key.addr.isV6() || sc.key.fwmark_family == net::Family::kV6 ? 128 : 32;
    if (auto p = parseUint(netmask->value, max)) sc.persistence_prefix = unsigned(*p);
    else if (auto m = net::IpAddr::parse(netmask->value); m && netmaskToPrefix(*m))
      sc.persistence_prefix = *netmaskToPrefix(*m);
    else
      addError(cfg_, netmask->at, fmt::format("netmask: '{}' is not a netmask or prefix length", netmask->value));
  } else if (sc.key.addr.isV6() || (fwmark && sc.key.fwmark_family == net::Family::kV6)) {
    sc.persistence_prefix = 128;
  }
  if (sc.one_packet && sc.persistent)
    addError(cfg_, v.head.at, "ops=yes cannot be combined with persistent");
  Status st = svc::checkImplemented(sc.key);
  if (!st) addError(cfg_, v.head.at, fmt::format("{}: {}", v.head.key, st.error().message));
  if (!seen_.insert(sc.key).second)
    addError(cfg_, v.head.at, fmt::format("duplicate virtual service {}", v.head.value));
  vs.services.push_back(sc);

  // Timing, from the virtual's settings or the global ones.
  auto pick = [&](std::optional<Line> Settings::*f) { return v.set.*f ? v.set.*f : global_.*f; };
  auto interval = seconds(pick(&Settings::checkinterval), 10 * kSecond);
  // checktimeout and negotiatetimeout stand in for each other, the virtual's first (as
  // ldirectord resolves them).
  auto first = [](std::initializer_list<const std::optional<Line>*> ls) {
    for (const auto* l : ls)
      if (*l) return **l;
    return Line{};
  };
  auto timeout = [&](const Line& l, Nanos dflt) {
    return l.key.empty() ? std::optional<Nanos>(dflt) : seconds(l, dflt);
  };
  auto ctimeout = timeout(first({&v.set.checktimeout, &v.set.negotiatetimeout, &global_.checktimeout,
                                 &global_.negotiatetimeout}), 5 * kSecond);
  auto ntimeout = timeout(first({&v.set.negotiatetimeout, &v.set.checktimeout,
                                 &global_.negotiatetimeout, &global_.checktimeout}), 30 * kSecond);
  unsigned failures = 1;
  auto fc = pick(&Settings::failurecount);
  if (!fc && pick(&Settings::checkcount)) {
    fc = pick(&Settings::checkcount);
    if (firstTime(fc->at, 1)) addWarning(cfg_, fc->at, "checkcount is deprecated; read as failurecount");
  }
  if (fc) {
    auto n = parseUint(fc->value, 1000);
    if ((!n || *n == 0) && firstTime(fc->at)) addError(cfg_, fc->at, fmt::format("{}: '{}' is not a number from 1 to 1000", fc->key, fc->value));
    else if (n && *n > 0) failures = unsigned(*n);
  }
  bool quiescent = true;
  if (auto q = pick(&Settings::quiescent)) {
    std::string b = lower(q->value);
    if (b == "no") quiescent = false;
    else if (b != "yes" && firstTime(q->at)) addError(cfg_, q->at, fmt::format("quiescent: '{}' is not yes or no", q->value));
  }
  ck.at = checktype_at;
  ck.delay_loop = interval.value_or(10 * kSecond);
  ck.delay_before_retry = ck.delay_loop;
  ck.retry = failures - 1;
  ck.warmup = 0;
  ck.alpha = true;
  bool negotiate = checktype == "negotiate";
  ck.connect_timeout = (negotiate ? ntimeout : ctimeout).value_or(5 * kSecond);
  LdCheck spec{checktype, checktype_at, service, request, request_set, receive, checkcommand,
               !fwmark && sc.key.proto == svc::Proto::kUdp};
  mapCheck(spec, ck, cfg_);
  bool http_like = ck.kind == CheckKind::kHttp || ck.kind == CheckKind::kSsl;

  std::set<net::Endpoint> seen_rs;
  for (const Line* l : reals) {
    for (RealServerConfig& rs : realLine(*l, sc, ck, http_like)) {
      rs.inhibit_on_failure = quiescent;
      rs.alpha = true;
      if (++real_servers_ > kMaxRealServers) {
        if (real_servers_ == kMaxRealServers + 1)
          addError(cfg_, l->at, fmt::format("more than {} real servers in this configuration",
                                            kMaxRealServers));
        break;
      }
      if (!seen_rs.insert(rs.dest.ep).second) {
        addError(cfg_, l->at, fmt::format("duplicate real server {}", rs.dest.ep.str()));
        continue;
      }
      vs.real_servers.push_back(std::move(rs));
    }
  }
  auto fb = pick(sc.key.addr.isV6() ? &Settings::fallback6 : &Settings::fallback);
  if (fb) {
    std::vector<std::string> w = words(fb->value);
    if (w.empty() || w.size() > 2) {
      addError(cfg_, fb->at, "fallback takes IP[:PORT] [gate|masq|ipip]");
    } else if (auto ep = endpoint(w[0], fb->at, fb->key)) {
      SorryServer ss;
      ss.ep = *ep;
      ss.fwd = svc::FwdMethod::kDr;
      bool ok = true;
      if (w.size() == 2) {
        auto m = method(w[1], fb->at, fb->key);
        if (m) ss.fwd = *m;
        ok = m.has_value();
      }
      if (ok) vs.sorry_server = ss;
    }
  }
  vs.quorum = 1;
  cfg_.virtual_servers.push_back(std::move(vs));
}

std::vector<RealServerConfig> Parser::realLine(const Line& l, const svc::ServiceConfig& sc,
                                               const CheckerConfig& proto, bool http_like) {
  std::vector<RealServerConfig> out;
  std::vector<std::string> w = words(l.value);
  if (w.size() < 2) {
    addError(cfg_, l.at, fmt::format("{}: needs IP[:PORT] and gate, masq or ipip", l.key));
    return out;
  }
  auto fwd = method(w[1], l.at, l.key);
  if (!fwd) return out;
  RealServerConfig rs;
  rs.at = l.at;
  rs.dest.fwd = *fwd;
  size_t i = 2;
  if (i < w.size() && parseUint(w[i], 65535)) rs.dest.weight = int32_t(*parseUint(w[i++], 65535));
  CheckerConfig ck = proto;
  for (int pair = 0; i < w.size(); ++i) {
    std::string t = w[i];
    if (t.size() >= 2 && t.front() == '<' && t.back() == '>') t = t.substr(1, t.size() - 2);
    if (t.rfind("l:", 0) == 0 || t.rfind("u:", 0) == 0) {
      auto n = parseUint(std::string_view(t).substr(2), UINT32_MAX);
      if (!n) addError(cfg_, l.at, fmt::format("{}: '{}' is not a threshold", l.key, w[i]));
      else (t[0] == 'l' ? rs.dest.l_threshold : rs.dest.u_threshold) = uint32_t(*n);
    } else if (pair == 0 && http_like) {
      ck.urls[0].path = urlPath(t);
      ++pair;
    } else if (pair == 1 && http_like) {
      ck.urls[0].regex = t;
      ++pair;
    } else if (pair == 0 && ck.kind == CheckKind::kDns) {
      ck.dns_name = t;
      ++pair;
    } else {
      addError(cfg_, l.at, fmt::format("{}: unexpected '{}'", l.key, w[i]));
    }
  }
  std::string addr = w[0];
  size_t arrow = addr.find("->");
  std::string first = addr, last;
  std::string port;
  if (arrow != std::string::npos) {
    first = addr.substr(0, arrow);
    last = addr.substr(arrow + 2);
    size_t c = last.find(':');
    if (c != std::string::npos && last.find(':', c + 1) == std::string::npos) {
      port = last.substr(c);
      last = last.substr(0, c);
    }
  }
  auto ep = endpoint(first + port, l.at, l.key);
  if (!ep) return out;
  net::IpAddr end = ep->addr;
  if (!last.empty()) {
    auto e = net::IpAddr::parse(last);
    if (!e || !ep->addr.isV4() || !e->isV4() || *e < ep->addr ||
        e->v4HostOrder() - ep->addr.v4HostOrder() >= kMaxRangeServers) {
      addError(cfg_, l.at, fmt::format("{}: '{}' is not an IPv4 range of at most {} addresses", l.key,
                                       addr, kMaxRangeServers));
      return out;
    }
    end = *e;
  }
  for (uint32_t a = ep->addr.isV4() ? ep->addr.v4HostOrder() : 0;; ++a) {
    RealServerConfig r = rs;
    r.dest.ep = *ep;
    if (ep->addr.isV4()) r.dest.ep.addr = net::IpAddr::v4(a);
    net::Family vf = sc.key.fwmark ? sc.key.fwmark_family : sc.key.addr.family;
    if (r.dest.fwd == svc::FwdMethod::kDr && vf != r.dest.ep.addr.family) {
      addError(cfg_, l.at, fmt::format("{}: {} is not of the virtual service's address family (DR "
                                       "cannot change it)", l.key, r.dest.ep.addr.str()));
      return out;
    }
    if (ck.kind == CheckKind::kMisc)
      ck.misc_path = fmt::format("{} {} {} {} {}", proto.misc_path,
                                 sc.key.fwmark ? std::to_string(sc.key.fwmark) : sc.key.addr.str(),
                                 sc.key.port, r.dest.ep.addr.str(), r.dest.ep.port ? r.dest.ep.port : sc.key.port);
    r.checkers = {ck};
    bool done = !ep->addr.isV4() || r.dest.ep.addr == end;
    out.push_back(std::move(r));
    if (done || out.size() >= kMaxRangeServers) break;
  }
  return out;
}

}  // namespace

void parseLdirectord(std::string_view text, const std::string& name, Config& cfg) {
  cfg.format = Format::kLdirectord;
  cfg.global.lvs_flush_on_stop = true;  // cleanstop=yes is ldirectord's default
  Parser(name, cfg).run(text);
}

}  // namespace sluice::config
