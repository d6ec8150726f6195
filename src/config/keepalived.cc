#include "config/keepalived.h"

#include <map>
#include <set>

#include <fmt/format.h>

#include "config/cluster.h"
#include "config/keepalived_checkers.h"
#include "config/keepalived_groups.h"
#include "config/values.h"

namespace sluice::config {
namespace {

using namespace keepalived;

// Top-level blocks that belong to keepalived's VRRP/BFD side: read for their braces only.
constexpr const char* kSkippedTop[] = {
    "vrrp_instance", "vrrp_script", "vrrp_sync_group", "static_ipaddress", "static_routes",
    "static_rules", "vrrp_track_process", "vrrp_track_file", "bfd_instance", "garp_group",
    "linkbeat_interfaces", "static_track_group", "track_group", "instance", "use_pid_dir",
    "namespace_with_ipsets", "child_wait_time", "vrrp_garp_interval"};

// global_defs keywords that configure keepalived's other processes, mail, SNMP, scheduling
// priorities: accepted, no effect on the LVS part.
constexpr const char* kGlobalNoEffect[] = {
    "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout",
    "smtp_alert", "smtp_alert_checker", "smtp_helo_name", "checker_process_name",
    "checker_priority", "checker_rt_priority", "checker_cpu_affinity", "checker_no_swap",
    "checker_rlimit_rttime", "enable_snmp_checker", "enable_snmp_vrrp", "enable_snmp_rfc",
    "enable_snmp_keepalived", "snmp_socket", "enable_traps", "dynamic_interfaces",
    "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark",
    "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "max_auto_priority",
    "min_auto_priority_delay", "no_checker_emails", "instance", "net_namespace_ipvs",
    "umask", "script_security", "process_names", "process_name", "bfd_process_name",
    "bfd_priority", "bfd_rt_priority", "bfd_no_swap", "bfd_cpu_affinity", "bfd_rlimit_rttime",
    "linkbeat_use_polling", "local_name", "default_interface", "disable_local_igmp",
    "startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout",
    "notify_fifo", "notify_fifo_script", "random_seed", "reload_check_config",
    "reload_time_file", "reload_repeat", "reload_file", "config_save_dir", "data_use_instance",
    "fifo_write_vrrp_states_on_reload", "rt_priority", "cpu_affinity", "no_swap"};

bool listed(const std::string& k, const auto& list) {
  for (const char* s : list)
    if (k == s) return true;
  return false;
}

bool startsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

std::string where(const Where& w) { return fmt::format("{}:{}", w.file, w.line); }

// A script with optional user/group: the command as written; user/group are not used.
std::string commandArg(const Node& n, Config& cfg) {
  if (n.args.empty()) {
    addError(cfg, n.at, fmt::format("{} needs a command", n.key));
    return {};
  }
  if (n.args[0].quoted) {
    if (n.args.size() > 1)
      addWarning(cfg, n.at, fmt::format("{}: user/group ignored (sluiced runs notify and quorum commands as its own user)",
                                        n.key));
    return n.args[0].text;
  }
  return joinArgs(n);
}

// A forwarding method with keepalived 2.x's tunnel options. The virtual_server's is its
// real servers' and sorry server's default; a real_server's own lvs_method replaces it
// whole (keepalived's svr_forwarding_handler starts from ipip/no port/nocsum each time).
struct LvsMethod {
  svc::FwdMethod fwd = svc::FwdMethod::kNat;
  uint8_t tun_type = SL_TUN_IPIP;
  uint16_t tun_port = 0;
  uint8_t tun_flags = 0;
  Where at;

