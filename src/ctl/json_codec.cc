// Strict JSON <-> model conversion. Inside this file a decode failure is thrown as a
// private DecodeFailure (it keeps the readers short: one line per field); every public
// entry point catches it, and anything nlohmann might throw, and returns an Error.
#include "ctl/json_codec.h"

#include <climits>
#include <set>

#include <fmt/format.h>

namespace sluice::ctl {

namespace {

constexpr size_t kMaxIfName = 15;               // IFNAMSIZ - 1
constexpr uint64_t kMaxSyncMaxlen = 65535 - 20 - 8;  // ipvsadm's bound: a UDP payload over IPv4

struct DecodeFailure {
  std::string msg;
};

[[noreturn]] void failAt(const std::string& path, const std::string& why) {
  throw DecodeFailure{fmt::format("{}: {}", path, why)};
}

// A short, printable rendering of a bad value for error messages.
std::string describe(const Json& j) {
  std::string s = dumpJson(j);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return fmt::format("{} {}", j.type_name(), s);
}

// Reads one JSON object, remembering which fields were consumed so that leftovers
// (typos, fields from another op) are reported instead of ignored.
class ObjReader {
 public:
  ObjReader(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j.is_object()) failAt(path_, fmt::format("expected an object, got {}", describe(j)));
  }

  std::string sub(const char* key) const { return path_ + "." + key; }
  bool has(const char* key) const { return j_.contains(key); }

  const Json* find(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end()) return nullptr;
    used_.insert(key);
    return &*it;
  }

  const Json& need(const char* key) {
    const Json* p = find(key);
    if (!p) failAt(path_, fmt::format("missing field '{}'", key));
    return *p;
  }

  uint64_t uintField(const char* key, uint64_t max) { return toUint(need(key), sub(key), max); }
  uint64_t uintField(const char* key, uint64_t max, uint64_t dflt) {
    const Json* p = find(key);
    return p ? toUint(*p, sub(key), max) : dflt;
  }

  bool boolField(const char* key, bool dflt) {
    const Json* p = find(key);
    if (!p) return dflt;
    if (!p->is_boolean()) failAt(sub(key), fmt::format("expected true or false, got {}", describe(*p)));
    return p->get<bool>();
  }

  std::string strField(const char* key, size_t max_len) {
    const Json& v = need(key);
    if (!v.is_string()) failAt(sub(key), fmt::format("expected a string, got {}", describe(v)));
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_len)
      failAt(sub(key), fmt::format("expected 1 to {} characters, got {}", max_len, s.size()));
    return s;
  }

  // Call after reading: any field not consumed is an error.
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!used_.count(it.key())) failAt(path_, fmt::format("unknown field '{}'", it.key()));
  }

  static uint64_t toUint(const Json& v, const std::string& path, uint64_t max) {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      uint64_t n = v.get<uint64_t>();
      if (n <= max) return n;
    } else if (!v.is_number_integer()) {
      failAt(path, fmt::format("expected an integer 0..{}, got {}", max, describe(v)));
    }
    failAt(path, fmt::format("expected an integer 0..{}, got {}", max, dumpJson(v)));
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> used_;
};

net::IpAddr readAddr(ObjReader& r, const char* key) {
  std::string s = r.strField(key, 64);
  auto a = net::IpAddr::parse(s);
  if (!a) failAt(r.sub(key), fmt::format("'{}' is not an IPv4 or IPv6 address", s));
  return *a;
}

svc::FwdMethod readFwd(ObjReader& r, const char* key, svc::FwdMethod dflt) {
  const Json* p = r.find(key);
  if (!p) return dflt;
  if (p->is_string()) {
    const auto& s = p->get_ref<const std::string&>();
    for (auto m : {svc::FwdMethod::kDr, svc::FwdMethod::kTun, svc::FwdMethod::kNat,
                   svc::FwdMethod::kFullNat, svc::FwdMethod::kLocal})
      if (s == fwdJsonName(m)) return m;
  }
  failAt(r.sub(key), fmt::format("expected one of dr, tun, nat, fullnat, local; got {}", describe(*p)));
}

net::Endpoint readEndpoint(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  net::Endpoint e;
  e.addr = readAddr(r, "addr");
  e.port = uint16_t(r.uintField("port", 65535));
  r.finish();
  return e;
}

net::Family keyFamily(const svc::ServiceKey& k) {
  return k.fwmark ? k.fwmark_family : k.addr.family;
}

