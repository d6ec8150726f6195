// sluiced: wires the Director to the kernel (XDP steering, AF_XDP, rtnetlink) and to the
// control socket, then waits for SIGTERM/SIGINT. Signals are blocked in every thread and
// taken synchronously here, so shutdown runs in one place and in order: stop the worker,
// close the control socket, then close the sockets and detach XDP (destructors).
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "ctl/server.h"
#include "daemon/director.h"
#include "daemon/kernel_glue.h"
#include "daemon/options.h"
#include "io/afxdp.h"
#include "io/neighbour_table.h"
#include "io/netlink.h"
#include "io/xdp_loader.h"

using namespace sluice;

namespace {
const log::Logger kLog("sluiced");

int fail(const std::string& msg) {
  kLog.error("{}", msg);
  return 1;
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

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<io::LinkInfo> links;
  for (const auto& name : opts->interfaces) {
    auto l = io::linkByName(name);
    if (!l) return fail(fmt::format("interface {}: {}", name, l.error().message));
    links.push_back(*l);
  }

  daemon::DirectorLimits limits;
  limits.conn_capacity = opts->conn_table_size;
  limits.conn_seed = std::random_device{}() | (uint64_t(std::random_device{}()) << 32);
  io::SteerProgram::Sizes sizes;
  sizes.conn_capacity = uint32_t(limits.conn_capacity);
  sizes.max_dests = limits.max_dests;
  auto steer = io::SteerProgram::load({}, sizes);
  if (!steer) return fail(fmt::format("loading the XDP steering program: {}", steer.error().message));
  for (const auto& l : links) {
    if (auto st = (*steer)->attach(l.ifindex, opts->xdp_mode); !st)
      return fail(fmt::format("attaching XDP to {}: {}", l.name, st.error().message));
    auto mode = (*steer)->attachedMode(l.ifindex);
    kLog.info("XDP attached to {} (ifindex {}, {} mode)", l.name, l.ifindex,
              mode == io::XdpMode::kNative ? "native" : "generic");
  }

  io::AfXdpOptions xo;
  for (const auto& l : links) xo.ifindexes.push_back(l.ifindex);
  auto xsk = io::AfXdpIo::open(xo, steer->get());
  if (!xsk) return fail(fmt::format("opening AF_XDP sockets: {}", xsk.error().message));

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
                              (*steer)->config()};
  if (!opts->fast_path) shared.fast_config = nullptr;
  daemon::Director director(clock, limits, next_hops, &steer_sync, &shared);
  // Also with --no-fast-path: the XDP program still counts what it passes to the kernel.
  director.setFastCounterSource([prog = steer->get()]() -> std::optional<dp::Counters> {
    auto c = prog->counters();
    if (!c) {
      kLog.warn("{}", c.error().message);
      return std::nullopt;
    }
    return *c;
  });
  if (!opts->fast_path) {
    (*steer)->config()->enabled = 0;
    kLog.info("fast path disabled: every packet goes through the daemon");
  }

  ctl::CtlServer ctl(opts->socket_path, director);
  if (auto st = ctl.start(); !st)
    return fail(fmt::format("control socket {}: {}", opts->socket_path, st.error().message));
  kLog.info("control socket {}", opts->socket_path);

  std::atomic<bool> stop{false};
  std::thread worker([&] { director.runWorker(**xsk, stop); });
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
  kLog.info("ready: {} interface(s), connection table of {} entries", links.size(),
            limits.conn_capacity);

  int sig = 0;
  sigwait(&sigs, &sig);
  kLog.info("{} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  {
    std::lock_guard lock(hk_mu);
    stop.store(true);
  }
  hk_cv.notify_all();
  worker.join();
  housekeeping.join();
  ctl.stop();
  (*watcher)->stop();
  xsk->reset();    // sockets out of the XSKMAP before the program goes
  steer->reset();  // detaches XDP from every interface
  kLog.info("stopped");
  return 0;
}