  void applyTo(svc::DestConfig& d) const {
    d.fwd = fwd;
    d.tun_type = tun_type;
    d.tun_port = tun_port;
    d.tun_flags = tun_flags;
  }
};

// The tunnel options after TUN, in any order as keepalived reads them:
//   type ipip|gue|gre, port N (1-65535), nocsum|csum|remcsum (the last one written wins).
// keepalived's own checks follow: a gue tunnel needs its port and only gue has one; ipip
// takes no checksum option but nocsum; gre no remcsum. Returns the problem, or nothing.
std::optional<std::string> tunnelOptions(const Node& n, LvsMethod& m) {
  for (size_t i = 1; i < n.args.size(); ++i) {
    const std::string& o = n.args[i].text;
    if (o == "type" || o == "port") {
      if (i + 1 >= n.args.size()) return fmt::format("'{}' needs a value", o);
      const std::string& v = n.args[++i].text;
      if (o == "type") {
        auto t = svc::tunTypeFromName(v);
        if (!t) return fmt::format("unknown tunnel type '{}' (ipip, gue or gre)", v);
        m.tun_type = *t;
      } else {
        auto p = parseUint(v, 65535);
        if (!p || *p == 0) return fmt::format("invalid gue tunnel port '{}' (1-65535)", v);
        m.tun_port = uint16_t(*p);
      }
    } else if (o == "nocsum") {
      m.tun_flags = 0;
    } else if (o == "csum") {
      m.tun_flags = SL_TUN_F_CSUM;
    } else if (o == "remcsum") {
      m.tun_flags = SL_TUN_F_REMCSUM;
    } else {
      return fmt::format("invalid tunnel option '{}' (type, port, nocsum, csum, remcsum)", o);
    }
  }
  if ((m.tun_type == SL_TUN_GUE) != (m.tun_port != 0))
    return std::string(m.tun_type == SL_TUN_GUE ? "a gue tunnel needs 'port N'"
                                                : "only gue tunnels take a port");
  if (m.tun_type == SL_TUN_IPIP && m.tun_flags != 0) return std::string("ipip tunnels take no checksum option");
  if (m.tun_type == SL_TUN_GRE && (m.tun_flags & SL_TUN_F_REMCSUM))
    return std::string("gre tunnels do not support remcsum");
  return std::nullopt;
}

// lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]
std::optional<LvsMethod> methodArg(const Node& n, Config& cfg) {
  if (!wantArgs(n, 1, 6, cfg)) return std::nullopt;
  auto m = parseFwdMethod(n.args[0].text);
  if (!m) {
    addError(cfg, n.at, fmt::format("{}: '{}' is not NAT, DR, TUN or FNAT", n.key, n.args[0].text));
    return std::nullopt;
  }
  LvsMethod method{*m};
  method.at = n.at;
  if (n.args.size() > 1) {
    // keepalived reads the options after any method and uses them only for TUN; an option
    // that would do nothing is refused here rather than silently ignored.
    if (*m != svc::FwdMethod::kTun) {
      addError(cfg, n.at, fmt::format("{}: options after {} (only TUN takes tunnel options)", n.key,
                                      n.args[0].text));
      return std::nullopt;
    }
    if (auto why = tunnelOptions(n, method)) {
      addError(cfg, n.at, fmt::format("{} {}: {}", n.key, joinArgs(n), *why));
      return std::nullopt;
    }
  }
  svc::DestConfig d;
  method.applyTo(d);
  Status s = svc::checkImplemented(d);
  if (!s) {
    addError(cfg, n.at, fmt::format("{} {}: {}", n.key, joinArgs(n), s.error().message));
    return std::nullopt;
  }
  return method;
}

class Parser {
 public:
  explicit Parser(Config& cfg) : cfg_(cfg) {}

  void run(const std::vector<Node>& tree) {
    std::vector<const Node*> vss;
    for (const Node& n : tree) {
      bool lvs = n.key == "global_defs" || n.key == "virtual_server_group" || n.key == "virtual_server" ||
                 n.key == "local_address_group";
      if (lvs && !shapeOk(n, cfg_)) continue;
      if (n.key == "track_file" && !n.block) {
        addError(cfg_, n.at, "track_file needs a { } block here (file, weight)");
        continue;
      }
      if (n.key == "global_defs") {
        globalDefs(n);
      } else if (n.key == "virtual_server_group") {
        if (wantArgs(n, 1, 1, cfg_)) {
          if (groups_.count(n.args[0].text))
            addError(cfg_, n.at, fmt::format("virtual_server_group {} defined twice (first at {})",
                                             n.args[0].text, where(groups_[n.args[0].text].at)));
          else
            groups_[n.args[0].text] = parseGroup(n, cfg_);
        }
      } else if (n.key == "local_address_group") {
        if (wantArgs(n, 1, 1, cfg_)) {
          const std::string& name = n.args[0].text;
          if (laddr_groups_.count(name))
            addError(cfg_, n.at, fmt::format("local_address_group {} defined twice (first at {})", name,
                                             where(laddr_groups_[name].at)));
          else
            laddr_groups_[name] = parseLaddrGroup(n, cfg_);
        }
      } else if (n.key == "track_file") {
        if (auto t = parseTrackFile(n, cfg_)) track_files_[t->first] = t->second;
      } else if (n.key == "virtual_server") {
        vss.push_back(&n);
      } else if (n.key == "sluice_cluster") {
        parseClusterBlock(n, cfg_);
      } else if (n.key == "SSL") {
        notSupported(n, "SSL_GET client certificates and keys (sluiced checks without one)", cfg_);
      } else if (n.key == "net_namespace") {
        notSupported(n, "start sluiced inside that network namespace instead", cfg_);
      } else if (listed(n.key, kSkippedTop) || startsWith(n.key, "vrrp_")) {
        std::string name = n.key;
        if (!n.args.empty()) name += " " + n.args[0].text;
        cfg_.skipped.push_back(fmt::format("{} ({})", name, where(n.at)));
      } else {
        unknownKeyword(n, "the top level", cfg_);
      }
    }
    for (const Node* n : vss) virtualServer(*n);
  }

