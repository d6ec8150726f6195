#include "config/keepalived_groups.h"

#include <set>

#include <fmt/format.h>

#include "config/keepalived_checkers.h"
#include "config/values.h"
#include "svc/service_table.h"

namespace sluice::config::keepalived {
namespace {

// Big-endian increment of the address bytes; false on wrap-around.
bool increment(net::IpAddr& a) {
  for (size_t i = a.size(); i-- > 0;)
    if (++a.bytes[i] != 0) return true;
  return false;
}

// "a.b.c.d-e", "a.b.c.d-e.f.g.h", "x::a-b", "a.b.c.d/nn" -> first and last address.
std::optional<std::pair<net::IpAddr, net::IpAddr>> parseRange(const std::string& s, std::string& why) {
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    auto a = net::IpAddr::parse(std::string_view(s).substr(0, slash));
    if (!a) return std::nullopt;
    auto p = parseUint(std::string_view(s).substr(slash + 1), a->isV4() ? 32 : 128);
    if (!p) return std::nullopt;
    net::IpAddr first = a->masked(unsigned(*p));
    if (first != *a) {
      why = fmt::format("{} has host bits set (the network is {}/{})", s, first.str(), *p);
      return std::nullopt;
    }
    net::IpAddr last = first;
    for (size_t bit = *p; bit < first.size() * 8; ++bit)
      last.bytes[bit / 8] |= uint8_t(0x80 >> (bit % 8));
    return std::pair{first, last};
  }
  size_t dash = s.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  auto a = net::IpAddr::parse(std::string_view(s).substr(0, dash));
  if (!a) return std::nullopt;
  std::string_view end = std::string_view(s).substr(dash + 1);
  net::IpAddr last = *a;
  if (auto full = net::IpAddr::parse(end)) {
    if (full->family != a->family) return std::nullopt;
    last = *full;
  } else if (a->isV4()) {
    auto v = parseUint(end, 255);
    if (!v) return std::nullopt;
    last.bytes[3] = uint8_t(*v);
  } else {
    if (end.empty() || end.size() > 4) return std::nullopt;
    uint32_t v = 0;
    for (char c : end) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + uint32_t(d);
    }
    last.bytes[14] = uint8_t(v >> 8);
    last.bytes[15] = uint8_t(v);
  }
  if (last < *a) {
    why = fmt::format("{}: the range ends before it starts", s);
    return std::nullopt;
  }
  return std::pair{*a, last};
}

}  // namespace

Group parseGroup(const Node& n, Config& cfg) {
  Group g;
  g.at = n.at;
  std::set<svc::ServiceKey> seen;
  auto add = [&](const svc::ServiceKey& k, const Where& at) {
    if (g.members.size() >= kMaxGroupServices) return false;
    if (!seen.insert(k).second) {
      addError(cfg, at, fmt::format("virtual_server_group {}: {} listed twice", n.args[0].text,
                                    k.fwmark ? fmt::format("fwmark {}", k.fwmark)
                                             : net::Endpoint{k.addr, k.port}.str()));
      return true;
    }
    g.members.push_back(GroupMember{at, k});
    return true;
  };
  for (const Node& m : n.children) {
    if (m.block) addError(cfg, m.at, "a virtual_server_group member takes no block");
    svc::ServiceKey k;
    if (m.key == "fwmark") {
      if (!wantArgs(m, 1, 2, cfg)) continue;
      auto v = uintArg(m, UINT32_MAX, cfg);
      if (!v) continue;
      if (*v == 0) {
        addError(cfg, m.at, "fwmark 0 is not a mark");
        continue;
      }
      k.fwmark = uint32_t(*v);
      if (m.args.size() == 2) {
        if (m.args[1].text == "inet6") k.fwmark_family = net::Family::kV6;
        else if (m.args[1].text != "inet")
          addError(cfg, m.at, fmt::format("fwmark: '{}' is not inet or inet6", m.args[1].text));
      }
      add(k, m.at);
      continue;
    }
    if (m.args.size() > 1) {
      addError(cfg, m.at, "a virtual_server_group member is IP [PORT], RANGE [PORT] or fwmark N");
      continue;
    }
    if (m.args.size() == 1) {
      auto p = portArg(m, cfg, 0);
      if (!p) continue;
      k.port = *p;
    }
    if (auto a = net::IpAddr::parse(m.key)) {
      k.addr = *a;
      add(k, m.at);
      continue;
    }
    std::string why;
    auto r = parseRange(m.key, why);
    if (!r) {
      addError(cfg, m.at, why.empty() ? fmt::format("'{}' is not an address, range or fwmark", m.key)
                                      : why);
      continue;
    }
    net::IpAddr a = r->first;
    while (true) {
      k.addr = a;
      if (!add(k, m.at)) {
        addError(cfg, m.at, fmt::format("virtual_server_group {} expands to more than {} services",
                                        n.args[0].text, kMaxGroupServices));
        return g;
      }
      if (a == r->second || !increment(a)) break;
    }
  }
  return g;
}

LaddrGroup parseLaddrGroup(const Node& n, Config& cfg) {
  LaddrGroup g;
  g.at = n.at;
  const std::string& name = n.args[0].text;
  std::set<net::IpAddr> seen;
  bool too_many = false;
  for (const Node& m : n.children) {
    if (m.block) addError(cfg, m.at, "a local_address_group member takes no block");
    if (m.args.size() > 1) {
      addError(cfg, m.at, fmt::format("local_address_group {}: a member is ADDRESS [IFNAME] or "
                                      "RANGE [IFNAME], not '{} {}'", name, m.key, joinArgs(m)));
      continue;
    }
    svc::LocalAddress l;
    if (!m.args.empty()) {
      l.ifname = m.args[0].text;
      if (l.ifname.size() > svc::kMaxIfnameLen || l.ifname.find_first_of("/:") != std::string::npos) {
        addError(cfg, m.at, fmt::format("local_address_group {}: '{}' is not an interface name",
                                        name, l.ifname));
        continue;
      }
    }
    net::IpAddr first, last;
    if (auto a = net::IpAddr::parse(m.key)) {
      first = last = *a;
    } else {
      std::string why;
      auto r = parseRange(m.key, why);
      if (!r) {
        addError(cfg, m.at, why.empty() ? fmt::format("local_address_group {}: '{}' is not an "
                                                      "address or range", name, m.key)
                                        : why);
        continue;
      }
      first = r->first;
      last = r->second;
    }
    if (!g.members.empty() && g.members.front().laddr.addr.family != first.family) {
      addError(cfg, m.at, fmt::format("local_address_group {}: cannot mix IPv4 and IPv6", name));
      continue;
    }
    for (net::IpAddr a = first;;) {
      if (g.members.size() >= svc::kMaxLaddrsPerService) {
        addError(cfg, m.at, fmt::format("local_address_group {} has more than {} addresses", name,
                                        svc::kMaxLaddrsPerService));
        too_many = true;
        break;
      }
      if (!seen.insert(a).second) {
        addError(cfg, m.at, fmt::format("local_address_group {}: {} listed twice", name, a.str()));
      } else {
        l.addr = a;
        g.members.push_back(LaddrMember{m.at, l});
      }
      if (a == last || !increment(a)) break;
    }
    if (too_many) break;
  }
  if (g.members.empty() && !too_many)
    addError(cfg, n.at, fmt::format("local_address_group {} is empty", name));
  return g;
}

}  // namespace sluice::config::keepalived
