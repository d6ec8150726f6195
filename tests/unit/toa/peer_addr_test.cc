// From the socket API's sockaddrs to the lookup tuple (v4-mapped normalised to IPv4) and
// back: the client written where the application asked for its peer, in the socket's
// family, truncated as the kernel truncates, *addrlen set to the full size.
#include "toa/peer_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>

namespace sluice::toa {
namespace {

sockaddr_in sin4(const char* a, uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  inet_pton(AF_INET, a, &s.sin_addr);
  return s;
}

sockaddr_in6 sin6(const char* a, uint16_t port) {
  sockaddr_in6 s{};
  s.sin6_family = AF_INET6;
  s.sin6_port = htons(port);
  inet_pton(AF_INET6, a, &s.sin6_addr);
  return s;
}

template <class S>
const sockaddr* sa(const S& s) { return reinterpret_cast<const sockaddr*>(&s); }

std::array<uint8_t, 16> addr16(int family, const char* a) {
  std::array<uint8_t, 16> out{};
  inet_pton(family, a, out.data());
  return out;
}

Client client4() { return {kFamilyV4, addr16(AF_INET, "203.0.113.7"), 4242}; }
Client client6() { return {kFamilyV6, addr16(AF_INET6, "2001:db8:99::7"), 4243}; }

TEST(ToaPeerAddr, TupleFromIpv4) {
  auto l = sin4("10.0.2.11", 80);
  auto p = sin4("10.0.2.10", 40001);
  auto t = tupleFromSockaddrs(sa(l), sizeof(l), sa(p), sizeof(p));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, kFamilyV4);
  EXPECT_EQ(t->local, addr16(AF_INET, "10.0.2.11"));
  EXPECT_EQ(t->peer, addr16(AF_INET, "10.0.2.10"));
  EXPECT_EQ(t->local_port, 80);
  EXPECT_EQ(t->peer_port, 40001);
}

TEST(ToaPeerAddr, TupleFromIpv6) {
  auto l = sin6("2001:db8:2::11", 80);
  auto p = sin6("2001:db8:2::10", 40001);
  auto t = tupleFromSockaddrs(sa(l), sizeof(l), sa(p), sizeof(p));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, kFamilyV6);
  EXPECT_EQ(t->peer, addr16(AF_INET6, "2001:db8:2::10"));
}

// A dual-stack listener's IPv4 connection is looked up as the IPv4 connection it is: the
// same tuple as on an AF_INET socket, which is the key the sockops program stored.
TEST(ToaPeerAddr, V4MappedIsNormalisedToIpv4) {
  auto l = sin6("::ffff:10.0.2.11", 80);
  auto p = sin6("::ffff:10.0.2.10", 40001);
  auto mapped = tupleFromSockaddrs(sa(l), sizeof(l), sa(p), sizeof(p));
  auto l4 = sin4("10.0.2.11", 80);
  auto p4 = sin4("10.0.2.10", 40001);
  auto plain = tupleFromSockaddrs(sa(l4), sizeof(l4), sa(p4), sizeof(p4));
  ASSERT_TRUE(mapped && plain);
  EXPECT_EQ(*mapped, *plain);
}

TEST(ToaPeerAddr, OtherSocketsGiveNoTuple) {
  auto l = sin4("10.0.2.11", 80);
  auto p6 = sin6("2001:db8:2::10", 40001);
  EXPECT_FALSE(tupleFromSockaddrs(sa(l), sizeof(l), sa(p6), sizeof(p6)));  // families differ
  EXPECT_FALSE(tupleFromSockaddrs(sa(l), sizeof(l) - 1, sa(l), sizeof(l)));  // too short
  EXPECT_FALSE(tupleFromSockaddrs(nullptr, 0, sa(l), sizeof(l)));
  sockaddr_un u{};
  u.sun_family = AF_UNIX;
  EXPECT_FALSE(tupleFromSockaddrs(sa(u), sizeof(u), sa(u), sizeof(u)));
}

TEST(ToaPeerAddr, WritesAnIpv4Client) {
  sockaddr_in out = sin4("10.0.2.10", 40001);
  socklen_t len = sizeof(out);
  ASSERT_EQ(writeClient(AF_INET, client4(), reinterpret_cast<sockaddr*>(&out), len, &len),
            Rewrite::kDone);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  char buf[INET_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET, &out.sin_addr, buf, sizeof(buf)), "203.0.113.7");
  EXPECT_EQ(ntohs(out.sin_port), 4242);
}

TEST(ToaPeerAddr, WritesAnIpv6Client) {
  sockaddr_in6 out{};
  socklen_t len = sizeof(out);
  ASSERT_EQ(writeClient(AF_INET6, client6(), reinterpret_cast<sockaddr*>(&out), len, &len),
            Rewrite::kDone);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(out.sin6_family, AF_INET6);
  char buf[INET6_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET6, &out.sin6_addr, buf, sizeof(buf)), "2001:db8:99::7");
  EXPECT_EQ(ntohs(out.sin6_port), 4243);
}

TEST(ToaPeerAddr, AnIpv4ClientOnAnIpv6SocketIsV4Mapped) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);  // more room than needed: the length is still sockaddr_in6's
  ASSERT_EQ(writeClient(AF_INET6, client4(), reinterpret_cast<sockaddr*>(&ss), len, &len),
            Rewrite::kDone);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  sockaddr_in6 out;
  std::memcpy(&out, &ss, sizeof(out));
  char buf[INET6_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET6, &out.sin6_addr, buf, sizeof(buf)), "::ffff:203.0.113.7");
  EXPECT_EQ(ntohs(out.sin6_port), 4242);
}

TEST(ToaPeerAddr, AnIpv6ClientOnAnIpv4SocketLeavesTheAddressAlone) {
  sockaddr_in out = sin4("10.0.2.10", 40001);
  const sockaddr_in before = out;
  socklen_t len = sizeof(out);
  EXPECT_EQ(writeClient(AF_INET, client6(), reinterpret_cast<sockaddr*>(&out), len, &len),
            Rewrite::kUnrepresentable);
  EXPECT_EQ(std::memcmp(&out, &before, sizeof(out)), 0);
  EXPECT_EQ(len, sizeof(out));
}

// As the kernel's move_addr_to_user(): the first `capacity` bytes only, nothing past
// them, and the full length back so the caller can tell it was cut.
TEST(ToaPeerAddr, AShortBufferIsTruncatedAndTheFullLengthReported) {
  uint8_t buf[32];
  std::memset(buf, 0xAA, sizeof(buf));
  socklen_t len = 6;  // family and port only
  ASSERT_EQ(writeClient(AF_INET, client4(), reinterpret_cast<sockaddr*>(buf), len, &len),
            Rewrite::kDone);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  sa_family_t fam;
  std::memcpy(&fam, buf, sizeof(fam));
  EXPECT_EQ(fam, AF_INET);
  EXPECT_EQ(buf[2], 4242 >> 8);
  EXPECT_EQ(buf[3], 4242 & 0xff);
  EXPECT_EQ(buf[4], 203);
  EXPECT_EQ(buf[5], 0);
  for (size_t i = 6; i < sizeof(buf); ++i) EXPECT_EQ(buf[i], 0xAA) << "byte " << i;

  socklen_t zero = 0;
  ASSERT_EQ(writeClient(AF_INET6, client6(), reinterpret_cast<sockaddr*>(buf), zero, &zero),
            Rewrite::kDone);
  EXPECT_EQ(zero, sizeof(sockaddr_in6));
  EXPECT_EQ(buf[6], 0xAA);
}

}  // namespace
}  // namespace sluice::toa
