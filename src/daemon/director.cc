#include "daemon/director.h"

#include "daemon/config_driver.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "common/log.h"
#include "dp/fastpath_config.h"

namespace sluice::daemon {

namespace {

const log::Logger kNatLog("nat");
const log::Logger kFullNatLog("fullnat");

// A forwarding sysctl of this namespace (1/0), or -1 when it cannot be read.
int readSysctl(const char* path) {
  std::ifstream f(path);
  int v = -1;
  if (!(f >> v)) return -1;
  return v;
}

// IPVS's NAT needs the director to route (the HOWTO's "echo 1 > ip_forward"): the real
// servers' own traffic goes through it, and so does a reply the fast path hands to the
// kernel's route lookup (bpf_fib_lookup answers "forwarding disabled" otherwise, and every
// reply then takes the slow path). FULLNAT's replies are routed the same way. Said once
// per family when NAT or FULLNAT real servers appear.
void checkNatForwarding(bool v4, bool v6) {
  if (v4 && readSysctl("/proc/sys/net/ipv4/ip_forward") == 0)
    kNatLog.warn("NAT or FULLNAT real servers: net.ipv4.ip_forward is 0 in this namespace; their own "
                 "traffic is not routed and the fast path cannot route their replies (every "
                 "reply takes the slow path). Set it to 1, as for IPVS's NAT");
  if (v6 && readSysctl("/proc/sys/net/ipv6/conf/all/forwarding") == 0)
    kNatLog.warn("NAT or FULLNAT real servers: net.ipv6.conf.all.forwarding is 0 in this namespace; "
                  "their own traffic is not routed and the fast path cannot route their "
                  "replies. Set it to 1, as for IPVS's NAT");
}

net::Endpoint endpointOf(const uint8_t* addr, uint16_t port_be, uint8_t family) {
  net::Endpoint e;
  e.addr = family == SL_AF_V6 ? net::IpAddr::fromV6Bytes(addr) : net::IpAddr::fromV4Bytes(addr);
  e.port = ntohs(port_be);
  return e;
}

DirectorLimits effectiveLimits(DirectorLimits l, const SharedTables* shared) {
  if (shared) {
    l.conn_capacity = shared->conns.size();
    l.max_dests =
        uint32_t(std::min({size_t(l.max_dests), shared->dests.size(), shared->counts.size()}));
  }
  return l;
}

}  // namespace

Director::Director(const Clock& clock, DirectorLimits limits, NextHopSource& next_hops,
                   ServiceListener* listener, const SharedTables* shared)
    : clock_(clock),
      limits_(effectiveLimits(limits, shared)),
      listener_(listener),
      plane_(clock,
             PlaneLimits{limits_.max_services, limits_.max_dests, limits_.conn_capacity,
                         limits_.conn_seed, std::max(1u, limits_.workers), 1,
                         limits_.fnat_ports},
             shared ? PlaneStorage{shared->conns, shared->dests, shared->counts, shared->conn_ext} : PlaneStorage{}),
      fast_stats_(shared ? shared->fast_stats : std::span<sl_stats>()),
      fast_stat_slots_(shared && shared->fast_stat_slots ? shared->fast_stat_slots : 1),
      fast_stats_seen_(limits_.max_dests),
      fast_config_(shared ? shared->fast_config : nullptr),
      dest_writer_(clock, next_hops, dest_table_, limits_.max_dests) {
  // Shared stats may carry a previous daemon's packets (pinned maps): the stats this
  // daemon reports start at zero, so only what the fast path counts from now on is folded.
  for (uint32_t id = 0; id < limits_.max_dests; ++id) fast_stats_seen_[id] = fastStatsOf(id);
  // A local address's ports are one pool whichever service uses it (laddr/pool.h).
  laddr_conns_ = [this](uint32_t, const net::IpAddr& a) { return plane_.localPorts().inUse(a); };
  if (fast_config_)
    dp::fillFastPathConfig(
        *fast_config_, conns_.seed(), uint32_t(conns_.capacity() / conn::ConnTable::kBucketSlots),
        limits_.max_dests,
        uint32_t(std::min<size_t>(fast_stat_slots_, fast_stats_.size() / limits_.max_dests)),
        timeouts_);
  for (unsigned i = 0; i < plane_.workers(); ++i) {
    dp::Datapath& dp = plane_.datapath(i);
    dp.setTimeouts(timeouts_);
    // Called on any worker: just flags (atomics), the control side does the netlink work.
    dp.onUnresolved([this](uint32_t dest_id) { dest_writer_.want(dest_id); });
  }
  observers_.push_back({"thresholds", [this](const svc::Snapshot& snap) {
                          for (const auto& svc : snap.services())
                            for (const auto& d : svc->dest_rt)
                              accounting_.setLimits(d.dest_id, conn::DestLimits{d.cfg.u_threshold,
                                                                                d.cfg.l_threshold});
                          return Status{};
                        }});
  observers_.push_back({"local addresses", [this](const svc::Snapshot& snap) {
                          if (!is_local_) return Status{};
                          for (const auto& svc : snap.services())
                            for (const auto& l : svc->laddrs) {
                              if (std::find(laddrs_checked_.begin(), laddrs_checked_.end(),
                                            l.addr) != laddrs_checked_.end())
                                continue;
                              laddrs_checked_.push_back(l.addr);
                              if (!is_local_(l.addr))
                                kFullNatLog.warn(
                                    "local address {} of {} is not an address of this host: the "
                                    "real servers' replies to it will not reach the director "
                                    "(add it to the interface toward them)",
                                    l.addr.str(),
                                    net::Endpoint{svc->cfg.key.addr, svc->cfg.key.port}.str());
                            }
                          return Status{};
                        }});
  observers_.push_back({"forwarding records", [this](const svc::Snapshot& snap) {
                          dest_writer_.refresh(snap);
                          return Status{};
                        }});
  // The XDP program looks replies up only while a NAT real server exists (deleted ones
  // too: their connections still get replies); DR-only directors pay nothing. The slow
  // path asks the table itself (ConnTable::replyTwins).
  observers_.push_back({"nat replies", [this](const svc::Snapshot& snap) {
                          bool nat = false, v4 = false, v6 = false;
                          for (const auto& svc : snap.services())
                            for (const auto& d : svc->dest_rt)
                              if (d.cfg.fwd == svc::FwdMethod::kNat ||
                                  d.cfg.fwd == svc::FwdMethod::kFullNat) {
                                // Both methods' replies are routed on by the kernel.
                                nat = true;
                                (d.cfg.ep.addr.family == net::Family::kV6 ? v6 : v4) = true;
                              }
                          for (const auto& d : snap.trash())
                            nat |= d.cfg.fwd == svc::FwdMethod::kNat ||
                                   d.cfg.fwd == svc::FwdMethod::kFullNat;
                          // Checked when a family's first NAT real server appears.
                          checkNatForwarding(v4 && !nat_v4_seen_, v6 && !nat_v6_seen_);
                          nat_v4_seen_ = v4;
                          nat_v6_seen_ = v6;
                          if (fast_config_)
                            std::atomic_ref<uint32_t>(fast_config_->nat_replies)
                                .store(nat, std::memory_order_relaxed);
                          return Status{};
                        }});
  if (listener_)
    observers_.push_back({"steering map", [this](const svc::Snapshot& snap) -> Status {
                            Status st = listener_->servicesChanged(snap);
                            if (!st)
                              return makeError("the change is in the configuration, but {}",
                                               st.error().message);
                            return st;
                          }});
  observers_.push_back({"state file", [this](const svc::Snapshot&) { return saveConfig(); }});
  observers_.push_back({"cluster", [this](const svc::Snapshot& snap) {
                          std::lock_guard lock(watcher_mu_);
                          if (watcher_) watcher_(snap);
                          return Status{};
                        }});
}

Director::~Director() = default;

// ---------------------------------------------------------------- mutations

// The observers are registered once, in the constructor (thresholds, forwarding records,
// steering map, state file); a later source of changes (reload, health verdicts, sync) goes
// through apply() and gets the same effects.
Status Director::changed(Status s) {
  if (!s) return s;
  auto snap = services_.snapshot();
  Status first;
  for (const auto& o : observers_) {
    Status st = o.fn(*snap);
    if (!st && first) first = st;
  }
  return first;
}

// ---------------------------------------------------------------- cluster mode

void Director::setAdoptMidflow(bool on) {
  for (unsigned i = 0; i < plane_.workers(); ++i) plane_.datapath(i).setAdoptMidflow(on);
  if (fast_config_)
    std::atomic_ref<uint32_t>(fast_config_->adopt_midflow).store(on, std::memory_order_relaxed);
}

Status Director::setPeerMacs(std::vector<net::MacAddr> macs) {
  std::sort(macs.begin(), macs.end());
  macs.erase(std::unique(macs.begin(), macs.end()), macs.end());
  if (macs.size() > SL_MAX_PEER_MACS)
    return makeError("{} peer director MACs; at most {} are supported (nothing changed)",
                     macs.size(), SL_MAX_PEER_MACS);
  std::lock_guard lock(mutate_mu_);  // the workers and the fast path get the same set
  for (unsigned i = 0; i < plane_.workers(); ++i) plane_.datapath(i).setPeerMacs(macs);
  if (!listener_) return {};
  if (Status st = listener_->peerMacsChanged(macs); !st)
    return makeError("the slow path knows the {} peer director MACs, but the fast path does "
                     "not, so it balances their frames again: {}",
                     macs.size(), st.error().message);
  return {};
}

void Director::setConnEventSink(dp::ConnEventSink* sink) {
  for (unsigned i = 0; i < plane_.workers(); ++i) plane_.datapath(i).setConnEventSink(sink);
}

// ---------------------------------------------------------------- restart support

Status Director::restore(const svc::TableState& table, const svc::Timeouts& t) {
  std::lock_guard lock(mutate_mu_);
  if (services_.serviceCount() != 0 || services_.trashCount() != 0)
    return makeError("cannot restore a saved configuration over a configured director");
  if (Status st = services_.restore(table.services, table.trash); !st) return st;
  {
    std::lock_guard lock(timeouts_mu_);
    timeouts_.applySet(t.tcp, t.tcp_fin, t.udp);
    timeouts_version_.fetch_add(1, std::memory_order_release);
    if (fast_config_) dp::setFastPathTimeouts(*fast_config_, timeouts_);
  }
  return changed(Status{});
}

void Director::setServicesWatcher(ServicesWatcher w) {
  std::lock_guard mlock(mutate_mu_);
  auto snap = services_.snapshot();
  std::lock_guard lock(watcher_mu_);
  watcher_ = std::move(w);
  if (watcher_) watcher_(*snap);
}

void Director::setConfigSink(ConfigSink sink) {
  std::lock_guard lock(sink_mu_);
  sink_ = std::move(sink);
}

Status Director::saveConfig() {
  // The state is read under the same lock the write happens under, so two changes racing
  // from two threads can only ever leave the newer state on disk.
  std::lock_guard lock(sink_mu_);
  if (!sink_) return {};
  return sink_(services_.exportState(), timeouts());
}

Status Director::apply(const svc::Op& op) {
  std::lock_guard lock(mutate_mu_);
  return changed(svc::apply(services_, op));
}

std::vector<Status> Director::applyAll(const std::vector<svc::Op>& ops) {
  std::lock_guard lock(mutate_mu_);
  std::vector<Status> out;
  out.reserve(ops.size());
  bool any = false;
  {
    svc::ServiceTable::Batch batch(services_);
    for (const auto& op : ops) {
      out.push_back(svc::apply(services_, op));
      any = any || out.back().ok();
    }
  }
  if (!any) return out;
  // A side effect that fails (the steering map refused) fails the whole batch's report.
  if (Status st = changed(Status{}); !st)
    for (auto& s : out)
      if (s) s = st;
  return out;
}

Status Director::addService(const svc::ServiceConfig& s) { return apply(svc::AddService{s}); }
Status Director::editService(const svc::ServiceConfig& s) { return apply(svc::EditService{s}); }
Status Director::delService(const svc::ServiceKey& k) { return apply(svc::DelService{k}); }
Status Director::clear() { return apply(svc::ClearServices{}); }
Status Director::addDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  return apply(svc::AddDest{k, d});
}
Status Director::editDest(const svc::ServiceKey& k, const svc::DestConfig& d) {
  return apply(svc::EditDest{k, d});
}
Status Director::delDest(const svc::ServiceKey& k, const net::Endpoint& rs) {
  return apply(svc::DelDest{k, rs});
}

