// The AF_PACKET generator, for kernels that refuse live XDP frames: the same frames as
// bench/bpf/gen.bpf.c (stampFrame in gen.h) sent from an AF_PACKET socket on the generator's
// veth, past the qdisc layer (PACKET_QDISC_BYPASS: straight to veth_xmit). Two ways:
//   mmsg  sendmmsg() of a batch, each frame copied into its own skb (the default: fastest
//         here). Blocking: when the socket's send buffer is full of skbs the director has
//         not freed yet, the generator waits for it instead of overrunning its veth ring;
//   ring  PACKET_TX_RING (TPACKET_V2): write a batch into the mapped ring, one sendto()
//         sends them all. Slower here (0.5-0.8x of mmsg per generator core: each frame goes
//         out as page fragments of the ring, which costs more than copying 60 bytes). A slot
//         comes back when its skb is freed, downstream; the 16 k-frame ring keeps reuse late.
// Trade-off: unlike the live generator, each frame becomes an skb before the director sees it
// (veth hands the director an skb, not an xdp_frame); bench/README.md says what that changes.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "gen.h"

namespace bench {

namespace {

int openSocket(const std::string& iface, sockaddr_ll& dst) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: receives nothing
  if (fd < 0) die("AF_PACKET socket: %s", std::strerror(errno));
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one))
    die("PACKET_QDISC_BYPASS: %s", std::strerror(errno));
  dst = {};
  dst.sll_family = AF_PACKET;
  dst.sll_protocol = htons(ETH_P_IP);
  dst.sll_ifindex = int(ifaceIndex(iface));
  dst.sll_halen = 6;
  return fd;
}

void bindTo(int fd, const sockaddr_ll& dst) {
  sockaddr_ll b = dst;
  b.sll_protocol = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&b), sizeof b))
    die("bind AF_PACKET: %s", std::strerror(errno));
}

void runRing(GenSetup& g, uint32_t batch, GenResult& r) {
  sockaddr_ll dst;
  int fd = openSocket(g.iface, dst);
  int v = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v))
    die("PACKET_VERSION: %s", std::strerror(errno));
  constexpr uint32_t kFrameSize = 128, kBlockSize = 1u << 16, kBlocks = 32;
  constexpr uint32_t kFrames = kBlocks * (kBlockSize / kFrameSize);
  static_assert(TPACKET2_HDRLEN - sizeof(sockaddr_ll) + BENCH_FRAME_LEN <= kFrameSize);
  tpacket_req req{kBlockSize, kBlocks, kFrameSize, kFrames};
  if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req))
    die("PACKET_TX_RING: %s", std::strerror(errno));
  size_t len = size_t(kBlockSize) * kBlocks;
  auto* ring = static_cast<uint8_t*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (ring == MAP_FAILED) die("mmap of the TX ring: %s", std::strerror(errno));
  bindTo(fd, dst);

  XorShift rng{std::random_device{}() | 1ull << 40};
  SpanRecorder spans(r);
  uint32_t head = 0;
  while (!g_stop.load() && nowNs() < g.deadline_ns) {
    uint64_t t0 = nowNs(), n = 0;
    for (; n < batch; ++n) {
      auto* h = reinterpret_cast<tpacket2_hdr*>(ring + size_t(head) * kFrameSize);
      uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
      if (st != TP_STATUS_AVAILABLE) {
        if (st & TP_STATUS_WRONG_FORMAT) die("the kernel refused a frame of the TX ring");
        break;  // not sent yet: kick what is queued, come back to it
      }
      stampFrame(g.state, rng, reinterpret_cast<uint8_t*>(h) + TPACKET2_HDRLEN - sizeof(sockaddr_ll));
      h->tp_len = BENCH_FRAME_LEN;
      __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
      head = head + 1 == kFrames ? 0 : head + 1;
    }
    // The kernel sends every frame marked for sending, then returns. MSG_DONTWAIT: without
    // it the call also waits until every skb it made was freed, i.e. until the director has
    // consumed the batch, and generator and director take turns instead of overlapping.
    // ENOBUFS: the director's veth ring was full and one frame was dropped there (veth counts
    // it); the kernel marks that slot for sending again, so the next kick retries it.
    if (sendto(fd, nullptr, 0, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0 &&
        errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
      die("sendto (TX ring): %s", std::strerror(errno));
    ++r.calls;
    r.sent += n;
    spans.add(t0, nowNs(), n);
  }
  spans.flush();
  munmap(ring, len);
  close(fd);
}

void runMmsg(GenSetup& g, uint32_t batch, GenResult& r) {
  sockaddr_ll dst;
  int fd = openSocket(g.iface, dst);
  bindTo(fd, dst);
  std::vector<uint8_t> frames(size_t(batch) * BENCH_FRAME_LEN);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  for (uint32_t i = 0; i < batch; ++i) {
    iov[i] = {frames.data() + size_t(i) * BENCH_FRAME_LEN, BENCH_FRAME_LEN};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_name = &dst;
    msgs[i].msg_hdr.msg_namelen = sizeof dst;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  XorShift rng{std::random_device{}() | 1ull << 40};
  SpanRecorder spans(r);
  while (!g_stop.load() && nowNs() < g.deadline_ns) {
    uint64_t t0 = nowNs();
    for (uint32_t i = 0; i < batch; ++i) stampFrame(g.state, rng, frames.data() + size_t(i) * BENCH_FRAME_LEN);
    uint32_t done = 0;
    while (done < batch && !g_stop.load()) {
      int k = sendmmsg(fd, msgs.data() + done, batch - done, 0);
      ++r.calls;
      if (k > 0) {
        done += uint32_t(k);
      } else if (errno == ENOBUFS) {
        ++done;  // dropped at the director's full veth ring (veth counts it): offered anyway
      } else if (errno != EINTR && errno != EAGAIN) {
        die("sendmmsg: %s", std::strerror(errno));
      }
    }
    r.sent += done;
    spans.add(t0, nowNs(), done);
  }
  spans.flush();
  close(fd);
}

}  // namespace

GenOutcome runPacketGen(GenSetup& g, const std::string& io, uint32_t batch, GenResult& r) {
  if (io == "ring") {
    runRing(g, batch, r);
  } else if (io == "mmsg") {
    runMmsg(g, batch, r);
  } else if (io == "xsk") {
    runXskGen(g, batch, r);
  } else {
    die("--packet-io must be mmsg, ring or xsk");
  }
  return {};
}

}  // namespace bench
