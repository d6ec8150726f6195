// Engine (b): the smallest useful AF_XDP forwarder, the ceiling of any user-space data plane
// on this setup. Copy mode (the only mode veth has): an RX socket on the ingress veth and a
// TX socket on the egress veth share one UMEM, so a received frame is sent by handing its
// descriptor to the TX ring, with no copy in user space. Per frame it rewrites the two MAC
// addresses and nothing else. Batches of 64; poll() when there is nothing to do; completed
// frames go back to the fill ring.
#include <bpf/bpf.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>

#include "common.h"

namespace bench {

namespace {

constexpr uint32_t kFrameSize = 2048;
constexpr uint32_t kBatch = 64;

struct Forwarder {
  xsk_ring_prod fill_in{}, fill_out{}, tx{};
  xsk_ring_cons comp_in{}, comp_out{}, rx{};
  xsk_umem* umem = nullptr;
  xsk_socket* rx_sock = nullptr;
  xsk_socket* tx_sock = nullptr;
  uint8_t* area = nullptr;
  Mac dmac{}, smac{};
  uint64_t forwarded = 0, dropped = 0;

  std::vector<uint64_t> spare;  // frames owned by us: neither in a ring nor in flight

  // Twice as many frames as the fill ring holds: the fill ring is topped up from `spare` as
  // soon as frames leave it, so the kernel always has somewhere to receive into even while a
  // full TX ring of frames waits for completion (which comes when the sink has consumed
  // them, on another CPU, with no wakeup for us).
  void reap() {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&comp_out, kBatch * 4, &idx);
    for (uint32_t i = 0; i < n; ++i) spare.push_back(*xsk_ring_cons__comp_addr(&comp_out, idx + i));
    if (n) xsk_ring_cons__release(&comp_out, n);
  }

  void refill() {
    uint32_t want = uint32_t(std::min<size_t>(spare.size(), xsk_prod_nb_free(&fill_in, uint32_t(spare.size()))));
    uint32_t idx = 0;
    if (!want || xsk_ring_prod__reserve(&fill_in, want, &idx) != want) return;
    for (uint32_t i = 0; i < want; ++i) {
      *xsk_ring_prod__fill_addr(&fill_in, idx + i) = spare.back();
      spare.pop_back();
    }
    xsk_ring_prod__submit(&fill_in, want);
  }

  void recycle() {
    reap();
    refill();
  }

  // Copy mode sends at most 32 frames per sendto() (the kernel's TX batch) and answers EAGAIN
  // when it stopped there with more in the ring: kick again so a batch of 64 goes out whole.
  void kickTx() {
    for (int i = 0; i < 8; ++i)
      if (sendto(xsk_socket__fd(tx_sock), nullptr, 0, MSG_DONTWAIT, nullptr, 0) == 0 || errno != EAGAIN)
        return;
  }

  void step() {
    recycle();
    uint32_t idx_rx = 0, idx_tx = 0;
    uint32_t n = xsk_ring_cons__peek(&rx, kBatch, &idx_rx);
    if (!n) {
      if (xsk_ring_prod__needs_wakeup(&tx)) kickTx();
      pollfd p{xsk_socket__fd(rx_sock), POLLIN, 0};
      poll(&p, 1, 100);
      return;
    }
    uint32_t room = xsk_ring_prod__reserve(&tx, n, &idx_tx);
    for (int tries = 0; room < n && tries < 64; ++tries) {  // TX full: let the kernel drain it
      kickTx();
      recycle();
      room = xsk_ring_prod__reserve(&tx, n, &idx_tx);
    }
    if (room < n) {  // still full: drop the frames (they go back to the spare list)
      for (uint32_t i = 0; i < n; ++i) spare.push_back(xsk_ring_cons__rx_desc(&rx, idx_rx + i)->addr);
      xsk_ring_cons__release(&rx, n);
      refill();
      dropped += n;
      return;
    }
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&rx, idx_rx + i);
      uint8_t* frame = static_cast<uint8_t*>(xsk_umem__get_data(area, d->addr));
      std::memcpy(frame, dmac.data(), 6);
      std::memcpy(frame + 6, smac.data(), 6);
      xdp_desc* t = xsk_ring_prod__tx_desc(&tx, idx_tx + i);
      t->addr = d->addr;
      t->len = d->len;
    }
    xsk_ring_prod__submit(&tx, n);
    xsk_ring_cons__release(&rx, n);
    forwarded += n;
    kickTx();  // copy mode transmits only inside sendto()
  }
};

}  // namespace

