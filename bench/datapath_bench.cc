// Per-packet cost of the packet core, through the one entry point every backend uses:
// dp::Datapath::process (parse + connection lookup + state update + stats + DR rewrite).
// Frames are prebuilt with the tests' PacketBuilder and laid out like an AF_XDP UMEM (one
// chunk each, 256 B apart rather than 2 KiB to keep 256k flows in 64 MB), so the loop measures the C++ step alone: no NIC, no syscalls, no
// copies. A DR rewrite only writes the two MACs and the parser ignores them, so a frame
// processed again is processed exactly as the first time: frames are reused in place and
// every iteration does the real rewrite. Each loop checks afterwards that every packet
// was transmitted (or passed), so a broken path fails the run instead of timing a drop.
//
// The director is the daemon's own assembly (daemon::Plane: ServiceTable, Stats, DestTable,
// ConnTable, DestAccounting, Datapath) with its next hops written directly, as the golden
// tests' fixture (tests/support/dr_fixture.h) builds it.
#include <arpa/inet.h>

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/dest_counts.h"
#include "daemon/plane.h"
#include "dp/datapath.h"
#include "dp/dest_table.h"
#include "net/packet.h"
#include "support/packet_builder.h"
#include "svc/service_table.h"
#include "svc/stats.h"

namespace {

using namespace sluice;
using sluice::testing::PacketBuilder;

constexpr uint32_t kMaxDests = 256;
constexpr uint32_t kIfindex = 7;
constexpr uint16_t kVport = 80;
const net::MacAddr kRouterMac = sluice::testing::mac("02:00:00:00:02:01");
const net::MacAddr kDirectorMac = sluice::testing::mac("02:00:00:00:02:10");

net::IpAddr vip(net::Family f) {
  return sluice::testing::ip(f == net::Family::kV4 ? "10.0.2.100" : "2001:db8:2::100");
}

// Flow i's client: distinct addresses, so sh/mh and the conn table see real spread.
net::IpAddr client(net::Family f, uint32_t i) {
  if (f == net::Family::kV4) return net::IpAddr::v4(0x0b000000u + i);
  net::IpAddr a = sluice::testing::ip("2001:db8:1::");
  for (int b = 0; b < 4; ++b) a.bytes[15 - b] = uint8_t(i >> (8 * b));
  return a;
}
uint16_t clientPort(uint32_t i) { return uint16_t(1024 + (i * 7919u) % 60000u); }

net::IpAddr realServer(net::Family f, uint32_t i) {
  if (f == net::Family::kV4) return net::IpAddr::v4(0x0a000300u + i + 1);
  net::IpAddr a = sluice::testing::ip("2001:db8:3::");
  a.bytes[14] = uint8_t((i + 1) >> 8);
  a.bytes[15] = uint8_t(i + 1);
  return a;
}

// Frames in one buffer at a fixed stride, as an AF_XDP UMEM holds them.
class Umem {
 public:
  static constexpr size_t kChunk = 256;
  void add(const sluice::testing::Bytes& f) {
    buf_.resize((lens_.size() + 1) * kChunk);
    std::memcpy(buf_.data() + lens_.size() * kChunk, f.data(), f.size());
    lens_.push_back(f.size());
  }
  std::span<uint8_t> frame(size_t i) { return {buf_.data() + i * kChunk, lens_[i]}; }
  size_t size() const { return lens_.size(); }

 private:
  std::vector<uint8_t> buf_;
  std::vector<size_t> lens_;
};

sluice::testing::Bytes tcpFrame(net::Family f, uint32_t flow, uint8_t flags,
                                const net::IpAddr& dst) {
  return PacketBuilder()
      .eth(kRouterMac, kDirectorMac)
      .ip(client(f, flow), dst)
      .tcp(clientPort(flow), kVport, flags)
      .padTo(60)
      .build();
}

// One DR service with `n_dests` real servers, all next hops resolved.
class Director {
 public:
  Director(net::Family f, const char* sched, uint32_t n_dests, size_t conn_capacity)
      : plane_(clock_, daemon::PlaneLimits{16, kMaxDests, conn_capacity}) {
    svc::ServiceConfig s;
    s.key = svc::ServiceKey{svc::Proto::kTcp, vip(f), kVport};
    s.scheduler = sched;
    ok_ = bool(table_.addService(s));
    for (uint32_t i = 0; ok_ && i < n_dests; ++i) {
      svc::DestConfig d;
      d.ep = net::Endpoint{realServer(f, i), kVport};
      d.weight = int32_t(1 + i % 4);
      ok_ = bool(table_.addDest(s.key, d));
    }
    snap_ = table_.snapshot();
    for (const auto& svc : snap_->services())
      for (const auto& d : svc->dest_rt) {
        const net::MacAddr rs_mac{0x02, 0, 0, 0, uint8_t(d.dest_id >> 8), uint8_t(d.dest_id)};
        dests_.write(d.dest_id, dp::makeDestRecord(d.cfg.ep, uint8_t(d.cfg.fwd), &kDirectorMac,
                                                   &rs_mac, kIfindex));
      }
  }

  bool ok() const { return ok_; }
  dp::Verdict process(std::span<uint8_t> frame) noexcept {
    return dp_.process(frame, *snap_, clock_.now());
  }
  uint64_t counter(dp::Counter c) const { return dp_.counters()[c]; }
  conn::ConnTable& conns() { return conns_; }

