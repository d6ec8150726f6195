// The scheduler registry: name -> factory, as ip_vs_sched.c looks schedulers up by name.
// An explicit table rather than self-registering static objects, because sched/ is linked
// as a static library and the linker drops object files nothing references.
#include <array>

#include <fmt/format.h>

#include "sched/algorithms.h"

namespace sluice::sched {
namespace {

struct Entry {
  std::string_view name;
  SchedulerFactory make;
};

// In ipvsadm's order, so error messages and listings read the way operators know them.
constexpr std::array<Entry, 13> kSchedulers = {{
    {"rr", makeRr},
    {"wrr", makeWrr},
    {"lc", makeLc},
    {"wlc", makeWlc},
    {"lblc", makeLblc},
    {"dh", makeDh},
    {"sh", makeSh},
    {"sed", makeSed},
    {"nq", makeNq},
    {"fo", makeFo},
    {"ovf", makeOvf},
    {"mh", makeMh},
    {"twos", makeTwos},
}};

// IPVS schedulers Sluice does not implement, so that asking for one says so instead of
// "unknown". lblcr keeps a set of servers per destination address, grown and shrunk with
// load and expired by a timer: state the fixed-size, clock-free data path has no room for.
struct Missing {
  std::string_view name;
  std::string_view reason;
};
constexpr std::array<Missing, 1> kNotImplemented = {{
    {"lblcr", "lblcr is not implemented in Sluice (lblc, without replication, is)"},
}};

const Entry* find(std::string_view name) {
  for (const Entry& e : kSchedulers)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name,
                                                 std::span<const SchedDest> dests,
                                                 const SchedParams& params) {
  const Entry* e = find(name);
  if (!e && !notImplementedReason(name).empty())
    return makeError("{}", notImplementedReason(name));
  if (!e)
    return makeError("unknown scheduler '{}' (known: {})", name,
                     fmt::join(schedulerNames(), " "));
  return e->make(dests, params);
}

bool isKnownScheduler(std::string_view name) { return find(name) != nullptr; }

std::string_view notImplementedReason(std::string_view name) {
  for (const Missing& m : kNotImplemented)
    if (m.name == name) return m.reason;
  return {};
}

std::vector<std::string> schedulerNames() {
  std::vector<std::string> names;
  names.reserve(kSchedulers.size());
  for (const Entry& e : kSchedulers) names.emplace_back(e.name);
  return names;
}

}  // namespace sluice::sched
