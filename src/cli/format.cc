// Text output of sluiceadm, reproducing ipvsadm 1.31's printf formats with fmt (and the
// counters table, which ipvsadm has no equivalent of).
#include "cli/format.h"

#include <algorithm>
#include <ctime>
#include <string_view>

#include <fmt/format.h>

namespace sluice::cli {

namespace {

bool isV6(const svc::ServiceKey& k) {
  return k.fwmark ? k.fwmark_family == net::Family::kV6 : k.addr.isV6();
}

std::string addrPort(const net::IpAddr& a, uint16_t port) {
  if (a.isV6()) return fmt::format("[{}]:{}", a.str(), port);
  return fmt::format("{}:{}", a.str(), port);
}

// The first column of a service line: "TCP  10.0.0.1:80", "FWM  7", "FWM  7 IPv6".
std::string serviceName(const svc::ServiceKey& k) {
  // ipvsadm prints the mark with %d.
  if (k.fwmark) return fmt::format("FWM  {}{}", int32_t(k.fwmark), isV6(k) ? " IPv6" : "");
  std::string s = fmt::format("{}  {}", k.proto == svc::Proto::kUdp ? "UDP" : "TCP", addrPort(k.addr, k.port));
  if (!isV6(k) && s.size() > 33) s.resize(33);
  return s;
}

std::string schedFlags(const svc::ServiceConfig& s) {
  std::string out;
  auto add = [&](const char* name) { out += out.empty() ? name : fmt::format(",{}", name); };
  if (s.scheduler == "sh" || s.scheduler == "mh") {
    bool sh = s.scheduler == "sh";
    if (s.sched_flags & svc::kSchedFlag1) add(sh ? "sh-fallback" : "mh-fallback");
    if (s.sched_flags & svc::kSchedFlag2) add(sh ? "sh-port" : "mh-port");
  } else {
    if (s.sched_flags & svc::kSchedFlag1) add("flag-1");
    if (s.sched_flags & svc::kSchedFlag2) add("flag-2");
  }
  if (s.sched_flags & svc::kSchedFlag3) add("flag-3");
  return out;
}

// " mask 255.255.255.0" / " mask 64", or nothing for a host mask.
std::string maskSuffix(const svc::ServiceConfig& s, const char* word) {
  if (isV6(s.key)) return s.persistence_prefix != 128 ? fmt::format(" {} {}", word, s.persistence_prefix) : "";
  if (s.persistence_prefix == 32) return "";
  return fmt::format(" {} {}", word, net::prefixToNetmaskV4(s.persistence_prefix).str());
}

const char* fwdSwitch(svc::FwdMethod m) {
  switch (m) {
    case svc::FwdMethod::kNat: return "-m";
    case svc::FwdMethod::kTun: return "-i";
    case svc::FwdMethod::kFullNat: return "-b";
    case svc::FwdMethod::kDr:
    case svc::FwdMethod::kLocal: return "-g";
  }
  return "-g";
}

const char* protoName(uint8_t p) {
  switch (p) {
    case 0: return "IP";
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "ICMPv6";
    case 132: return "SCTP";
  }
  return "ERR!";
}

// The i-th 32-bit word of an address in host order (ntohl of the stored bytes).
uint32_t word(const net::IpAddr& a, int i) {
  const uint8_t* b = a.bytes.data() + 4 * i;
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

// libipvs computes `r = ntohl(a) - ntohl(b)` into an int: wrap-around included.
int wrapDiff(uint32_t a, uint32_t b) { return int(int32_t(a - b)); }

int addrCmp(const net::IpAddr& a, const net::IpAddr& b) {
  int r = 0;
  if (a.isV6()) {
    for (int i = 0; !r && i < 4; ++i) r = wrapDiff(word(a, i), word(b, i));
  } else {
    r = wrapDiff(word(a, 0), word(b, 0));
  }
  return r;
}

int serviceCmp(const ctl::ServiceInfo& x, const ctl::ServiceInfo& y) {
  const auto& a = x.cfg.key;
  const auto& b = y.cfg.key;
  int r = wrapDiff(a.fwmark, b.fwmark);
  if (r) return r;
  r = (isV6(a) ? 10 : 2) - (isV6(b) ? 10 : 2);  // AF_INET6 - AF_INET
  if (r) return r;
  // The kernel reports no protocol for fwmark services.
  r = (a.fwmark ? 0 : int(a.proto)) - (b.fwmark ? 0 : int(b.proto));
  if (r) return r;
  r = addrCmp(a.addr, b.addr);
  if (r) return r;
  return int(a.port) - int(b.port);
}

int destCmp(const ctl::DestInfo& x, const ctl::DestInfo& y) {
  int r = addrCmp(x.cfg.ep.addr, y.cfg.ep.addr);
  if (r) return r;
  return int(x.cfg.ep.port) - int(y.cfg.ep.port);
}

// glibc's qsort for small arrays: top-down merge sort, left half n/2, ties to the left.
// Reproducing it keeps ipvsadm's order even where its comparator is not transitive.
template <class T, class Cmp>
void mergeSortRange(std::vector<T>& v, size_t lo, size_t n, std::vector<T>& tmp, Cmp cmp) {
  if (n <= 1) return;
  size_t n1 = n / 2, n2 = n - n1;
  mergeSortRange(v, lo, n1, tmp, cmp);
  mergeSortRange(v, lo + n1, n2, tmp, cmp);
  size_t i = lo, j = lo + n1, end1 = lo + n1, end2 = lo + n;
  tmp.clear();
  while (i < end1 && j < end2) {
    if (cmp(v[i], v[j]) <= 0) tmp.push_back(std::move(v[i++]));
    else tmp.push_back(std::move(v[j++]));
  }
  while (i < end1) tmp.push_back(std::move(v[i++]));
  // Whatever is left of the right half is already in place.
  for (size_t k = 0; k < tmp.size(); ++k) v[lo + k] = std::move(tmp[k]);
}

template <class T, class Cmp>
void glibcSort(std::vector<T>& v, Cmp cmp) {
  std::vector<T> tmp;
  tmp.reserve(v.size());
  mergeSortRange(v, 0, v.size(), tmp, cmp);
}

std::string destName(const ctl::ServiceInfo& s, const ctl::DestInfo& d) {
  std::string n = addrPort(d.cfg.ep.addr, d.cfg.ep.port);
  if (!isV6(s.cfg.key) && n.size() > 28) n.resize(28);
  return n;
}

// ipvsadm 1.31's checksum option and its short form in TunnelInfo (tun_flags_opts, tunflags).
const char* tunCsumOption(uint8_t flags) {
  return flags & SL_TUN_F_REMCSUM ? "--tun-remcsum" : flags & SL_TUN_F_CSUM ? "--tun-csum" : "--tun-nocsum";
}
const char* tunCsumShort(uint8_t flags) {
  return flags & SL_TUN_F_REMCSUM ? "r+c" : flags & SL_TUN_F_CSUM ? "+c" : "-c";
}

// The TunnelInfo column (ipvsadm's fwd_tun_info): "ipip", "gue:6080:-c", "gre:+c", and
// "n/a" for a real server that is not tunnelled.
std::string tunInfo(const svc::DestConfig& d) {
  if (d.fwd != svc::FwdMethod::kTun) return "n/a";
  switch (d.tun_type) {
    case SL_TUN_IPIP: return "ipip";
    case SL_TUN_GUE: return fmt::format("gue:{}:{}", d.tun_port, tunCsumShort(d.tun_flags));
    case SL_TUN_GRE: return fmt::format("gre:{}", tunCsumShort(d.tun_flags));
  }
  return "n/a";
}

// The --tun-* options -S prints after "-w N" for a tunnelled real server (with a leading space).
std::string tunSaveArgs(const svc::DestConfig& d) {
  if (d.fwd != svc::FwdMethod::kTun) return "";
  switch (d.tun_type) {
    case SL_TUN_IPIP: return " --tun-type ipip";
    case SL_TUN_GUE: return fmt::format(" --tun-type gue --tun-port {} {}", d.tun_port, tunCsumOption(d.tun_flags));
    case SL_TUN_GRE: return fmt::format(" --tun-type gre {}", tunCsumOption(d.tun_flags));
  }
  return "";
}

std::string title(const ListFormat& f) {
  constexpr const char* kProt = "Prot LocalAddress:Port";
  if (f.stats)
    return fmt::format("{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n", kProt, "Conns",
                       "InPkts", "OutPkts", "InBytes", "OutBytes");
  if (f.rate)
    return fmt::format("{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n", kProt, "CPS", "InPPS",
                       "OutPPS", "InBPS", "OutBPS");
  if (f.thresholds)
    return fmt::format("{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n", kProt, "Uthreshold",
                       "Lthreshold", "ActiveConn", "InActConn");
  if (f.persistent_conn)
    return fmt::format("{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n", kProt, "Weight",
                       "PersistConn", "ActiveConn", "InActConn");
  if (f.tun_info)
    return "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  return "Prot LocalAddress:Port Scheduler Flags\n"
         "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

std::string serviceLine(const ctl::ServiceInfo& s, const ListFormat& f) {
  const auto& c = s.cfg;
  std::string name = serviceName(c.key);
  if (f.stats)
    return fmt::format("{:<33}{}{}{}{}{}\n", name, largeNum(s.stats.conns, f.exact), largeNum(s.stats.inpkts, f.exact),
                       largeNum(s.stats.outpkts, f.exact), largeNum(s.stats.inbytes, f.exact),
                       largeNum(s.stats.outbytes, f.exact));
  if (f.rate)
    return fmt::format("{:<33}{}{}{}{}{}\n", name, largeNum(s.rate.cps, f.exact), largeNum(s.rate.inpps, f.exact),
                       largeNum(s.rate.outpps, f.exact), largeNum(s.rate.inbps, f.exact),
                       largeNum(s.rate.outbps, f.exact));
  std::string line = fmt::format("{} {}", name, c.scheduler);
  if (std::string flags = schedFlags(c); !flags.empty()) line += fmt::format(" ({})", flags);
  if (c.persistent) line += fmt::format(" persistent {}", c.persistence_timeout) + maskSuffix(c, "mask");
  if (c.one_packet) line += " ops";
  // FULLNAT's client-address mode when not the default TOA: DPVS's " ppv2" for PROXY v2.
  if (c.client_addr == svc::ClientAddr::kProxyV2) line += " ppv2";
  else if (c.client_addr == svc::ClientAddr::kNone) line += " client-addr none";
  return line + "\n";
}

std::string destLine(const ctl::ServiceInfo& s, const ctl::DestInfo& d, const ListFormat& f) {
  std::string n = destName(s, d);
  if (f.stats)
    return fmt::format("  -> {:<28}{}{}{}{}{}\n", n, largeNum(d.stats.conns, f.exact), largeNum(d.stats.inpkts, f.exact),
                       largeNum(d.stats.outpkts, f.exact), largeNum(d.stats.inbytes, f.exact),
                       largeNum(d.stats.outbytes, f.exact));
  if (f.rate)
    return fmt::format("  -> {:<28} {:>8} {:>8} {:>8}{}{}\n", n, d.rate.cps, d.rate.inpps, d.rate.outpps,
                       largeNum(d.rate.inbps, f.exact), largeNum(d.rate.outbps, f.exact));
  if (f.thresholds)
    return fmt::format("  -> {:<28} {:<10} {:<10} {:<10} {:<10}\n", n, d.cfg.u_threshold, d.cfg.l_threshold, d.active,
                       d.inactive);
  if (f.persistent_conn)
    return fmt::format("  -> {:<28} {:<9} {:<11} {:<10} {:<10}\n", n, uint32_t(d.cfg.weight), d.persist, d.active,
                       d.inactive);
  if (f.tun_info)
    return fmt::format("  -> {:<28} {:<7} {:<13} {:<6} {:<10} {:<10}\n", n, svc::fwdName(d.cfg.fwd), tunInfo(d.cfg),
                       d.cfg.weight, d.active, d.inactive);
  return fmt::format("  -> {:<28} {:<7} {:<6} {:<10} {:<10}\n", n, svc::fwdName(d.cfg.fwd), d.cfg.weight, d.active,
                     d.inactive);
}

void sortAll(std::vector<ctl::ServiceInfo>& services, bool nosort) {
  if (nosort) return;
  sortLikeIpvsadm(services);
}

}  // namespace

std::string largeNum(uint64_t n, bool exact) {
  if (exact) {
    size_t len = fmt::formatted_size("{}", n);
    return fmt::format("{:>{}}", n, len <= 8 ? 9 : len + 1);
  }
  if (n < 100000000ull) return fmt::format("{:>9}", n);
  if (n < 1000000000ull) return fmt::format("{:>8}K", n / 1000);
  if (n < 100000000000ull) return fmt::format("{:>8}M", n / 1000000);
  if (n < 100000000000000ull) return fmt::format("{:>8}G", n / 1000000000ull);
  return fmt::format("{:>8}T", n / 1000000000000ull);
}

void sortLikeIpvsadm(std::vector<ctl::ServiceInfo>& services) {
  glibcSort(services, serviceCmp);
  for (auto& s : services) glibcSort(s.dests, destCmp);
}

std::string serviceArgs(const svc::ServiceKey& k) {
  if (k.fwmark) return fmt::format("-f {}{}", int32_t(k.fwmark), isV6(k) ? " -6" : "");
  return fmt::format("{} {}", k.proto == svc::Proto::kUdp ? "-u" : "-t", addrPort(k.addr, k.port));
}

std::string formatHeader(uint32_t conn_table_size) {
  return fmt::format("IP Virtual Server version 1.2.1 (size={})\n", int32_t(conn_table_size));
}

std::string formatServices(std::vector<ctl::ServiceInfo> services, const ListFormat& f) {
  sortAll(services, f.nosort);
  std::string out = title(f);
  for (const auto& s : services) {
    out += serviceLine(s, f);
    for (const auto& d : s.dests) out += destLine(s, d, f);
  }
  return out;
}

std::string formatSave(std::vector<ctl::ServiceInfo> services, bool nosort) {
  sortAll(services, nosort);
  std::string out;
  for (const auto& s : services) {
    const auto& c = s.cfg;
    std::string svc_args = serviceArgs(c.key);
    out += fmt::format("-A {} -s {}", svc_args, c.scheduler);
    if (c.persistent) out += fmt::format(" -p {}", c.persistence_timeout) + maskSuffix(c, "-M");
    if (c.one_packet) out += " -o";
    if (c.sched_flags & (svc::kSchedFlag1 | svc::kSchedFlag2 | svc::kSchedFlag3))
      out += fmt::format(" -b {}", schedFlags(c));
    if (c.client_addr != svc::ClientAddr::kToa)
      out += fmt::format(" --client-addr {}", svc::clientAddrName(c.client_addr));
    out += '\n';
    // DPVS's -S leaves local addresses out; they are part of the table here, so -R restores them.
    for (const auto& l : s.laddrs)
      out += fmt::format("-P {} -z {}{}\n", svc_args, l.laddr.addr.str(),
                         l.laddr.ifname.empty() ? std::string() : " -F " + l.laddr.ifname);
    for (const auto& d : s.dests)
      out += fmt::format("-a {} -r {} {} -w {}{}\n", svc_args, addrPort(d.cfg.ep.addr, d.cfg.ep.port),
                         fwdSwitch(d.cfg.fwd), d.cfg.weight, tunSaveArgs(d.cfg));
  }
  return out;
}

std::string formatLaddrs(const std::vector<ctl::ServiceInfo>& services) {
  std::string out;
  for (size_t i = 0; i < services.size(); ++i) {
    const auto& s = services[i];
    if (i == 0)
      out += fmt::format("{:<20} {:<8} {:<20} {:<10} {:<10}\n", "VIP:VPORT", "TOTAL", "SNAT_IP", "CONFLICTS",
                         "CONNS");
    const svc::ServiceKey& k = s.cfg.key;
    std::string vip = k.fwmark ? fmt::format("FWM {}", k.fwmark) : addrPort(k.addr, k.port);
    out += fmt::format("{:<20} {:<8} \n", vip, s.laddrs.size());
    // CONFLICTS: DPVS counts a port it picked that was in use after all; a Sluice pool
    // hands a port out only while it is free, so there are none to count.
    for (const auto& l : s.laddrs)
      out += fmt::format("{:<20} {:<8} {:<20} {:<10} {:<10}\n", "", "", l.laddr.addr.str(), 0, l.conns);
  }
  return out;
}

std::string formatConns(const std::vector<ctl::ConnInfo>& conns) {
  std::string out = "IPVS connection entries\n";
  out += fmt::format("pro expire {:<11} {:<18} {:<18} {}\n", "state", "source", "virtual", "destination");
  for (const auto& c : conns) {
    std::string expire = fmt::format("{:02}:{:02}", c.expire_s / 60, c.expire_s % 60);
    out += fmt::format("{:<3} {:<6} {:<11} {:<18} {:<18} {}\n", protoName(c.proto), expire, c.state,
                       addrPort(c.client.addr, c.client.port), addrPort(c.vip.addr, c.vip.port),
                       addrPort(c.dest.addr, c.dest.port));
  }
  return out;
}

std::string formatTimeouts(const svc::Timeouts& t) {
  return fmt::format("Timeout (tcp tcpfin udp): {} {} {}\n", int32_t(t.tcp), int32_t(t.tcp_fin), int32_t(t.udp));
}

std::string formatSyncDaemons(const std::optional<ctl::SyncDaemonInfo>& running) {
  if (!running) return {};
  const ctl::SyncDaemonInfo& r = *running;
  const std::string where = r.interface.empty() ? r.addr.str() : r.interface;
  std::string out;
  for (ctl::SyncRole role : {ctl::SyncRole::kMaster, ctl::SyncRole::kBackup})
    out += fmt::format("{} sync daemon (mcast={}, syncid={}, maxlen={}, port={})\n",
                       ctl::syncRoleName(role), where, r.syncid, r.maxlen, r.port);
  return out;
}

std::string formatCounters(const std::vector<ctl::CounterInfo>& counters) {
  size_t width = std::string_view("Counter").size();
  for (const auto& c : counters) width = std::max(width, c.name.size());
  // A leading space in every number column: even a 20-digit count stays its own word.
  std::string out = fmt::format("{:<{}} {:>14} {:>14} {:>14}\n", "Counter", width, "Slow", "Fast", "Total");
  for (const auto& c : counters)
    out += fmt::format("{:<{}} {:>14} {:>14} {:>14}{}\n", c.name, width, c.slow, c.fast, c.slow + c.fast,
                       c.drop ? "  drop" : "");
  return out;
}

namespace {

std::string healthTime(uint64_t unix_ns) {
  if (unix_ns == 0) return "-";
  time_t t = time_t(unix_ns / 1'000'000'000ull);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string healthService(const svc::ServiceKey& k) {
  if (k.fwmark) return fmt::format("FWM  {}", k.fwmark);
  net::Endpoint ep{k.addr, k.port};
  return fmt::format("{}  {}", k.proto == svc::Proto::kUdp ? "UDP" : "TCP", ep.str());
}

}  // namespace

std::string formatHealth(const std::vector<ctl::HealthInfo>& rows, bool numeric) {
  (void)numeric;  // addresses are always numeric here, as in the other listings
  std::string out = fmt::format("{:<28} {:<28} {:<6} {:>6}  {:<20}  {}\n", "Service", "Real server",
                                "State", "Weight", "Since", "Reason");
  for (const auto& h : rows) {
    std::string state;
    if (h.sorry) state = h.up ? "SORRY" : "IDLE";
    else if (h.up) state = "UP";
    else state = h.in_table ? "DOWN/0" : "DOWN";
    std::string weight = h.in_table ? std::to_string(h.weight) : "-";
    out += fmt::format("{:<28} {:<28} {:<6} {:>6}  {:<20}  {}\n", healthService(h.svc), h.rs.str(),
                       state, weight, healthTime(h.last_transition_unix_ns), h.reason);
    for (const auto& c : h.checkers)
      out += fmt::format("    {} {}  {}, {} checks, {} failed{}{}\n", c.kind,
                         c.target.addr.family == net::Family::kNone ? h.rs.str() : c.target.str(),
                         c.up ? "up" : "down", c.checks, c.failures, c.reason.empty() ? "" : ": ",
                         c.reason);
  }
  return out;
}

}  // namespace sluice::cli