 private:
  ManualClock clock_;
  daemon::Plane plane_;  // the daemon's own assembly
  svc::ServiceTable& table_ = plane_.services();
  dp::DestTable& dests_ = plane_.dests();
  conn::ConnTable& conns_ = plane_.conns();
  dp::Datapath& dp_ = plane_.datapath();
  std::shared_ptr<const svc::Snapshot> snap_;
  bool ok_ = false;
};

// Fails the benchmark unless every timed packet got the expected fate.
void expectAll(benchmark::State& state, uint64_t got, const char* what) {
  if (got != uint64_t(state.iterations()))
    state.SkipWithError((std::string("not every packet was ") + what).c_str());
  state.SetItemsProcessed(state.iterations());
}

// An ACK of an ESTABLISHED connection: the common packet of every flow. range(0) flows,
// each opened (SYN) and established (ACK) before timing; a few thousand fit in cache,
// 256k do not (table 512k slots = 34 MB, frames 2 x 64 MB).
void BM_Established(benchmark::State& state, net::Family F) {
  const uint32_t n = uint32_t(state.range(0));
  Director d(F, "wlc", 10, size_t(n) * 2);
  Umem syn, ack;
  for (uint32_t i = 0; i < n; ++i) {
    syn.add(tcpFrame(F, i, net::kTcpSyn, vip(F)));
    ack.add(tcpFrame(F, i, net::kTcpAck, vip(F)));
  }
  for (uint32_t i = 0; i < n; ++i) d.process(syn.frame(i));
  for (uint32_t i = 0; i < n; ++i) d.process(ack.frame(i));
  if (!d.ok() || d.counter(dp::Counter::kTxPackets) != 2ull * n ||
      d.counter(dp::Counter::kConnNew) != n) {
    state.SkipWithError("setup: flows were not all established");
    return;
  }
  const uint64_t tx0 = d.counter(dp::Counter::kTxPackets);
  uint32_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.process(ack.frame(i)));
    if (++i == n) i = 0;
  }
  expectAll(state, d.counter(dp::Counter::kTxPackets) - tx0, "transmitted");
  state.counters["flows"] = n;
}

// A SYN that opens a connection: service lookup, wlc over 10 dests (weights 1-4), insert,
// bind, stats, rewrite. Fair method: a ring of K = 64k distinct SYNs over a table of 4K
// slots; every K packets the table is emptied with the clock stopped (one pause per 64k
// packets, negligible), so each timed SYN really inserts, at a load between 0 and 25%
// (mean 12.5%) as a sized-for-80% table sees in a SYN burst. Erasing in the timed loop
// instead would add a lookup + erase to every packet; a table that only grows would time
// a load that depends on how many iterations the library picks.
void BM_NewFlow(benchmark::State& state, const char* sched) {
  constexpr uint32_t kRing = 1u << 16;
  Director d(net::Family::kV4, sched, 10, kRing * 4);
  Umem syn;
  for (uint32_t i = 0; i < kRing; ++i)
    syn.add(tcpFrame(net::Family::kV4, i, net::kTcpSyn, vip(net::Family::kV4)));
  if (!d.ok()) {
    state.SkipWithError("setup: service refused");
    return;
  }
  const uint64_t new0 = d.counter(dp::Counter::kConnNew);
  uint32_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.process(syn.frame(i)));
    if (++i == kRing) {
      state.PauseTiming();
      d.conns().eraseIf([](const sl_conn&) { return true; });
      i = 0;
      state.ResumeTiming();
    }
  }
  expectAll(state, d.counter(dp::Counter::kConnNew) - new0, "a new connection");
}

// Traffic that is not ours (a director that is also a host): parse, conn lookup miss,
// service lookup miss, pass to the kernel.
void BM_PassNotService(benchmark::State& state) {
  constexpr uint32_t kN = 4096;
  Director d(net::Family::kV4, "wlc", 10, kN * 2);
  Umem f;
  for (uint32_t i = 0; i < kN; ++i)
    f.add(tcpFrame(net::Family::kV4, i, net::kTcpAck, sluice::testing::ip("10.0.2.1")));
  const uint64_t pass0 = d.counter(dp::Counter::kPassPackets);
  uint32_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.process(f.frame(i)));
    if (++i == kN) i = 0;
  }
  expectAll(state, d.counter(dp::Counter::kPassPackets) - pass0, "passed");
}

// Parsing alone (Ethernet, optional VLAN tag, IP, TCP), the first step of every packet.
void BM_Parse(benchmark::State& state, sluice::testing::Bytes frame) {
  uint64_t ok = 0;
  for (auto _ : state) {
    net::ParseResult r = net::parseFrame(frame);
    ok += r.status == net::ParseStatus::kOk;
    benchmark::DoNotOptimize(r);
  }
  expectAll(state, ok, "parsed");
}

sluice::testing::Bytes parseFrameOf(net::Family f, bool vlan) {
  PacketBuilder b;
  b.eth(kRouterMac, kDirectorMac);
  if (vlan) b.vlan(100);
  return b.ip(client(f, 1), vip(f)).tcp(40000, kVport, net::kTcpAck).padTo(60).build();
}

BENCHMARK_CAPTURE(BM_Established, v4, net::Family::kV4)->Arg(4096)->Arg(1 << 18);
BENCHMARK_CAPTURE(BM_Established, v6, net::Family::kV6)->Arg(4096);
BENCHMARK_CAPTURE(BM_NewFlow, wlc, "wlc");
BENCHMARK_CAPTURE(BM_NewFlow, rr, "rr");
BENCHMARK_CAPTURE(BM_NewFlow, mh, "mh");
BENCHMARK(BM_PassNotService);
BENCHMARK_CAPTURE(BM_Parse, v4, parseFrameOf(net::Family::kV4, false));
BENCHMARK_CAPTURE(BM_Parse, v4_vlan, parseFrameOf(net::Family::kV4, true));
BENCHMARK_CAPTURE(BM_Parse, v6, parseFrameOf(net::Family::kV6, false));

}  // namespace
