#include "laddr/pool.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace sluice::laddr {

namespace {
constexpr size_t kWords = 65536 / 64;

uint64_t addrHash(uint8_t family, const uint8_t* b) noexcept {
  uint64_t w[2];
  std::memcpy(w, b, 16);
  uint64_t h = (w[0] ^ (w[1] * 0x9E3779B97F4A7C15ull)) + family;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}
}  // namespace

struct Pools::Addr {
  uint8_t family = 0;
  uint8_t bytes[16] = {};
  std::atomic<uint32_t> in_use{0};
  std::atomic<uint64_t> bits[kWords] = {};
  uint16_t cursor[kMaxWorkers] = {};  // each worker's own: where its last scan stopped
};

PortRange PortRange::slice(unsigned index, unsigned count) const noexcept {
  const uint32_t n = size();
  if (count == 0 || index >= count || n == 0) return PortRange{1, 0};
  const uint32_t from = lo + uint32_t(uint64_t(n) * index / count);
  const uint32_t to = lo + uint32_t(uint64_t(n) * (index + 1) / count);  // exclusive
  if (to <= from) return PortRange{1, 0};
  return PortRange{uint16_t(from), uint16_t(to - 1)};
}

Pools::Pools(unsigned workers, PortRange range)
    : workers_(std::clamp(workers, 1u, kMaxWorkers)),
      range_(range),
      addrs_(std::make_unique<std::atomic<Addr*>[]>(kMaxAddrs)),
      worker_(std::make_unique<WorkerState[]>(workers_)) {
  if (range_.lo == 0) range_.lo = 1;  // port 0 is no port
}

Pools::~Pools() {
  for (size_t i = 0; i < kMaxAddrs; ++i) delete addrs_[i].load(std::memory_order_relaxed);
}

PortRange Pools::workerRange(unsigned worker) const noexcept {
  return range_.slice(worker % workers_, workers_);
}

Pools::Addr* Pools::find(uint8_t family, const uint8_t* bytes) const noexcept {
  size_t i = addrHash(family, bytes) % kMaxAddrs;
  for (size_t n = 0; n < kMaxAddrs; ++n, i = i + 1 == kMaxAddrs ? 0 : i + 1) {
    Addr* a = addrs_[i].load(std::memory_order_acquire);
    if (!a) return nullptr;
    if (a->family == family && std::memcmp(a->bytes, bytes, 16) == 0) return a;
  }
  return nullptr;
}

Pools::Addr* Pools::findOrAdd(const net::IpAddr& ip) noexcept {
  const uint8_t family = uint8_t(ip.family);
  if (Addr* a = find(family, ip.bytes.data())) return a;
  // An address's first use: once in its life (addresses are never removed, so a service
  // that drops and re-adds one finds its ports as its connections left them).
  std::lock_guard<std::mutex> g(add_mu_);
  size_t i = addrHash(family, ip.bytes.data()) % kMaxAddrs;
  for (size_t n = 0; n < kMaxAddrs; ++n, i = i + 1 == kMaxAddrs ? 0 : i + 1) {
    Addr* a = addrs_[i].load(std::memory_order_acquire);
    if (a && a->family == family && std::memcmp(a->bytes, ip.bytes.data(), 16) == 0) return a;
    if (a) continue;
    Addr* fresh = new (std::nothrow) Addr;
    if (!fresh) return nullptr;
    fresh->family = family;
    std::memcpy(fresh->bytes, ip.bytes.data(), 16);
    addrs_[i].store(fresh, std::memory_order_release);
    return fresh;
  }
  return nullptr;  // kMaxAddrs distinct addresses: this one gets no ports
}

bool Pools::allocate(unsigned worker, std::span<const net::IpAddr> laddrs,
                     sl_conn_ext* out) noexcept {
  if (laddrs.empty()) return false;
  const unsigned w = worker % workers_;
  const PortRange r = workerRange(w);
  if (r.size() == 0) return false;
  WorkerState& ws = worker_[w];
  const size_t n = laddrs.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t pick = (ws.next_addr + k) % n;
    Addr* a = findOrAdd(laddrs[pick]);
    if (!a) continue;
    // From this worker's cursor to the end of its slice, then from its start: one word (64
    // ports) per step, the bits outside the slice masked off.
    uint32_t start = a->cursor[w];
    if (start < r.lo || start > r.hi) start = r.lo;
    for (int pass = 0; pass < 2; ++pass) {
      const uint32_t from = pass == 0 ? start : r.lo;
      const uint32_t to = pass == 0 ? r.hi : (start > r.lo ? start - 1 : r.lo);
      if (pass == 1 && start == r.lo) break;
      for (uint32_t port = from; port <= to;) {
        const size_t word = port / 64;
        const uint32_t first = port % 64;
        const uint32_t last = std::min<uint32_t>(63, to - uint32_t(word * 64));
        uint64_t mask = (last == 63 ? ~0ull : ((1ull << (last + 1)) - 1)) & (~0ull << first);
        uint64_t v = a->bits[word].load(std::memory_order_relaxed);
        while (uint64_t free = ~v & mask) {
          const uint64_t bit = free & (~free + 1);
          if (a->bits[word].compare_exchange_weak(v, v | bit, std::memory_order_acq_rel)) {
            const uint32_t got = uint32_t(word * 64) + uint32_t(__builtin_ctzll(bit));
            a->in_use.fetch_add(1, std::memory_order_relaxed);
            a->cursor[w] = uint16_t(got + 1 <= r.hi ? got + 1 : r.lo);
            ws.next_addr = uint32_t((pick + 1) % n);
            std::memcpy(out->addr, a->bytes, 16);
            out->port = htons(uint16_t(got));
            return true;
          }
        }
        port = uint32_t(word * 64) + 64;
      }
    }
  }
  return false;
}

bool Pools::take(uint8_t family, const sl_conn_ext& local) noexcept {
  net::IpAddr ip;
  ip.family = net::Family(family);
  std::memcpy(ip.bytes.data(), local.addr, 16);
  Addr* a = findOrAdd(ip);
  if (!a) return false;
  const uint16_t port = ntohs(local.port);
  const uint64_t bit = 1ull << (port % 64);
  const uint64_t old = a->bits[port / 64].fetch_or(bit, std::memory_order_acq_rel);
  if (old & bit) return false;
  a->in_use.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Pools::release(uint8_t family, const sl_conn_ext& local) noexcept {
  Addr* a = find(family, local.addr);
  if (!a) return;
  const uint16_t port = ntohs(local.port);
  const uint64_t bit = 1ull << (port % 64);
  const uint64_t old = a->bits[port / 64].fetch_and(~bit, std::memory_order_acq_rel);
  if (old & bit) a->in_use.fetch_sub(1, std::memory_order_relaxed);
}

void Pools::adopt(conn::ConnTable& table, Nanos now) {
  table.forEach(now, [&](const sl_conn& c) {
    if (c.key.kind == SL_KEY_CONN && c.fwd == SL_FWD_FULLNAT && !(c.flags & SL_CONN_F_TEMPLATE))
      take(c.key.family, table.ext(c));
  });
}

uint64_t Pools::inUse(const net::IpAddr& addr) const noexcept {
  const Addr* a = find(uint8_t(addr.family), addr.bytes.data());
  return a ? a->in_use.load(std::memory_order_relaxed) : 0;
}

}  // namespace sluice::laddr