Status Director::addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  return apply(svc::AddLaddr{k, l});
}
Status Director::delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) {
  return apply(svc::DelLaddr{k, l});
}

Status Director::zero(const std::optional<svc::ServiceKey>& k) {
  if (!k) {
    stats_.zeroAll();
    return {};
  }
  auto st = services_.get(*k);
  if (!st) return st.error();
  std::vector<uint32_t> ids;
  for (const auto& d : st->dests) ids.push_back(d.dest_id);
  stats_.zeroService(st->svc_id, ids);
  return {};
}

Status Director::setTimeouts(const svc::Timeouts& t) {
  {
    std::lock_guard lock(timeouts_mu_);
    timeouts_.applySet(t.tcp, t.tcp_fin, t.udp);
    timeouts_version_.fetch_add(1, std::memory_order_release);
    if (fast_config_) dp::setFastPathTimeouts(*fast_config_, timeouts_);
  }
  return saveConfig();
}

void Director::syncTimeouts(uint64_t& seen, dp::Datapath& dp) {
  if (timeouts_version_.load(std::memory_order_acquire) == seen) return;
  std::lock_guard lock(timeouts_mu_);
  seen = timeouts_version_.load(std::memory_order_relaxed);
  dp.setTimeouts(timeouts_);
}

svc::Timeouts Director::timeouts() const {
  std::lock_guard lock(timeouts_mu_);
  return svc::Timeouts{timeouts_.tcp(), timeouts_.tcpFin(), timeouts_.udp()};
}

