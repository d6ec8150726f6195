// Test helpers for the schedulers: a pool of real servers with connection counts the test
// sets by hand, and a deterministic stream of client addresses.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "sched/scheduler.h"

namespace sluice::sched::testing {

class Pool {
 public:
  // Server i is 10.0.1.(i+1):80 with weights[i].
  explicit Pool(std::vector<int32_t> weights) : counts_(weights.size()) {
    for (size_t i = 0; i < weights.size(); ++i) {
      SchedDest d;
      d.dest_id = static_cast<uint32_t>(i);
      d.ep.addr = net::IpAddr::v4(0x0a000100u + static_cast<uint32_t>(i) + 1);
      d.ep.port = 80;
      d.weight = weights[i];
      d.counts = &counts_[i];
      dests_.push_back(d);
    }
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  std::span<const SchedDest> dests() const { return dests_; }
  SchedDest& dest(size_t i) { return dests_[i]; }
  sl_dest_counts& counts(size_t i) { return counts_[i]; }
  void setActive(size_t i, uint32_t n) { counts_[i].active = n; }
  void setInactive(size_t i, uint32_t n) { counts_[i].inactive = n; }
  void setOverloaded(size_t i, bool on) { counts_[i].overloaded = on ? 1 : 0; }

  std::unique_ptr<Scheduler> make(std::string_view name, uint32_t flags = 0) const {
    auto s = makeScheduler(name, dests_, SchedParams{flags});
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s.value()) : nullptr;
  }

 private:
  std::vector<sl_dest_counts> counts_;  // sized once: dests_ point into it
  std::vector<SchedDest> dests_;
};

inline SchedInput flowFrom(uint32_t saddr, uint16_t sport = 40000, uint32_t daddr = 0xc0a80001,
                           uint16_t dport = 80) {
  SchedInput in;
  in.saddr = net::IpAddr::v4(saddr);
  in.sport = sport;
  in.daddr = net::IpAddr::v4(daddr);
  in.dport = dport;
  return in;
}

// n pseudo-random IPv4 flows (source, source port, destination), the same on every run.
inline std::vector<SchedInput> randomFlows(size_t n, uint32_t seed = 12345) {
  std::mt19937 rng(seed);
  std::vector<SchedInput> flows;
  flows.reserve(n);
  for (size_t i = 0; i < n; ++i)
  {
    const uint32_t saddr = rng();
    const auto sport = static_cast<uint16_t>(1024 + rng() % 60000);
    flows.push_back(flowFrom(saddr, sport, rng()));
  }
  return flows;
}

// How many of `picks` schedule() calls went to each server (index n = no server).
inline std::vector<int> tally(Scheduler& s, std::span<const SchedDest> dests, int picks,
                              const SchedInput& in = flowFrom(0x0a0a0a0a)) {
  std::vector<int> count(dests.size() + 1, 0);
  for (int k = 0; k < picks; ++k) {
    const int i = s.schedule(dests, in);
    ++count[i < 0 ? dests.size() : static_cast<size_t>(i)];
  }
  return count;
}

}  // namespace sluice::sched::testing
