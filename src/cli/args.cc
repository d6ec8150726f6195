// ipvsadm-compatible argument parsing. The shape follows ipvsadm's popt loop: the first
// option must be the command, options are applied in order, positional words are only
// taken by --set, and the command x option table is checked after parsing. Host and port
// names are not looked up in DNS (numeric addresses only); port names come from
// /etc/services as in ipvsadm.
#include "cli/args.h"

#include <cctype>
#include <climits>
#include <iterator>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "cli/values.h"
#include "net/addr.h"

namespace sluice::cli {

namespace {

constexpr int kMaxTimeout = 86400 * 31;  // ipvsadm's MAX_TIMEOUT: 31 days
constexpr size_t kMaxIfName = 15;        // IFNAMSIZ - 1 (ipvsadm truncates; we refuse)

const char* const kOptNames[kNumOpts] = {
    "numeric",    "connection", "service-address", "scheduler",     "persistent",
    "netmask",    "real-server", "forwarding-method", "weight",     "u-threshold",
    "l-threshold", "timeout",   "daemon",          "stats",         "rate",
    "thresholds", "persistent-conn", "nosort",     "exact",         "ops",
    "sched-flags", "json",     "mcast-interface", "syncid",    "mcast-group",
    "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info",  "tun-type",    "tun-port",
    "tun-nocsum", "tun-csum",  "tun-remcsum", "laddr", "ifname", "client-addr",
};

// Which options each command takes: '+' required, 'x' refused, '1' at most one of the
// '1's, ' ' optional. Columns follow kOptNames; rows follow Cmd (from kAddService).
// -n -c svc -s -p -M -r fwd -w -x -y tot dmn -st -rt thr -pc srt -ex ops -b json -mc sid grp port ttl size tinf type tprt nocs csum remc ladr ifn ca
constexpr const char* kCmdOpts[] = {
    /* add-service    */ "xx+   xxxxxxxxxxxxx  xxxxxxxxxxxxxxx ",
    /* edit-service   */ "xx+   xxxxxxxxxxxxx  xxxxxxxxxxxxxxx ",
    /* delete-service */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* flush          */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* list           */ " 11xxxxxxxx11      xx xxxxxx xxxxxxxx",
    /* add-server     */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     xxx",
    /* delete-server  */ "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* edit-server    */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     xxx",
    /* set            */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* restore        */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* save           */ " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* zero           */ "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* counters       */ " xxxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx",
    /* reload         */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* health         */ " xxxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx",
    /* start-daemon   */ "xxxxxxxxxxxxxxxxxxxxxx      xxxxxxxxx",
    /* stop-daemon    */ "xxxxxxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxx",
    /* add-laddr      */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+ x",
    /* del-laddr      */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+ x",
    /* get-laddr      */ " x xxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx",
};
// One row per command that reaches checkTable (help and version never do), one column per option.
static_assert(std::size(kCmdOpts) == size_t(Cmd::kHelp) - size_t(Cmd::kAddService));
constexpr bool rowsComplete() {
  for (const char* row : kCmdOpts)
    if (std::string_view(row).size() != size_t(kNumOpts)) return false;
  return true;
}
static_assert(rowsComplete());

enum class ArgKind { kNone, kRequired, kOptionalNumber };

// Ids: the short letter where there is one, these for long-only options.
enum : int {
  kIdSet = 128,
  kIdTimeout,
  kIdDaemon,
  kIdStats,
  kIdRate,
  kIdThresholds,
  kIdPersistentConn,
  kIdNoSort,
  kIdSort,
  kIdFullNat,
  kIdJson,
  kIdCounters,
  kIdReload,
  kIdHealth,
  kIdStartDaemon,
  kIdStopDaemon,
  kIdMcastInterface,
  kIdSyncId,
  kIdMcastGroup,
  kIdMcastPort,
  kIdMcastTtl,
  kIdSyncMaxlen,
  kIdTunInfo,
  kIdTunType,
  kIdTunPort,
  kIdTunNoCsum,
  kIdTunCsum,
  kIdTunRemCsum,
  kIdClientAddr,
  kIdProxyProtocol,
};

struct OptSpec {
  const char* long_name;  // nullptr: short only
  char short_name;        // 0: long only
  int id;
  ArgKind arg;
};

constexpr OptSpec kSpecs[] = {
    {"add-service", 'A', 'A', ArgKind::kNone},
    {"edit-service", 'E', 'E', ArgKind::kNone},
    {"delete-service", 'D', 'D', ArgKind::kNone},
    {"clear", 'C', 'C', ArgKind::kNone},
    {"list", 'L', 'L', ArgKind::kNone},
    {nullptr, 'l', 'L', ArgKind::kNone},
    {"zero", 'Z', 'Z', ArgKind::kNone},
    {"add-server", 'a', 'a', ArgKind::kNone},
    {"edit-server", 'e', 'e', ArgKind::kNone},
    {"delete-server", 'd', 'd', ArgKind::kNone},
    {"set", 0, kIdSet, ArgKind::kNone},
    {"help", 'h', 'h', ArgKind::kNone},
    {"version", 'v', 'v', ArgKind::kNone},
    {"restore", 'R', 'R', ArgKind::kNone},
    {"save", 'S', 'S', ArgKind::kNone},
    {"tcp-service", 't', 't', ArgKind::kRequired},
    {"udp-service", 'u', 'u', ArgKind::kRequired},
    {"fwmark-service", 'f', 'f', ArgKind::kRequired},
    {"scheduler", 's', 's', ArgKind::kRequired},
    {"persistent", 'p', 'p', ArgKind::kOptionalNumber},
    {"netmask", 'M', 'M', ArgKind::kRequired},
    {"real-server", 'r', 'r', ArgKind::kRequired},
    {"masquerading", 'm', 'm', ArgKind::kNone},
    {"ipip", 'i', 'i', ArgKind::kNone},
    {"gatewaying", 'g', 'g', ArgKind::kNone},
    {"fullnat", 0, kIdFullNat, ArgKind::kNone},
    {"weight", 'w', 'w', ArgKind::kRequired},
    {"u-threshold", 'x', 'x', ArgKind::kRequired},
    {"l-threshold", 'y', 'y', ArgKind::kRequired},
    {"numeric", 'n', 'n', ArgKind::kNone},
    {"connection", 'c', 'c', ArgKind::kNone},
    {"timeout", 0, kIdTimeout, ArgKind::kNone},
    {"daemon", 0, kIdDaemon, ArgKind::kNone},
    {"stats", 0, kIdStats, ArgKind::kNone},
    {"rate", 0, kIdRate, ArgKind::kNone},
    {"thresholds", 0, kIdThresholds, ArgKind::kNone},
    {"persistent-conn", 0, kIdPersistentConn, ArgKind::kNone},
    {"nosort", 0, kIdNoSort, ArgKind::kNone},
    {"sort", 0, kIdSort, ArgKind::kNone},
    {"exact", 'X', 'X', ArgKind::kNone},
    {"ipv6", '6', '6', ArgKind::kNone},
    {"ops", 'o', 'o', ArgKind::kNone},
    {"sched-flags", 'b', 'b', ArgKind::kRequired},
    {"json", 0, kIdJson, ArgKind::kNone},
    {"counters", 0, kIdCounters, ArgKind::kNone},
    {"reload", 0, kIdReload, ArgKind::kNone},
    {"health", 0, kIdHealth, ArgKind::kNone},
    {"start-daemon", 0, kIdStartDaemon, ArgKind::kRequired},
    {"stop-daemon", 0, kIdStopDaemon, ArgKind::kRequired},
    {"mcast-interface", 0, kIdMcastInterface, ArgKind::kRequired},
    {"syncid", 0, kIdSyncId, ArgKind::kRequired},
    {"mcast-group", 0, kIdMcastGroup, ArgKind::kRequired},
    {"mcast-port", 0, kIdMcastPort, ArgKind::kRequired},
    {"mcast-ttl", 0, kIdMcastTtl, ArgKind::kRequired},
    {"sync-maxlen", 0, kIdSyncMaxlen, ArgKind::kRequired},
    {"tun-info", 0, kIdTunInfo, ArgKind::kNone},
    {"tun-type", 0, kIdTunType, ArgKind::kRequired},
    {"tun-port", 0, kIdTunPort, ArgKind::kRequired},
    {"tun-nocsum", 0, kIdTunNoCsum, ArgKind::kNone},
    {"tun-csum", 0, kIdTunCsum, ArgKind::kNone},
    {"tun-remcsum", 0, kIdTunRemCsum, ArgKind::kNone},
    {"add-laddr", 'P', 'P', ArgKind::kNone},
    {"del-laddr", 'Q', 'Q', ArgKind::kNone},
    {"get-laddr", 'G', 'G', ArgKind::kNone},
    {"laddr", 'z', 'z', ArgKind::kRequired},
    {"ifname", 'F', 'F', ArgKind::kRequired},
    {"client-addr", 0, kIdClientAddr, ArgKind::kRequired},
    {"proxy-protocol", 0, kIdProxyProtocol, ArgKind::kRequired},
};

bool isMulticast(const net::IpAddr& a) {
  return a.isV4() ? (a.bytes[0] & 0xf0) == 0xe0 : a.bytes[0] == 0xff;  // 224/4, ff00::/8
}

bool isDestCmd(Cmd c) { return c == Cmd::kAddDest || c == Cmd::kEditDest || c == Cmd::kDelDest; }

const OptSpec* findLong(std::string_view name) {
  for (const auto& s : kSpecs)
    if (s.long_name && name == s.long_name) return &s;
  return nullptr;
}

const OptSpec* findShort(char c, Cmd cmd) {
  // -b: FULLNAT for real-server commands (DPVS), scheduler flags otherwise (ipvsadm).
  static constexpr OptSpec kFullNatShort{"fullnat", 'b', kIdFullNat, ArgKind::kNone};
  if (c == 'b' && isDestCmd(cmd)) return &kFullNatShort;
  for (const auto& s : kSpecs)
    if (s.short_name && s.short_name == c) return &s;
  return nullptr;
}

bool isCommandId(int id) {
  return id == kIdSet || id == kIdCounters || id == kIdReload || id == kIdHealth || id == kIdStartDaemon ||
         id == kIdStopDaemon || (id < 128 && std::string_view("AEDCLZaedRSPQG").find(char(id)) != std::string_view::npos);
}

net::Family keyFamily(const svc::ServiceKey& k) {
  return k.fwmark ? k.fwmark_family : (k.addr.family == net::Family::kNone ? net::Family::kV4 : k.addr.family);
}

class Parser {
 public:
  explicit Parser(std::string program) : program_(std::move(program)) {}

