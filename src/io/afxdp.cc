// AF_XDP PacketIo; see afxdp.h for the design.
#include "io/afxdp.h"

#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstring>

#include "io/xdp_loader.h"

namespace sluice::io {

struct AfXdpIo::Sock {
  uint32_t ifindex = 0;
  uint32_t queue = 0;
  xsk_socket* xsk = nullptr;
  int fd = -1;
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
  xsk_ring_prod fq{};
  xsk_ring_cons cq{};
  uint32_t tx_pending = 0;      // reserved in this burst, not yet submitted
  uint32_t tx_outstanding = 0;  // submitted, completion not yet reaped
  bool registered = false;
};

namespace {

bool isPow2(uint32_t v) { return v && !(v & (v - 1)); }

}  // namespace

Result<std::unique_ptr<AfXdpIo>> AfXdpIo::open(const AfXdpOptions& o, SteerProgram* steer) {
  std::vector<XskPort> ports = o.ports;
  if (ports.empty())
    for (uint32_t ifindex : o.ifindexes) ports.push_back({ifindex, o.queue});
  if (ports.empty()) return makeError("AF_XDP: no interfaces given");
  if (!isPow2(o.ring_size) || !isPow2(o.frame_size) || o.frame_size < 2048)
    return makeError("AF_XDP: ring size {} and frame size {} must be powers of two, frame >= 2048",
                     o.ring_size, o.frame_size);
  for (size_t i = 0; i < ports.size(); ++i) {
    char name[IF_NAMESIZE];
    if (!if_indextoname(ports[i].ifindex, name))
      return makeError("AF_XDP: no interface with index {}", ports[i].ifindex);
    for (size_t j = 0; j < i; ++j)
      if (ports[j].ifindex == ports[i].ifindex && ports[j].queue == ports[i].queue)
        return makeError("AF_XDP: {} queue {} given twice", name, ports[i].queue);
  }
  auto local = LocalInjector::open();
  if (!local) return makeError("AF_XDP: {}", local.error().message);
  std::unique_ptr<AfXdpIo> io(new AfXdpIo());
  io->local_.emplace(std::move(*local));
  io->frame_size_ = o.frame_size;
  io->ring_size_ = o.ring_size;
  const uint64_t n_if = ports.size();
  // Every fill ring full, every TX ring full, and one ring's worth on loan to the worker.
  uint64_t frames = o.num_frames ? o.num_frames : n_if * 2 * o.ring_size + o.ring_size;
  if (frames > (uint64_t(1) << 22)) return makeError("AF_XDP: {} frames is too many", frames);
  io->num_frames_ = uint32_t(frames);
  io->area_size_ = size_t(frames) * o.frame_size;
  void* area = mmap(nullptr, io->area_size_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED)
    return makeError("AF_XDP: cannot map {} MiB of UMEM: {}", io->area_size_ >> 20,
                     std::strerror(errno));
  io->area_ = static_cast<uint8_t*>(area);

  xsk_umem_config ucfg{};
  ucfg.fill_size = o.ring_size;
  ucfg.comp_size = o.ring_size;
  ucfg.frame_size = o.frame_size;
  // The kernel already leaves XDP_PACKET_HEADROOM (256) in front of received data.
  ucfg.frame_headroom = 0;
  ucfg.flags = 0;
  xsk_ring_prod fq0{};
  xsk_ring_cons cq0{};
  if (int err = xsk_umem__create(&io->umem_, io->area_, io->area_size_, &fq0, &cq0, &ucfg)) {
    io->umem_ = nullptr;
    return makeError("AF_XDP: cannot register the UMEM: {}", std::strerror(-err));
  }

  for (const XskPort& port : ports) {
    auto s = std::make_unique<Sock>();
    s->ifindex = port.ifindex;
    s->queue = port.queue;
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(port.ifindex, name))
      return makeError("AF_XDP: no interface with index {}", port.ifindex);
    xsk_socket_config cfg{};
    cfg.rx_size = o.ring_size;
    cfg.tx_size = o.ring_size;
    cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our steering program
    cfg.xdp_flags = 0;
    cfg.bind_flags = uint16_t((o.zero_copy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP);
    // The first socket inherits the UMEM's own fill/completion rings (libxdp copies fq0/cq0
    // into s->fq/s->cq); the others get their own pair on the shared UMEM.
    int err = xsk_socket__create_shared(&s->xsk, name, port.queue, io->umem_, &s->rx, &s->tx,
                                        &s->fq, &s->cq, &cfg);
    if (err) {
      s->xsk = nullptr;
      return makeError("AF_XDP: cannot open a socket on {} queue {}: {}{}", name, port.queue,
                       std::strerror(-err),
                       err == -EBUSY ? " (another AF_XDP socket is bound there)" : "");
    }
    s->fd = xsk_socket__fd(s->xsk);
    io->socks_.push_back(std::move(s));
  }

  io->free_.reserve(io->num_frames_);
  for (uint32_t i = io->num_frames_; i-- > 0;) io->free_.push_back(uint64_t(i) * o.frame_size);
  for (auto& s : io->socks_) io->refill(*s);

  if (steer) {
    io->steer_ = steer;
    for (auto& s : io->socks_) {
      if (Status st = steer->registerSocket(s->ifindex, s->queue, s->fd); !st) return st.error();
      s->registered = true;
    }
  }
  return io;
}

AfXdpIo::~AfXdpIo() {
  for (auto& s : socks_) {
    if (s->registered && steer_) (void)steer_->unregisterSocket(s->ifindex, s->queue);
    if (s->xsk) xsk_socket__delete(s->xsk);
  }
  socks_.clear();
  if (umem_) xsk_umem__delete(umem_);
  if (area_) munmap(area_, area_size_);
}

int AfXdpIo::socketFd(uint32_t ifindex, uint32_t queue) const noexcept {
  for (const auto& s : socks_)
    if (s->ifindex == ifindex && s->queue == queue) return s->fd;
  return -1;
}

std::vector<XskPort> AfXdpIo::ports() const {
  std::vector<XskPort> out;
  for (const auto& s : socks_) out.push_back({s->ifindex, s->queue});
  return out;
}

AfXdpIo::Sock* AfXdpIo::sockFor(uint32_t ifindex) noexcept {
  // A handful of interfaces: a scan beats a hash.
  for (auto& s : socks_)
    if (s->ifindex == ifindex) return s.get();
  return nullptr;
}

void AfXdpIo::refill(Sock& s) noexcept {
  uint32_t want = xsk_prod_nb_free(&s.fq, ring_size_);
  if (want == 0) return;
  if (want > free_.size()) {
    ++stats_.fill_starved;
    want = uint32_t(free_.size());
    if (want == 0) return;
  }
  uint32_t idx = 0;
  uint32_t got = xsk_ring_prod__reserve(&s.fq, want, &idx);
  for (uint32_t i = 0; i < got; ++i) {
    *xsk_ring_prod__fill_addr(&s.fq, idx + i) = free_.back();
    free_.pop_back();
  }
  xsk_ring_prod__submit(&s.fq, got);
}

void AfXdpIo::kickTx(Sock& s) noexcept {
  if (!xsk_ring_prod__needs_wakeup(&s.tx)) return;
  // In copy mode one sendto() transmits at most 32 descriptors (the kernel's TX batch),
  // so kick until the ring is drained rather than leave the rest of a batch waiting for
  // the next burst. Bounded: EAGAIN/EBUSY/ENOBUFS (the kernel is busy or out of skbs) or
  // ENETDOWN leave the descriptors in the ring for a later kick.
  for (int i = 0; i < 8; ++i) {
    ++stats_.wakeups;
    if (sendto(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN) break;
    if (xsk_prod_nb_free(&s.tx, ring_size_) >= ring_size_) break;  // all taken by the kernel
  }
}

void AfXdpIo::reapCompletions() noexcept {
  for (auto& sp : socks_) {
    Sock& s = *sp;
    if (s.tx_outstanding == 0) continue;
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&s.cq, ring_size_, &idx);
    for (uint32_t i = 0; i < n; ++i) recycle(*xsk_ring_cons__comp_addr(&s.cq, idx + i));
    xsk_ring_cons__release(&s.cq, n);
    s.tx_outstanding -= n < s.tx_outstanding ? n : s.tx_outstanding;
    // Copy mode sends from sendto(): if an earlier kick found the kernel busy, what is still
    // queued needs another one.
    if (n == 0 && s.tx_outstanding) kickTx(s);
  }
}

size_t AfXdpIo::rxBurst(std::span<Packet> out) noexcept {
  reapCompletions();
  size_t n = 0;
  const size_t nsock = socks_.size();
  for (size_t k = 0; k < nsock && n < out.size(); ++k) {
    Sock& s = *socks_[(rx_next_ + k) % nsock];
    uint32_t idx = 0;
    uint32_t got = xsk_ring_cons__peek(&s.rx, uint32_t(out.size() - n), &idx);
    for (uint32_t i = 0; i < got; ++i) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&s.rx, idx + i);
      uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
      uint64_t chunk = addr & ~uint64_t(frame_size_ - 1);
      Packet& p = out[n++];
      p.buf_start = area_ + chunk;
      p.buf_end = p.buf_start + frame_size_;
      p.data = area_ + addr;
      p.len = d->len;
      p.ifindex = s.ifindex;
      p.handle = chunk;
    }
    xsk_ring_cons__release(&s.rx, got);
    refill(s);
    if (got == 0 && xsk_ring_prod__needs_wakeup(&s.fq)) {
      ++stats_.wakeups;
      (void)recvfrom(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
  }
  if (nsock) rx_next_ = (rx_next_ + 1) % nsock;
  stats_.rx += n;
  return n;
}

bool AfXdpIo::ownsFrame(const Packet& p) const noexcept {
  if (p.handle >= area_size_ || (p.handle & (frame_size_ - 1))) return false;
  const uint8_t* start = area_ + p.handle;
  return p.data >= start && p.len > 0 && p.data + p.len <= start + frame_size_;
}

size_t AfXdpIo::txBurst(std::span<Packet> pkts) noexcept {
  size_t sent = 0;
  for (Packet& p : pkts) {
    if (!ownsFrame(p)) {
      ++stats_.tx_bad_frame;
      // A frame whose data/len the worker broke still has a valid handle to give back.
      if (p.handle < area_size_) recycle(p.handle);
      continue;
    }
    Sock* s = sockFor(p.ifindex);
    if (!s) {
      ++stats_.tx_bad_iface;
      recycle(p.handle);
      continue;
    }
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1) {
      ++stats_.tx_ring_full;
      recycle(p.handle);
      continue;
    }
    xdp_desc* d = xsk_ring_prod__tx_desc(&s->tx, idx);
    d->addr = uint64_t(p.data - area_);  // aligned mode: an offset inside the chunk is fine
    d->len = p.len;
    d->options = 0;
    ++s->tx_pending;
    ++sent;
  }
  for (auto& sp : socks_) {
    Sock& s = *sp;
    if (!s.tx_pending) continue;
    xsk_ring_prod__submit(&s.tx, s.tx_pending);
    s.tx_outstanding += s.tx_pending;
    s.tx_pending = 0;
    kickTx(s);
  }
  stats_.tx += sent;
  reapCompletions();
  return sent;
}