svc::ServiceKey readServiceKey(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  svc::ServiceKey k;
  if (r.has("fwmark")) {
    k.fwmark = uint32_t(r.uintField("fwmark", UINT32_MAX));
    if (k.fwmark == 0) failAt(r.sub("fwmark"), "a firewall mark must be greater than 0");
    if (const Json* f = r.find("family")) {
      if (*f == "ipv4") k.fwmark_family = net::Family::kV4;
      else if (*f == "ipv6") k.fwmark_family = net::Family::kV6;
      else failAt(r.sub("family"), fmt::format("expected \"ipv4\" or \"ipv6\", got {}", describe(*f)));
    }
  } else {
    const Json& p = r.need("proto");
    if (p == "tcp") k.proto = svc::Proto::kTcp;
    else if (p == "udp") k.proto = svc::Proto::kUdp;
    else failAt(r.sub("proto"), fmt::format("expected \"tcp\" or \"udp\", got {}", describe(p)));
    k.addr = readAddr(r, "addr");
    k.port = uint16_t(r.uintField("port", 65535));
  }
  r.finish();
  return k;
}

svc::ServiceConfig readServiceConfig(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  svc::ServiceConfig s;
  s.key = readServiceKey(r.need("key"), r.sub("key"));
  // Absent: the daemon's default (sluiceadm -A/-E without -s; see ServiceTable).
  s.scheduler.clear();
  if (r.has("scheduler")) s.scheduler = r.strField("scheduler", 15);
  s.sched_flags = uint32_t(r.uintField("sched_flags", 7, 0));
  s.persistent = r.boolField("persistent", false);
  s.persistence_timeout = uint32_t(r.uintField("persistence_timeout", UINT32_MAX, 300));
  unsigned max_prefix = keyFamily(s.key) == net::Family::kV6 ? 128 : 32;
  s.persistence_prefix = unsigned(r.uintField("persistence_prefix", max_prefix, max_prefix));
  s.one_packet = r.boolField("one_packet", false);
  // Absent at its default (toa), as the tunnel options are: what an older sluiced wrote
  // still reads. Whether a mode is implemented is the table's to judge.
  if (const Json* c = r.find("client_addr")) {
    auto mode = c->is_string() ? svc::clientAddrFromName(c->get_ref<const std::string&>()) : std::nullopt;
    if (!mode) failAt(r.sub("client_addr"), fmt::format("expected one of none, toa, proxy-v2; got {}", describe(*c)));
    s.client_addr = *mode;
  }
  r.finish();
  return s;
}

svc::LocalAddress readLocalAddressFields(ObjReader& r) {
  svc::LocalAddress l;
  l.addr = readAddr(r, "addr");
  if (r.has("ifname")) l.ifname = r.strField("ifname", 15);
  return l;
}

svc::LocalAddress readLocalAddress(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  svc::LocalAddress l = readLocalAddressFields(r);
  r.finish();
  return l;
}

LaddrInfo readLaddrInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  LaddrInfo x;
  x.laddr = readLocalAddressFields(r);
  x.conns = r.uintField("conns", UINT64_MAX);
  r.finish();
  return x;
}

svc::DestConfig readDestConfig(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  svc::DestConfig d;
  d.ep.addr = readAddr(r, "addr");
  d.ep.port = uint16_t(r.uintField("port", 65535));
  d.fwd = readFwd(r, "fwd", svc::FwdMethod::kDr);
  d.weight = int32_t(r.uintField("weight", INT32_MAX, 1));
  d.u_threshold = uint32_t(r.uintField("u_threshold", UINT32_MAX, 0));
  d.l_threshold = uint32_t(r.uintField("l_threshold", UINT32_MAX, 0));
  // The tunnel options are absent at their defaults (ipip, no port, no checksum), so what
  // an older sluiced wrote or sends still reads, and what a TUN-less peer never sets is
  // never sent. Their combinations are svc::checkTunnel's to judge, not the codec's.
  if (const Json* t = r.find("tun_type")) {
    auto type = t->is_string() ? svc::tunTypeFromName(t->get_ref<const std::string&>()) : std::nullopt;
    if (!type) failAt(r.sub("tun_type"), fmt::format("expected one of ipip, gue, gre; got {}", describe(*t)));
    d.tun_type = *type;
  }
  d.tun_port = uint16_t(r.uintField("tun_port", 65535, 0));
  if (const Json* f = r.find("tun_flags")) {
    if (!f->is_array()) failAt(r.sub("tun_flags"), fmt::format("expected an array, got {}", describe(*f)));
    for (const Json& v : *f) {
      if (v == "csum") d.tun_flags |= SL_TUN_F_CSUM;
      else if (v == "remcsum") d.tun_flags |= SL_TUN_F_REMCSUM;
      else failAt(r.sub("tun_flags"), fmt::format("expected \"csum\" or \"remcsum\", got {}", describe(v)));
    }
  }
  r.finish();
  return d;
}

