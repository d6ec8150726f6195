// How ldirectord's checktype and service choose a checker: connect -> TCP_CHECK (PING_CHECK
// for UDP, as ldirectord does), negotiate -> HTTP_GET/SSL_GET/DNS_CHECK/SMTP_CHECK by
// service (service=none: always up), ping, on, off, external -> MISC_CHECK. Internal to
// config/ldirectord.cc.
//
// Trade-off: a service ldirectord negotiates but Sluice has no checker for (ftp, mysql,
// ldap...) is an error that suggests checktype=connect, rather than a silent downgrade to a
// connect check that would report up what ldirectord would report down.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/model.h"

namespace sluice::config {

// What a virtual section says about checking its real servers.
struct LdCheck {
  std::string checktype = "negotiate";  // connect, negotiate, ping, on, off, external
  Where at;                             // the checktype line, or the virtual's
  std::string service;
  std::string request;
  bool request_set = false;
  std::string receive;
  std::string checkcommand;
  bool udp = false;
};

// The service ldirectord assumes from the virtual's port ("none" when it knows none).
std::string ldDefaultService(uint16_t port);
bool ldKnownService(std::string_view s);

// Sets ck.kind and the fields that kind reads (urls from request/receive for HTTP and HTTPS,
// the DNS name, the external command). Timing is the caller's.
void mapCheck(const LdCheck& spec, CheckerConfig& ck, Config& cfg);

}  // namespace sluice::config
