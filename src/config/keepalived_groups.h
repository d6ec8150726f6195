// keepalived's virtual_server_group and DPVS keepalived's local_address_group.
//
// virtual_server_group: members `IP [PORT]`, address ranges (a.b.c.d-e,
// a.b.c.d-e.f.g.h, IPv6 ...::a-b in the last group, a.b.c.d/nn) and `fwmark N [inet|inet6]`,
// expanded into one service key each. Internal to config/keepalived.cc.
//
// Trade-off: ranges are expanded here into individual services, as IPVS needs one service
// per address, with a cap (kMaxGroupServices) so that a /8 is an error and not four million
// services.
#pragma once

#include <string>
#include <vector>

#include "config/lexer.h"
#include "svc/model.h"

namespace sluice::config::keepalived {

constexpr size_t kMaxGroupServices = 1024;

struct GroupMember {
  Where at;
  svc::ServiceKey key;  // proto is the virtual server's, filled where the group is used
};

struct Group {
  Where at;
  std::vector<GroupMember> members;
};

Group parseGroup(const Node& n, Config& cfg);

// DPVS keepalived's local_address_group NAME { ADDR|RANGE [IFNAME] ... }: the FULLNAT local
// addresses of every virtual_server that names it with laddr_group_name. A RANGE is written
// as in virtual_server_group ("192.168.100.200-210 dpdk0" is .200 to .210); every address
// of a range shares its IFNAME. At most svc::kMaxLaddrsPerService addresses, no address
// twice, one family.
struct LaddrMember {
  Where at;
  svc::LocalAddress laddr;
};
struct LaddrGroup {
  Where at;
  std::vector<LaddrMember> members;
};

LaddrGroup parseLaddrGroup(const Node& n, Config& cfg);

}  // namespace sluice::config::keepalived