svc::Timeouts readTimeouts(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  svc::Timeouts t;
  t.tcp = uint32_t(r.uintField("tcp", UINT32_MAX));
  t.tcp_fin = uint32_t(r.uintField("tcp_fin", UINT32_MAX));
  t.udp = uint32_t(r.uintField("udp", UINT32_MAX));
  r.finish();
  return t;
}

sl_stats readStats(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  sl_stats s{};
  s.conns = r.uintField("conns", UINT64_MAX);
  s.inpkts = r.uintField("inpkts", UINT64_MAX);
  s.outpkts = r.uintField("outpkts", UINT64_MAX);
  s.inbytes = r.uintField("inbytes", UINT64_MAX);
  s.outbytes = r.uintField("outbytes", UINT64_MAX);
  r.finish();
  return s;
}

Rate readRate(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  Rate x;
  x.cps = r.uintField("cps", UINT64_MAX);
  x.inpps = r.uintField("inpps", UINT64_MAX);
  x.outpps = r.uintField("outpps", UINT64_MAX);
  x.inbps = r.uintField("inbps", UINT64_MAX);
  x.outbps = r.uintField("outbps", UINT64_MAX);
  r.finish();
  return x;
}

DestInfo readDestInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  DestInfo d;
  d.cfg = readDestConfig(r.need("dest"), r.sub("dest"));
  d.active = uint32_t(r.uintField("active", UINT32_MAX));
  d.inactive = uint32_t(r.uintField("inactive", UINT32_MAX));
  d.persist = uint32_t(r.uintField("persist", UINT32_MAX));
  d.stats = readStats(r.need("stats"), r.sub("stats"));
  d.rate = readRate(r.need("rate"), r.sub("rate"));
  r.finish();
  return d;
}

ServiceInfo readServiceInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  ServiceInfo s;
  s.cfg = readServiceConfig(r.need("service"), r.sub("service"));
  s.stats = readStats(r.need("stats"), r.sub("stats"));
  s.rate = readRate(r.need("rate"), r.sub("rate"));
  const Json& dests = r.need("dests");
  if (!dests.is_array()) failAt(r.sub("dests"), fmt::format("expected an array, got {}", describe(dests)));
  for (size_t i = 0; i < dests.size(); ++i)
    s.dests.push_back(readDestInfo(dests[i], fmt::format("{}[{}]", r.sub("dests"), i)));
  if (const Json* laddrs = r.find("laddrs")) {
    if (!laddrs->is_array())
      failAt(r.sub("laddrs"), fmt::format("expected an array, got {}", describe(*laddrs)));
    for (size_t i = 0; i < laddrs->size(); ++i)
      s.laddrs.push_back(readLaddrInfo((*laddrs)[i], fmt::format("{}[{}]", r.sub("laddrs"), i)));
  }
  r.finish();
  return s;
}

ConnInfo readConnInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  ConnInfo c;
  c.proto = uint8_t(r.uintField("proto", 255));
  c.state = r.strField("state", 32);
  c.expire_s = uint32_t(r.uintField("expire_s", UINT32_MAX));
  c.client = readEndpoint(r.need("client"), r.sub("client"));
  c.vip = readEndpoint(r.need("vip"), r.sub("vip"));
  c.dest = readEndpoint(r.need("dest"), r.sub("dest"));
  c.fwd = readFwd(r, "fwd", svc::FwdMethod::kDr);
  c.is_template = r.boolField("template", false);
  r.finish();
  return c;
}

SyncRole readSyncRole(const Json& v, const std::string& path) {
  if (v.is_string())
    if (auto role = syncRoleFromName(v.get_ref<const std::string&>())) return *role;
  failAt(path, fmt::format("expected \"master\" or \"backup\", got {}", describe(v)));
}

// Between 1 and max: the options ipvsadm takes from 1 (port, ttl, maxlen).
uint64_t positive(ObjReader& r, const char* key, uint64_t max) {
  uint64_t n = r.uintField(key, max);
  if (n == 0) failAt(r.sub(key), fmt::format("expected an integer 1..{}, got 0", max));
  return n;
}

