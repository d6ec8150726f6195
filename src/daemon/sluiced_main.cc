// sluiced: wires the Director to the kernel (XDP steering, AF_XDP, rtnetlink) and to the
// control socket, then waits for SIGTERM/SIGINT. Signals are blocked in every thread and
// taken synchronously here, so shutdown runs in one place and in order: stop the workers,
// close the control socket, then close the sockets and detach XDP (destructors).
//
// Every rx queue of every data-plane interface gets an AF_XDP socket, split between the
// workers as daemon/worker_plan.h says; each worker has its own sockets, UMEM and Datapath.
//
// With --state-dir the tables and links are pinned (daemon/pinned_state.h): a start that
// finds them restores the saved configuration before it swaps its program in, so the
// kernel forwards established connections throughout, and shutdown leaves XDP attached.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "config/load.h"
#include "ctl/server.h"
#include "cluster/vip_device.h"
#include "config/cluster.h"
#include "daemon/cluster_role.h"
#include "daemon/config_driver.h"
#include "daemon/director.h"
#include "daemon/kernel_glue.h"
#include "daemon/options.h"
#include "daemon/pinned_state.h"
#include "daemon/state_file.h"
#include "daemon/worker.h"
#include "daemon/worker_plan.h"
#include "io/afxdp.h"
#include "io/neighbour_table.h"
#include "io/netlink.h"
#include "io/queues.h"
#include "io/xdp_loader.h"
#include "metrics/exposition.h"
#include "metrics/http_server.h"

using namespace sluice;

namespace {
const log::Logger kLog("sluiced");

int fail(const std::string& msg) {
  kLog.error("{}", msg);
  return 1;
}

// sluiced --check -f FILE: every problem on stderr as FILE:LINE: message; 0 when the file
// is clean (warnings allowed), 1 otherwise, as keepalived -t.
int checkMain(const daemon::Options& o) {
  int rc = 0;
  auto report = [&rc](const std::string& file, const config::Config& cfg) {
    for (const auto& d : cfg.diags) std::fprintf(stderr, "%s\n", config::formatDiag(d).c_str());
    if (cfg.ok()) return true;
    size_t errors = 0;
    for (const auto& d : cfg.diags) errors += d.error ? 1 : 0;
    std::fprintf(stderr, "%s: %zu error(s)\n", file.c_str(), errors);
    rc = 1;
    return false;
  };
  if (!o.cluster_file.empty()) {
    config::Config cc = config::loadClusterFile(o.cluster_file);
    if (report(o.cluster_file, cc))
      std::printf("%s: OK, sluice_cluster of %zu director(s)\n", o.cluster_file.c_str(),
                  cc.cluster.directors.size());
  }
  if (o.config_file.empty()) return rc;
  config::Config cfg = config::load(o.config_file, o.config_format);
  for (const auto& sk : cfg.skipped) std::fprintf(stderr, "skipped (not Sluice's): %s\n", sk.c_str());
  if (!report(o.config_file, cfg)) return 1;
  size_t services = 0, servers = 0;
  for (const auto& vs : cfg.virtual_servers) {
    services += vs.services.size();
    servers += vs.real_servers.size();
  }
  std::printf("%s: OK, %s format, %zu virtual server block(s), %zu service(s), %zu real server(s)%s\n",
              o.config_file.c_str(), cfg.format == config::Format::kLdirectord ? "ldirectord" : "keepalived",
              cfg.virtual_servers.size(), services, servers,
              cfg.cluster.present ? fmt::format(", sluice_cluster of {} director(s)",
                                                cfg.cluster.directors.size()).c_str() : "");
  return rc;
}

// The sluice_cluster block in force: --cluster FILE, else -f's own; nullopt without one.
Result<std::optional<config::ClusterConfig>> clusterConfigOf(const daemon::Options& o) {
  config::Config cfg;
  std::string file;
  if (!o.cluster_file.empty()) {
    file = o.cluster_file;
    cfg = config::loadClusterFile(file);
  } else if (!o.config_file.empty()) {
    file = o.config_file;
    cfg = config::load(file, o.config_format);
  } else {
    return std::optional<config::ClusterConfig>{};
  }
  if (!cfg.ok()) {
    std::string lines;
    for (const auto& d : cfg.diags)
      if (d.error) lines += "\n" + config::formatDiag(d);
    return makeError("{} refused:{}", file, lines);
  }
  if (!cfg.cluster.present) {
    if (!o.cluster_file.empty() && !o.config_file.empty()) {
      // both given: -f's block, if any, is overridden (said in the log by the caller)
    }
    return std::optional<config::ClusterConfig>{};
  }
  return std::optional<config::ClusterConfig>{cfg.cluster};
}

int releaseMain(const daemon::Options& o) {
  auto paths = daemon::resolveStatePaths(o.state_dir, o.pin_dir, false);
  if (!paths) return fail(paths.error().message);
  auto removed = daemon::releaseState(*paths);
  if (!removed) return fail(fmt::format("releasing {}: {}", paths->state_dir, removed.error().message));
  for (const auto& r : *removed) kLog.info("removed {}", r);
  if (removed->empty())
    kLog.info("nothing to release: no pins in {} and no {}", paths->pin_dir, paths->state_file);
  return 0;
}

// The saved configuration that goes with the pinned tables just reused, or why there is
// none that can be trusted.
Result<daemon::SavedState> savedStateFor(const daemon::StatePaths& paths,
                                         const io::SteerProgram& steer) {
  auto r = daemon::readStateFile(paths.state_file);
  std::string why;
  if (!r)
    why = r.error().message;
  else if (!*r)
    why = fmt::format("{} does not exist", paths.state_file);
  else if ((*r)->conn_seed != steer.config()->conn_seed || (*r)->conn_capacity != steer.conns().size())
    why = fmt::format("{} belongs to another connection table than the one pinned there",
                      paths.state_file);
  if (why.empty()) return std::move(**r);
  return makeError(
      "the connection table pinned in {} holds connections whose service and real-server ids "
      "only its state file knows, but {}. Start sluiced with that state file, or drop the pinned "
      "state (established connections break): sluiced --state-dir {} --release",
      paths.pin_dir, why, paths.state_dir);
}
}  // namespace

