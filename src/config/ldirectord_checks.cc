#include "config/ldirectord_checks.h"

#include <fmt/format.h>

#include "config/lexer.h"
#include "config/values.h"

namespace sluice::config {
namespace {

constexpr const char* kKnownServices[] = {
    "dns", "ftp", "http", "https", "http_proxy", "imap", "imaps", "ldap", "ldaps", "mysql", "nntp",
    "none", "oracle", "pgsql", "pop", "pops", "radius", "simpletcp", "sip", "smtp", "submission"};

}  // namespace

// The service ldirectord assumes from the virtual's port.
std::string ldDefaultService(uint16_t port) {
  switch (port) {
    case 21: return "ftp";
    case 25: return "smtp";
    case 53: return "dns";
    case 80: return "http";
    case 110: return "pop";
    case 119: return "nntp";
    case 143: return "imap";
    case 389: return "ldap";
    case 443: return "https";
    case 587: return "submission";
    case 636: return "ldaps";
    case 993: return "imaps";
    case 995: return "pops";
    case 1521: return "oracle";
    case 1812: return "radius";
    case 3128: return "http_proxy";
    case 3306: return "mysql";
    case 5432: return "pgsql";
    case 5060: return "sip";
    default: return "none";
  }
}

bool ldKnownService(std::string_view s) {
  for (const char* k : kKnownServices)
    if (s == k) return true;
  return false;
}

void mapCheck(const LdCheck& spec, CheckerConfig& ck, Config& cfg) {
  if (spec.checktype == "connect") {
    ck.kind = spec.udp ? CheckKind::kPing : CheckKind::kTcp;
  } else if (spec.checktype == "ping") {
    ck.kind = CheckKind::kPing;
  } else if (spec.checktype == "on") {
    ck.kind = CheckKind::kOn;
  } else if (spec.checktype == "off") {
    ck.kind = CheckKind::kOff;
  } else if (spec.checktype == "external") {
    ck.kind = CheckKind::kMisc;
    if (spec.checkcommand.empty()) addError(cfg, spec.at, "checktype=external needs a checkcommand");
    ck.misc_path = spec.checkcommand;
    ck.misc_timeout = ck.connect_timeout;
  } else if (spec.service == "http" || spec.service == "https") {
    ck.kind = spec.service == "http" ? CheckKind::kHttp : CheckKind::kSsl;
  } else if (spec.service == "dns") {
    ck.kind = CheckKind::kDns;
    ck.dns_type.assign(1, 'A');  // ldirectord asks for an A record (assign: GCC 12 -Wrestrict bug)
    if (spec.request_set) ck.dns_name = spec.request;
    if (!spec.receive.empty()) addWarning(cfg, spec.at, "receive: not compared for dns checks in sluiced");
  } else if (spec.service == "smtp") {
    ck.kind = CheckKind::kSmtp;
  } else if (spec.service == "none") {
    ck.kind = CheckKind::kOn;
  } else {
    addError(cfg, spec.at, fmt::format("checktype=negotiate for service={}: sluiced has no {} "
                                       "check; use checktype=connect", spec.service, spec.service));
    ck.kind = CheckKind::kTcp;
  }
  if (ck.kind == CheckKind::kHttp || ck.kind == CheckKind::kSsl) {
    if (spec.request.rfind("http://", 0) == 0 || spec.request.rfind("https://", 0) == 0)
      addError(cfg, spec.at, "request: absolute http:// URLs are not supported by sluiced; write the path");
    UrlCheck u;
    u.path = urlPath(spec.request);
    u.regex = spec.receive;
    u.virtualhost = ck.virtualhost;
    ck.urls.push_back(u);
  }
}

}  // namespace sluice::config
