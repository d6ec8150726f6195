// The AF_XDP generator (--packet-io xsk): a TX-only AF_XDP socket in copy mode (the only
// mode veth has) on the generator's veth, no XDP program. Frames are written into the UMEM
// with stampFrame (gen.h) and queued on the TX ring in batches; copy mode transmits only
// inside sendto(), at most 32 frames per call (the kernel's TX batch), each copied into an
// skb and handed straight to veth_xmit. A frame's UMEM slot is written again only after its
// completion came back, and the kernel has copied it by then.
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "gen.h"

namespace bench {

void runXskGen(GenSetup& g, uint32_t batch, GenResult& r) {
  constexpr uint32_t kFrameSize = 2048, kRing = 4096;
  size_t area_size = size_t(kRing) * kFrameSize;
  void* mem = mmap(nullptr, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("cannot map the UMEM: %s", std::strerror(errno));
  auto* area = static_cast<uint8_t*>(mem);
  xsk_ring_prod fill{}, tx{};
  xsk_ring_cons comp{};
  xsk_umem* umem = nullptr;
  xsk_umem_config ucfg{kRing, kRing, kFrameSize, 0, 0};
  if (int e = xsk_umem__create(&umem, area, area_size, &fill, &comp, &ucfg); e)
    die("cannot create the UMEM: %s", std::strerror(-e));
  xsk_socket_config scfg{};
  scfg.tx_size = kRing;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // TX only: no program needed
  scfg.bind_flags = XDP_COPY;
  xsk_socket* sock = nullptr;
  if (int e = xsk_socket__create(&sock, g.iface.c_str(), 0, umem, nullptr, &tx, &scfg); e)
    die("cannot open the AF_XDP socket on %s: %s", g.iface.c_str(), std::strerror(-e));
  int fd = xsk_socket__fd(sock);

  std::vector<uint64_t> free_slots;
  for (uint32_t i = 0; i < kRing; ++i) free_slots.push_back(uint64_t(i) * kFrameSize);
  XorShift rng{std::random_device{}() | 1ull << 40};
  SpanRecorder spans(r);
  while (!g_stop.load() && nowNs() < g.deadline_ns) {
    uint64_t t0 = nowNs();
    uint32_t idx = 0;
    uint32_t done = xsk_ring_cons__peek(&comp, kRing, &idx);
    for (uint32_t i = 0; i < done; ++i) free_slots.push_back(*xsk_ring_cons__comp_addr(&comp, idx + i));
    if (done) xsk_ring_cons__release(&comp, done);
    uint32_t n = std::min<uint32_t>(batch, uint32_t(free_slots.size()));
    if (n && xsk_ring_prod__reserve(&tx, n, &idx) == n) {
      for (uint32_t i = 0; i < n; ++i) {
        uint64_t addr = free_slots.back();
        free_slots.pop_back();
        stampFrame(g.state, rng, area + addr);
        xdp_desc* d = xsk_ring_prod__tx_desc(&tx, idx + i);
        d->addr = addr;
        d->len = BENCH_FRAME_LEN;
      }
      xsk_ring_prod__submit(&tx, n);
    } else {
      n = 0;
    }
    // EAGAIN: stopped after the kernel's TX batch with more queued; EBUSY: the director's
    // veth ring was full and a frame was dropped (veth counts it). Kick until the ring is out.
    for (uint32_t k = 0; k <= batch / 16 + 2; ++k) {
      ++r.calls;
      if (sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) == 0) break;
      if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR)
        die("sendto (AF_XDP): %s", std::strerror(errno));
    }
    r.sent += n;
    spans.add(t0, nowNs(), n);
  }
  spans.flush();
  xsk_socket__delete(sock);
  xsk_umem__delete(umem);
  munmap(area, area_size);
}

}  // namespace bench
