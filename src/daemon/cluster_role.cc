#include "daemon/cluster_role.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/log.h"
#include "daemon/director.h"

namespace sluice::daemon {

namespace {
const log::Logger kLog("cluster");
}  // namespace

Result<std::vector<net::IpAddr>> localAddresses() {
  ifaddrs* ifa = nullptr;
  if (getifaddrs(&ifa) != 0)
    return makeError("reading the interfaces' addresses: {}", std::strerror(errno));
  std::vector<net::IpAddr> out;
  for (ifaddrs* i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(net::IpAddr::fromV4Bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      out.push_back(net::IpAddr::fromV6Bytes(sin6->sin6_addr.s6_addr));
    }
  }
  freeifaddrs(ifa);
  return out;
}

Result<std::unique_ptr<ClusterRole>> ClusterRole::start(Director& director,
                                                        const config::ClusterConfig& cfg,
                                                        const config::ClusterDirector& self) {
  auto dev = cluster::VipDevice::create(cfg.vip_interface);
  if (!dev) return makeError("VIP device {}: {}", cfg.vip_interface, dev.error().message);
  std::unique_ptr<ClusterRole> r(new ClusterRole(director, cfg, self, std::move(*dev)));
  // From here on every change to the services re-evaluates which VIPs are available.
  director.setServicesWatcher([role = r.get()](const svc::Snapshot& snap) {
    std::set<net::IpAddr> vips = cluster::availableVips(snap);
    std::lock_guard lock(role->mu_);
    role->announcer_.setAvailable(std::move(vips));
  });
  r->thread_ = std::thread([role = r.get()] { role->loop(); });
  kLog.info("director {} of {} ({}), VIP device {}; announcing once ready", self.node_id,
            cfg.directors.size(), self.addr.str(), cfg.vip_interface);
  return r;
}

ClusterRole::ClusterRole(Director& director, config::ClusterConfig cfg,
                         config::ClusterDirector self, std::unique_ptr<cluster::VipDevice> dev)
    : director_(director),
      cfg_(std::move(cfg)),
      self_(std::move(self)),
      dev_(std::move(dev)),
      announcer_(*dev_) {}

ClusterRole::~ClusterRole() {
  director_.setServicesWatcher(nullptr);
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // dev_ goes last: closing it removes the device and whatever is still on it.
}

void ClusterRole::setReadySource(std::function<bool()> ready) {
  std::lock_guard lock(mu_);
  ready_source_ = std::move(ready);
}

void ClusterRole::drain() {
  std::lock_guard lock(mu_);
  announcer_.drain();
}

ClusterView ClusterRole::view() const {
  std::lock_guard lock(mu_);
  ClusterView v;
  v.node_id = self_.node_id;
  v.vip_interface = cfg_.vip_interface;
  v.ready = announcer_.ready();
  v.draining = announcer_.draining();
  v.announced = announcer_.announced();
  v.available.assign(announcer_.available().begin(), announcer_.available().end());
  return v;
}

void ClusterRole::loop() {
  std::unique_lock slock(stop_mu_);
  while (!stop_) {
    slock.unlock();
    {
      std::lock_guard lock(mu_);
      if (!announcer_.ready()) {
        const bool ready = !ready_source_ || ready_source_();
        if (ready) announcer_.setReady(true);
      }
    }
    slock.lock();
    stop_cv_.wait_for(slock, std::chrono::milliseconds(50), [this] { return stop_; });
  }
}

}  // namespace sluice::daemon