SyncDaemonArgs readSyncDaemonArgs(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  SyncDaemonArgs a;
  a.role = readSyncRole(r.need("role"), r.sub("role"));
  if (r.has("mcast_interface")) a.mcast_interface = r.strField("mcast_interface", kMaxIfName);
  if (r.has("syncid")) a.syncid = uint32_t(r.uintField("syncid", 255));
  if (r.has("mcast_group")) a.mcast_group = readAddr(r, "mcast_group");
  if (r.has("mcast_port")) a.mcast_port = uint16_t(positive(r, "mcast_port", 65535));
  if (r.has("mcast_ttl")) a.mcast_ttl = uint8_t(positive(r, "mcast_ttl", 255));
  if (r.has("sync_maxlen")) a.sync_maxlen = uint32_t(positive(r, "sync_maxlen", kMaxSyncMaxlen));
  r.finish();
  return a;
}

SyncDaemonInfo readSyncDaemonInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  SyncDaemonInfo x;
  // Derived (a running sync is always both roles); read to keep the reader strict.
  const Json& roles = r.need("roles");
  if (!roles.is_array()) failAt(r.sub("roles"), fmt::format("expected an array, got {}", describe(roles)));
  for (size_t i = 0; i < roles.size(); ++i) readSyncRole(roles[i], fmt::format("{}[{}]", r.sub("roles"), i));
  const Json& ifname = r.need("interface");  // "" when no interface carries the address now
  if (!ifname.is_string() || ifname.get_ref<const std::string&>().size() > kMaxIfName)
    failAt(r.sub("interface"), fmt::format("expected a string of at most {} characters, got {}", kMaxIfName,
                                           describe(ifname)));
  x.interface = ifname.get<std::string>();
  x.addr = readAddr(r, "addr");
  x.syncid = uint32_t(r.uintField("syncid", UINT32_MAX));
  x.port = uint16_t(r.uintField("port", 65535));
  x.maxlen = uint32_t(r.uintField("maxlen", UINT32_MAX));
  x.ready = r.boolField("ready", false);
  x.peers = uint32_t(r.uintField("peers", UINT32_MAX));
  x.peers_alive = uint32_t(r.uintField("peers_alive", UINT32_MAX));
  const Json& counters = r.need("counters");
  if (!counters.is_object())
    failAt(r.sub("counters"), fmt::format("expected an object, got {}", describe(counters)));
  for (auto it = counters.begin(); it != counters.end(); ++it)
    x.counters[it.key()] = ObjReader::toUint(it.value(), r.sub("counters") + "." + it.key(), UINT64_MAX);
  r.finish();
  return x;
}

CounterInfo readCounterInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  CounterInfo c;
  c.name = r.strField("name", 64);
  c.drop = r.boolField("drop", false);
  c.slow = r.uintField("slow", UINT64_MAX);
  c.fast = r.uintField("fast", UINT64_MAX);
  r.finish();
  return c;
}

CheckerInfo readCheckerInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  CheckerInfo c;
  c.kind = r.strField("kind", 32);
  c.target = readEndpoint(r.need("target"), r.sub("target"));
  c.up = r.boolField("up", false);
  c.reason = r.strField("reason", 4096);
  c.checks = r.uintField("checks", UINT64_MAX);
  c.failures = r.uintField("failures", UINT64_MAX);
  c.last_transition_unix_ns = r.uintField("last_transition_unix_ns", UINT64_MAX);
  r.finish();
  return c;
}

HealthInfo readHealthInfo(const Json& j, const std::string& path) {
  ObjReader r(j, path);
  HealthInfo h;
  h.svc = readServiceKey(r.need("service"), r.sub("service"));
  h.vs = r.strField("vs", 4096);
  h.rs = readEndpoint(r.need("rs"), r.sub("rs"));
  h.up = r.boolField("up", true);
  h.sorry = r.boolField("sorry", false);
  h.in_table = r.boolField("in_table", false);
  h.weight = int32_t(r.uintField("weight", INT32_MAX, 0));
  h.quorum = r.boolField("quorum", true);
  h.reason = r.strField("reason", 4096);
  h.last_transition_unix_ns = r.uintField("last_transition_unix_ns", UINT64_MAX, 0);
  const Json& checkers = r.need("checkers");
  if (!checkers.is_array())
    failAt(r.sub("checkers"), fmt::format("expected an array, got {}", describe(checkers)));
  for (size_t i = 0; i < checkers.size(); ++i)
    h.checkers.push_back(readCheckerInfo(checkers[i], fmt::format("{}[{}]", r.sub("checkers"), i)));
  r.finish();
  return h;
}