 private:
  void globalDefs(const Node& g) {
    GlobalConfig& gc = cfg_.global;
    for (const Node& n : g.children) {
      const std::string& k = n.key;
      if (k == "router_id") {
        if (wantArgs(n, 1, 1, cfg_)) gc.router_id = n.args[0].text;
      } else if (k == "lvs_timeouts") {
        svc::Timeouts t;
        if (n.args.empty() || n.args.size() % 2 != 0) {
          addError(cfg_, n.at, "lvs_timeouts takes pairs: [tcp S] [tcpfin S] [udp S]");
          continue;
        }
        bool ok = true;
        for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
          auto v = parseUint(n.args[i + 1].text, 2'000'000);
          const std::string& w = n.args[i].text;
          if (!v || *v == 0) {
            addError(cfg_, n.at, fmt::format("lvs_timeouts {}: '{}' is not a number of seconds",
                                             w, n.args[i + 1].text));
            ok = false;
          } else if (w == "tcp") {
            t.tcp = uint32_t(*v);
          } else if (w == "tcpfin") {
            t.tcp_fin = uint32_t(*v);
          } else if (w == "udp") {
            t.udp = uint32_t(*v);
          } else {
            addError(cfg_, n.at, fmt::format("lvs_timeouts: '{}' is not tcp, tcpfin or udp", w));
            ok = false;
          }
        }
        if (ok) gc.lvs_timeouts = t;
      } else if (k == "lvs_flush") {
        if (wantArgs(n, 0, 0, cfg_)) gc.lvs_flush = true;
      } else if (k == "lvs_flush_on_stop") {
        if (wantArgs(n, 0, 1, cfg_)) {
          if (!n.args.empty() && n.args[0].text != "VS")
            addError(cfg_, n.at, "lvs_flush_on_stop takes nothing or VS");
          else
            gc.lvs_flush_on_stop = true;
        }
      } else if (k == "lvs_notify_fifo") {
        if (wantArgs(n, 1, 3, cfg_)) gc.lvs_notify_fifo = n.args[0].text;
      } else if (k == "lvs_notify_fifo_script") {
        notSupported(n, "sluiced writes lvs_notify_fifo lines but does not start a reader script", cfg_);
      } else if (k == "lvs_sync_daemon" || k == "lvs_sync_daemon_interface") {
        notSupported(n, "IPVS's multicast sync daemon: Sluice's directors sync by unicast to the "
                        "directors of a sluice_cluster block (docs/CLUSTER.md)", cfg_);
      } else if (k == "checker_log_all_failures") {
        if (auto b = boolArg(n, cfg_)) gc.checker_log_all_failures = *b;
      } else if (k == "enable_script_security") {
        if (wantArgs(n, 0, 0, cfg_)) gc.enable_script_security = true;
      } else if (k == "script_user") {
        if (wantArgs(n, 1, 2, cfg_)) {
          gc.script_user = joinArgs(n);
          addWarning(cfg_, n.at, "script_user: notify and quorum commands run as sluiced's own user "
                                 "(MISC_CHECK's user is honoured)");
        }
      } else if (listed(k, kGlobalNoEffect) || startsWith(k, "vrrp_") || startsWith(k, "smtp_") ||
                 startsWith(k, "snmp_") || startsWith(k, "notify_")) {
        // keepalived's other processes; no effect here.
      } else {
        addWarning(cfg_, n.at, fmt::format("unknown keyword '{}' in global_defs: ignored", k));
      }
    }
  }

  struct VsHead {
    enum Kind { kAddr, kFwmark, kGroup } kind = kAddr;
    net::IpAddr addr;
    uint16_t port = 0;
    uint32_t fwmark = 0;
    std::string group;
  };

