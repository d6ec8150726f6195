// Command execution, -R and the help text of sluiceadm.
#include "cli/sluiceadm.h"

#include <istream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/format.h"
#include "ctl/json_codec.h"

namespace sluice::cli {

namespace {

std::optional<svc::ServiceKey> keyIfGiven(const Command& c) {
  if (c.has(kOptService)) return c.service.key;
  return std::nullopt;
}

bool allowedInRestore(Cmd c) {
  switch (c) {
    case Cmd::kAddService:
    case Cmd::kEditService:
    case Cmd::kDelService:
    case Cmd::kFlush:
    case Cmd::kAddDest:
    case Cmd::kEditDest:
    case Cmd::kDelDest:
    case Cmd::kAddLaddr:
    case Cmd::kDelLaddr:
    case Cmd::kSetTimeouts:
    case Cmd::kZero: return true;
    default: return false;
  }
}

Status list(const Command& c, ctl::Client& client, std::ostream& out) {
  bool json = c.has(kOptJson);
  if (c.has(kOptConnection)) {
    auto conns = client.listConns();
    if (!conns) return conns.error();
    if (json) {
      ctl::Json arr = ctl::Json::array();
      for (const auto& x : *conns) arr.push_back(ctl::toJson(x));
      out << ctl::Json{{"conns", std::move(arr)}}.dump(2, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
    } else {
      out << formatConns(*conns);
    }
    return {};
  }
  if (c.has(kOptTimeout)) {
    auto t = client.timeouts();
    if (!t) return t.error();
    if (json) out << ctl::Json{{"timeouts", ctl::toJson(*t)}}.dump(2) << '\n';
    else out << formatTimeouts(*t);
    return {};
  }
  if (c.has(kOptDaemon)) {
    auto running = client.syncDaemons();
    if (!running) return running.error();
    if (json) {
      out << ctl::Json{{"sync", *running ? ctl::toJson(**running) : ctl::Json(nullptr)}}.dump(
                 2, ' ', false, ctl::Json::error_handler_t::replace)
          << '\n';
    } else {
      out << formatSyncDaemons(*running);
    }
    return {};
  }

  auto reply = client.list(keyIfGiven(c));
  if (!reply) return reply.error();
  if (json) {
    ctl::Json arr = ctl::Json::array();
    for (const auto& s : reply->services) arr.push_back(ctl::toJson(s));
    ctl::Json j{{"conn_table_size", reply->conn_table_size}, {"services", std::move(arr)}};
    out << j.dump(2, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
    return {};
  }
  ListFormat f;
  f.stats = c.has(kOptStats);
  f.rate = c.has(kOptRate);
  f.thresholds = c.has(kOptThresholds);
  f.persistent_conn = c.has(kOptPersistentConn);
  f.exact = c.has(kOptExact);
  f.nosort = c.has(kOptNoSort);
  f.tun_info = c.has(kOptTunInfo);
  // Like ipvsadm, the version header belongs to the full listing only.
  if (!c.has(kOptService)) out << formatHeader(reply->conn_table_size);
  out << formatServices(std::move(reply->services), f);
  return {};
}

Status getLaddrs(const Command& c, ctl::Client& client, std::ostream& out) {
  auto reply = client.list(keyIfGiven(c));
  if (!reply) return reply.error();
  if (c.has(kOptJson)) {
    ctl::Json arr = ctl::Json::array();
    for (const auto& s : reply->services) {
      ctl::Json laddrs = ctl::Json::array();
      for (const auto& l : s.laddrs) laddrs.push_back(ctl::toJson(l));
      arr.push_back(ctl::Json{{"service", ctl::toJson(s.cfg.key)}, {"laddrs", std::move(laddrs)}});
    }
    out << ctl::Json{{"services", std::move(arr)}}.dump(2, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
    return {};
  }
  out << formatLaddrs(reply->services);
  return {};
}

Status counters(const Command& c, ctl::Client& client, std::ostream& out) {
  auto counters = client.counters();
  if (!counters) return counters.error();
  if (c.has(kOptJson)) {
    ctl::Json arr = ctl::Json::array();
    for (const auto& x : *counters) arr.push_back(ctl::toJson(x));
    out << ctl::Json{{"counters", std::move(arr)}}.dump(2, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
  } else {
    out << formatCounters(*counters);
  }
  return {};
}

Status health(const Command& c, ctl::Client& client, std::ostream& out) {
  auto rows = client.health();
  if (!rows) return rows.error();
  if (c.has(kOptJson)) {
    ctl::Json arr = ctl::Json::array();
    for (const auto& h : *rows) arr.push_back(ctl::toJson(h));
    out << ctl::Json{{"health", std::move(arr)}}.dump(2, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
  } else {
    out << formatHealth(*rows, c.has(kOptNumeric));
  }
  return {};
}

}  // namespace

Status execute(const Command& c, ctl::Client& client, std::ostream& out) {
  const auto& key = c.service.key;
  switch (c.cmd) {
    case Cmd::kAddService: return client.addService(c.service);
    case Cmd::kEditService: return client.editService(c.service);
    case Cmd::kDelService: return client.delService(key);
    case Cmd::kFlush: return client.clear();
    case Cmd::kAddDest: return client.addDest(key, c.dest);
    case Cmd::kEditDest: return client.editDest(key, c.dest);
    case Cmd::kDelDest: return client.delDest(key, c.dest.ep);
    case Cmd::kAddLaddr: return client.addLaddr(key, c.laddr);
    case Cmd::kDelLaddr: return client.delLaddr(key, c.laddr);
    case Cmd::kGetLaddr: return getLaddrs(c, client, out);
    case Cmd::kZero: return client.zero(keyIfGiven(c));
    case Cmd::kSetTimeouts: return client.setTimeouts(c.timeouts);
    case Cmd::kList: return list(c, client, out);
    case Cmd::kCounters: return counters(c, client, out);
    case Cmd::kHealth: return health(c, client, out);
    case Cmd::kStartDaemon: return client.startDaemon(c.daemon);
    case Cmd::kStopDaemon: return client.stopDaemon(c.daemon);
    case Cmd::kReload: {
      auto r = client.reload();
      if (!r) return r.error();
      out << *r << '\n';
      return {};
    }
    case Cmd::kSave: {
      auto reply = client.list(std::nullopt);
      if (!reply) return reply.error();
      out << formatSave(std::move(reply->services), c.has(kOptNoSort));
      return {};
    }
    case Cmd::kRestore:
    case Cmd::kHelp:
    case Cmd::kVersion:
    case Cmd::kNone: break;
  }
  return makeError("the '{}' command cannot be executed here", cmdName(c.cmd));
}

int restore(std::istream& in, ctl::Client& client, const std::string& program, std::ostream& err) {
  struct Rule {
    size_t line;
    Command cmd;
  };
  std::vector<Rule> rules;
  bool malformed = false;
  std::string text;
  size_t line_no = 0;
  while (std::getline(in, text)) {
    ++line_no;
    auto words = splitRestoreLine(text);
    if (words.empty()) continue;
    auto cmd = parseCommand(words, program);
    if (!cmd) {
      err << "line " << line_no << ": " << cmd.error().message << '\n';
      malformed = true;
    } else if (!allowedInRestore(cmd->cmd)) {
      err << "line " << line_no << ": the '" << cmdName(cmd->cmd) << "' command cannot be used in a restore\n";
      malformed = true;
    } else {
      rules.push_back({line_no, std::move(*cmd)});
    }
  }
  // A malformed line may be a typo in a rule the others depend on: apply none of them.
  if (malformed) return kExitRefused;
  // A refusal of sluiced's is about that one rule (a duplicate, a method not implemented yet):
  // the rest of the table still goes in, as ipvsadm -R goes on past a kernel error.
  bool refused = false;
  std::ostringstream sink;
  for (const auto& r : rules) {
    if (auto s = execute(r.cmd, client, sink); !s) {
      err << "line " << r.line << ": " << s.error().message << '\n';
      refused = true;
    }
  }
  return refused ? kExitDaemonRefused : kExitOk;
}

namespace {

// ipvsadm exits 1 when a listing fails and -1 (255) when the kernel refuses a change.
bool isRead(Cmd c) {
  return c == Cmd::kList || c == Cmd::kSave || c == Cmd::kCounters || c == Cmd::kHealth || c == Cmd::kGetLaddr;
}

}  // namespace

int runSluiceadm(std::vector<std::string> args, CliEnv& env) {
  // --socket is ours, not ipvsadm's: take it out before the ipvsadm grammar sees it.
  for (size_t i = 0; i < args.size();) {
    if (args[i] == "--socket") {
      if (i + 1 >= args.size()) {
        env.err << "--socket: missing argument\n";
        return kExitUsage;
      }
      env.socket_path = args[i + 1];
      args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
    } else if (args[i].starts_with("--socket=")) {
      env.socket_path = args[i].substr(9);
      args.erase(args.begin() + long(i));
    } else {
      ++i;
    }
  }

  auto cmd = parseCommand(args, env.program);
  if (!cmd) {
    env.err << cmd.error().message << '\n';
    return cmd.error().usage ? kExitUsage : kExitRefused;
  }
  if (cmd->cmd == Cmd::kHelp) {
    env.out << usage(env.program);
    return kExitOk;
  }
  if (cmd->cmd == Cmd::kVersion) {
    env.out << env.program << " (Sluice): the ipvsadm v1.31 command language for sluiced\n";
    return kExitOk;
  }

  if (!env.connect) {
    env.err << "no way to reach sluiced\n";
    return kExitRefused;
  }
  auto transport = env.connect(env.socket_path);
  if (!transport) {
    env.err << transport.error().message << '\n';
    return kExitRefused;
  }
  ctl::Client client(**transport);
  if (cmd->cmd == Cmd::kRestore) return restore(env.in, client, env.program, env.err);
  if (Status s = execute(*cmd, client, env.out); !s) {
    env.err << s.error().message << '\n';
    return isRead(cmd->cmd) ? kExitListFailed : kExitDaemonRefused;
  }
  return kExitOk;
}

std::string usage(const std::string& p) {
  return fmt::format(
      R"({0}: configure sluiced, the Sluice load balancer, with ipvsadm's commands.

Usage:
  {0} -A|-E SERVICE [-s SCHED] [-p [TIMEOUT]] [-M MASK] [-b FLAGS] [-o]
         [--client-addr toa|none|proxy-v2]
  {0} -D SERVICE
  {0} -C
  {0} -a|-e SERVICE -r SERVER[:PORT] [-g|-i|-m|-b] [-w WEIGHT] [-x UPPER] [-y LOWER]
  {0} -d SERVICE -r SERVER[:PORT]
  {0} -P|-Q SERVICE -z LOCAL-ADDR [-F IFNAME]
  {0} -G [SERVICE] [--json]
  {0} -L|-l [SERVICE] [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact]
         [--nosort] [--json]
  {0} -L -c [--json]          {0} -L --timeout [--json]
  {0} -Z [SERVICE]            {0} --set TCP TCPFIN UDP
  {0} -S [-n]                 {0} -R < RULES
  {0} --counters [--json]     {0} --health [--json]
  {0} --reload                {0} -L --daemon [--json]
  {0} --start-daemon master|backup [--mcast-interface IF] [--syncid N] [--sync-maxlen N]
         [--mcast-group ADDR] [--mcast-port PORT] [--mcast-ttl TTL]
  {0} --stop-daemon master|backup
  {0} -h                      {0} -v
  With no arguments at all, {0} lists the table like -L.

SERVICE is one of
  -t, --tcp-service ADDR[:PORT]     a TCP virtual service
  -u, --udp-service ADDR[:PORT]     a UDP virtual service
  -f, --fwmark-service MARK [-6]    packets carrying firewall mark MARK (> 0); -6 (--ipv6)
                                    makes it an IPv6 service and must follow -f. Not
                                    implemented yet: sluiced refuses such services
  ADDR is a dotted IPv4 address or an IPv6 address written [2001:db8::1]:80. PORT is a
  number or a name from /etc/services. Port 0 (or none) is only allowed together with -p.

Commands (the command must come first, short or long form):
  -A, --add-service       add a virtual service
  -E, --edit-service      replace a virtual service's settings (unset options take
                          their defaults again, as with ipvsadm)
  -D, --delete-service    delete a virtual service and its real servers
  -C, --clear             delete every virtual service
  -a, --add-server        add a real server to a service
  -e, --edit-server       replace a real server's settings
  -d, --delete-server     remove a real server
  -P, --add-laddr         (DPVS) add a FULLNAT local address (-z) to a service: the source
                          address of its connections to FULLNAT real servers. Of the
                          service's family, at most 256 per service. -F names the
                          interface it lives on (optional here; DPVS requires it)
  -Q, --del-laddr         (DPVS) remove a local address (-z; with -F, only if it is on
                          that interface). Its connections keep their ports until they end
  -G, --get-laddr         (DPVS) list local addresses, per service: VIP:VPORT TOTAL, then
                          SNAT_IP CONFLICTS CONNS per address (CONNS: its ports in use)
  -L, -l, --list          list services, connections (-c) or timeouts (--timeout)
  -Z, --zero              zero the counters of one service, or of all
  --set TCP TCPFIN UDP    set the idle timeouts in seconds; 0 keeps a value unchanged
  -S, --save              print the table as {0} commands (no header), for -R
  --counters              (Sluice) the data-plane counters: one row per counter with the
                          packets the daemon (slow path) and the XDP program (fast path)
                          counted, and their total; "drop" marks the reasons a packet was
                          dropped. Only -n and --json may go with it.
  --health                (Sluice) the real servers of sluiced's config file (-f) and
                          their checkers: state (UP, DOWN, DOWN/0 kept at weight 0,
                          SORRY/IDLE for a sorry server), weight in the table, since
                          when, and why. Only -n and --json may go with it.
  --reload                (Sluice) make sluiced re-read its config file, as SIGHUP does:
                          only the difference is applied; a file with errors is refused
                          whole (every problem is printed) and nothing changes.
  --start-daemon ROLE     ipvsadm's sync daemon, ROLE master or backup. Session sync is
                          set by the sluice_cluster block and starts with sluiced
                          (docs/CLUSTER.md): unicast to the listed directors,
                          authenticated, and each director is both master and backup.
                          So this succeeds, doing nothing, when every option given
                          agrees with the running sync (--mcast-interface: the
                          interface carrying the sync address; --syncid: the node id;
                          --mcast-port: sync_port; --sync-maxlen: 1400), and is refused
                          with the reason otherwise (--mcast-group and --mcast-ttl
                          always: there is no multicast) or without a cluster block.
  --stop-daemon ROLE      refused: on a cluster director sync is what keeps its
                          connections alive on its peers when it dies (stop sluiced
                          with SIGTERM instead: it withdraws, drains, stops); without a
                          cluster block, "No daemon is running" as with ipvsadm.
  -R, --restore           read commands from standard input, one per line, and apply them
                          in order. A leading "ipvsadm" or "sluiceadm" word, blank lines
                          and lines starting with # are skipped. Every line is checked
                          before any is applied: if one is malformed, each such line is
                          reported and none is applied. A line sluiced refuses is reported
                          and skipped, and the others are applied. Reports on stderr are
                          "line N: reason".
  -h, --help              this text          -v, --version   the version

Service options:
  -s, --scheduler NAME    rr wrr lc wlc lblc dh sh sed nq fo ovf mh twos (default wlc,
                          mh on a director of a cluster)
  -p, --persistent [T]    send a client to the same real server for T seconds after its
                          last connection (default 300). T is only taken from the next
                          word when that word is a number.
  -M, --netmask MASK      persistence granularity: a dotted IPv4 netmask or a prefix
                          length; for IPv6 a prefix length 1-128 (default: one address).
                          Without -p it is accepted and kept, but has no effect and is
                          not listed (as with ipvsadm)
  -b, --sched-flags LIST  comma-separated: flag-1, flag-2, flag-3, sh-fallback, sh-port
                          (scheduler sh), mh-fallback, mh-port (scheduler mh)
  -o, --ops               one-packet scheduling (UDP and fwmark services only)
  --client-addr MODE      (FULLNAT) how the client's address reaches the real server:
                          toa (default: TCP option 254, as DPVS), none, or proxy-v2
                          (PROXY protocol v2; refused by sluiced, not implemented yet).
                          --proxy-protocol v2|disable is DPVS's spelling of the same
                          (disable: toa). Like every -E option, unset means the default

Real-server options:
  -r, --real-server ADDR[:PORT]  the real server; without a port, the service's port
  -g, --gatewaying        direct routing, the default. With -g and -i the real server's
  -i, --ipip              IP-in-IP tunnelling.      port is always the service's port.
  -m, --masquerading      NAT: the real server's port may differ from the service's
  -b, --fullnat           FULLNAT (source and destination rewritten, as in DPVS). With
                          -a/-e/-d, -b means this; with -A/-E it means --sched-flags.
                          Its connections leave from one of the service's local
                          addresses (-P); with none, new connections are dropped and
                          counted. A service may mix -b with other methods, as in IPVS.
  --tun-type TYPE         with -i: ipip (default), gue or gre (gre: refused by sluiced,
                          not implemented yet)
  --tun-port PORT         with --tun-type gue, required: the GUE UDP port (1-65535)
  --tun-nocsum            with gue or gre: no tunnel checksum, the default
  --tun-csum              with gue or gre: fill in the tunnel checksum
  --tun-remcsum           with gue: remote checksum offload (refused by sluiced, not
                          implemented yet). At most one of the three csum options.
  -w, --weight N          0 to 65535, default 1; 0 stops new connections (quiescent)
  -x, --u-threshold N     stop sending new connections at N active+inactive ones
                          (0 to 2147483647; 0: no limit)
  -y, --l-threshold N     resume below N (0 to 2147483647; default, or 0: 3/4 of -x)
  Thresholds are not part of -S output (as with ipvsadm).

Local-address options (-P, -Q):
  -z, --laddr ADDR        the local address (an IPv4 or IPv6 address, no port)
  -F, --ifname IFNAME     the interface it is on

List options:
  -n, --numeric           accepted for compatibility: addresses and ports are always
                          printed as numbers, never resolved to names
  -c, --connection        the connection table, including persistence templates
  --timeout               the three idle timeouts
  --stats, --rate         traffic counters / per-second rates
  --thresholds            -x/-y of each real server
  --persistent-conn       persistence templates per real server
  --exact                 full numbers instead of K/M/G/T
  --tun-info              a TunnelInfo column: ipip, gue:PORT:-c|+c|r+c, gre:-c|+c, n/a
  --nosort                keep sluiced's order (default: ipvsadm's sorted order)
  --json                  the same data as JSON, for programs
  --daemon                the sync daemons as ipvsadm prints them, one line per role,
                          master then backup: master sync daemon (mcast=IF, syncid=N,
                          maxlen=1400, port=8848). Nothing without a cluster block.
                          With --json: the peers, readiness and the sync counters too.

Connection:
  --socket PATH           sluiced's control socket (default: $SLUICE_SOCKET, else
                          {1})

Exit status (as ipvsadm's), with one line on stderr for every failure:
  0    success
  1    a listing could not be had (-L of a service that does not exist, -Lc, --timeout,
       -S, --counters)
  2    the command line was refused by {0} itself, -R input had malformed lines
       (nothing applied), or sluiced could not be reached
  255  sluiced refused the change (with -R: refused some lines, the others applied)
       or a --start-daemon / --stop-daemon, or the options could not be read at all
       (no command first, an unknown option, a missing argument)
)",
      p, kDefaultSocket);
}

}  // namespace sluice::cli
