// The text format writer and the mapping from the director's listings to metric families.
#include "metrics/exposition.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "config/model.h"

namespace sluice::metrics {

namespace {

enum class Type { kCounter, kGauge };
// What to do with a second series whose labels equal an earlier one's.
enum class Merge { kSum, kMin, kMax };

// One metric family: its series in first-appearance order, equal label sets merged.
// Values are integers; a family of timestamps holds nanoseconds and prints seconds.
class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> labels,
         Merge merge = Merge::kSum, bool nanos_as_seconds = false)
      : name_(std::move(name)), help_(std::move(help)), type_(type), labels_(std::move(labels)),
        merge_(merge), nanos_(nanos_as_seconds) {}

  void add(std::vector<std::string> values, uint64_t v) {
    std::string key;  // length-prefixed values: no two label sets share a key
    for (const auto& s : values) {
      key += std::to_string(s.size());
      key += ':';
      key += s;
    }
    auto [it, fresh] = index_.emplace(std::move(key), series_.size());
    if (fresh) {
      series_.push_back({std::move(values), v});
      return;
    }
    uint64_t& cur = series_[it->second].value;
    switch (merge_) {
      case Merge::kSum: cur += v; break;
      case Merge::kMin: cur = std::min(cur, v); break;
      case Merge::kMax: cur = std::max(cur, v); break;
    }
  }

  void write(std::string& out) const {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_,
                   type_ == Type::kCounter ? "counter" : "gauge");
    for (const auto& s : series_) {
      out += name_;
      if (!labels_.empty()) {
        out += '{';
        for (size_t i = 0; i < labels_.size(); ++i) {
          if (i) out += ',';
          fmt::format_to(std::back_inserter(out), "{}=\"{}\"", labels_[i], escapeLabelValue(s.labels[i]));
        }
        out += '}';
      }
      out += ' ';
      if (nanos_) {
        fmt::format_to(std::back_inserter(out), "{}.{:09}", s.value / 1000000000u, s.value % 1000000000u);
      } else {
        out += std::to_string(s.value);
      }
      out += '\n';
    }
  }

 private:
  struct Series {
    std::vector<std::string> labels;
    uint64_t value;
  };
  std::string name_, help_;
  Type type_;
  std::vector<std::string> labels_;
  Merge merge_;
  bool nanos_;
  std::vector<Series> series_;
  std::map<std::string, size_t> index_;
};

std::string endpointLabel(const net::Endpoint& e) {
  return e.addr.isV6() ? fmt::format("[{}]:{}", addrLabel(e.addr), e.port)
                       : fmt::format("{}:{}", addrLabel(e.addr), e.port);
}

const char* protoLabel(const svc::ServiceKey& k) {
  if (k.fwmark) return "FWM";
  return k.proto == svc::Proto::kUdp ? "UDP" : "TCP";
}

const char* fwdLabel(svc::FwdMethod m) {
  switch (m) {
    case svc::FwdMethod::kDr: return "dr";
    case svc::FwdMethod::kNat: return "nat";
    case svc::FwdMethod::kTun: return "tun";
    case svc::FwdMethod::kFullNat: return "fullnat";
    case svc::FwdMethod::kLocal: return "local";
  }
  return "unknown";
}

// {vip, vport, proto, fwmark}: a fwmark service has no address (vip "", vport "0"), and
// fwmark is "" for the others, as node_exporter leaves local_mark. An IPv4 and an IPv6
// fwmark service with one mark share a label set and are summed.
std::vector<std::string> serviceLabels(const svc::ServiceKey& k) {
  if (k.fwmark) return {"", "0", "FWM", std::to_string(k.fwmark)};
  return {addrLabel(k.addr), std::to_string(k.port), protoLabel(k), ""};
}

std::vector<std::string> withRs(std::vector<std::string> l, const net::Endpoint& rs) {
  l.push_back(addrLabel(rs.addr));
  l.push_back(std::to_string(rs.port));
  return l;
}

const std::vector<std::string> kSvcLabels = {"vip", "vport", "proto", "fwmark"};
std::vector<std::string> labelsPlus(std::initializer_list<const char*> more) {
  std::vector<std::string> l = kSvcLabels;
  for (const char* m : more) l.emplace_back(m);
  return l;
}