// ---------------------------------------------------------------- listings

ctl::ServiceInfo Director::infoOf(const svc::ServiceState& s) const {
  ctl::ServiceInfo info;
  info.cfg = s.cfg;
  info.stats = stats_.service(s.svc_id);
  auto r = stats_.serviceRate(s.svc_id);
  info.rate = ctl::Rate{r.cps, r.inpps, r.outpps, r.inbps, r.outbps};
  for (const auto& d : s.dests) {
    ctl::DestInfo di;
    di.cfg = d.cfg;
    // As IPVS lists a real server at one of the host's own addresses (LOCALNODE): "Local",
    // whatever method it was given; the configuration keeps that method (-S saves it).
    if (auto rec = dest_table_.read(d.dest_id); rec && (rec->flags & SL_DEST_F_LOCAL))
      di.cfg.fwd = svc::FwdMethod::kLocal;
    sl_dest_counts c = accounting_.read(d.dest_id);
    di.active = c.active;
    di.inactive = c.inactive;
    di.persist = c.persist;
    di.stats = stats_.dest(d.dest_id);
    auto dr = stats_.destRate(d.dest_id);
    di.rate = ctl::Rate{dr.cps, dr.inpps, dr.outpps, dr.inbps, dr.outbps};
    info.dests.push_back(std::move(di));
  }
  for (const svc::LocalAddress& l : s.laddrs)
    info.laddrs.push_back(ctl::LaddrInfo{l, laddrConns(s.svc_id, l.addr)});
  return info;
}