// xskfwd --bpf-dir D --in IF --out IF --dmac MAC [--ring N] [--ready FILE] [--seconds MAX]
int runXskFwd(const Args& a) {
  std::string in = a.str("in"), out = a.str("out");
  uint32_t ring = uint32_t(a.num("ring", 8192));
  if (ring < 64 || (ring & (ring - 1))) die("--ring must be a power of two >= 64");
  Forwarder f;
  f.dmac = parseMac(a.str("dmac"));
  f.smac = ifaceMac(out);

  // 2 x ring frames: a full fill ring plus a full TX ring (see Forwarder::reap).
  uint32_t nframes = 2 * ring;
  size_t area_size = size_t(nframes) * kFrameSize;
  void* area = mmap(nullptr, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) die("cannot map the UMEM: %s", std::strerror(errno));
  f.area = static_cast<uint8_t*>(area);
  xsk_umem_config ucfg{ring, ring, kFrameSize, 0, 0};
  if (int e = xsk_umem__create(&f.umem, area, area_size, &f.fill_in, &f.comp_in, &ucfg); e)
    die("cannot create the UMEM: %s", std::strerror(-e));

  xsk_socket_config scfg{};
  scfg.rx_size = ring;
  scfg.tx_size = ring;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our own redirect program below
  scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  if (int e = xsk_socket__create(&f.rx_sock, in.c_str(), 0, f.umem, &f.rx, nullptr, &scfg); e)
    die("cannot open the AF_XDP socket on %s: %s", in.c_str(), std::strerror(-e));
  if (int e = xsk_socket__create_shared(&f.tx_sock, out.c_str(), 0, f.umem, nullptr, &f.tx,
                                        &f.fill_out, &f.comp_out, &scfg);
      e)
    die("cannot open the AF_XDP socket on %s: %s", out.c_str(), std::strerror(-e));

  f.spare.reserve(nframes);
  for (uint32_t i = 0; i < nframes; ++i) f.spare.push_back(uint64_t(i) * kFrameSize);
  f.refill();

  bpf_object* obj = loadObject(a.str("bpf-dir"), "xsk", nullptr, 0);
  uint32_t key = 0;
  int fd = xsk_socket__fd(f.rx_sock);
  if (bpf_map_update_elem(mapFd(obj, "xsk_port"), &key, &fd, 0))
    die("cannot put the socket in the XSKMAP: %s", std::strerror(errno));
  installStopHandlers();
  bpf_link* link = attachXdp(program(obj, "bench_xsk"), in);
  signalReady(a.str("ready", ""));

  uint64_t deadline = nowNs() + uint64_t(a.real("seconds", 600) * 1e9);
  uint64_t loops = 0;
  while (!g_stop.load()) {
    f.step();
    if ((++loops & 1023) == 0 && nowNs() > deadline) break;
  }
  bpf_link__destroy(link);
  xdp_statistics xs{};
  socklen_t xl = sizeof xs;
  getsockopt(xsk_socket__fd(f.rx_sock), SOL_XDP, XDP_STATISTICS, &xs, &xl);
  std::fprintf(stderr,
               "xskfwd: forwarded %llu, dropped %llu (TX ring full); kernel: rx_dropped %llu, "
               "rx_ring_full %llu, fill_ring_empty %llu\n",
               (unsigned long long)f.forwarded, (unsigned long long)f.dropped,
               (unsigned long long)xs.rx_dropped, (unsigned long long)xs.rx_ring_full,
               (unsigned long long)xs.rx_fill_ring_empty_descs);
  xsk_socket__delete(f.tx_sock);
  xsk_socket__delete(f.rx_sock);
  xsk_umem__delete(f.umem);
  bpf_object__close(obj);
  munmap(area, area_size);
  return 0;
}

}  // namespace bench