  std::optional<VsHead> head(const Node& n) {
    VsHead h;
    if (n.args.empty()) {
      addError(cfg_, n.at, "virtual_server needs IP [PORT], fwmark N or group NAME");
      return std::nullopt;
    }
    const std::string& a0 = n.args[0].text;
    if (a0 == "fwmark" || a0 == "group") {
      if (!wantArgs(n, 2, 2, cfg_)) return std::nullopt;
      if (a0 == "group") {
        h.kind = VsHead::kGroup;
        h.group = n.args[1].text;
        return h;
      }
      auto m = uintArg(n, UINT32_MAX, cfg_, 1);
      if (!m) return std::nullopt;
      if (*m == 0) {
        addError(cfg_, n.at, "virtual_server fwmark: the mark must not be 0");
        return std::nullopt;
      }
      h.kind = VsHead::kFwmark;
      h.fwmark = uint32_t(*m);
      return h;
    }
    if (!wantArgs(n, 1, 2, cfg_)) return std::nullopt;
    auto ip = ipArg(n, cfg_, 0);
    if (!ip) return std::nullopt;
    h.addr = *ip;
    if (n.args.size() == 2) {
      auto p = portArg(n, cfg_, 1);
      if (!p) return std::nullopt;
      h.port = *p;
    }
    return h;
  }

