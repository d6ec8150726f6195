#include "cluster/announcer.h"

#include <algorithm>

#include "common/log.h"

namespace sluice::cluster {

namespace {
const log::Logger kLog("cluster");
}  // namespace

std::set<net::IpAddr> availableVips(const svc::Snapshot& snap) {
  std::set<net::IpAddr> out;
  for (const auto& s : snap.services()) {
    if (s->cfg.key.fwmark != 0) continue;
    const bool any = std::any_of(s->dest_rt.begin(), s->dest_rt.end(),
                                 [](const svc::DestRt& d) { return !d.trashed && d.cfg.weight > 0; });
    if (any) out.insert(s->cfg.key.addr);
  }
  return out;
}

void Announcer::setAvailable(std::set<net::IpAddr> vips) {
  available_ = std::move(vips);
  apply();
}

void Announcer::setReady(bool ready) {
  if (ready_ == ready) return;
  ready_ = ready;
  if (ready) kLog.info("ready: announcing the VIPs that have a real server to take new flows");
  apply();
}

void Announcer::drain() {
  if (draining_) return;
  draining_ = true;
  kLog.info("draining: withdrawing every VIP; established flows keep being forwarded");
  apply();
}

std::vector<std::string> Announcer::takeErrors() { return std::exchange(errors_, {}); }

void Announcer::apply() {
  std::set<net::IpAddr> want;
  if (ready_ && !draining_) want = available_;
  const std::vector<net::IpAddr> have = dev_.addresses();
  // Withdrawals first: a VIP going is the change that stops traffic from being sent here.
  for (const net::IpAddr& a : have) {
    if (want.count(a)) continue;
    if (auto st = dev_.remove(a); !st) {
      errors_.push_back(st.error().message);
      kLog.error("withdrawing {}: {}", a.str(), st.error().message);
    } else {
      kLog.info("withdrawn {} from {}{}", a.str(), dev_.name(),
                draining_ ? " (draining)" : available_.count(a) ? "" : ": no real server available");
    }
  }
  for (const net::IpAddr& a : want) {
    if (std::find(have.begin(), have.end(), a) != have.end()) continue;
    if (auto st = dev_.add(a); !st) {
      errors_.push_back(st.error().message);
      kLog.error("announcing {}: {}", a.str(), st.error().message);
    } else {
      kLog.info("announcing {} on {}", a.str(), dev_.name());
    }
  }
}

}  // namespace sluice::cluster
