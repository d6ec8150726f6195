#include "config/model.h"

#include <algorithm>

namespace sluice::config {

const char* checkKindName(CheckKind k) {
  switch (k) {
    case CheckKind::kTcp: return "TCP_CHECK";
    case CheckKind::kHttp: return "HTTP_GET";
    case CheckKind::kSsl: return "SSL_GET";
    case CheckKind::kMisc: return "MISC_CHECK";
    case CheckKind::kDns: return "DNS_CHECK";
    case CheckKind::kUdp: return "UDP_CHECK";
    case CheckKind::kPing: return "PING_CHECK";
    case CheckKind::kSmtp: return "SMTP_CHECK";
    case CheckKind::kFile: return "FILE_CHECK";
    case CheckKind::kOn: return "on";
    case CheckKind::kOff: return "off";
  }
  return "?";
}

bool Config::ok() const {
  return std::none_of(diags.begin(), diags.end(), [](const Diag& d) { return d.error; });
}

}  // namespace sluice::config
