// keepalived.conf's LVS part -> Config: global_defs, virtual_server_group, virtual_server,
// real_server and its checkers, track_file. VRRP and the other non-LVS blocks are skipped
// and listed in Config::skipped. Inheritance (virtual server -> real server -> checker) and
// keepalived's defaults are resolved here, so the model holds concrete values.
//
// Trade-off: what Sluice cannot do (NAT/TUN today, fwmark services, SCTP, persistence
// engines, BFD) is refused as an error at the line that asks for it, through
// svc::checkImplemented where that decides, rather than accepted and dropped at run time.
#pragma once

#include <vector>

#include "config/lexer.h"
#include "config/model.h"

namespace sluice::config {

void parseKeepalived(const std::vector<Node>& tree, Config& cfg);

}  // namespace sluice::config