  ParseResult parse(const std::vector<std::string>& args);

 private:
  // popt's own complaints (ipvsadm exits 255), and ipvsadm's checks (it exits 2).
  static ParseError usage(std::string message) { return ParseError{std::move(message), true}; }
  static ParseError invalid(const Error& e) { return ParseError{e.message, false}; }
  Command helpOrVersion(int id) {
    c_.cmd = id == 'h' ? Cmd::kHelp : Cmd::kVersion;
    return c_;
  }
  Status handle(const OptSpec& spec, const std::string& shown, const std::optional<std::string>& value);
  Status setOption(Opt o) {
    if (c_.options & o) return makeError("multiple '{}' options specified", optName(o));
    c_.options |= o;
    return {};
  }
  static const char* optName(Opt o) {
    int i = 0;
    while ((1ull << i) != o) ++i;
    return kOptNames[i];
  }
  Status setCommand(Cmd c) {
    c_.cmd = c;
    return {};
  }
  Status finish(const std::vector<std::string>& positional);
  Status checkTable() const;
  Status checkTunnelOptions() const;
  Status parseSchedFlags();
  Status applyNetmask();

  std::string program_;
  Command c_;
  std::string netmask_arg_;
  std::string sched_flags_arg_;
  bool rs_port_given_ = false;
};

ParseResult Parser::parse(const std::vector<std::string>& args) {
  if (args.empty()) {
    c_.cmd = Cmd::kList;
    return c_;
  }
  const ParseError tryhelp = usage(fmt::format("Try `{0} -h' or '{0} --help' for more information.", program_));
  std::vector<std::string> positional;
  size_t i = 0;
  while (i < args.size()) {
    const std::string& a = args[i++];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + long(i), args.end());
      break;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      std::string name = a.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      const OptSpec* spec = findLong(name);
      std::string shown = "--" + name;
      if (!spec) {
        if (c_.cmd == Cmd::kNone) return tryhelp;
        return usage(fmt::format("{}: unknown option", shown));
      }
      if (spec->arg == ArgKind::kNone && value) return usage(fmt::format("{}: option does not take an argument", shown));
      if (spec->arg == ArgKind::kRequired && !value) {
        if (i >= args.size()) return usage(fmt::format("{}: missing argument", shown));
        value = args[i++];
      }
      if (spec->arg == ArgKind::kOptionalNumber && !value && i < args.size() && !args[i].empty() &&
          allDigits(args[i]))
        value = args[i++];
      if (c_.cmd == Cmd::kNone) {
        if (spec->id == 'h' || spec->id == 'v') return helpOrVersion(spec->id);
        if (!isCommandId(spec->id)) return tryhelp;
      }
      if (auto s = handle(*spec, shown, value); !s) return invalid(s.error());
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t j = 1; j < a.size(); ++j) {
        const OptSpec* spec = findShort(a[j], c_.cmd);
        std::string shown = std::string("-") + a[j];
        if (!spec) {
          if (c_.cmd == Cmd::kNone) return tryhelp;
          return usage(fmt::format("{}: unknown option", shown));
        }
        std::optional<std::string> value;
        bool rest_used = false;
        if (spec->arg == ArgKind::kRequired) {
          if (j + 1 < a.size()) value = a.substr(j + 1);
          else if (i < args.size()) value = args[i++];
          else return usage(fmt::format("{}: missing argument", shown));
          rest_used = true;
        } else if (spec->arg == ArgKind::kOptionalNumber) {
          if (j + 1 < a.size()) {
            value = a.substr(j + 1);
            rest_used = true;
          } else if (i < args.size() && !args[i].empty() && allDigits(args[i])) {
            value = args[i++];
          }
        }
        if (c_.cmd == Cmd::kNone) {
          if (spec->id == 'h' || spec->id == 'v') return helpOrVersion(spec->id);
          if (!isCommandId(spec->id)) return tryhelp;
        }
        if (auto s = handle(*spec, shown, value); !s) return invalid(s.error());
        if (rest_used) break;
      }
      continue;
    }
    positional.push_back(a);
  }
  if (c_.cmd == Cmd::kNone) return tryhelp;
  if (auto s = finish(positional); !s) return invalid(s.error());
  return c_;
}