template <class F>
auto guarded(std::string_view what, F&& f) -> Result<decltype(f(std::string()))> {
  try {
    return f(std::string(what));
  } catch (const DecodeFailure& e) {
    return Error{e.msg};
  } catch (const std::exception& e) {
    return makeError("{}: {}", what, e.what());
  }
}

}  // namespace

const char* fwdJsonName(svc::FwdMethod m) {
  switch (m) {
    case svc::FwdMethod::kDr: return "dr";
    case svc::FwdMethod::kTun: return "tun";
    case svc::FwdMethod::kNat: return "nat";
    case svc::FwdMethod::kFullNat: return "fullnat";
    case svc::FwdMethod::kLocal: return "local";
  }
  return "dr";
}

std::string dumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json toJson(const net::Endpoint& e) { return Json{{"addr", e.addr.str()}, {"port", e.port}}; }

Json toJson(const svc::ServiceKey& k) {
  if (k.fwmark)
    return Json{{"fwmark", k.fwmark}, {"family", k.fwmark_family == net::Family::kV6 ? "ipv6" : "ipv4"}};
  return Json{{"proto", k.proto == svc::Proto::kUdp ? "udp" : "tcp"},
              {"addr", k.addr.str()},
              {"port", k.port}};
}

Json toJson(const svc::ServiceConfig& s) {
  Json j{{"key", toJson(s.key)},
         {"sched_flags", s.sched_flags},
         {"persistent", s.persistent},
         {"persistence_timeout", s.persistence_timeout},
         {"persistence_prefix", s.persistence_prefix},
         {"one_packet", s.one_packet}};
  if (!s.scheduler.empty()) j["scheduler"] = s.scheduler;
  if (s.client_addr != svc::ClientAddr::kToa) j["client_addr"] = svc::clientAddrName(s.client_addr);
  return j;
}

Json toJson(const svc::LocalAddress& l) {
  Json j{{"addr", l.addr.str()}};
  if (!l.ifname.empty()) j["ifname"] = l.ifname;
  return j;
}

Json toJson(const LaddrInfo& x) {
  Json j = toJson(x.laddr);
  j["conns"] = x.conns;
  return j;
}

Json toJson(const svc::DestConfig& d) {
  Json j{{"addr", d.ep.addr.str()},       {"port", d.ep.port},
         {"fwd", fwdJsonName(d.fwd)},      {"weight", d.weight},
         {"u_threshold", d.u_threshold},  {"l_threshold", d.l_threshold}};
  if (d.tun_type != SL_TUN_IPIP) j["tun_type"] = svc::tunTypeName(d.tun_type);
  if (d.tun_port != 0) j["tun_port"] = d.tun_port;
  if (d.tun_flags != 0) {
    Json flags = Json::array();
    if (d.tun_flags & SL_TUN_F_CSUM) flags.push_back("csum");
    if (d.tun_flags & SL_TUN_F_REMCSUM) flags.push_back("remcsum");
    j["tun_flags"] = std::move(flags);
  }
  return j;
}

Json toJson(const svc::Timeouts& t) {
  return Json{{"tcp", t.tcp}, {"tcp_fin", t.tcp_fin}, {"udp", t.udp}};
}

Json toJson(const sl_stats& s) {
  return Json{{"conns", s.conns},
              {"inpkts", s.inpkts},
              {"outpkts", s.outpkts},
              {"inbytes", s.inbytes},
              {"outbytes", s.outbytes}};
}

Json toJson(const Rate& r) {
  return Json{{"cps", r.cps}, {"inpps", r.inpps}, {"outpps", r.outpps},
              {"inbps", r.inbps}, {"outbps", r.outbps}};
}

Json toJson(const DestInfo& d) {
  return Json{{"dest", toJson(d.cfg)},         {"active", d.active},
              {"inactive", d.inactive},        {"persist", d.persist},
              {"stats", toJson(d.stats)},      {"rate", toJson(d.rate)}};
}