  void virtualServer(const Node& n) {
    auto h = head(n);
    if (!h) return;
    VirtualServerConfig vs;
    vs.at = n.at;
    vs.name = joinArgs(n);
    svc::ServiceConfig base;
    bool sched_given = false;
    Inherit inh;
    std::optional<svc::Proto> proto;
    std::optional<LvsMethod> method;
    bool method_bad = false;
    std::optional<LvsMethod> sorry_method;
    bool sorry_inhibit = false;
    std::optional<Where> sh_at, mh_at, ops_at, persist_at;
    std::optional<unsigned> prefix;
    std::optional<net::Family> ip_family;
    std::vector<const Node*> rss;
    std::optional<Node> sorry;
    std::optional<Node> laddr_group;
    for (const Node& s : n.children) {
      if (!shapeOk(s, cfg_)) continue;
      const std::string& k = s.key;
      if (k == "real_server") {
        rss.push_back(&s);
      } else if (parseInheritable(s, inh, cfg_)) {
      } else if (k == "lvs_sched" || k == "lb_algo") {
        if (wantArgs(s, 1, 1, cfg_)) {
          auto r = parseScheduler(s.args[0].text);
          if (!r) addError(cfg_, s.at, fmt::format("{}: {}", k, r.error().message));
          else base.scheduler = *r;
          sched_given = true;
        }
      } else if (k == "lvs_method" || k == "lb_kind") {
        method = methodArg(s, cfg_);
        method_bad = !method;
      } else if (k == "laddr_group_name") {
        if (wantArgs(s, 1, 1, cfg_)) laddr_group = s;
      } else if (k == "proxy_protocol") {
        // DPVS keepalived: v1|v2|v1-insecure|v2-insecure, anything else disables it (TOA).
        if (wantArgs(s, 1, 1, cfg_)) {
          const std::string v = lower(s.args[0].text);
          if (v == "v2") clientAddr(s, svc::ClientAddr::kProxyV2, base);
          else if (v == "disable") clientAddr(s, svc::ClientAddr::kToa, base);
          else if (v == "v1" || v == "v1-insecure" || v == "v2-insecure")
            notSupported(s, "PROXY protocol v1 and the insecure variants are not implemented; "
                            "write proxy_protocol v2 or client_addr toa", cfg_);
          else
            addError(cfg_, s.at, fmt::format("proxy_protocol: '{}' is not v2 or disable", s.args[0].text));
        }
      } else if (k == "client_addr") {
        // Sluice's own spelling (DPVS keepalived has no TOA keyword: TOA is its default).
        if (wantArgs(s, 1, 1, cfg_)) {
          if (auto c = svc::clientAddrFromName(s.args[0].text)) clientAddr(s, *c, base);
          else addError(cfg_, s.at, fmt::format("client_addr: '{}' is not toa, none or proxy-v2",
                                                s.args[0].text));
        }
      } else if (k == "protocol") {
        if (wantArgs(s, 1, 1, cfg_)) {
          std::string p = lower(s.args[0].text);
          if (p == "tcp") proto = svc::Proto::kTcp;
          else if (p == "udp") proto = svc::Proto::kUdp;
          else if (p == "sctp") notSupported(s, "SCTP services are not implemented (TCP and UDP are)", cfg_);
          else addError(cfg_, s.at, fmt::format("protocol: '{}' is not TCP, UDP or SCTP", s.args[0].text));
        }
      } else if (k == "flag-1" || k == "flag-2" || k == "flag-3") {
        if (wantArgs(s, 0, 0, cfg_))
          base.sched_flags |= k == "flag-1" ? svc::kSchedFlag1 : k == "flag-2" ? svc::kSchedFlag2
                                                                               : svc::kSchedFlag3;
      } else if (k == "sh-port" || k == "sh-fallback") {
        if (wantArgs(s, 0, 0, cfg_)) {
          base.sched_flags |= k == "sh-port" ? svc::kSchedFlag2 : svc::kSchedFlag1;
          sh_at = s.at;
        }
      } else if (k == "mh-port" || k == "mh-fallback") {
        if (wantArgs(s, 0, 0, cfg_)) {
          base.sched_flags |= k == "mh-port" ? svc::kSchedFlag2 : svc::kSchedFlag1;
          mh_at = s.at;
        }
      } else if (k == "ops") {
        if (wantArgs(s, 0, 0, cfg_)) {
          base.one_packet = true;
          ops_at = s.at;
        }
      } else if (k == "persistence_timeout") {
        if (wantArgs(s, 0, 1, cfg_)) {
          base.persistent = true;
          persist_at = s.at;
          base.persistence_timeout = 360;
          if (!s.args.empty()) {
            auto v = parseUint(s.args[0].text, 2'678'400);
            if (!v || *v == 0)
              addError(cfg_, s.at, fmt::format("persistence_timeout: '{}' is not a number of seconds "
                                               "from 1 to 2678400", s.args[0].text));
            else
              base.persistence_timeout = uint32_t(*v);
          }
        }
      } else if (k == "persistence_granularity") {
        if (wantArgs(s, 1, 1, cfg_)) {
          if (auto p = parseUint(s.args[0].text, 128)) {
            prefix = unsigned(*p);
          } else if (auto m = net::IpAddr::parse(s.args[0].text); m && netmaskToPrefix(*m)) {
            prefix = *netmaskToPrefix(*m);
          } else {
            addError(cfg_, s.at, fmt::format("persistence_granularity: '{}' is not a netmask or "
                                             "prefix length", s.args[0].text));
          }
        }
      } else if (k == "persistence_engine") {
        notSupported(s, "persistence engines (sip) are not implemented", cfg_);
      } else if (k == "ip_family") {
        if (wantArgs(s, 1, 1, cfg_)) {
          if (s.args[0].text == "inet") ip_family = net::Family::kV4;
          else if (s.args[0].text == "inet6") ip_family = net::Family::kV6;
          else addError(cfg_, s.at, fmt::format("ip_family: '{}' is not inet or inet6", s.args[0].text));
        }
      } else if (k == "sorry_server") {
        sorry = s;
      } else if (k == "sorry_server_inhibit") {
        if (auto b = boolArg(s, cfg_)) sorry_inhibit = *b;
      } else if (k == "sorry_server_lvs_method") {
        sorry_method = methodArg(s, cfg_);
      } else if (k == "quorum") {
        if (auto v = uintArg(s, UINT32_MAX, cfg_)) {
          if (*v == 0) addError(cfg_, s.at, "quorum must be at least 1");
          else vs.quorum = uint32_t(*v);
        }
      } else if (k == "hysteresis") {
        if (auto v = uintArg(s, UINT32_MAX, cfg_)) vs.hysteresis = uint32_t(*v);
      } else if (k == "quorum_up") {
        vs.quorum_up = commandArg(s, cfg_);
      } else if (k == "quorum_down") {
        vs.quorum_down = commandArg(s, cfg_);
      } else if (k == "omega") {
        if (wantArgs(s, 0, 0, cfg_)) vs.omega = true;
      } else if (k == "ha_suspend") {
        if (wantArgs(s, 0, 0, cfg_)) {
          vs.ha_suspend = true;
          addWarning(cfg_, s.at, "ha_suspend: sluiced's checks always run (it does not follow "
                                 "VRRP, which owns the VIP's address)");
        }
      } else if (k == "smtp_alert" || k == "snmp_name") {
        // mail and SNMP: no effect in sluiced.
      } else if (k == "nat_mask") {
        addWarning(cfg_, s.at, "nat_mask: ignored (a keepalived 1.x option)");
      } else if (isCheckerKeyword(k)) {
        addError(cfg_, s.at, fmt::format("{} belongs inside a real_server block", k));
      } else {
        unknownKeyword(s, "virtual_server", cfg_);
      }
    }
    if (inh.virtualhost) vs.virtualhost = *inh.virtualhost;

    // Which services this block makes.
    std::vector<std::pair<svc::ServiceKey, Where>> keys;
    if (h->kind == VsHead::kGroup) {
      auto it = groups_.find(h->group);
      if (it == groups_.end()) {
        addError(cfg_, n.at, fmt::format("virtual_server group {}: no virtual_server_group of that name",
                                         h->group));
        return;
      }
      if (services_ + it->second.members.size() > kMaxServices) {
        addError(cfg_, n.at, fmt::format("more than {} virtual services in this configuration",
                                         kMaxServices));
        return;
      }
      services_ += it->second.members.size();
      for (const GroupMember& m : it->second.members) keys.emplace_back(m.key, m.at);
      if (keys.empty()) addError(cfg_, n.at, fmt::format("virtual_server_group {} is empty", h->group));
    } else {
      svc::ServiceKey k;
      k.addr = h->addr;
      k.port = h->port;
      k.fwmark = h->fwmark;
      if (h->kind == VsHead::kFwmark) {
        k.addr = {};
        k.fwmark_family = ip_family.value_or(net::Family::kV4);
      }
      keys.emplace_back(k, n.at);
    }
    bool any_addr = false;
    for (auto& [k, at] : keys) any_addr |= k.fwmark == 0;
    if (!proto && any_addr)
      addWarning(cfg_, n.at, "virtual_server without protocol: UDP, as keepalived 2.2.7 does; "
                             "write 'protocol TCP' or 'protocol UDP'");
    bool prefix_reported = false;
    for (auto& [k, at] : keys) {
      if (k.fwmark == 0) k.proto = proto.value_or(svc::Proto::kUdp);
      else if (ip_family && h->kind == VsHead::kGroup) k.fwmark_family = *ip_family;
      svc::ServiceConfig sc = base;
      sc.key = k;
      bool v6 = k.fwmark ? k.fwmark_family == net::Family::kV6 : k.addr.isV6();
      sc.persistence_prefix = prefix.value_or(v6 ? 128 : 32);
      if (sc.persistence_prefix > (v6 ? 128u : 32u) && !prefix_reported) {
        addError(cfg_, n.at, fmt::format("persistence_granularity /{} is longer than the address",
                                         sc.persistence_prefix));
        prefix_reported = true;
      }
      if (k.fwmark == 0 && k.port == 0 && !sc.persistent)
        addError(cfg_, at, fmt::format("{}: port 0 (all ports) needs persistence_timeout",
                                       keyName(k)));
      Status st = svc::checkImplemented(k);
      if (!st) addError(cfg_, at, fmt::format("{}: {}", keyName(k), st.error().message));
      auto [it, fresh] = seen_.emplace(k, at);
      if (!fresh)
        addError(cfg_, at, fmt::format("duplicate virtual service {} (first at {})", keyName(k),
                                       where(it->second)));
      vs.services.push_back(sc);
    }
    if (sh_at && base.scheduler != "sh" && base.scheduler != "mh")
      addError(cfg_, *sh_at, fmt::format("sh-port/sh-fallback need lvs_sched sh or mh, not {}",
                                         base.scheduler));
    if (mh_at && base.scheduler != "mh")
      addError(cfg_, *mh_at, fmt::format("mh-port/mh-fallback need lvs_sched mh, not {}", base.scheduler));
    if (ops_at && base.persistent)
      addError(cfg_, *ops_at, "ops (one-packet scheduling) cannot be combined with persistence_timeout");

    // Forwarding: the block's method is its real servers' default (NAT when not written).
    const LvsMethod vs_method = method ? *method : LvsMethod{};
    bool vs_method_used = rss.empty();
    std::map<net::Endpoint, Where> seen_rs;
    for (const Node* r : rss) {
      auto rs = realServer(*r, inh, vs_method, vs, vs_method_used);
      if (!rs) continue;
      if (++real_servers_ > kMaxRealServers) {
        if (real_servers_ == kMaxRealServers + 1)
          addError(cfg_, rs->at, fmt::format("more than {} real servers in this configuration",
                                           kMaxRealServers));
        break;
      }
      auto [it, fresh] = seen_rs.emplace(rs->dest.ep, rs->at);
      if (!fresh) {
        addError(cfg_, rs->at, fmt::format("duplicate real_server {} (first at {})", rs->dest.ep.str(),
                                           where(it->second)));
        continue;
      }
      vs.real_servers.push_back(std::move(*rs));
    }
    if (sorry) {
      SorryServer ss;
      ss.inhibit = sorry_inhibit;
      if (wantArgs(*sorry, 1, 2, cfg_)) {
        if (auto a = ipArg(*sorry, cfg_)) ss.ep.addr = *a;
        if (sorry->args.size() == 2)
          if (auto p = portArg(*sorry, cfg_, 1)) ss.ep.port = *p;
      }
      if (sorry_method) {
        ss.fwd = sorry_method->fwd;
        ss.tun_type = sorry_method->tun_type;
        ss.tun_port = sorry_method->tun_port;
        ss.tun_flags = sorry_method->tun_flags;
      } else if (!method_bad) {
        ss.fwd = vs_method.fwd;
        ss.tun_type = vs_method.tun_type;
        ss.tun_port = vs_method.tun_port;
        ss.tun_flags = vs_method.tun_flags;
        vs_method_used = true;
      }
      checkFamily(ss.ep.addr, ss.fwd, vs, sorry->at);
      vs.sorry_server = ss;
    } else if (sorry_inhibit || sorry_method) {
      addWarning(cfg_, n.at, "sorry_server_inhibit/sorry_server_lvs_method without a sorry_server");
    }
    if (vs_method_used && !method && !method_bad) {
      Status st = svc::checkImplemented(svc::FwdMethod::kNat);
      if (!st)
        addError(cfg_, n.at, fmt::format("virtual_server without lvs_method: NAT, as keepalived does; {}",
                                         st.error().message));
    }
    vs.scheduler_given = sched_given;
    localAddresses(vs, laddr_group);
    cfg_.virtual_servers.push_back(std::move(vs));
  }