uint64_t nonNegative(int64_t v) { return v < 0 ? 0 : uint64_t(v); }

// The five traffic counters of sl_stats, named as node_exporter names the totals.
struct TrafficField {
  const char* suffix;
  const char* help;
  uint64_t sl_stats::*field;
};
constexpr TrafficField kTraffic[] = {
    {"connections_total", "connections scheduled", &sl_stats::conns},
    {"incoming_packets_total", "packets from clients", &sl_stats::inpkts},
    {"outgoing_packets_total", "packets to clients", &sl_stats::outpkts},
    {"incoming_bytes_total", "bytes from clients", &sl_stats::inbytes},
    {"outgoing_bytes_total", "bytes to clients", &sl_stats::outbytes},
};

void writeNodeIpvs(const Inputs& in, std::string& out) {
  const char* total_help[] = {"The total number of connections made.", "The total number of incoming packets.",
                              "The total number of outgoing packets.", "The total amount of incoming data.",
                              "The total amount of outgoing data."};
  for (size_t i = 0; i < std::size(kTraffic); ++i) {
    Family f(fmt::format("node_ipvs_{}", kTraffic[i].suffix), total_help[i], Type::kCounter, {});
    f.add({}, in.totals.*kTraffic[i].field);
    f.write(out);
  }
  std::vector<std::string> labels = {"local_address", "local_port", "remote_address", "remote_port", "proto",
                                     "local_mark"};
  Family active("node_ipvs_backend_connections_active", "The current active connections by local and remote address.",
                Type::kGauge, labels);
  Family inactive("node_ipvs_backend_connections_inactive",
                  "The current inactive connections by local and remote address.", Type::kGauge, labels);
  Family weight("node_ipvs_backend_weight", "The current backend weight by local and remote address.", Type::kGauge,
                labels);
  for (const auto& s : in.services) {
    const svc::ServiceKey& k = s.cfg.key;
    // /proc/net/ip_vs prints a fwmark service as "FWM  %08X" and node_exporter copies the
    // field; its address is then nil (printed "") and its port 0.
    std::string local_address = k.fwmark ? "" : addrLabel(k.addr);
    std::string local_port = k.fwmark ? "0" : std::to_string(k.port);
    std::string local_mark = k.fwmark ? fmt::format("{:08X}", k.fwmark) : "";
    for (const auto& d : s.dests) {
      std::vector<std::string> v = {local_address, local_port, addrLabel(d.cfg.ep.addr),
                                    std::to_string(d.cfg.ep.port), protoLabel(k), local_mark};
      active.add(v, d.active);
      inactive.add(v, d.inactive);
      weight.add(std::move(v), nonNegative(d.cfg.weight));
    }
  }
  active.write(out);
  inactive.write(out);
  weight.write(out);
}