Result<std::vector<ctl::ServiceInfo>> Director::listServices(
    const std::optional<svc::ServiceKey>& k) const {
  foldFastPathStats();
  std::vector<ctl::ServiceInfo> out;
  if (k) {
    auto st = services_.get(*k);
    if (!st) return st.error();
    out.push_back(infoOf(*st));
    return out;
  }
  for (const auto& s : services_.list()) out.push_back(infoOf(s));
  return out;
}

std::vector<ctl::ConnInfo> Director::listConns() const {
  auto snap = services_.snapshot();
  std::vector<ctl::ConnInfo> out;
  Nanos now = clock_.now();
  conns_.forEach(now, [&](const sl_conn& c) {
    if (conn::ConnTable::isReplyTwin(c)) return;  // a NAT connection's other half, not one
    ctl::ConnInfo ci;
    ci.proto = c.key.proto;
    ci.is_template = c.flags & SL_CONN_F_TEMPLATE;
    // A template shows IPVS's template states (ip_vs_ctpl_state_name_table), not TCP's.
    ci.state = ci.is_template ? ((c.flags & SL_CONN_F_ASSURED) ? "ASSURED" : "NONE")
                              : std::string(conn::stateName(c.state));
    // Whole seconds left, rounded down: ip_vs_conn_seq_show prints (expires - jiffies) / HZ.
    ci.expire_s = uint32_t(conn::ConnTable::remaining(c, now) / kSecond);
    ci.client = endpointOf(c.key.caddr, c.key.cport, c.key.family);
    ci.vip = endpointOf(c.key.vaddr, c.key.vport, c.key.family);
    ci.fwd = svc::FwdMethod(c.fwd);
    if (const svc::DestRt* d = snap->findDest(c.dest_id)) ci.dest = d->cfg.ep;
    out.push_back(std::move(ci));
  });
  return out;
}

dp::Counters Director::slowPathCounters() const {
  dp::Counters sum;
  for (unsigned i = 0; i < plane_.workers(); ++i) sum += plane_.datapath(i).counters().snapshot();
  return sum;
}