int main(int argc, char** argv) {
  auto opts = daemon::parseOptions(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "sluiced: %s\n", opts.error().message.c_str());
    return 2;
  }
  if (opts->help) {
    std::fputs(daemon::usageText(), stdout);
    return 0;
  }
  if (opts->verbose) log::setLevel(log::Level::kDebug);
  if (opts->release) return releaseMain(*opts);
  if (opts->check) return checkMain(*opts);

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<io::LinkInfo> links;
  for (const auto& name : opts->interfaces) {
    auto l = io::linkByName(name);
    if (!l) return fail(fmt::format("interface {}: {}", name, l.error().message));
    links.push_back(*l);
  }
  // Queues first: an interface the XDP program cannot serve whole is refused before
  // anything is attached.
  std::vector<daemon::InterfaceQueues> queues;
  for (const auto& l : links) {
    auto n = io::rxQueueCount(l.name);
    if (!n) return fail(fmt::format("interface {}: {}", l.name, n.error().message));
    queues.push_back({l.name, l.ifindex, *n, io::irqCpus(l.name)});
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  auto plan = daemon::planWorkers(queues, opts->workers, online > 0 ? unsigned(online) : 1);
  if (!plan) return fail(plan.error().message);

  std::optional<daemon::StatePaths> paths;
  if (!opts->state_dir.empty()) {
    auto p = daemon::resolveStatePaths(opts->state_dir, opts->pin_dir, true);
    if (!p) return fail(p.error().message);
    paths = *p;
  }

  auto cluster_cfg = clusterConfigOf(*opts);
  if (!cluster_cfg) return fail(cluster_cfg.error().message);
  std::optional<config::ClusterDirector> cluster_self;
  std::unique_ptr<cluster::VipDevice> vip_device;
  if (*cluster_cfg) {
    auto local = daemon::localAddresses();
    if (!local) return fail(local.error().message);
    auto self = config::selfOf(**cluster_cfg, *local);
    if (!self) return fail(fmt::format("sluice_cluster: {}", self.error().message));
    cluster_self = *self;
    // First of all descriptors: see ClusterRole::start.
    auto dev = cluster::VipDevice::create((*cluster_cfg)->vip_interface);
    if (!dev) return fail(fmt::format("VIP device {}: {}", (*cluster_cfg)->vip_interface, dev.error().message));
    vip_device = std::move(*dev);
  }

  daemon::DirectorLimits limits;
  limits.conn_capacity = opts->conn_table_size;
  limits.conn_seed = std::random_device{}() | (uint64_t(std::random_device{}()) << 32);
  limits.workers = unsigned(plan->ports.size());
  limits.fnat_ports = laddr::PortRange{opts->fnat_port_lo, opts->fnat_port_hi};
  if (cluster_self) {
    // Each director its own part of the FULLNAT ports, by node id: no two directors ever
    // hand out the same <LIP, lport>, so their connections never collide when synced.
    uint32_t top = 0;
    for (const auto& d : (*cluster_cfg)->directors) top = std::max(top, d.node_id);
    const laddr::PortRange all = limits.fnat_ports;
    limits.fnat_ports = all.slice(cluster_self->node_id - 1, std::max(1u, top));
    if (limits.fnat_ports.size() < limits.workers)
      return fail(fmt::format("--fnat-ports {}-{}: too few ports for node {} of {} with {} workers",
                              all.lo, all.hi, cluster_self->node_id, top, limits.workers));
    kLog.info("FULLNAT local ports {}-{} (node {} of {})", limits.fnat_ports.lo,
            limits.fnat_ports.hi, cluster_self->node_id, top);
  }
  io::SteerProgram::Sizes sizes;
  sizes.conn_capacity = uint32_t(limits.conn_capacity);
  sizes.max_dests = limits.max_dests;
  io::SteerProgram::Pinning pinning;
  if (paths) pinning.dir = paths->pin_dir;
  auto steer = io::SteerProgram::load({}, sizes, pinning);
  if (!steer) return fail(fmt::format("loading the XDP steering program: {}", steer.error().message));
  std::optional<daemon::SavedState> saved;
  if ((*steer)->reusedPinnedMaps()) {
    auto s = savedStateFor(*paths, **steer);
    if (!s) return fail(s.error().message);
    saved = std::move(*s);
    limits.conn_seed = saved->conn_seed;  // the entries are where this seed put them
    kLog.info("reusing the tables pinned in {}", paths->pin_dir);
  } else if (paths) {
    if (auto old = daemon::readStateFile(paths->state_file); !old || *old)
      kLog.warn("ignoring {}: the pinned tables it went with are gone (reboot, or --release); "
                "starting with no services",
                paths->state_file);
    kLog.info("pinning the shared tables in {}", paths->pin_dir);
  }

  io::NeighbourTable neigh;
  auto watcher = io::NeighbourWatcher::start(neigh);
  if (!watcher) return fail(fmt::format("watching the neighbour table: {}", watcher.error().message));

  MonotonicClock clock;
  daemon::NetlinkNextHops next_hops(links, neigh, clock);
  daemon::SteerSync steer_sync(**steer);
  // The tables live in the XDP program's maps: established connections are forwarded by
  // the kernel, the rest by the worker below, over the same entries.
  daemon::SharedTables shared{(*steer)->conns(), (*steer)->dests(), (*steer)->destCounts(),
                              (*steer)->destStats(), (*steer)->statSlots(),
                              (*steer)->config(), (*steer)->connExt()};
  if (!opts->fast_path) shared.fast_config = nullptr;
  daemon::Director director(clock, limits, next_hops, &steer_sync, &shared);
  director.setLocalAddressCheck([](const net::IpAddr& a) {
    auto local = daemon::localAddresses();
    return !local || std::find(local->begin(), local->end(), a) != local->end();
  });
  // Also with --no-fast-path: the XDP program still counts what it passes to the kernel.
  director.setFastCounterSource([prog = steer->get()]() -> std::optional<dp::Counters> {
    auto c = prog->counters();
    if (!c) {
      kLog.warn("{}", c.error().message);
      return std::nullopt;
    }
    return *c;
  });
  director.setExpireNodestConn(opts->expire_nodest_conn);
  if (!opts->fast_path) {
    // The program still looks connections up (a segment that cannot open one must reach
    // the kernel, which resets it) but forwards none itself.
    (*steer)->config()->forward = 0;
    kLog.info("fast path disabled: every packet goes through the daemon");
  }
  // The cluster role before the config file's services, so the first announcement already
  // follows them; nothing is announced before session sync says this director is ready.
  std::unique_ptr<daemon::ClusterRole> cluster_role;
  if (cluster_self) {
    director.setDefaultScheduler("mh");
    // A flow the routers moved here (a director died, ECMP rehashed) arrives mid-stream:
    // scheduled by the same hash instead of reset.
    director.setAdoptMidflow(true);
    auto r = daemon::ClusterRole::start(director, **cluster_cfg, *cluster_self,
                                        std::move(vip_device));
    if (!r) return fail(r.error().message);
    cluster_role = std::move(*r);
  }
  // Restored before the program is swapped in, so it starts with the services in its maps.
  if (saved) {
    if (auto st = director.restore(saved->table, saved->timeouts); !st)
      return fail(fmt::format("restoring {}: {} (the pinned state is left as it is)",
                              paths->state_file, st.error().message));
    kLog.info("restored {} service(s) and {} deleted real server(s) still carrying connections",
              saved->table.services.size(), saved->table.trash.size());
  }
  if (paths) {
    daemon::SavedState base;
    base.conn_seed = (*steer)->config()->conn_seed;
    base.conn_capacity = uint32_t((*steer)->conns().size());
    base.pin_dir = paths->pin_dir;
    director.setConfigSink(daemon::stateFileSink(base, paths->state_file));
    if (auto st = director.saveConfig(); !st) return fail(st.error().message);
  }

  for (const auto& l : links)
    if (auto st = daemon::attachSteering(**steer, l, opts->xdp_mode); !st)
      return fail(fmt::format("attaching XDP to {}: {}", l.name, st.error().message));

  // One PacketIo per worker over its share of the queues (worker_plan.h).
  std::vector<std::unique_ptr<io::AfXdpIo>> xsks;
  const std::vector<std::string> shares = plan->describe(queues);
  for (size_t w = 0; w < plan->ports.size(); ++w) {
    io::AfXdpOptions xo;
    xo.ports = plan->ports[w];
    auto xsk = io::AfXdpIo::open(xo, steer->get());
    if (!xsk)
      return fail(fmt::format("opening AF_XDP sockets for worker {} ({}): {}", w, shares[w],
                              xsk.error().message));
    xsks.push_back(std::move(*xsk));
  }
  for (const auto& q : queues)
    kLog.info("{}: {} rx queue(s){}", q.name, q.queues,
              q.irq_cpus.empty() ? ", no interrupts of its own"
                                 : fmt::format(", interrupts on {} core(s)", q.irq_cpus.size()));
  for (size_t w = 0; w < shares.size(); ++w)
    kLog.info("worker {}: {} (not pinned to a core)", w, shares[w]);

  // The config file's services go in before the control socket opens and before traffic.
  std::unique_ptr<daemon::ConfigDriver> config_driver;
  if (!opts->config_file.empty()) {
    config_driver = std::make_unique<daemon::ConfigDriver>(director, opts->config_file,
                                                           opts->config_format);
    config_driver->setClusterDefaults(cluster_self.has_value());
    if (auto st = config_driver->start(); !st)
      return fail(fmt::format("{} refused:\n{}", opts->config_file, st.error().message));
    director.setConfigDriver(config_driver.get());
    kLog.info("configured from {}; SIGHUP or sluiceadm --reload re-reads it", opts->config_file);
  }
  // Session sync once the services are in: the peers' bulk copies start arriving at once,
  // and an entry whose service is not configured yet is dropped (a lab rejoin lost 3325 of
  // them when sync started first).
  if (cluster_role) {
    std::vector<net::MacAddr> macs;
    for (const auto& l : links)
      if (l.mac != net::MacAddr{}) macs.push_back(l.mac);
    if (auto st = cluster_role->startSync(clock, std::move(macs)); !st) return fail(st.error().message);
    // sluiceadm -L --daemon and --start/--stop-daemon answer from it (ctl/sync_daemon.h).
    director.setSyncDaemonSource([role = cluster_role.get()] { return role->syncDaemon(); });
  }

  std::unique_ptr<metrics::HttpServer> metrics_server;
  if (!opts->metrics_addr.empty()) {
    const uint64_t started_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    auto m = metrics::HttpServer::start(opts->metrics_addr, [&director, &config_driver, &cluster_role,
                                                             started_ns] {
      metrics::Inputs in;
      if (auto s = director.listServices(std::nullopt); s) in.services = std::move(*s);
      in.totals = director.totals();
      in.counters = director.counters();
      in.conn_entries = director.connEntries();
      in.conn_capacity = director.connTableSize();
      if (config_driver) in.health = config_driver->metricsHealth();
      in.start_time_unix_ns = started_ns;
      if (cluster_role) {
        daemon::ClusterView v = cluster_role->view();
        metrics::ClusterInputs c;
        c.node_id = v.node_id;
        c.ready = v.ready;
        c.draining = v.draining;
        c.announced = v.announced;
        c.sync = cluster_role->syncStats();
        in.cluster = std::move(c);
      }
      return metrics::render(in);
    });
    if (!m) return fail(fmt::format("--metrics {}: {}", opts->metrics_addr, m.error().message));
    metrics_server = std::move(*m);
    kLog.info("metrics at http://{}/metrics", opts->metrics_addr);
  }

  ctl::CtlServer ctl(opts->socket_path, director);
  if (auto st = ctl.start(); !st)
    return fail(fmt::format("control socket {}: {}", opts->socket_path, st.error().message));
  kLog.info("control socket {}", opts->socket_path);

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<daemon::Worker>> workers;
  std::vector<std::thread> worker_threads;
  for (unsigned w = 0; w < director.workers(); ++w)
    workers.push_back(std::make_unique<daemon::Worker>(director, w, *xsks[w]));
  for (auto& w : workers) worker_threads.emplace_back([&stop, wp = w.get()] { wp->run(stop); });
  std::mutex hk_mu;
  std::condition_variable hk_cv;
  std::thread housekeeping([&] {
    std::unique_lock lock(hk_mu);
    while (!stop.load()) {
      lock.unlock();
      director.housekeeping();
      lock.lock();
      hk_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop.load(); });
    }
  });
  kLog.info("ready: {} interface(s), {} worker(s), connection table of {} entries",
            links.size(), workers.size(), limits.conn_capacity);

  int sig = 0;
  for (;;) {
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    if (!config_driver) {
      kLog.warn("SIGHUP: no config file (-f) to reload");
      continue;
    }
    auto r = config_driver->reload();
    if (!r) kLog.error("SIGHUP: {}", r.error().message);
  }
  kLog.info("{} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (cluster_role) {
    // Withdraw first, then keep forwarding while the routers move the flows to the other
    // directors (a dead-interval or BFD later, nothing arrives here any more). A second
    // SIGTERM or SIGINT cuts the wait short.
    cluster_role->drain();
    kLog.info("draining for {} ms (SIGTERM again to stop at once)", cluster_role->drainMs());
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(cluster_role->drainMs());
    for (;;) {
      auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) break;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{time_t(ns / 1'000'000'000), long(ns % 1'000'000'000)};
      int got = sigtimedwait(&stop_sigs, nullptr, &ts);
      if (got == SIGTERM || got == SIGINT) {
        kLog.info("drain cut short");
        break;
      }
    }
  }
  if (config_driver) config_driver->stop();  // checkers first: no verdicts while stopping
  {
    std::lock_guard lock(hk_mu);
    stop.store(true);
  }
  hk_cv.notify_all();
  for (auto& t : worker_threads) t.join();
  // What each worker's sockets carried: shows whether the queues share the load.
  for (size_t w = 0; w < xsks.size(); ++w) {
    const io::IoStats& st = xsks[w]->stats();
    kLog.info("worker {} ({}): received {} frames, sent {}, dropped {}", w, shares[w], st.rx,
              st.tx, st.dropped + st.passed + st.tx_ring_full + st.tx_bad_iface);
  }
  housekeeping.join();
  if (metrics_server) metrics_server->stop();
  ctl.stop();
  director.setConfigDriver(nullptr);
  config_driver.reset();
  director.setSyncDaemonSource(nullptr);
  cluster_role.reset();  // the VIP device goes with it
  (*watcher)->stop();
  workers.clear();
  xsks.clear();    // sockets out of the XSKMAP before the program goes
  steer->reset();  // detaches XDP from every interface, except through pinned links
  if (paths)
    kLog.info("stopped; XDP stays attached through the links pinned in {} (established "
              "connections keep flowing): start again with --state-dir {}, or remove it with "
              "--release",
              paths->pin_dir, paths->state_dir);
  else
    kLog.info("stopped");
  return 0;
}
