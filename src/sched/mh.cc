// mh: Maglev hashing (ip_vs_mh.c after NSDI'16 §3.4). Each server walks its own
// permutation of the table (offset and skip from two hashes of its address and port) and
// the servers take turns claiming their next free slot until the table is full. Removing
// one of N servers moves about 1/N of the flows, and every director with the same servers
// builds the same table, which is why the cluster uses it. Flag-2 (mh-port) hashes the
// source port too. The cost is the table: kMaglevTableSize ints (maglev.h says why fixed).
//
// A flow whose slot holds an unavailable server (quiesced: weight 0, but still holding its
// slots through last_weight; or over its -x threshold) is handled as ip_vs_mh.c does:
// without flag-1 it gets no server (the connection is refused, "no destination
// available"), so a quiesced server's new clients are turned away rather than spread over
// the others; with flag-1 (mh-fallback) the client address is rehashed with further salts
// until a slot names an available server, which spreads those flows over the others in
// proportion to their slots and leaves every other flow where it was. A slot with no
// server at all (an empty table) is refused in both cases, as in the kernel.
#include "sched/maglev.h"

#include <algorithm>
#include <bit>
#include <numeric>

#include "sched/algorithms.h"
#include "sched/hash.h"

namespace sluice::sched {
namespace {

constexpr uint64_t kOffsetSeed = 0x4d48'4f46'0000'0001ULL;
constexpr uint64_t kSkipSeed = 0x4d48'534b'0000'0002ULL;
constexpr uint64_t kLookupSeed = 0x4d48'4c4b'0000'0003ULL;
constexpr int kTurnBits = 6;  // IP_VS_MH_TAB_BITS: at most 2^6 slots per turn
constexpr uint32_t kFlagFallback = 0x1;  // svc::kSchedFlag1
constexpr uint32_t kFlagPort = 0x2;      // svc::kSchedFlag2

struct Walker {
  int index;       // into dests
  uint32_t next;   // next slot of its permutation to try
  uint32_t skip;
  uint32_t turns;  // slots claimed per round
};

size_t populationOf(std::span<const SchedDest> dests) {
  return static_cast<size_t>(std::count_if(dests.begin(), dests.end(), [](const SchedDest& d) {
    return d.slotWeight() > 0;
  }));
}

}  // namespace

uint32_t maglevSlot(const net::IpAddr& addr, uint16_t port, uint32_t salt, uint32_t m) noexcept {
  return static_cast<uint32_t>(detail::hashAddrPort(addr, port, kLookupSeed + salt) % m);
}

std::vector<int> buildMaglevTable(std::span<const SchedDest> dests, uint32_t m) {
  std::vector<int> table(m, -1);
  std::vector<Walker> walkers;
  int32_t g = 0;
  int32_t max_w = 0;
  for (size_t i = 0; i < dests.size(); ++i) {
    const SchedDest& d = dests[i];
    const int32_t w = d.slotWeight();
    if (w <= 0) continue;
    g = g > 0 ? std::gcd(g, w) : w;
    max_w = std::max(max_w, w);
    const uint32_t offset =
        static_cast<uint32_t>(detail::hashAddrPort(d.ep.addr, d.ep.port, kOffsetSeed) % m);
    const uint32_t skip =
        m > 1 ? static_cast<uint32_t>(detail::hashAddrPort(d.ep.addr, d.ep.port, kSkipSeed) %
                                      (m - 1)) + 1
              : 1;
    walkers.push_back({static_cast<int>(i), offset, skip, 0});
  }
  if (walkers.empty() || m == 0) return table;

  // Huge weight ratios would let one server fill the table in a single turn; like IPVS,
  // shift them down to kTurnBits significant bits (a server keeps at least one turn).
  const int shift =
      std::max(0, static_cast<int>(std::bit_width(static_cast<uint32_t>(max_w / g))) - kTurnBits);
  for (Walker& w : walkers) {
    const uint32_t t = static_cast<uint32_t>(dests[w.index].slotWeight() / g) >> shift;
    w.turns = t > 0 ? t : 1;
  }
  // Endpoints are unique within a service, so this order is a function of the set alone.
  std::sort(walkers.begin(), walkers.end(), [&](const Walker& a, const Walker& b) {
    const net::Endpoint& ea = dests[a.index].ep;
    const net::Endpoint& eb = dests[b.index].ep;
    return ea != eb ? ea < eb : a.index < b.index;
  });

  uint32_t filled = 0;
  for (;;) {
    for (Walker& w : walkers) {
      for (uint32_t t = 0; t < w.turns; ++t) {
        // With a prime m the permutation reaches every free slot; for other m a skip that
        // shares a factor with m may cycle over full slots, so after m probes step by 1.
        uint32_t probes = 0;
        while (table[w.next] != -1) {
          const uint32_t step = ++probes > m ? 1 : w.skip;
          w.next = static_cast<uint32_t>((uint64_t{w.next} + step) % m);
        }
        table[w.next] = w.index;
        if (++filled == m) return table;
      }
    }
  }
}

namespace {

class MhScheduler final : public Scheduler {
 public:
  MhScheduler(std::span<const SchedDest> dests, uint32_t flags)
      : table_(buildMaglevTable(dests, kMaglevTableSize)),
        fallback_(flags & kFlagFallback),
        use_port_(flags & kFlagPort) {}

  std::string_view name() const noexcept override { return "mh"; }

  int schedule(std::span<const SchedDest> dests, const SchedInput& in) noexcept override {
    const uint16_t port = use_port_ ? in.sport : 0;
    const int first = table_[maglevSlot(in.saddr, port, 0, kMaglevTableSize)];
    if (usable(dests, first)) return first;
    if (first < 0 || !fallback_) return -1;
    // Rehashing spreads the orphaned flows over the others in proportion to their slots.
    // Each try hits an available server with probability = its share of the table, so the
    // bound of m tries only matters when none is available, which is checked first.
    bool any = false;
    for (size_t i = 0; i < dests.size() && !any; ++i) any = dests[i].available();
    if (!any) return -1;
    for (uint32_t salt = 1; salt <= kMaglevTableSize; ++salt) {
      const int i = table_[maglevSlot(in.saddr, port, salt, kMaglevTableSize)];
      if (usable(dests, i)) return i;
    }
    return -1;
  }

 private:
  static bool usable(std::span<const SchedDest> dests, int i) noexcept {
    return i >= 0 && static_cast<size_t>(i) < dests.size() && dests[i].available();
  }

  std::vector<int> table_;
  bool fallback_;
  bool use_port_;
};

}  // namespace

Result<std::unique_ptr<Scheduler>> makeMh(std::span<const SchedDest> dests,
                                          const SchedParams& params) {
  const size_t n = populationOf(dests);
  if (n > kMaglevTableSize)
    return makeError("mh: {} real servers with a weight (current or, if quiesced, last), at most "
                     "{} are supported (one table slot each)",
                     n, kMaglevTableSize);
  return std::unique_ptr<Scheduler>(std::make_unique<MhScheduler>(dests, params.flags));
}

}  // namespace sluice::sched
