// ldirectord.cf -> Config. Global `key=value` lines, then `virtual=` (or virtual6=) sections
// whose indented `key=value` lines belong to them. ldirectord's options are mapped onto the
// keepalived-shaped model:
//   gate/masq/ipip -> DR/NAT/TUN (refused through svc::checkImplemented until implemented);
//   checktype connect -> TCP_CHECK (PING_CHECK for UDP, as ldirectord does), negotiate ->
//   HTTP_GET/SSL_GET/DNS_CHECK/SMTP_CHECK by service (an error for services without a
//   checker here), ping/on/off, external -> MISC_CHECK, a number N -> negotiate on every
//   check (with a warning: sluiced does not alternate connect and negotiate);
//   checkinterval -> delay_loop and delay_before_retry, checktimeout (connect, ping) or
//   negotiatetimeout (negotiate) -> connect_timeout, failurecount F -> retry F-1, warmup 0,
//   alpha (a real server joins after its first good check); quiescent -> inhibit_on_failure;
//   fallback -> sorry_server; cleanstop -> lvs_flush_on_stop (default yes, as ldirectord's).
// A checkinterval inside a virtual is honoured whatever `fork` says (ldirectord honours it
// only with fork=yes): sluiced checks every real server on its own timer anyway.
//
// Trade-off: options that only change logging, mail or process management are accepted with
// a warning "no effect in sluiced"; options that change what is balanced or when (callback
// scripts, maintenance directories, external-perl) are refused, so nothing an operator relies
// on is quietly lost.
#pragma once

#include <string>
#include <string_view>

#include "config/model.h"

namespace sluice::config {

void parseLdirectord(std::string_view text, const std::string& name, Config& cfg);

}  // namespace sluice::config