void writeTraffic(const Inputs& in, std::string& out) {
  for (const auto& t : kTraffic) {
    Family f(fmt::format("sluice_service_{}", t.suffix), fmt::format("Virtual service: {}.", t.help), Type::kCounter,
             kSvcLabels);
    for (const auto& s : in.services) f.add(serviceLabels(s.cfg.key), s.stats.*t.field);
    f.write(out);
  }
  auto rs_labels = labelsPlus({"rip", "rport", "fwd"});
  auto rsValues = [](const ctl::ServiceInfo& s, const ctl::DestInfo& d) {
    auto v = withRs(serviceLabels(s.cfg.key), d.cfg.ep);
    v.emplace_back(fwdLabel(d.cfg.fwd));
    return v;
  };
  for (const auto& t : kTraffic) {
    Family f(fmt::format("sluice_real_server_{}", t.suffix), fmt::format("Real server: {}.", t.help), Type::kCounter,
             rs_labels);
    for (const auto& s : in.services)
      for (const auto& d : s.dests) f.add(rsValues(s, d), d.stats.*t.field);
    f.write(out);
  }
  struct Gauge {
    const char* name;
    const char* help;
    uint64_t (*get)(const ctl::DestInfo&);
  };
  const Gauge gauges[] = {
      {"sluice_real_server_active_connections", "TCP connections in ESTABLISHED (ipvsadm ActiveConn).",
       [](const ctl::DestInfo& d) { return uint64_t(d.active); }},
      {"sluice_real_server_inactive_connections", "Every other connection (ipvsadm InActConn).",
       [](const ctl::DestInfo& d) { return uint64_t(d.inactive); }},
      {"sluice_real_server_persistent_connections", "Persistence templates pointing at the real server.",
       [](const ctl::DestInfo& d) { return uint64_t(d.persist); }},
      {"sluice_real_server_weight", "Configured weight (0: quiescent).",
       [](const ctl::DestInfo& d) { return nonNegative(d.cfg.weight); }},
  };
  for (const auto& g : gauges) {
    Family f(g.name, g.help, Type::kGauge, rs_labels);
    for (const auto& s : in.services)
      for (const auto& d : s.dests) f.add(rsValues(s, d), g.get(d));
    f.write(out);
  }
  // FULLNAT: the ports of each local address that connections hold (DPVS's CONNS column of
  // ipvsadm -G). A service with no local address writes no series.
  Family laddr("sluice_laddr_ports_in_use", "FULLNAT local address: ports held by connections.",
               Type::kGauge, labelsPlus({"laddr", "ifname"}));
  for (const auto& s : in.services)
    for (const auto& l : s.laddrs) {
      auto v = serviceLabels(s.cfg.key);
      v.push_back(addrLabel(l.laddr.addr));
      v.push_back(l.laddr.ifname);
      laddr.add(std::move(v), l.conns);
    }
  laddr.write(out);
}

void writeCounters(const Inputs& in, std::string& out) {
  Family drops("sluice_packets_dropped_total", "Packets dropped by the data plane, by reason and by the path that dropped them.",
               Type::kCounter, {"reason", "path"});
  Family events("sluice_datapath_events_total", "Other data-plane events, by the path that counted them.",
                Type::kCounter, {"event", "path"});
  for (const auto& c : in.counters) {
    Family& f = c.drop ? drops : events;
    f.add({c.name, "fast"}, c.fast);
    f.add({c.name, "slow"}, c.slow);
  }
  drops.write(out);
  events.write(out);
}

void writeHealth(const Inputs& in, std::string& out) {
  auto rs = labelsPlus({"rip", "rport"});
  auto checker = labelsPlus({"rip", "rport", "checker", "connect"});
  // Up is the AND of merged series (min), so a duplicate never hides a down one.
  Family up("sluice_real_server_up", "1 when the health checkers hold the real server up (always 1 without checkers).",
            Type::kGauge, rs, Merge::kMin);
  Family checked("sluice_real_server_checked", "1 when the real server has at least one health checker.",
                 Type::kGauge, rs, Merge::kMin);
  Family since("sluice_real_server_last_transition_timestamp_seconds",
               "Wall-clock time of the real server's last up/down change.", Type::kGauge, rs, Merge::kMax, true);
  Family runs("sluice_health_checks_total", "Health checks run.", Type::kCounter, checker);
  Family fails("sluice_health_check_failures_total", "Health checks that failed.", Type::kCounter, checker);
  Family cup("sluice_health_checker_up", "1 when this checker finds the real server up.", Type::kGauge, checker,
             Merge::kMin);
  for (const auto& h : in.health) {
    auto base = withRs(serviceLabels(h.svc), h.rs);
    up.add(base, h.up ? 1 : 0);
    checked.add(base, h.checked ? 1 : 0);
    if (h.last_transition_unix_ns) since.add(base, h.last_transition_unix_ns);
    for (const auto& c : h.checkers) {
      auto v = base;
      v.emplace_back(config::checkKindName(c.kind));
      v.push_back(endpointLabel(c.connect_to));
      runs.add(v, c.checks_run);
      fails.add(v, c.checks_failed);
      cup.add(std::move(v), c.up ? 1 : 0);
    }
  }
  for (const Family* f : {&up, &checked, &since, &runs, &fails, &cup}) f->write(out);
}