std::vector<ctl::CounterInfo> Director::counters() const {
  dp::Counters slow = slowPathCounters();
  dp::Counters fast;
  if (fast_counters_)
    if (auto f = fast_counters_()) fast = *f;
  std::vector<ctl::CounterInfo> out;
  out.reserve(dp::kNumCounters);
  for (size_t i = 0; i < dp::kNumCounters; ++i)
    out.push_back({std::string(dp::kCounterNames[i]), dp::kCounterIsDrop[i], slow.v[i], fast.v[i]});
  return out;
}

sl_stats Director::fastStatsOf(uint32_t dest_id) const {
  sl_stats sum{};
  if (size_t(dest_id + 1) * fast_stat_slots_ > fast_stats_.size()) return sum;
  for (uint32_t cpu = 0; cpu < fast_stat_slots_; ++cpu) {
    sl_stats& live = fast_stats_[size_t(dest_id) * fast_stat_slots_ + cpu];
    sum.inpkts += std::atomic_ref<uint64_t>(live.inpkts).load(std::memory_order_relaxed);
    sum.inbytes += std::atomic_ref<uint64_t>(live.inbytes).load(std::memory_order_relaxed);
  }
  return sum;
}

void Director::foldFastPathStats() const {
  if (fast_stats_.empty()) return;
  std::lock_guard lock(fold_mu_);
  auto snap = services_.snapshot();
  svc::Stats::Writer w = stats_.writer(stats_.writers() - 1);
  auto fold = [&](const svc::DestRt& d) {
    if (d.dest_id >= fast_stats_seen_.size()) return;
    sl_stats& seen = fast_stats_seen_[d.dest_id];
    sl_stats now = fastStatsOf(d.dest_id);
    sl_stats delta{};
    delta.inpkts = now.inpkts - seen.inpkts;
    delta.inbytes = now.inbytes - seen.inbytes;
    if (delta.inpkts || delta.inbytes) w.add(d.svc_id, d.dest_id, delta);
    seen = now;
  };
  for (const auto& svc : snap->services())
    for (const auto& d : svc->dest_rt) fold(d);
  for (const auto& d : snap->trash()) fold(d);
}

sl_stats Director::totals() const {
  foldFastPathStats();
  return stats_.total();
}

Result<std::string> Director::reload() {
  if (!config_driver_) return ctl::Backend::reload();
  return config_driver_->reload();
}

Result<std::optional<ctl::SyncDaemonInfo>> Director::syncDaemons() const {
  if (!sync_daemons_) return std::optional<ctl::SyncDaemonInfo>();
  return std::optional<ctl::SyncDaemonInfo>(sync_daemons_());
}

Result<std::vector<ctl::HealthInfo>> Director::health() const {
  if (!config_driver_) return ctl::Backend::health();
  return config_driver_->health();
}

void Director::reportFullNatRefusals() {
  // One line at most every 10 s per cause, naming how many were refused meanwhile: a flood of
  // SYNs into exhausted pools must not flood the log too.
  struct Cause {
    dp::Counter counter;
    const char* what;
  };
  static constexpr Cause kCauses[2] = {
      {dp::Counter::kFnatPortsExhausted,
       "FULLNAT local ports exhausted: {} new connections refused (sluiceadm -G shows the "
       "ports in use; add local addresses with -P or widen --fnat-ports)"},
      {dp::Counter::kFnatNoLaddr,
       "FULLNAT service without a local address: {} new connections refused (add one with "
       "sluiceadm -P -t|-u VIP:PORT -z ADDR, or laddr_group_name in keepalived.conf)"}};
  const Nanos now = clock_.now();
  for (size_t i = 0; i < 2; ++i) {
    uint64_t n = 0;
    for (unsigned w = 0; w < plane_.workers(); ++w) n += plane_.datapath(w).counters()[kCauses[i].counter];
    if (n == fnat_refused_logged_[i]) continue;
    if (fnat_refused_at_[i] != 0 && now - fnat_refused_at_[i] < 10 * kSecond) continue;
    kFullNatLog.warn(fmt::runtime(kCauses[i].what), n - fnat_refused_logged_[i]);
    fnat_refused_logged_[i] = n;
    fnat_refused_at_[i] = now;
  }
}

void Director::housekeeping() {
  reportFullNatRefusals();
  foldFastPathStats();
  stats_.estimate();
  {
    std::lock_guard lock(mutate_mu_);
    if (services_.purgeTrash() > 0) (void)changed(Status{});
  }
  dest_writer_.maybeRefresh(*services_.snapshot());
}

}  // namespace sluice::daemon