void AfXdpIo::drop(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts)
    if (p.handle < area_size_) recycle(p.handle);
  stats_.dropped += pkts.size();
}

void AfXdpIo::pass(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts)
    if (p.handle < area_size_) recycle(p.handle);
  stats_.passed += pkts.size();
}

void AfXdpIo::deliverLocal(std::span<Packet> pkts) noexcept {
  for (const Packet& p : pkts) {
    if (ownsFrame(p) && local_->inject(p.bytes()))
      ++stats_.local;
    else
      ++stats_.local_failed;
    if (p.handle < area_size_) recycle(p.handle);
  }
}

bool AfXdpIo::alloc(Packet& out) noexcept {
  if (free_.empty()) {
    ++stats_.alloc_failed;
    return false;
  }
  uint64_t chunk = free_.back();
  free_.pop_back();
  out.buf_start = area_ + chunk;
  out.buf_end = out.buf_start + frame_size_;
  out.data = out.buf_start + kMinHeadroom;
  out.len = 0;
  out.ifindex = 0;
  out.handle = chunk;
  return true;
}

bool AfXdpIo::waitRx(int timeout_ms) noexcept {
  constexpr size_t kMaxPoll = 64;
  pollfd fds[kMaxPoll];
  size_t n = 0;
  for (auto& s : socks_) {
    if (xsk_cons_nb_avail(&s->rx, 1)) return true;
    if (n < kMaxPoll) fds[n++] = {s->fd, POLLIN, 0};
  }
  int r = poll(fds, nfds_t(n), timeout_ms);
  return r > 0;
}

}  // namespace sluice::io