  void clientAddr(const Node& s, svc::ClientAddr c, svc::ServiceConfig& base) {
    if (Status st = svc::checkImplemented(c); !st) {
      addError(cfg_, s.at, fmt::format("{} {}: {}", s.key, joinArgs(s), st.error().message));
      return;
    }
    base.client_addr = c;
  }

  // laddr_group_name: the group's addresses for each of the block's services, which must be
  // of their family. FULLNAT real servers without any are allowed (as in DPVS), but said.
  void localAddresses(VirtualServerConfig& vs, const std::optional<Node>& ref) {
    bool fullnat = false;
    for (const RealServerConfig& rs : vs.real_servers) fullnat |= rs.dest.fwd == svc::FwdMethod::kFullNat;
    if (vs.sorry_server) fullnat |= vs.sorry_server->fwd == svc::FwdMethod::kFullNat;
    if (!ref) {
      if (fullnat)
        addWarning(cfg_, vs.at, fmt::format("virtual_server {}: FULLNAT real servers but no "
                                            "laddr_group_name: new connections are dropped (and "
                                            "counted) until local addresses are added",
                                            vs.name));
      return;
    }
    const std::string& name = ref->args[0].text;
    auto it = laddr_groups_.find(name);
    if (it == laddr_groups_.end()) {
      addError(cfg_, ref->at, fmt::format("laddr_group_name {}: no local_address_group of that name", name));
      return;
    }
    const LaddrGroup& g = it->second;
    if (g.members.empty()) return;
    const net::Family lf = g.members.front().laddr.addr.family;
    for (const svc::ServiceConfig& sc : vs.services) {
      net::Family f = sc.key.fwmark ? sc.key.fwmark_family : sc.key.addr.family;
      if (f != lf) {
        addError(cfg_, ref->at, fmt::format("laddr_group_name {}: its addresses are IPv{} but the "
                                            "virtual service {} is IPv{} (local addresses must be of "
                                            "the service's family; NAT64 is not supported)",
                                            name, int(lf), keyName(sc.key), int(f)));
        return;
      }
    }
    vs.laddr_group = name;
    for (const LaddrMember& m : g.members) vs.laddrs.push_back(m.laddr);
  }

