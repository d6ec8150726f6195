#include "daemon/plane.h"

#include <algorithm>

namespace sluice::daemon {

namespace {

PlaneLimits fitted(PlaneLimits l, const PlaneStorage& s) {
  l.workers = std::max(1u, l.workers);
  if (!s.conns.empty()) l.conn_capacity = s.conns.size();
  if (!s.dests.empty()) l.max_dests = uint32_t(std::min<size_t>(l.max_dests, s.dests.size()));
  if (!s.counts.empty()) l.max_dests = uint32_t(std::min<size_t>(l.max_dests, s.counts.size()));
  return l;
}

}  // namespace

Plane::Plane(const Clock& clock, const PlaneLimits& limits, const PlaneStorage& shared)
    : limits_(fitted(limits, shared)),
      own_counts_(shared.counts.empty() ? limits_.max_dests : 0),
      counts_(shared.counts.empty() ? std::span<sl_dest_counts>(own_counts_)
                                    : shared.counts.first(limits_.max_dests)),
      dest_limits_(limits_.max_dests),
      accounting_(counts_, dest_limits_),
      stats_(clock, limits_.workers + limits_.extra_writers, limits_.max_services,
             limits_.max_dests),
      services_(clock, counts_, svc::TableLimits{limits_.max_services, limits_.max_dests},
                &stats_),
      dests_(shared.dests.empty() ? dp::DestTable(size_t(limits_.max_dests))
                                  : dp::DestTable(shared.dests.first(limits_.max_dests))),
      conns_(shared.conns.empty()
                 ? conn::ConnTable(limits_.conn_capacity, &accounting_, limits_.conn_seed)
                 : conn::ConnTable(shared.conns, &accounting_, limits_.conn_seed,
                                   shared.conn_ext)),
      laddrs_(limits_.workers, limits_.fnat_ports) {
  conns_.setReplyKeys(&reply_keys_);
  conns_.setReleaseHook(&laddrs_);
  // A previous daemon's FULLNAT connections (pinned state) keep their ports.
  laddrs_.adopt(conns_, clock.now());
  for (unsigned i = 0; i < limits_.workers; ++i) {
    datapaths_.push_back(std::make_unique<dp::Datapath>(conns_, dests_, stats_.writer(i)));
    datapaths_.back()->setLocalPorts(&laddrs_, i);
  }
}

}  // namespace sluice::daemon
