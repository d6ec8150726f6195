// Connection table micro-benchmarks: lookup (hit and miss), fill and steady-state churn at
// 1M and 10M connections. The table is sized for 80% load, which puts 10M connections in
// 12.5M slots: 12.5M x (64 B record + 4 B side array) = 850 MB. Counters report the
// memory cost per stored connection and the table's load.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "conn/conn_table.h"

namespace {

using sluice::Nanos;
using sluice::kSecond;
using sluice::conn::ConnTable;

constexpr Nanos kNow = 1000 * kSecond;
constexpr double kLoad = 0.8;

// Distinct keys spread like real traffic: many clients, ephemeral ports, a few VIPs.
sl_conn_key key(uint64_t i) {
  sl_conn_key k{};
  uint32_t caddr = htonl(0x0a000000u + uint32_t(i / 50000) * 7919u);
  uint32_t vaddr = htonl(0xc0a80a64u + uint32_t(i % 4));
  std::memcpy(k.caddr, &caddr, 4);
  std::memcpy(k.vaddr, &vaddr, 4);
  k.cport = htons(uint16_t(10000 + i % 50000));
  k.vport = htons(443);
  k.proto = IPPROTO_TCP;
  k.family = SL_AF_V4;
  k.kind = SL_KEY_CONN;
  return k;
}

std::unique_ptr<ConnTable> filled(uint64_t n) {
  auto t = std::make_unique<ConnTable>(size_t(double(n) / kLoad));
  for (uint64_t i = 0; i < n; ++i) {
    sl_conn* c = t->insert(key(i), kNow);
    if (!c) std::abort();  // 80% is far below the refusal point
    c->timeout_s = 900;
    ConnTable::unlockEntry(*c);  // handed back locked, as conn_ops fills it
  }
  return t;
}

void memoryCounters(benchmark::State& state, const ConnTable& t, uint64_t n) {
  state.counters["bytes_per_conn"] = double(t.capacity() * ConnTable::bytesPerSlot()) / double(n);
  state.counters["table_MiB"] = double(t.capacity() * ConnTable::bytesPerSlot()) / (1 << 20);
  state.counters["load"] = double(t.size()) / double(t.capacity());
}

// Each benchmark gets its own table; keep one at a time alive (10M = 850 MB).
void BM_LookupHit(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  auto t = filled(n);
  uint64_t i = 0;
  for (auto _ : state) {
    i = (i + 0x9E3779B1u) % n;  // scattered order: no cache help from neighbours
    benchmark::DoNotOptimize(t->lookup(key(i), kNow));
  }
  state.SetItemsProcessed(state.iterations());
  memoryCounters(state, *t, n);
}

// Same, with the next key's buckets prefetched one lookup ahead as a batch loop would.
void BM_LookupHitPrefetch(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  auto t = filled(n);
  uint64_t i = 0;
  sl_conn_key cur = key(i);
  uint64_t h = t->hash(cur);
  for (auto _ : state) {
    uint64_t j = (i + 0x9E3779B1u) % n;
    sl_conn_key next = key(j);
    uint64_t hn = t->hash(next);
    t->prefetch(hn);
    benchmark::DoNotOptimize(t->lookup(cur, h, kNow));
    cur = next;
    h = hn;
    i = j;
  }
  state.SetItemsProcessed(state.iterations());
  memoryCounters(state, *t, n);
}

// A SYN of a new flow: both buckets scanned, nothing found.
void BM_LookupMiss(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  auto t = filled(n);
  uint64_t i = 0;
  for (auto _ : state) {
    i = (i + 0x9E3779B1u) % n;
    benchmark::DoNotOptimize(t->lookup(key(n + i), kNow));
  }
  state.SetItemsProcessed(state.iterations());
  memoryCounters(state, *t, n);
}

// Filling an empty table to 80%: the mean insert cost, moves near the end included.
void BM_InsertFill(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  uint64_t moved = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto t = std::make_unique<ConnTable>(size_t(double(n) / kLoad));
    state.ResumeTiming();
    for (uint64_t i = 0; i < n; ++i) {
      sl_conn* c = t->insert(key(i), kNow);
      if (c) ConnTable::unlockEntry(*c);  // a locked entry would stall the next moves
      benchmark::DoNotOptimize(c);
    }
    state.PauseTiming();
    moved = t->stats().moved;
    memoryCounters(state, *t, n);
    t.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["moves_per_insert"] = double(moved) / double(n);
}

// Steady state at 80%: one new flow inserted and one old flow erased per iteration.
void BM_InsertChurn(benchmark::State& state) {
  const uint64_t n = uint64_t(state.range(0));
  auto t = filled(n);
  uint64_t oldest = 0;
  for (auto _ : state) {
    sl_conn* c = t->insert(key(oldest + n), kNow);
    if (c) ConnTable::unlockEntry(*c);
    benchmark::DoNotOptimize(c);
    t->erase(t->lookup(key(oldest), kNow));
    ++oldest;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["refused"] = double(t->stats().full);
  memoryCounters(state, *t, n);
}

#define SIZES ->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kNanosecond)
BENCHMARK(BM_LookupHit) SIZES;
BENCHMARK(BM_LookupHitPrefetch) SIZES;
BENCHMARK(BM_LookupMiss) SIZES;
BENCHMARK(BM_InsertFill) SIZES->Iterations(1);
BENCHMARK(BM_InsertChurn) SIZES;

}  // namespace