void writeDaemon(const Inputs& in, std::string& out) {
  Family entries("sluice_connection_table_entries", "Connections and templates in the connection table.",
                 Type::kGauge, {});
  entries.add({}, in.conn_entries);
  entries.write(out);
  Family cap("sluice_connection_table_capacity", "Entries the connection table can hold (ipvsadm size=).",
             Type::kGauge, {});
  cap.add({}, in.conn_capacity);
  cap.write(out);
  if (in.start_time_unix_ns) {
    Family f("sluice_start_time_seconds", "Wall-clock time sluiced started.", Type::kGauge, {}, Merge::kSum, true);
    f.add({}, in.start_time_unix_ns);
    f.write(out);
  }
  if (!in.version.empty()) {
    Family f("sluice_build_info", "Always 1; the version of sluiced in a label.", Type::kGauge, {"version"});
    f.add({in.version}, 1);
    f.write(out);
  }
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string addrLabel(const net::IpAddr& a) {
  const auto& b = a.bytes;
  if (a.isV4()) return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
  if (!a.isV6()) return "";
  bool mapped = b[10] == 0xff && b[11] == 0xff;
  for (int i = 0; i < 10 && mapped; ++i) mapped = b[i] == 0;
  if (mapped) return fmt::format("{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = uint16_t(b[2 * i] << 8 | b[2 * i + 1]);
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes "::".
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (w[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && !w[j]) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    fmt::format_to(std::back_inserter(out), "{:x}", w[i]);
  }
  return out;
}

void writeCluster(const Inputs& in, std::string& out) {
  if (!in.cluster) return;
  const ClusterInputs& c = *in.cluster;
  Family ready("sluice_cluster_ready",
               "1 once session sync has the peers' tables (or the join timeout passed) and this director announces.",
               Type::kGauge, {"node_id"});
  ready.add({std::to_string(c.node_id)}, c.ready && !c.draining ? 1 : 0);
  ready.write(out);
  Family ann("sluice_cluster_vip_announced", "1 for each VIP on the VIP device (announced by the routing daemon).",
             Type::kGauge, {"vip"});
  for (const net::IpAddr& a : c.announced) ann.add({addrLabel(a)}, 1);
  ann.write(out);
  if (!c.sync) return;
  const cluster::SyncNodeStats& s = *c.sync;
  Family sent("sluice_sync_messages_sent_total", "Session-sync datagrams sent, by type.", Type::kCounter, {"type"});
  Family recv("sluice_sync_messages_received_total", "Session-sync datagrams received and accepted, by type.",
              Type::kCounter, {"type"});
  for (size_t i = 0; i < cluster::SyncNodeStats::kTypes; ++i) {
    sent.add({cluster::kSyncMsgTypeNames[i]}, s.sent[i]);
    recv.add({cluster::kSyncMsgTypeNames[i]}, s.received[i]);
  }
  sent.write(out);
  recv.write(out);
  Family drop("sluice_sync_dropped_total", "Session-sync datagrams or updates refused or lost, by reason.",
              Type::kCounter, {"reason"});
  for (const auto& [r, v] : cluster::droppedByReason(s)) drop.add({r}, v);
  drop.write(out);
  Family inst("sluice_sync_entries_installed_total", "Connections and templates installed from peers.",
              Type::kCounter, {});
  inst.add({}, s.entries_installed);
  inst.write(out);
  Family bulk("sluice_sync_bulk_copies_total", "Bulk copies of a peer's table, received whole and served whole.",
              Type::kCounter, {"direction"});
  bulk.add({"received"}, s.bulk_completed);
  bulk.add({"served"}, s.bulk_served);
  bulk.write(out);
  Family alive("sluice_sync_peers_alive", "Peer directors heard from within the dead interval.", Type::kGauge, {});
  alive.add({}, s.peers_alive);
  alive.write(out);
  Family restarts("sluice_sync_peer_restarts_total", "Peers seen with a newer epoch (restarted).", Type::kCounter, {});
  restarts.add({}, s.peer_restarts);
  restarts.write(out);
}

std::string render(const Inputs& in) {
  std::string out;
  out.reserve(4096 + in.services.size() * 4096);
  writeNodeIpvs(in, out);
  writeTraffic(in, out);
  writeCounters(in, out);
  writeHealth(in, out);
  writeDaemon(in, out);
  writeCluster(in, out);
  return out;
}

}  // namespace sluice::metrics