Status Parser::handle(const OptSpec& spec, const std::string& shown, const std::optional<std::string>& value) {
  auto& svc = c_.service;
  auto& dest = c_.dest;
  if (c_.cmd == Cmd::kNone) {
    switch (spec.id) {
      case 'A': return setCommand(Cmd::kAddService);
      case 'E': return setCommand(Cmd::kEditService);
      case 'D': return setCommand(Cmd::kDelService);
      case 'C': return setCommand(Cmd::kFlush);
      case 'L': return setCommand(Cmd::kList);
      case 'Z': return setCommand(Cmd::kZero);
      case 'a': return setCommand(Cmd::kAddDest);
      case 'e': return setCommand(Cmd::kEditDest);
      case 'd': return setCommand(Cmd::kDelDest);
      case 'R': return setCommand(Cmd::kRestore);
      case 'S': return setCommand(Cmd::kSave);
      case kIdSet: return setCommand(Cmd::kSetTimeouts);
      case kIdCounters: return setCommand(Cmd::kCounters);
      case kIdReload: return setCommand(Cmd::kReload);
      case kIdHealth: return setCommand(Cmd::kHealth);
      case 'P': return setCommand(Cmd::kAddLaddr);
      case 'Q': return setCommand(Cmd::kDelLaddr);
      case 'G': return setCommand(Cmd::kGetLaddr);
      case kIdStartDaemon:
      case kIdStopDaemon: {
        const bool start = spec.id == kIdStartDaemon;
        auto role = ctl::syncRoleFromName(*value);
        // ipvsadm's two messages, the second with its own wording.
        if (!role && start) return makeError("illegal start-daemon parameter specified");
        if (!role) return makeError("illegal start_daemon specified");
        c_.daemon.role = *role;
        return setCommand(start ? Cmd::kStartDaemon : Cmd::kStopDaemon);
      }
    }
  }
  switch (spec.id) {
    case 't':
    case 'u': {
      if (auto s = setOption(kOptService); !s) return s;
      svc.key.proto = spec.id == 't' ? svc::Proto::kTcp : svc::Proto::kUdp;
      auto hp = parseHostPort(*value, svc.key.proto);
      if (!hp) return makeError("illegal virtual server address[:port] specified");
      svc.key.addr = hp->addr;
      svc.key.port = hp->port.value_or(0);
      svc.persistence_prefix = hp->addr.isV6() ? 128 : 32;
      return {};
    }
    case 'f': {
      if (auto s = setOption(kOptService); !s) return s;
      auto n = toNumber(*value, 1, long(UINT32_MAX));
      if (!n) return makeError("invalid fwmark value `{}' specified", *value);
      svc.key.fwmark = uint32_t(*n);
      svc.key.proto = svc::Proto::kTcp;
      svc.key.fwmark_family = net::Family::kV4;
      svc.persistence_prefix = 32;
      return {};
    }
    case 's':
      if (auto s = setOption(kOptScheduler); !s) return s;
      svc.scheduler = *value;
      return {};
    case 'p': {
      if (auto s = setOption(kOptPersistent); !s) return s;
      svc.persistent = true;
      if (value) {
        auto n = toNumber(*value, 1, kMaxTimeout);
        if (!n) return makeError("invalid timeout value `{}' specified", *value);
        svc.persistence_timeout = uint32_t(*n);
      } else {
        svc.persistence_timeout = 300;
      }
      return {};
    }
    case 'M':
      if (auto s = setOption(kOptNetmask); !s) return s;
      netmask_arg_ = *value;
      return {};
    case 'r': {
      if (auto s = setOption(kOptServer); !s) return s;
      auto hp = parseHostPort(*value, svc.key.proto);
      if (!hp) return makeError("illegal real server address[:port] specified");
      dest.ep.addr = hp->addr;
      dest.ep.port = hp->port.value_or(0);
      rs_port_given_ = hp->port.has_value();
      return {};
    }
    case 'g':
    case 'i':
    case 'm':
    case kIdFullNat:
      if (auto s = setOption(kOptForward); !s) return s;
      dest.fwd = spec.id == 'g'   ? svc::FwdMethod::kDr
                 : spec.id == 'i' ? svc::FwdMethod::kTun
                 : spec.id == 'm' ? svc::FwdMethod::kNat
                                  : svc::FwdMethod::kFullNat;
      return {};
    case 'w': {
      if (auto s = setOption(kOptWeight); !s) return s;
      auto n = toNumber(*value, 0, 65535);  // ipvsadm 1.31's range, not the kernel's int
      if (!n) return makeError("illegal weight specified");
      dest.weight = int32_t(*n);
      return {};
    }
    case 'x':
    case 'y': {
      bool upper = spec.id == 'x';
      if (auto s = setOption(upper ? kOptUThreshold : kOptLThreshold); !s) return s;
      auto n = toNumber(*value, 0, INT_MAX);
      if (!n) return makeError("illegal {} specified", upper ? "u_threshold" : "l_threshold");
      (upper ? dest.u_threshold : dest.l_threshold) = uint32_t(*n);
      return {};
    }
    case 'n': return setOption(kOptNumeric);
    case 'c': return setOption(kOptConnection);
    case kIdTimeout: return setOption(kOptTimeout);
    case kIdDaemon: return setOption(kOptDaemon);
    case kIdStats: return setOption(kOptStats);
    case kIdRate: return setOption(kOptRate);
    case kIdThresholds: return setOption(kOptThresholds);
    case kIdPersistentConn: return setOption(kOptPersistentConn);
    case kIdNoSort: return setOption(kOptNoSort);
    case kIdSort: return {};  // the default; accepted for compatibility
    case 'X': return setOption(kOptExact);
    case kIdJson: return setOption(kOptJson);
    case '6':
      if (!svc.key.fwmark) return makeError("-6 used before -f");
      svc.key.fwmark_family = net::Family::kV6;
      svc.persistence_prefix = 128;
      return {};
    case 'o':
      if (auto s = setOption(kOptOps); !s) return s;
      svc.one_packet = true;
      return {};
    case 'b':
      if (auto s = setOption(kOptSchedFlags); !s) return s;
      sched_flags_arg_ = *value;
      return {};
    case kIdMcastInterface:
      if (auto s = setOption(kOptMcastInterface); !s) return s;
      if (value->empty() || value->size() > kMaxIfName) return makeError("illegal mcast-interface specified");
      c_.daemon.mcast_interface = *value;
      return {};
    case kIdSyncId: {
      if (auto s = setOption(kOptSyncId); !s) return s;
      auto n = toNumber(*value, 0, 255);
      if (!n) return makeError("illegal syncid specified");
      c_.daemon.syncid = uint32_t(*n);
      return {};
    }
    case kIdMcastGroup: {
      if (auto s = setOption(kOptMcastGroup); !s) return s;
      const bool v6 = value->find(':') != std::string::npos;
      auto a = net::IpAddr::parse(*value);
      if (!a || a->isV6() != v6 || !isMulticast(*a))
        return makeError("invalid {} mcast-group `{}'", v6 ? "IPv6" : "IPv4", *value);
      c_.daemon.mcast_group = *a;
      return {};
    }
    case kIdMcastPort: {
      if (auto s = setOption(kOptMcastPort); !s) return s;
      auto n = toNumber(*value, 1, 65535);
      if (!n) return makeError("illegal mcast-port specified");
      c_.daemon.mcast_port = uint16_t(*n);
      return {};
    }
    case kIdMcastTtl: {
      if (auto s = setOption(kOptMcastTtl); !s) return s;
      auto n = toNumber(*value, 1, 255);
      if (!n) return makeError("illegal mcast-ttl specified");
      c_.daemon.mcast_ttl = uint8_t(*n);
      return {};
    }
    case kIdSyncMaxlen: {
      if (auto s = setOption(kOptSyncMaxlen); !s) return s;
      auto n = toNumber(*value, 1, 65535 - 20 - 8);  // ipvsadm's bound: a UDP payload over IPv4
      if (!n) return makeError("illegal sync-maxlen specified");
      c_.daemon.sync_maxlen = uint32_t(*n);
      return {};
    }
    case kIdTunInfo: return setOption(kOptTunInfo);
    case kIdTunType: {
      if (auto s = setOption(kOptTunType); !s) return s;
      auto t = svc::tunTypeFromName(*value);
      if (!t) return makeError("illegal tunnel type specified");
      dest.tun_type = *t;
      return {};
    }
    case kIdTunPort: {
      if (auto s = setOption(kOptTunPort); !s) return s;
      auto n = toNumber(*value, 1, 65535);
      if (!n) return makeError("illegal tunnel port specified");
      dest.tun_port = uint16_t(*n);
      return {};
    }
    case 'z': {
      if (auto s = setOption(kOptLaddr); !s) return s;
      // DPVS reads -z as a service address; only the address counts (no port, no name).
      std::string_view v = *value;
      if (v.size() > 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
      auto a = net::IpAddr::parse(v);
      if (!a) return makeError("illegal local address");
      c_.laddr.addr = *a;
      return {};
    }
    case 'F':
      if (auto s = setOption(kOptIfname); !s) return s;
      if (value->empty() || value->size() > kMaxIfName) return makeError("illegal ifname specified");
      c_.laddr.ifname = *value;
      return {};
    case kIdClientAddr: {
      if (auto s = setOption(kOptClientAddr); !s) return s;
      auto m = svc::clientAddrFromName(*value);
      if (!m) return makeError("illegal client-addr `{}' specified (toa, none or proxy-v2)", *value);
      svc.client_addr = *m;
      return {};
    }
    case kIdProxyProtocol: {
      // DPVS's option: "disable" leaves TOA on (DPVS's default), v2 sends PROXY v2 instead.
      if (auto s = setOption(kOptClientAddr); !s) return s;
      if (*value == "v2") svc.client_addr = svc::ClientAddr::kProxyV2;
      else if (*value == "disable") svc.client_addr = svc::ClientAddr::kToa;
      else if (*value == "v1" || *value == "v1-insecure" || *value == "v2-insecure")
        return makeError("PROXY protocol {} is not supported: use --proxy-protocol v2, or --client-addr", *value);
      else return makeError("illegal proxy-protocol `{}' specified (v2 or disable)", *value);
      return {};
    }
    case kIdTunNoCsum: return setOption(kOptTunNoCsum);  // the default: no flag
    case kIdTunCsum:
      if (auto s = setOption(kOptTunCsum); !s) return s;
      dest.tun_flags |= SL_TUN_F_CSUM;
      return {};
    case kIdTunRemCsum:
      if (auto s = setOption(kOptTunRemCsum); !s) return s;
      dest.tun_flags |= SL_TUN_F_REMCSUM;
      return {};
  }
  // A second command word.
  return makeError("invalid option `{}'", shown);
}

Status Parser::parseSchedFlags() {
  const std::string& sched = c_.service.scheduler;
  uint32_t flags = 0;
  std::stringstream ss(sched_flags_arg_);
  std::string flag;
  bool any = false;
  while (std::getline(ss, flag, ',')) {
    if (flag.empty()) continue;
    any = true;
    if (flag == "flag-1") flags |= svc::kSchedFlag1;
    else if (flag == "flag-2") flags |= svc::kSchedFlag2;
    else if (flag == "flag-3") flags |= svc::kSchedFlag3;
    else if (flag == "sh-fallback" || flag == "sh-port" || flag == "mh-fallback" || flag == "mh-port") {
      if (sched != flag.substr(0, 2)) return makeError("incompatible scheduler flag `{}'", flag);
      flags |= flag.ends_with("fallback") ? svc::kSchedFlag1 : svc::kSchedFlag2;
    } else {
      return makeError("invalid scheduler flag `{}'", flag);
    }
  }
  if (!any) return makeError("invalid scheduler flag `{}'", sched_flags_arg_);
  c_.service.sched_flags = flags;
  return {};
}

Status Parser::applyNetmask() {
  if (keyFamily(c_.service.key) == net::Family::kV6) {
    auto n = toNumber(netmask_arg_, 1, 128);
    if (!n) return makeError("illegal ipv6 netmask specified");
    c_.service.persistence_prefix = unsigned(*n);
    return {};
  }
  // A dotted netmask as ipvsadm takes it, or (extension) a prefix length.
  if (auto n = toNumber(netmask_arg_, 0, 32)) {
    c_.service.persistence_prefix = unsigned(*n);
    return {};
  }
  auto m = net::IpAddr::parse(netmask_arg_);
  std::optional<unsigned> plen;
  if (m && m->isV4()) plen = net::netmaskToPrefix(*m);
  if (!plen) return makeError("illegal virtual server persistent mask specified");
  c_.service.persistence_prefix = *plen;
  return {};
}

Status Parser::checkTable() const {
  int row = int(c_.cmd) - int(Cmd::kAddService);
  const char* rules = kCmdOpts[row];
  int first_exclusive = -1;
  for (int j = 0; j < kNumOpts; ++j) {
    bool given = c_.options & (1ull << j);
    char rule = rules[j];
    if (!given) {
      if (rule == '+')
        return makeError("You need to supply the '{}' option for the '{}' command", kOptNames[j], cmdName(c_.cmd));
      continue;
    }
    if (rule == 'x')
      return makeError("Illegal '{}' option with the '{}' command", kOptNames[j], cmdName(c_.cmd));
    if (rule == '1') {
      if (first_exclusive < 0) {
        first_exclusive = j;
        continue;
      }
      return makeError("The option '{}' conflicts with the '{}' option in the '{}' command", kOptNames[j],
                       kOptNames[first_exclusive], cmdName(c_.cmd));
    }
  }
  return {};
}

// ipvsadm 1.31's tunnel_opt_check: which --tun-* options each tunnel type takes, '+'
// required, 'x' refused, '1' at most one of the '1's. Checked on the options as given
// (not on the values, where --tun-nocsum leaves no trace), so that "--tun-nocsum
// --tun-csum" is refused as ipvsadm refuses it; svc::checkTunnel checks the values again
// in sluiced for every other way in.
Status Parser::checkTunnelOptions() const {
  constexpr Opt kTunOpts[] = {kOptTunPort, kOptTunNoCsum, kOptTunCsum, kOptTunRemCsum};
  //                                  tprt nocs csum remc
  constexpr const char* kRules[] = {/* ipip */ "xxxx", /* gue */ "+111", /* gre */ "x11x"};
  static_assert(std::size(kRules) == SL_TUN_GRE + 1);
  if ((c_.options & (kOptTunType | kOptTunPort | kOptTunNoCsum | kOptTunCsum | kOptTunRemCsum)) &&
      c_.dest.fwd != svc::FwdMethod::kTun)
    return makeError("Tunnel options conflict with forward method");
  const uint8_t type = c_.dest.tun_type;
  const char* type_name = svc::tunTypeName(type);
  const char* rules = kRules[type];
  const char* first_exclusive = nullptr;
  for (size_t j = 0; j < std::size(kTunOpts); ++j) {
    const char* name = optName(kTunOpts[j]);
    if (!c_.has(kTunOpts[j])) {
      if (rules[j] == '+')
        return makeError("You need to supply the '{}' option for the '{}' tunnel type", name, type_name);
      continue;
    }
    if (rules[j] == 'x') return makeError("Illegal '{}' option with the '{}' tunnel type", name, type_name);
    if (rules[j] == '1') {
      if (!first_exclusive) {
        first_exclusive = name;
        continue;
      }
      return makeError("The option '{}' conflicts with the '{}' option in the '{}' tunnel type", name,
                       first_exclusive, type_name);
    }
  }
  return {};
}

Status Parser::finish(const std::vector<std::string>& positional) {
  size_t used = 0;
  if (c_.cmd == Cmd::kSetTimeouts) {
    if (positional.size() < 3) return makeError("--set option requires 3 timeout values");
    uint32_t* fields[3] = {&c_.timeouts.tcp, &c_.timeouts.tcp_fin, &c_.timeouts.udp};
    for (int k = 0; k < 3; ++k) {
      auto n = toNumber(positional[size_t(k)], 0, kMaxTimeout);
      if (!n) return makeError("invalid timeout value `{}' specified", positional[size_t(k)]);
      *fields[k] = uint32_t(*n);
    }
    used = 3;
  }
  if (positional.size() > used) return makeError("unexpected argument {}", positional[used]);
  // No -s on -A/-E: the daemon's default (IPVS's wlc; mh on a director of a cluster), as
  // ipvsadm leaves it to its DEF_SCHED.
  if ((c_.cmd == Cmd::kAddService || c_.cmd == Cmd::kEditService) && !c_.has(kOptScheduler))
    c_.service.scheduler.clear();
  if (c_.has(kOptSchedFlags))
    if (auto s = parseSchedFlags(); !s) return s;
  if (c_.has(kOptNetmask))
    if (auto s = applyNetmask(); !s) return s;

  if (c_.cmd == Cmd::kHelp || c_.cmd == Cmd::kVersion) return {};
  if (auto s = checkTable(); !s) return s;

  auto& svc = c_.service;
  if (c_.cmd == Cmd::kAddService || c_.cmd == Cmd::kEditService) {
    if (!svc.key.fwmark && svc.key.port == 0 && !svc.persistent)
      return makeError("Zero port specified for non-persistent service");
    if (svc.one_packet && !svc.key.fwmark && svc.key.proto != svc::Proto::kUdp)
      return makeError("One-Packet Scheduling is only for UDP virtual services");
  }
  if (isDestCmd(c_.cmd)) {
    auto& d = c_.dest;
    if (!rs_port_given_) d.ep.port = svc.key.port;
    // DR and TUN cannot change the port: the real server sees the VIP's port.
    if (c_.cmd != Cmd::kDelDest && !svc.key.fwmark &&
        (d.fwd == svc::FwdMethod::kDr || d.fwd == svc::FwdMethod::kTun))
      d.ep.port = svc.key.port;
    if (c_.cmd != Cmd::kDelDest && d.ep.addr.family != keyFamily(svc.key) && d.fwd != svc::FwdMethod::kTun)
      return makeError("Different address family is allowed only for tunneling servers");
    if (c_.cmd != Cmd::kDelDest)
      if (auto s = checkTunnelOptions(); !s) return s;
  }
  if (c_.cmd == Cmd::kList) {
    uint64_t o = c_.options;
    if (((o & (kOptConnection | kOptTimeout | kOptDaemon)) && (o & (kOptStats | kOptRate | kOptThresholds))) ||
        ((o & (kOptTimeout | kOptDaemon)) && (o & kOptPersistentConn)))
      return makeError("options conflicts in the list command");
  }
  return {};
}

}  // namespace

