// AF_XDP end to end with real traffic: client ns --veth-- director ns --veth-- server ns.
// The client's kernel sends UDP to the VIP, the steering program hands it to the AF_XDP
// socket on the director's first interface, the test (playing the worker) rewrites the MACs
// and transmits the same UMEM frame out of the second interface, where a packet socket in
// the server namespace must see it.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>

#include "io/afxdp.h"
#include "io/netlink.h"
#include "io/xdp_loader.h"
#include "unit/io/netns_fixture.h"

namespace sluice::io {
namespace {

using namespace sluice::io::testing;
using net::IpAddr;
using net::MacAddr;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

MacAddr linkMac(const Netns& ns, const char* dev) {
  EnterNetns in(ns);
  auto l = linkByName(dev);
  return l ? l->mac : MacAddr{};
}

// Finds `payload` in a UDP datagram to `dport` inside an Ethernet/IPv4 frame.
bool isOurDatagram(const uint8_t* f, size_t len, uint16_t dport, const std::string& payload) {
  if (len < 14 + 20 + 8 + payload.size()) return false;
  if (f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17) return false;
  size_t l4 = 14 + size_t(f[14] & 0xf) * 4;
  if (len < l4 + 8 + payload.size()) return false;
  if ((uint16_t(f[l4 + 2]) << 8 | f[l4 + 3]) != dport) return false;
  return std::memcmp(f + l4 + 8, payload.data(), payload.size()) == 0;
}

TEST(AfXdpNs, ReceivesSteeredTrafficAndTransmitsOutOfAnotherInterface) {
  if (!netnsAvailable()) GTEST_SKIP() << "needs root and network namespaces";
  Netns c("c"), lb("lb"), s("s");
  ASSERT_TRUE(c.ok() && lb.ok() && s.ok());
  ASSERT_TRUE(c.exec(fmt::format("ip link add io-c0 type veth peer name io-l0 netns {}", lb.name())));
  ASSERT_TRUE(s.exec(fmt::format("ip link add io-s0 type veth peer name io-l1 netns {}", lb.name())));
  for (auto [ns, dev] : {std::pair{&c, "io-c0"}, {&lb, "io-l0"}, {&lb, "io-l1"}, {&s, "io-s0"}})
    ASSERT_TRUE(ns->exec(fmt::format("ip link set {} up", dev)));
  const MacAddr l0_mac = linkMac(lb, "io-l0"), l1_mac = linkMac(lb, "io-l1");
  const MacAddr s0_mac = linkMac(s, "io-s0");
  ASSERT_NE(l0_mac, MacAddr{});
  ASSERT_TRUE(c.exec("ip addr add 10.77.0.1/24 dev io-c0"));
  ASSERT_TRUE(c.exec(fmt::format("ip neigh add 10.77.0.100 lladdr {} dev io-c0", net::macStr(l0_mac))));

  // The server side listens before anything is sent.
  uint32_t s0_index = 0;
  int raw_fd = -1;
  {
    EnterNetns in(s);
    ASSERT_TRUE(in.ok());
    s0_index = if_nametoindex("io-s0");
    raw_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
  }
  Fd raw(raw_fd);
  ASSERT_GE(raw.fd, 0);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = int(s0_index);
  ASSERT_EQ(bind(raw.fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)), 0);

  EnterNetns in_lb(lb);
  ASSERT_TRUE(in_lb.ok());
  const uint32_t l0 = if_nametoindex("io-l0"), l1 = if_nametoindex("io-l1");
  auto prog = SteerProgram::load();
  ASSERT_TRUE(prog) << prog.error().message;
  ASSERT_TRUE((*prog)->attach(l0, XdpMode::kNative));
  ASSERT_TRUE((*prog)->attach(l1, XdpMode::kNative));
  ASSERT_TRUE((*prog)->addService(*IpAddr::parse("10.77.0.100"), 17, 5000));
  AfXdpOptions opts;
  opts.ifindexes = {l0, l1};
  opts.ring_size = 512;
  auto io = AfXdpIo::open(opts, prog->get());
  ASSERT_TRUE(io) << io.error().message;
  AfXdpIo& x = **io;
  const size_t free_at_start = x.freeFrames();