Json toJson(const ServiceInfo& s) {
  Json dests = Json::array();
  for (const auto& d : s.dests) dests.push_back(toJson(d));
  Json laddrs = Json::array();
  for (const auto& l : s.laddrs) laddrs.push_back(toJson(l));
  return Json{{"service", toJson(s.cfg)},
              {"stats", toJson(s.stats)},
              {"rate", toJson(s.rate)},
              {"dests", std::move(dests)},
              {"laddrs", std::move(laddrs)}};
}

Json toJson(const ConnInfo& c) {
  return Json{{"proto", c.proto},         {"state", c.state},
              {"expire_s", c.expire_s},   {"client", toJson(c.client)},
              {"vip", toJson(c.vip)},     {"dest", toJson(c.dest)},
              {"fwd", fwdJsonName(c.fwd)}, {"template", c.is_template}};
}

Json toJson(const CounterInfo& c) {
  return Json{{"name", c.name}, {"drop", c.drop}, {"slow", c.slow}, {"fast", c.fast}};
}

Json toJson(const CheckerInfo& c) {
  return Json{{"kind", c.kind},     {"target", toJson(c.target)},
              {"up", c.up},         {"reason", c.reason},
              {"checks", c.checks}, {"failures", c.failures},
              {"last_transition_unix_ns", c.last_transition_unix_ns}};
}

Json toJson(const HealthInfo& h) {
  Json checkers = Json::array();
  for (const auto& c : h.checkers) checkers.push_back(toJson(c));
  return Json{{"service", toJson(h.svc)},
              {"vs", h.vs},
              {"rs", toJson(h.rs)},
              {"up", h.up},
              {"sorry", h.sorry},
              {"in_table", h.in_table},
              {"weight", h.weight},
              {"quorum", h.quorum},
              {"reason", h.reason},
              {"last_transition_unix_ns", h.last_transition_unix_ns},
              {"checkers", std::move(checkers)}};
}

Json toJson(const SyncDaemonArgs& a) {
  Json j{{"role", syncRoleName(a.role)}};
  if (a.mcast_interface) j["mcast_interface"] = *a.mcast_interface;
  if (a.syncid) j["syncid"] = *a.syncid;
  if (a.mcast_group) j["mcast_group"] = a.mcast_group->str();
  if (a.mcast_port) j["mcast_port"] = *a.mcast_port;
  if (a.mcast_ttl) j["mcast_ttl"] = *a.mcast_ttl;
  if (a.sync_maxlen) j["sync_maxlen"] = *a.sync_maxlen;
  return j;
}

Json toJson(const SyncDaemonInfo& x) {
  Json counters = Json::object();
  for (const auto& [name, value] : x.counters) counters[name] = value;
  return Json{{"roles", Json::array({syncRoleName(SyncRole::kMaster), syncRoleName(SyncRole::kBackup)})},
              {"interface", x.interface},
              {"addr", x.addr.str()},
              {"syncid", x.syncid},
              {"port", x.port},
              {"maxlen", x.maxlen},
              {"ready", x.ready},
              {"peers", x.peers},
              {"peers_alive", x.peers_alive},
              {"counters", std::move(counters)}};
}

template <>
Result<net::Endpoint> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readEndpoint(j, p); });
}
template <>
Result<svc::ServiceKey> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readServiceKey(j, p); });
}
template <>
Result<svc::ServiceConfig> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readServiceConfig(j, p); });
}
template <>
Result<svc::DestConfig> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readDestConfig(j, p); });
}
template <>
Result<svc::Timeouts> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readTimeouts(j, p); });
}
template <>
Result<sl_stats> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readStats(j, p); });
}
template <>
Result<Rate> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readRate(j, p); });
}
template <>
Result<DestInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readDestInfo(j, p); });
}
template <>
Result<svc::LocalAddress> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readLocalAddress(j, p); });
}
template <>
Result<LaddrInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readLaddrInfo(j, p); });
}
template <>
Result<ServiceInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readServiceInfo(j, p); });
}
template <>
Result<ConnInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readConnInfo(j, p); });
}

template <>
Result<CounterInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readCounterInfo(j, p); });
}

template <>
Result<CheckerInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readCheckerInfo(j, p); });
}

template <>
Result<HealthInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readHealthInfo(j, p); });
}

template <>
Result<SyncDaemonArgs> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readSyncDaemonArgs(j, p); });
}

template <>
Result<SyncDaemonInfo> fromJson(const Json& j, std::string_view what) {
  return guarded(what, [&](const std::string& p) { return readSyncDaemonInfo(j, p); });
}

}  // namespace sluice::ctl