  static std::string keyName(const svc::ServiceKey& k) {
    if (k.fwmark) return fmt::format("fwmark {}", k.fwmark);
    net::Endpoint ep{k.addr, k.port};
    return fmt::format("{} {}", k.proto == svc::Proto::kTcp ? "TCP" : "UDP", ep.str());
  }

  // DR (and tunnels) carry the client's packet unchanged: the real server must be of the
  // virtual address's family.
  void checkFamily(const net::IpAddr& a, svc::FwdMethod fwd, const VirtualServerConfig& vs,
                   const Where& at) {
    if (fwd != svc::FwdMethod::kDr || a.family == net::Family::kNone) return;
    for (const svc::ServiceConfig& s : vs.services) {
      net::Family f = s.key.fwmark ? s.key.fwmark_family : s.key.addr.family;
      if (f != a.family) {
        addError(cfg_, at, fmt::format("{} is IPv{} but the virtual service {} is IPv{}: DR cannot "
                                       "change the address family", a.str(), int(a.family),
                                       keyName(s.key), int(f)));
        return;
      }
    }
  }

  std::optional<RealServerConfig> realServer(const Node& n, const Inherit& vs_inh, const LvsMethod& vs_method,
                                             const VirtualServerConfig& vs, bool& vs_method_used) {
    if (!wantArgs(n, 1, 2, cfg_)) return std::nullopt;
    RealServerConfig rs;
    rs.at = n.at;
    auto a = ipArg(n, cfg_);
    if (!a) return std::nullopt;
    rs.dest.ep.addr = *a;
    if (n.args.size() == 2) {
      auto p = portArg(n, cfg_, 1);
      if (!p) return std::nullopt;
      rs.dest.ep.port = *p;
    }
    Inherit inh;
    std::optional<LvsMethod> method;
    bool method_bad = false;
    std::vector<CheckerDraft> drafts;
    for (const Node& s : n.children) {
      if (!shapeOk(s, cfg_)) continue;
      const std::string& k = s.key;
      if (isCheckerKeyword(k)) {
        for (CheckerDraft& d : parseChecker(s, cfg_)) drafts.push_back(std::move(d));
      } else if (parseInheritable(s, inh, cfg_)) {
      } else if (k == "weight") {
        if (auto v = uintArg(s, 65535, cfg_)) rs.dest.weight = int32_t(*v);
      } else if (k == "lvs_method") {
        method = methodArg(s, cfg_);
        method_bad = !method;
      } else if (k == "uthreshold") {
        if (auto v = uintArg(s, UINT32_MAX, cfg_)) rs.dest.u_threshold = uint32_t(*v);
      } else if (k == "lthreshold") {
        if (auto v = uintArg(s, UINT32_MAX, cfg_)) rs.dest.l_threshold = uint32_t(*v);
      } else if (k == "notify_up") {
        rs.notify_up = commandArg(s, cfg_);
      } else if (k == "notify_down") {
        rs.notify_down = commandArg(s, cfg_);
      } else if (k == "smtp_alert" || k == "snmp_name") {
        // mail and SNMP: no effect in sluiced.
      } else {
        unknownKeyword(s, "real_server", cfg_);
      }
    }
    if (rs.dest.u_threshold && rs.dest.l_threshold > rs.dest.u_threshold)
      addError(cfg_, n.at, "lthreshold is above uthreshold");
    if (method) {
      method->applyTo(rs.dest);
    } else {
      vs_method.applyTo(rs.dest);
      if (!method_bad) vs_method_used = true;
    }
    checkFamily(rs.dest.ep.addr, rs.dest.fwd, vs, n.at);
    rs.inhibit_on_failure = (inh.inhibit_on_failure ? inh.inhibit_on_failure : vs_inh.inhibit_on_failure)
                                .value_or(false);
    rs.alpha = (inh.alpha ? inh.alpha : vs_inh.alpha).value_or(false);
    for (const CheckerDraft& d : drafts)
      rs.checkers.push_back(resolveChecker(d, inh, vs_inh, cfg_.global.checker_log_all_failures,
                                           track_files_, cfg_));
    return rs;
  }

  Config& cfg_;
  std::map<std::string, Group> groups_;
  std::map<std::string, LaddrGroup> laddr_groups_;
  std::map<std::string, TrackFile> track_files_;
  std::map<svc::ServiceKey, Where> seen_;
  size_t services_ = 0;  // from groups; a plain block makes one, bounded by the file size
  size_t real_servers_ = 0;
};

}  // namespace

void parseKeepalived(const std::vector<Node>& tree, Config& cfg) {
  cfg.format = Format::kKeepalived;
  Parser(cfg).run(tree);
}

}  // namespace sluice::config
