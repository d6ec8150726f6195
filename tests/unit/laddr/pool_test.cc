// FULLNAT local port pools: each <LIP, lport> held by one connection at a time, workers in
// disjoint slices, ports back when the table frees the connection, exhaustion refused.
#include "laddr/pool.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <set>
#include <vector>

#include "conn/conn_ops.h"

namespace sluice::laddr {
namespace {

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

TEST(PortRange, SlicesAreDisjointAndCoverTheRange) {
  const PortRange r{1024, 32767};
  uint32_t total = 0;
  uint32_t next = r.lo;
  for (unsigned i = 0; i < 7; ++i) {
    const PortRange s = r.slice(i, 7);
    EXPECT_EQ(s.lo, next);
    total += s.size();
    next = uint32_t(s.hi) + 1;
  }
  EXPECT_EQ(total, r.size());
  EXPECT_EQ(next, 32768u);
  // More parts than ports: some parts are empty, none overlap, all ports are given out.
  uint32_t small = 0;
  for (unsigned i = 0; i < 8; ++i) small += PortRange{10, 12}.slice(i, 8).size();
  EXPECT_EQ(small, 3u);
  EXPECT_EQ(PortRange({10, 12}).slice(0, 8).size(), 0u);
}

TEST(Pools, EachPortOnceUntilReleased) {
  Pools pools(1, PortRange{2000, 2009});
  const std::vector<net::IpAddr> laddrs = {ip("10.0.3.1")};
  std::set<uint16_t> got;
  for (int i = 0; i < 10; ++i) {
    sl_conn_ext e{};
    ASSERT_TRUE(pools.allocate(0, laddrs, &e)) << i;
    EXPECT_EQ(net::IpAddr::fromV4Bytes(e.addr), laddrs[0]);
    const uint16_t port = ntohs(e.port);
    EXPECT_GE(port, 2000);
    EXPECT_LE(port, 2009);
    EXPECT_TRUE(got.insert(port).second) << "port " << port << " given twice";
  }
  EXPECT_EQ(pools.inUse(laddrs[0]), 10u);
  sl_conn_ext e{};
  EXPECT_FALSE(pools.allocate(0, laddrs, &e)) << "exhausted";
  sl_conn_ext back{};
  std::memcpy(back.addr, laddrs[0].bytes.data(), 16);
  back.port = htons(2004);
  pools.release(SL_AF_V4, back);
  EXPECT_EQ(pools.inUse(laddrs[0]), 9u);
  ASSERT_TRUE(pools.allocate(0, laddrs, &e));
  EXPECT_EQ(ntohs(e.port), 2004) << "the one port free again";
  pools.release(SL_AF_V4, back);
  pools.release(SL_AF_V4, back);  // twice: counted once
  EXPECT_EQ(pools.inUse(laddrs[0]), 9u);
}

TEST(Pools, SecondAddressWhenTheFirstIsFull) {
  Pools pools(1, PortRange{5000, 5001});
  const std::vector<net::IpAddr> laddrs = {ip("10.0.3.1"), ip("10.0.3.2")};
  std::set<std::pair<std::string, uint16_t>> got;
  for (int i = 0; i < 4; ++i) {
    sl_conn_ext e{};
    ASSERT_TRUE(pools.allocate(0, laddrs, &e));
    got.insert({net::IpAddr::fromV4Bytes(e.addr).str(), ntohs(e.port)});
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(pools.inUse(laddrs[0]), 2u);
  EXPECT_EQ(pools.inUse(laddrs[1]), 2u);
  sl_conn_ext e{};
  EXPECT_FALSE(pools.allocate(0, laddrs, &e));
}

TEST(Pools, WorkersTakeOnlyFromTheirSlice) {
  Pools pools(2, PortRange{1000, 1099});
  const std::vector<net::IpAddr> laddrs = {ip("2001:db8:3::1")};
  for (unsigned w = 0; w < 2; ++w) {
    const PortRange r = pools.workerRange(w);
    for (int i = 0; i < 50; ++i) {
      sl_conn_ext e{};
      ASSERT_TRUE(pools.allocate(w, laddrs, &e));
      EXPECT_GE(ntohs(e.port), r.lo);
      EXPECT_LE(ntohs(e.port), r.hi);
    }
    sl_conn_ext e{};
    EXPECT_FALSE(pools.allocate(w, laddrs, &e)) << "worker " << w << "'s slice is full";
  }
  EXPECT_EQ(pools.inUse(laddrs[0]), 100u);
}

TEST(Pools, TheTableGivesPortsBackWhenItFreesAConnection) {
  conn::ConnTable table(64);
  Pools pools(1, PortRange{3000, 3001});
  table.setReleaseHook(&pools);
  const std::vector<net::IpAddr> laddrs = {ip("10.0.3.1")};
  conn::TimeoutTable timeouts;
  sl_conn_key k{};
  k.family = SL_AF_V4;
  k.proto = 6;
  k.kind = SL_KEY_CONN;
  k.cport = htons(40000);
  k.vport = htons(80);
  sl_conn_ext e{};
  ASSERT_TRUE(pools.allocate(0, laddrs, &e));
  sl_conn* c = conn::createConn(table, k, conn::Binding{0, 0, SL_FWD_FULLNAT}, timeouts, 1, nullptr, &e);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(table.ext(*c).port, e.port) << "the record travels with the entry";
  EXPECT_EQ(pools.inUse(laddrs[0]), 1u);
  EXPECT_TRUE(table.erase(k));
  EXPECT_EQ(pools.inUse(laddrs[0]), 0u);
  // Expiry gives it back too.
  ASSERT_TRUE(pools.allocate(0, laddrs, &e));
  c = conn::createConn(table, k, conn::Binding{0, 0, SL_FWD_FULLNAT}, timeouts, 1, nullptr, &e);
  ASSERT_NE(c, nullptr);
  table.expireSome(Nanos(3600) * kSecond, table.capacity());
  EXPECT_EQ(pools.inUse(laddrs[0]), 0u);
  // A restart over the same table takes the ports of the connections it finds.
  ASSERT_TRUE(pools.allocate(0, laddrs, &e));
  ASSERT_NE(conn::createConn(table, k, conn::Binding{0, 0, SL_FWD_FULLNAT}, timeouts, 1, nullptr, &e), nullptr);
  Pools fresh(1, PortRange{3000, 3001});
  fresh.adopt(table, 1);
  EXPECT_EQ(fresh.inUse(laddrs[0]), 1u);
}

}  // namespace
}  // namespace sluice::laddr