  int udp_fd = -1;
  {
    EnterNetns in(c);
    udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  Fd udp(udp_fd);
  ASSERT_GE(udp.fd, 0);
  auto send = [&](uint16_t port, const std::string& msg) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "10.77.0.100", &to.sin_addr);
    return sendto(udp.fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  };
  ASSERT_GT(send(5001, "not-a-service"), 0);  // goes to the kernel, never to us
  ASSERT_GT(send(5000, "sluice-hello"), 0);

  // Play the worker for up to two seconds.
  bool got = false, saw_other_port = false;
  size_t headroom = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::array<Packet, 32> pkts;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    x.waitRx(100);
    size_t n = x.rxBurst(pkts);
    for (size_t i = 0; i < n; ++i) {
      Packet& p = pkts[i];
      saw_other_port |= isOurDatagram(p.data, p.len, 5001, "not-a-service");
      if (!got && p.ifindex == l0 && isOurDatagram(p.data, p.len, 5000, "sluice-hello")) {
        got = true;
        headroom = p.headroom();
        // Growing into the headroom and back leaves the frame as it was.
        ASSERT_TRUE(p.pushFront(64));
        ASSERT_TRUE(p.pullFront(64));
        std::memcpy(p.data, s0_mac.data(), 6);
        std::memcpy(p.data + 6, l1_mac.data(), 6);
        p.ifindex = l1;
        EXPECT_EQ(x.txBurst(std::span(&p, 1)), 1u);
      } else {
        x.drop(std::span(&p, 1));
      }
    }
  }
  ASSERT_TRUE(got) << "the datagram to the service never reached the AF_XDP socket";
  EXPECT_FALSE(saw_other_port);
  EXPECT_GE(headroom, size_t(AfXdpIo::kMinHeadroom)) << "encapsulation needs headroom";

  // The server namespace sees the frame, addressed to it, from the director's second port.
  bool seen = false;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::array<uint8_t, 2048> buf;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{raw.fd, POLLIN, 0};
    poll(&pfd, 1, 100);
    ssize_t n;
    while (!seen && (n = recv(raw.fd, buf.data(), buf.size(), 0)) > 0) {
      if (isOurDatagram(buf.data(), size_t(n), 5000, "sluice-hello")) {
        seen = true;
        EXPECT_EQ(0, std::memcmp(buf.data(), s0_mac.data(), 6));
        EXPECT_EQ(0, std::memcmp(buf.data() + 6, l1_mac.data(), 6));
      }
    }
    x.rxBurst({});  // reaps TX completions
  }
  EXPECT_TRUE(seen) << "the transmitted frame never reached the server namespace";

  auto st = (*prog)->stats();
  ASSERT_TRUE(st);
  EXPECT_GE(st->steered(), 1u);
  EXPECT_EQ(x.stats().tx, 1u);
  EXPECT_EQ(x.stats().tx_ring_full + x.stats().tx_bad_iface + x.stats().tx_bad_frame, 0u);
  // Every frame came back: the one sent is completed, the rest were dropped.
  for (int i = 0; i < 20 && x.freeFrames() != free_at_start; ++i) {
    std::array<Packet, 32> more;
    size_t n = x.rxBurst(more);
    x.drop(std::span(more.data(), n));
    usleep(10000);
  }
  EXPECT_EQ(x.freeFrames(), free_at_start) << "frames leaked or double-freed";
}

TEST(AfXdpNs, OpenFailsClearlyOnAMissingInterface) {
  AfXdpOptions o;
  o.ifindexes = {999999};
  o.ring_size = 64;
  auto io = AfXdpIo::open(o);
  ASSERT_FALSE(io);
  EXPECT_NE(io.error().message.find("999999"), std::string::npos);
}

}  // namespace
}  // namespace sluice::io
