// io::LocalInjector: a frame's IP packet reaches a socket bound to one of the host's
// addresses with the client's source address intact, over IPv4 and IPv6, inside a namespace.
#include "io/local_inject.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "support/packet_builder.h"
#include "unit/io/netns_fixture.h"

namespace sluice::io {
namespace {

using sluice::testing::Bytes;
using sluice::testing::mac;
using sluice::testing::PacketBuilder;

class LocalInject : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::netnsAvailable()) GTEST_SKIP() << "needs root (namespaces, raw sockets)";
    ns_ = std::make_unique<testing::Netns>("inject");
    ASSERT_TRUE(ns_->ok());
    ASSERT_TRUE(ns_->exec("ip link set lo up"));
    ASSERT_TRUE(ns_->exec("ip link add vip0 type veth peer name vip1"));
    ASSERT_TRUE(ns_->exec("ip link set vip0 up"));
    ASSERT_TRUE(ns_->exec("ip addr add 10.0.2.100/32 dev vip0"));
    ASSERT_TRUE(ns_->exec("ip addr add 2001:db8:2::100/128 dev vip0 nodad"));
    enter_ = std::make_unique<testing::EnterNetns>(*ns_);
    ASSERT_TRUE(enter_->ok());
  }

  // A UDP socket bound to ADDR:5300; returns what it received within a second, and from.
  static std::string receive(int fd, std::string* from) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return "(nothing)";
    char buf[256];
    sockaddr_storage src{};
    socklen_t len = sizeof src;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
    if (n < 0) return "(error)";
    char a[INET6_ADDRSTRLEN] = {};
    if (src.ss_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&src)->sin_addr, a, sizeof a);
    else
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&src)->sin6_addr, a, sizeof a);
    *from = a;
    return std::string(buf, size_t(n));
  }

  std::unique_ptr<testing::Netns> ns_;
  std::unique_ptr<testing::EnterNetns> enter_;
};

TEST_F(LocalInject, DeliversToTheLocalStackWithTheClientsAddress) {
  auto inj = LocalInjector::open();
  ASSERT_TRUE(inj) << inj.error().message;

  int fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a4{};
  a4.sin_family = AF_INET;
  a4.sin_port = htons(5300);
  inet_pton(AF_INET, "10.0.2.100", &a4.sin_addr);
  ASSERT_EQ(bind(fd4, reinterpret_cast<sockaddr*>(&a4), sizeof a4), 0) << strerror(errno);
  int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 a6{};
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons(5300);
  inet_pton(AF_INET6, "2001:db8:2::100", &a6.sin6_addr);
  ASSERT_EQ(bind(fd6, reinterpret_cast<sockaddr*>(&a6), sizeof a6), 0) << strerror(errno);

  const net::MacAddr peer = mac("02:00:00:00:02:20"), self = mac("02:00:00:00:02:10");
  std::string from;
  Bytes f4 = PacketBuilder()
                 .eth(peer, self)
                 .vlan(100)
                 .ipv4("10.0.1.2", "10.0.2.100")
                 .udp(40000, 5300)
                 .payload("hello v4")
                 .build();
  f4.resize(f4.size() + 6);  // Ethernet padding after the datagram is not part of it
  EXPECT_TRUE(inj->inject(f4));
  EXPECT_EQ(receive(fd4, &from), "hello v4");
  EXPECT_EQ(from, "10.0.1.2");

  Bytes f6 = PacketBuilder()
                 .eth(peer, self)
                 .ipv6("2001:db8:1::2", "2001:db8:2::100")
                 .udp(40000, 5300)
                 .payload("hello v6")
                 .build();
  EXPECT_TRUE(inj->inject(f6));
  EXPECT_EQ(receive(fd6, &from), "hello v6");
  EXPECT_EQ(from, "2001:db8:1::2");

  // Not IP, or too short: refused, nothing sent.
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(inj->inject(arp));
  EXPECT_FALSE(inj->inject(Bytes(f4.begin(), f4.begin() + 20)));
  close(fd4);
  close(fd6);
}

}  // namespace
}  // namespace sluice::io
