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

// The mh scheduler's table size: fixed, whatever the number of servers. A size that
// followed the server count (IPVS lets a build choose one prime; an earlier Sluice picked
// the smallest prime >= 100 N) changes every slot when it steps, so crossing such a step
// remapped nearly every client, and two directors that momentarily saw different counts
// disagreed everywhere. Prime, so every skip is coprime with it and each server's
// permutation visits every slot. 65521 (the largest prime below 2^16, the size Maglev's
// paper and Katran use give or take) because the population gives equal-weight servers
// floor(M/N) or ceil(M/N) slots, an imbalance of up to N/M: <= 1% up to 655 servers
// (M > 100 N, the paper's rule), 10% at 6,552; above ~655 servers balance degrades
// linearly. The cost: 256 KiB of table per mh service, rebuilt in a few ms on each change,
// and a lookup that reads a table larger than L1/L2 (one likely cache miss per new flow).
inline constexpr uint32_t kMaglevTableSize = 65521;

// Builds the lookup table of size m: each slot holds an index into `dests`, or -1 when no
// server has a slot weight > 0. The slot weight is SchedDest::slotWeight(): the weight, or
// for a quiesced server (weight 0) the last non-zero one, as ip_vs_mh.c populates with
// last_weight, so quiescing a server leaves every slot where it was; a server added with
// weight 0 gets none. A server's share of slots is proportional to slot weight / gcd
// (scaled down as ip_vs_mh.c does when that ratio exceeds 6 bits). The table depends only
// on the set of (address, port, slot weight), never on the order of `dests` or on dest
// ids (IPVS walks its list in insertion order; here the servers take turns in endpoint
// order), so directors configured in any order build the same table. m should be prime;
// any other m >= 1 still yields a full table, with a worse spread.
std::vector<int> buildMaglevTable(std::span<const SchedDest> dests, uint32_t m);

// The slot of table size m that a flow from `addr`/`port` maps to. salt 0 is the first
// choice; the mh-fallback rehashes with salt 1, 2, ...
uint32_t maglevSlot(const net::IpAddr& addr, uint16_t port, uint32_t salt, uint32_t m) noexcept;

}  // namespace sluice::sched
