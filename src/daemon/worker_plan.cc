// Worker count and queue split; see worker_plan.h for the rule.
#include "daemon/worker_plan.h"

#include <algorithm>
#include <set>

#include "abi/steer.h"

namespace sluice::daemon {

Status checkQueueSlots(std::span<const InterfaceQueues> ifs) {
  for (const auto& i : ifs)
    if (i.queues > SL_STEER_QUEUES_PER_IFACE)
      return makeError(
          "{} has {} receive queues, but the XDP program has AF_XDP slots for {} per interface "
          "(SL_STEER_QUEUES_PER_IFACE), so new flows on the others could not reach sluiced: "
          "lower them with 'ethtool -L {} combined {}'",
          i.name, i.queues, SL_STEER_QUEUES_PER_IFACE, i.name, SL_STEER_QUEUES_PER_IFACE);
  return {};
}

namespace {

uint32_t minQueues(std::span<const InterfaceQueues> ifs) {
  uint32_t m = UINT32_MAX;
  for (const auto& i : ifs) m = std::min(m, std::max(i.queues, 1u));
  return ifs.empty() ? 1 : m;
}

}  // namespace

unsigned defaultWorkers(std::span<const InterfaceQueues> ifs, unsigned online_cpus) {
  std::set<unsigned> cores;
  uint64_t total = 0;
  for (const auto& i : ifs) {
    cores.insert(i.irq_cpus.begin(), i.irq_cpus.end());
    total += std::max(i.queues, 1u);
  }
  uint64_t n = !cores.empty() ? cores.size() : std::min<uint64_t>(total, std::max(online_cpus, 1u));
  n = std::min<uint64_t>(n, minQueues(ifs));
  return unsigned(std::max<uint64_t>(n, 1));
}

Result<WorkerPlan> planWorkers(std::span<const InterfaceQueues> ifs, unsigned workers,
                               unsigned online_cpus) {
  if (ifs.empty()) return makeError("no data-plane interface to serve");
  if (Status st = checkQueueSlots(ifs); !st) return st.error();
  if (workers == 0) workers = defaultWorkers(ifs, online_cpus);
  for (const auto& i : ifs)
    if (workers > i.queues)
      return makeError(
          "--workers {}: {} has only {} receive queue(s), and every worker needs one on each "
          "interface to transmit out of it. Use --workers {} or fewer, or give {} more queues "
          "('ethtool -L {} combined {}')",
          workers, i.name, i.queues, minQueues(ifs), i.name, i.name, workers);
  WorkerPlan plan;
  plan.ports.resize(workers);
  for (const auto& i : ifs)
    for (uint32_t q = 0; q < i.queues; ++q) plan.ports[q % workers].push_back({i.ifindex, q});
  return plan;
}

std::vector<std::string> WorkerPlan::describe(std::span<const InterfaceQueues> ifs) const {
  std::vector<std::string> out;
  for (const auto& w : ports) {
    std::string s;
    for (const auto& i : ifs) {
      std::string qs;
      for (const auto& p : w)
        if (p.ifindex == i.ifindex) qs += (qs.empty() ? "" : ",") + std::to_string(p.queue);
      if (qs.empty()) continue;
      s += (s.empty() ? "" : "; ") + i.name + " queue" + (qs.find(',') != std::string::npos ? "s " : " ") + qs;
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace sluice::daemon
