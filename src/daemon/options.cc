#include "daemon/options.h"

#include <charconv>
#include <string_view>

namespace sluice::daemon {

const char* usageText() {
  return R"(Usage: sluiced -i IFACE [-i IFACE ...] [-f FILE] [options]
       sluiced --check -f FILE [--format FORMAT]
       sluiced --state-dir DIR [--pin-dir PATH] --release

Sluice director daemon. Runs in the foreground, logs to stderr, and serves the
sluiceadm control socket. SIGTERM or SIGINT detaches its XDP programs and exits 0
(with --state-dir they stay attached: see below).

  -i, --interface IFACE     data-plane interface (repeatable): virtual-service traffic
                            arriving here is handled by sluiced, and real servers must
                            be reachable out of one of these interfaces
  -f, --config FILE         the services, real servers and health checks, from a
                            keepalived.conf (its LVS part: virtual_server blocks,
                            checkers, global_defs; VRRP blocks are skipped and named in
                            the log) or an ldirectord.cf, told apart by their content.
                            SIGHUP or sluiceadm --reload re-reads it and applies only
                            the difference; a file with errors is refused whole and the
                            running configuration stays
      --cluster FILE        the sluice_cluster block (the directors of an active-active
                            cluster) from FILE instead of from -f's keepalived.conf;
                            see docs/CLUSTER.md. Read at start only
      --format FORMAT       keepalived or ldirectord: read -f as that format
      --check               with -f: validate the file, print every problem as
                            FILE:LINE: message, exit 0 when it is clean, 1 otherwise
                            (like keepalived -t); starts nothing
      --metrics ADDR:PORT   serve Prometheus metrics at http://ADDR:PORT/metrics
                            (127.0.0.1:9101, [::1]:9101, or :9101 for every address)
  -s, --socket PATH         control socket (default /run/sluice/sluiced.sock;
                            sluiceadm finds it with --socket or $SLUICE_SOCKET)
      --conn-table-size N   connection table capacity, fixed at start (default 1048576;
                            64 bytes per entry, rounded down to a multiple of 4)
      --fnat-ports LO-HI    FULLNAT local ports (default 1024-32767, below the kernel's
                            ephemeral ports, so the host's own connections from a local
                            address never look like a FULLNAT reply). Split between the
                            workers; in a cluster, first split between the directors by
                            node id (director N of the block's highest id M takes part N
                            of M), so no two directors ever use the same local port
      --xdp-mode MODE       auto (the default): generic on veth, where native mode
                            drops what the fast path transmits unless the peer runs
                            XDP, and loses senders' offloaded checksums; native
                            elsewhere, falling back to generic where the driver has
                            no XDP. native or generic force a mode; the log says
                            which mode each interface got, why, and what to fix
      --expire-nodest-conn  a packet of a connection whose real server was deleted
                            also removes the connection, so the client's next SYN is
                            scheduled afresh (IPVS's expire_nodest_conn sysctl; off:
                            such packets are only dropped until the entry times out)
      --no-fast-path        forward every packet through the daemon (AF_XDP) instead of
                            letting the XDP program forward established connections
      --workers N           slow-path worker threads (default: one per core that the
                            interfaces' queue interrupts are affined to; on devices
                            without interrupts, such as veth, min(total rx queues, online
                            CPUs)). Every rx queue of every interface gets an AF_XDP
                            socket; worker w serves queue q when q % N == w, so N may not
                            exceed the smallest interface's queue count (each worker
                            transmits through its own sockets). Logged at start.
      --state-dir DIR       survive restarts without breaking established connections:
                            the connection table and the other shared tables are pinned
                            on bpffs, each interface's XDP link too, and DIR/state.json
                            keeps the services and real servers with their ids. On exit
                            (SIGTERM, or a crash) the XDP program stays attached and the
                            kernel keeps forwarding established connections; new ones
                            reach the kernel stack until sluiced runs again with the same
                            DIR, takes the tables and links over and restores the
                            configuration by itself. Table sizes must not change.
      --pin-dir PATH        where to pin (a directory on bpffs; default
                            /sys/fs/bpf/sluice/NAME, NAME derived from DIR)
      --release             with --state-dir: unpin everything and remove DIR/state.json,
                            then exit; the XDP program detaches (once no sluiced holds
                            it) and the connections it was forwarding break
  -v, --verbose             debug logging
  -h, --help                this text
)";
}

