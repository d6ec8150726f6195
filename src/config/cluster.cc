#include "config/cluster.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "cluster/vip_link.h"
#include "config/keepalived_checkers.h"
#include "config/values.h"

namespace sluice::config {

namespace {

using keepalived::ipArg;
using keepalived::notSupported;
using keepalived::portArg;
using keepalived::timeArg;
using keepalived::uintArg;
using keepalived::wantArgs;

std::string at(const Where& w) { return fmt::format("{}:{}", w.file, w.line); }

// A duration in whole milliseconds, 0 < d <= max_s seconds.
std::optional<uint32_t> msArg(const Node& n, uint32_t max_s, Config& cfg) {
  auto t = timeArg(n, cfg);
  if (!t) return std::nullopt;
  int64_t ms = int64_t(*t / 1'000'000);
  if (ms <= 0 || ms > int64_t(max_s) * 1000) {
    addError(cfg, n.at, fmt::format("{}: '{}' is not between 0.001 and {} seconds", n.key,
                                     n.args[0].text, max_s));
    return std::nullopt;
  }
  return uint32_t(ms);
}

}  // namespace

void parseClusterBlock(const Node& n, Config& cfg) {
  ClusterConfig& c = cfg.cluster;
  if (c.present) {
    addError(cfg, n.at, fmt::format("sluice_cluster given twice (first at {})", at(c.where)));
    return;
  }
  if (!n.block || !n.args.empty()) {
    addError(cfg, n.at, "sluice_cluster takes a { } block and no arguments");
    return;
  }
  c.present = true;
  c.where = n.at;
  std::set<uint32_t> ids;
  std::set<net::IpAddr> addrs;
  for (const Node& s : n.children) {
    const std::string& k = s.key;
    if (s.block) {
      addError(cfg, s.at, fmt::format("{} takes no {{ }} block", k));
      continue;
    }
    if (k == "director") {
      if (!wantArgs(s, 2, 2, cfg)) continue;
      auto id = uintArg(s, kMaxClusterNodeId, cfg, 0);
      auto ip = ipArg(s, cfg, 1);
      if (!id || !ip) continue;
      if (*id == 0) {
        addError(cfg, s.at, fmt::format("director: node id must be 1..{}", kMaxClusterNodeId));
        continue;
      }
      if (!ids.insert(uint32_t(*id)).second) {
        addError(cfg, s.at, fmt::format("director: node id {} listed twice", *id));
        continue;
      }
      if (!addrs.insert(*ip).second) {
        addError(cfg, s.at, fmt::format("director: address {} listed twice", ip->str()));
        continue;
      }
      c.directors.push_back(ClusterDirector{uint32_t(*id), *ip, s.at});
    } else if (k == "node_id") {
      if (!wantArgs(s, 1, 1, cfg)) continue;
      auto id = uintArg(s, kMaxClusterNodeId, cfg);
      if (id && *id == 0) addError(cfg, s.at, fmt::format("node_id must be 1..{}", kMaxClusterNodeId));
      else if (id) c.node_id = uint32_t(*id);
    } else if (k == "vip_interface") {
      if (!wantArgs(s, 1, 1, cfg)) continue;
      const std::string& name = s.args[0].text;
      if (Status st = cluster::validateVipDeviceName(name); !st)
        addError(cfg, s.at, fmt::format("vip_interface: {}", st.error().message));
      else c.vip_interface = name;
    } else if (k == "shared_key_file") {
      if (wantArgs(s, 1, 1, cfg)) c.shared_key_file = s.args[0].text;
    } else if (k == "shared_key") {
      addError(cfg, s.at, "shared_key: the key is not written in the config (which is often "
                          "world-readable); put it in a mode-600 file named by shared_key_file");
    } else if (k == "sync_port") {
      if (!wantArgs(s, 1, 1, cfg)) continue;
      if (auto p = portArg(s, cfg)) c.sync_port = *p;
    } else if (k == "join_timeout") {
      if (wantArgs(s, 1, 1, cfg))
        if (auto ms = msArg(s, 600, cfg)) c.join_timeout_ms = *ms;
    } else if (k == "drain_time") {
      if (wantArgs(s, 1, 1, cfg))
        if (auto ms = msArg(s, 3600, cfg)) c.drain_ms = *ms;
    } else if (k == "sync_bandwidth") {
      if (!wantArgs(s, 1, 1, cfg)) continue;
      auto v = uintArg(s, 10'000'000'000ull, cfg);
      if (v && *v < 10'000) addError(cfg, s.at, "sync_bandwidth: at least 10000 bytes per second");
      else if (v) c.sync_bandwidth = *v;
    } else {
      addError(cfg, s.at, fmt::format("unknown keyword '{}' in sluice_cluster", k));
    }
  }
  if (c.directors.empty())
    addError(cfg, n.at, "sluice_cluster lists no director (director ID ADDRESS, one per director)");
  if (c.shared_key_file.empty())
    addError(cfg, n.at, "sluice_cluster needs shared_key_file: sync messages are authenticated");
  if (c.node_id && !ids.count(*c.node_id))
    addError(cfg, n.at, fmt::format("node_id {} is not one of the directors listed", *c.node_id));
  // One family for the sync addresses: a peer is reached from one socket.
  if (!c.directors.empty()) {
    net::Family f = c.directors.front().addr.family;
    for (const ClusterDirector& d : c.directors)
      if (d.addr.family != f) {
        addError(cfg, d.where, "director: every director's address must be of one family "
                               "(the sync socket is IPv4 or IPv6)");
        break;
      }
  }
}

Config loadClusterString(std::string_view text, const std::string& name) {
  Config cfg;
  std::vector<Node> tree = parseTree(text, name, LexOptions{.allow_include = false}, cfg);
  for (const Node& n : tree) {
    if (n.key == "sluice_cluster") parseClusterBlock(n, cfg);
    else addError(cfg, n.at, fmt::format("'{}': a --cluster file holds only a sluice_cluster block", n.key));
  }
  if (!cfg.cluster.present && cfg.ok())
    addError(cfg, Where{name, 0}, "no sluice_cluster block in this file");
  return cfg;
}

Config loadClusterFile(const std::string& path) {
  auto text = readConfigFile(path);
  if (!text) {
    Config cfg;
    addError(cfg, Where{path, 0}, text.error().message);
    return cfg;
  }
  return loadClusterString(*text, path);
}

Result<ClusterDirector> selfOf(const ClusterConfig& c, std::span<const net::IpAddr> local) {
  if (c.node_id) {
    for (const ClusterDirector& d : c.directors)
      if (d.node_id == *c.node_id) return d;
    return Error{fmt::format("node_id {} is not one of the directors listed", *c.node_id)};
  }
  const ClusterDirector* found = nullptr;
  for (const ClusterDirector& d : c.directors) {
    if (std::find(local.begin(), local.end(), d.addr) == local.end()) continue;
    if (found)
      return Error{fmt::format("directors {} and {} both have a local address: say which one this "
                               "is with node_id", found->node_id, d.node_id)};
    found = &d;
  }
  if (!found)
    return Error{"none of the directors' addresses in sluice_cluster is on this host: add this "
                 "director's address to the block, or say node_id"};
  return *found;
}

}  // namespace sluice::config

namespace sluice::config {
void applyClusterDefaults(Config& cfg) {
  if (cfg.cluster.present) useMhByDefault(cfg);
}

void useMhByDefault(Config& cfg) {
  for (VirtualServerConfig& vs : cfg.virtual_servers) {
    if (vs.scheduler_given) continue;
    for (svc::ServiceConfig& s : vs.services) s.scheduler = "mh";
  }
}
}  // namespace sluice::config