const char* cmdName(Cmd c) {
  switch (c) {
    case Cmd::kNone: return "none";
    case Cmd::kAddService: return "add-service";
    case Cmd::kEditService: return "edit-service";
    case Cmd::kDelService: return "delete-service";
    case Cmd::kFlush: return "flush";
    case Cmd::kList: return "list";
    case Cmd::kAddDest: return "add-server";
    case Cmd::kDelDest: return "delete-server";
    case Cmd::kEditDest: return "edit-server";
    case Cmd::kSetTimeouts: return "set";
    case Cmd::kRestore: return "restore";
    case Cmd::kSave: return "save";
    case Cmd::kZero: return "zero";
    case Cmd::kCounters: return "counters";
    case Cmd::kReload: return "reload";
    case Cmd::kHealth: return "health";
    case Cmd::kStartDaemon: return "start-daemon";
    case Cmd::kStopDaemon: return "stop-daemon";
    case Cmd::kAddLaddr: return "add-laddr";
    case Cmd::kDelLaddr: return "del-laddr";
    case Cmd::kGetLaddr: return "get-laddr";
    case Cmd::kHelp: return "help";
    case Cmd::kVersion: return "version";
  }
  return "?";
}

ParseResult parseCommand(const std::vector<std::string>& args, const std::string& program) {
  return Parser(program).parse(args);
}

std::vector<std::string> splitRestoreLine(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string w;
  while (in >> w) {
    if (w.front() == '#') break;
    words.push_back(w);
  }
  if (!words.empty()) {
    const std::string& first = words.front();
    for (const char* prog : {"ipvsadm", "sluiceadm"}) {
      std::string_view p(prog);
      if (first == p || (first.size() > p.size() && first.ends_with(p) && first[first.size() - p.size() - 1] == '/')) {
        words.erase(words.begin());
        break;
      }
    }
  }
  return words;
}

}  // namespace sluice::cli
