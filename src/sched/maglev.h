// Maglev consistent hashing (NSDI'16 §3.4, as IPVS's ip_vs_mh.c uses it), exposed apart
// from the mh scheduler so benchmarks and cluster code can build a table for any size and
// inspect it: balance, flows moved when a server goes, memory per server.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "net/addr.h"
#include "sched/scheduler.h"

namespace sluice::sched {

// The table sizes IPVS offers. A prime size makes every skip coprime with it, so each
// server's permutation visits every slot.
inline constexpr std::array<uint32_t, 10> kMaglevPrimes = {251,  509,   1021,  2039,  4093,
                                                           8191, 16381, 32749, 65521, 131071};

// The smallest listed prime >= 100 * n_dests (the paper's M >> N, keeping the imbalance
// around 1%), capped at the largest.
uint32_t maglevTableSize(size_t n_dests) noexcept;

// Builds the lookup table of size m: each slot holds an index into `dests`, or -1 when no
// server has weight > 0. Servers with weight 0 get no slot. A server's share of slots is
// proportional to weight / gcd(weights) (scaled down as ip_vs_mh.c does when that ratio
// exceeds 6 bits). The table depends on the servers' endpoints and weights, not on their
// order in `dests`, so directors configured in a different order still agree. m should be
// prime; any other m >= 1 still yields a full table, with a worse spread.
std::vector<int> buildMaglevTable(std::span<const SchedDest> dests, uint32_t m);

// The slot of table size m that a flow from `addr`/`port` maps to. salt 0 is the first
// choice; the mh-fallback rehashes with salt 1, 2, ...
uint32_t maglevSlot(const net::IpAddr& addr, uint16_t port, uint32_t salt, uint32_t m) noexcept;

}  // namespace sluice::sched