Result<Options> parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view name) -> Result<std::string_view> {
      if (i + 1 >= argc) return makeError("option {} needs a value", name);
      return std::string_view(argv[++i]);
    };
    if (a == "-i" || a == "--interface") {
      auto v = value(a);
      if (!v) return v.error();
      o.interfaces.emplace_back(*v);
    } else if (a == "-s" || a == "--socket") {
      auto v = value(a);
      if (!v) return v.error();
      o.socket_path = std::string(*v);
    } else if (a == "--conn-table-size") {
      auto v = value(a);
      if (!v) return v.error();
      size_t n = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || p != v->data() + v->size() || n < 64 || n > (size_t(1) << 28))
        return makeError("--conn-table-size must be a number between 64 and {}", size_t(1) << 28);
      o.conn_table_size = n / 4 * 4;
    } else if (a == "--fnat-ports") {
      auto v = value(a);
      if (!v) return v.error();
      const std::string_view t = *v;
      const size_t dash = t.find('-');
      unsigned lo = 0, hi = 0;
      auto num = [](std::string_view d, unsigned& out) {
        auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), out);
        return ec == std::errc() && p == d.data() + d.size() && !d.empty();
      };
      if (dash == std::string_view::npos || !num(t.substr(0, dash), lo) ||
          !num(t.substr(dash + 1), hi) || lo < 1 || hi > 65535 || lo > hi)
        return makeError("--fnat-ports takes LO-HI, two ports 1-65535 with LO <= HI, not '{}'", t);
      o.fnat_port_lo = uint16_t(lo);
      o.fnat_port_hi = uint16_t(hi);
    } else if (a == "--xdp-mode") {
      auto v = value(a);
      if (!v) return v.error();
      if (*v == "native") o.xdp_mode = io::XdpMode::kNative;
      else if (*v == "generic") o.xdp_mode = io::XdpMode::kGeneric;
      else if (*v == "auto") o.xdp_mode = io::XdpMode::kNativeOrGeneric;
      else return makeError("--xdp-mode must be native, generic or auto, not '{}'", *v);
    } else if (a == "--state-dir" || a == "--pin-dir") {
      auto v = value(a);
      if (!v) return v.error();
      if (v->empty()) return makeError("{} needs a non-empty path", a);
      (a == "--state-dir" ? o.state_dir : o.pin_dir) = std::string(*v);
    } else if (a == "--release") {
      o.release = true;
    } else if (a == "--expire-nodest-conn") {
      o.expire_nodest_conn = true;
    } else if (a == "--no-fast-path") {
      o.fast_path = false;
    } else if (a == "--workers") {
      auto v = value(a);
      if (!v) return v.error();
      unsigned n = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > 1024)
        return makeError("--workers must be a number between 1 and 1024, not '{}'", *v);
      o.workers = n;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "-h" || a == "--help") {
      o.help = true;
      return o;
    } else if (a == "-f" || a == "--config") {
      auto v = value(a);
      if (!v) return v.error();
      if (v->empty()) return makeError("{} needs a file name", a);
      o.config_file = std::string(*v);
    } else if (a == "--cluster") {
      auto v = value(a);
      if (!v) return v.error();
      if (v->empty()) return makeError("{} needs a file name", a);
      o.cluster_file = std::string(*v);
    } else if (a == "--format") {
      auto v = value(a);
      if (!v) return v.error();
      if (*v == "keepalived") o.config_format = config::Format::kKeepalived;
      else if (*v == "ldirectord") o.config_format = config::Format::kLdirectord;
      else if (*v == "auto") o.config_format = config::Format::kAuto;
      else return makeError("--format must be keepalived, ldirectord or auto, not '{}'", *v);
    } else if (a == "--check" || a == "-t") {
      o.check = true;
    } else if (a == "--metrics") {
      auto v = value(a);
      if (!v) return v.error();
      if (v->empty()) return makeError("--metrics needs ADDR:PORT");
      o.metrics_addr = std::string(*v);
    } else {
      return makeError("unknown option '{}' (see sluiced --help)", a);
    }
  }
  if (!o.pin_dir.empty() && o.state_dir.empty())
    return makeError("--pin-dir needs --state-dir (the pins and the state file go together)");
  if (o.release) {
    if (o.state_dir.empty()) return makeError("--release needs --state-dir DIR (the state to release)");
    return o;
  }
  if (o.check) {
    if (o.config_file.empty() && o.cluster_file.empty())
      return makeError("--check needs -f FILE or --cluster FILE (the file to validate)");
    return o;
  }
  if (o.config_format != config::Format::kAuto && o.config_file.empty())
    return makeError("--format needs -f FILE");
  if (o.interfaces.empty()) return makeError("no data-plane interface: give at least one -i IFACE");
  return o;
}

}  // namespace sluice::daemon
