// The whole director in memory: the ctl::Backend operations an operator issues, frames
// through the in-memory PacketIo, next hops from a fake source. Checks what the golden
// tests cannot see: next hops following neighbour changes, resolution requests, the
// listings, --set and -Z, and that every frame is handed back to the I/O exactly once.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <thread>

#include "common/clock.h"
#include "daemon/director.h"
#include "daemon/worker.h"
#include "io/mem_backend.h"
#include "support/packet_builder.h"

namespace sluice::daemon {
namespace {

using testing::PacketBuilder;
using testing::Bytes;
using testing::mac;
using testing::ip;

constexpr uint32_t kIf = 7;
const net::MacAddr kDir = mac("02:00:00:00:02:10");
const net::MacAddr kRouter = mac("02:00:00:00:02:01");

class FakeNextHops final : public NextHopSource {
 public:
  std::optional<NextHop> resolve(const net::IpAddr& rs) override {
    if (local.count(rs)) return NextHop{.local = true};
    auto it = macs.find(rs);
    if (it == macs.end()) return std::nullopt;
    return NextHop{kIf, kDir, it->second};
  }
  void request(const net::IpAddr& rs) override { requests.push_back(rs); }
  uint64_t version() const override { return ver; }

  std::map<net::IpAddr, net::MacAddr> macs;
  std::set<net::IpAddr> local;  // this host's own addresses
  std::vector<net::IpAddr> requests;
  uint64_t ver = 1;
};

class DirectorTest : public ::testing::Test {
 protected:
  DirectorTest() : io_(io::MemIo::Options{256, 4096, 256, {kIf}}) {
    hops_.macs[ip("10.0.2.11")] = mac("02:00:00:00:02:11");
    hops_.macs[ip("10.0.2.12")] = mac("02:00:00:00:02:12");
    director_ = std::make_unique<Director>(clock_, DirectorLimits{1024, 16, 64}, hops_);
  }

  svc::ServiceKey key() { return svc::ServiceKey{svc::Proto::kTcp, ip("10.0.2.100"), 80}; }
  void addRr() {
    svc::ServiceConfig s;
    s.key = key();
    s.scheduler = "rr";
    ASSERT_TRUE(director_->addService(s));
    // Each new real server goes to the head of the list (IPVS): added .12 then .11, rr
    // starts with RS 1 (.11).
    for (const char* rs : {"10.0.2.12:80", "10.0.2.11:80"}) {
      svc::DestConfig d;
      d.ep = *net::Endpoint::parse(rs);
      ASSERT_TRUE(director_->addDest(key(), d));
    }
  }
  // Sends one frame through the director; returns what it transmitted (empty if nothing).
  std::vector<io::MemIo::Frame> send(const Bytes& f) {
    EXPECT_TRUE(io_.inject(kIf, f));
    std::array<io::Packet, 8> pkts;
    size_t n = io_.rxBurst(pkts);
    Worker(*director_, 0, io_).processBatch(std::span(pkts.data(), n));
    EXPECT_EQ(io_.buffersOnLoan(), 0u);
    EXPECT_EQ(io_.misuse(), 0u);
    return io_.takeTransmitted();
  }
  static Bytes tcp(uint16_t sport, uint8_t flags) {
    return PacketBuilder().eth(kRouter, kDir).ipv4("10.0.1.2", "10.0.2.100").tcp(sport, 80, flags).build();
  }
  static net::MacAddr dst(const io::MemIo::Frame& f) {
    net::MacAddr m;
    std::memcpy(m.data(), f.bytes.data(), 6);
    return m;
  }

  ManualClock clock_;
  FakeNextHops hops_;
  io::MemIo io_;
  std::unique_ptr<Director> director_;
};

TEST_F(DirectorTest, ForwardsAndFollowsNeighbourChanges) {
  addRr();
  auto out = send(tcp(1000, net::kTcpSyn));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ifindex, kIf);
  EXPECT_EQ(dst(out[0]), mac("02:00:00:00:02:11"));
  // RS 1 moves to another MAC: the kernel's neighbour table changes, the director follows.
  hops_.macs[ip("10.0.2.11")] = mac("02:00:00:00:0a:11");
  hops_.ver++;
  director_->housekeeping();
  out = send(tcp(1000, net::kTcpAck));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(dst(out[0]), mac("02:00:00:00:0a:11"));
}

TEST_F(DirectorTest, UnresolvedRealServerIsRequestedThenUsed) {
  hops_.macs.erase(ip("10.0.2.11"));
  addRr();
  EXPECT_FALSE(hops_.requests.empty()) << "adding an unresolved dest asks the kernel at once";
  hops_.requests.clear();
  EXPECT_TRUE(send(tcp(2000, net::kTcpSyn)).empty());
  EXPECT_EQ(director_->slowPathCounters()[dp::Counter::kNoNeighbour], 1u);
  director_->housekeeping();  // the worker's request is served on the control side
  EXPECT_EQ(hops_.requests.size(), 1u);
  hops_.macs[ip("10.0.2.11")] = mac("02:00:00:00:02:11");
  hops_.ver++;
  director_->housekeeping();
  auto out = send(tcp(2001, net::kTcpSyn));  // rr: RS 2 (RS 1 was chosen and dropped above)
  out = send(tcp(2002, net::kTcpSyn));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(dst(out[0]), mac("02:00:00:00:02:11"));
}

// A real server at one of this host's own addresses (the director is also a real server,
// IPVS's LOCALNODE): nothing to resolve, its connections' frames go up the local stack
// through the backend's deliverLocal(), never out of the interface to our own MAC. The
// address becoming local later (added to the host) is followed at the next refresh.
TEST_F(DirectorTest, LocalRealServerIsDeliveredToTheStack) {
  hops_.local.insert(ip("10.0.2.11"));
  addRr();
  EXPECT_TRUE(hops_.requests.empty()) << "a local address is not resolved";
  const Bytes syn = tcp(2100, net::kTcpSyn);
  EXPECT_TRUE(send(syn).empty());  // rr: RS 1 first, the local one
  auto local = io_.takeDeliveredLocal();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].bytes, syn) << "up the stack unchanged";
  EXPECT_EQ(send(tcp(2101, net::kTcpSyn)).size(), 1u);  // RS 2: forwarded as usual
  EXPECT_TRUE(send(tcp(2100, net::kTcpAck)).empty());
  EXPECT_EQ(io_.takeDeliveredLocal().size(), 1u);
  EXPECT_EQ(io_.stats().local, 2u);
  EXPECT_EQ(director_->slowPathCounters()[dp::Counter::kLocalDelivered], 2u);
  EXPECT_EQ(director_->slowPathCounters()[dp::Counter::kNoNeighbour], 0u);
  auto svcs = director_->listServices(std::nullopt);
  ASSERT_TRUE(svcs);
  EXPECT_EQ((*svcs)[0].stats.inpkts, 3u);
  // Listed as ipvsadm lists a LOCALNODE real server: "Local" (RS 1 is listed first).
  ASSERT_EQ((*svcs)[0].dests.size(), 2u);
  EXPECT_EQ((*svcs)[0].dests[0].cfg.ep.addr, ip("10.0.2.11"));
  EXPECT_EQ((*svcs)[0].dests[0].cfg.fwd, svc::FwdMethod::kLocal);
  EXPECT_EQ((*svcs)[0].dests[1].cfg.fwd, svc::FwdMethod::kDr);

  // RS 2's address becomes this host's: its next connection goes to the stack too.
  hops_.local.insert(ip("10.0.2.12"));
  hops_.ver++;
  director_->housekeeping();
  EXPECT_TRUE(send(tcp(2102, net::kTcpSyn)).empty());
  EXPECT_TRUE(send(tcp(2103, net::kTcpSyn)).empty());
  EXPECT_EQ(io_.takeDeliveredLocal().size(), 2u);
}

TEST_F(DirectorTest, ListingsTimeoutsAndZero) {
  addRr();
  send(tcp(3000, net::kTcpSyn));
  send(tcp(3000, net::kTcpAck));
  send(tcp(3001, net::kTcpSyn));
  auto svcs = director_->listServices(std::nullopt);
  ASSERT_TRUE(svcs);
  ASSERT_EQ(svcs->size(), 1u);
  const auto& s = (*svcs)[0];
  EXPECT_EQ(s.stats.conns, 2u);
  EXPECT_EQ(s.stats.inpkts, 3u);
  ASSERT_EQ(s.dests.size(), 2u);
  EXPECT_EQ(s.dests[0].active, 1u);
  EXPECT_EQ(s.dests[1].active, 1u);

  auto conns = director_->listConns();
  ASSERT_EQ(conns.size(), 2u);
  for (const auto& c : conns) {
    EXPECT_EQ(c.vip.str(), "10.0.2.100:80");
    EXPECT_EQ(c.client.addr.str(), "10.0.1.2");
  }
  ASSERT_TRUE(director_->setTimeouts(svc::Timeouts{100, 0, 0}));
  auto t = director_->timeouts();
  EXPECT_EQ(t.tcp, 100u);
  EXPECT_EQ(t.tcp_fin, 120u);
  EXPECT_EQ(t.udp, 300u);
  send(tcp(3000, net::kTcpAck));
  bool found = false;
  for (const auto& c : director_->listConns())
    if (c.client.port == 3000) {
      found = true;
      EXPECT_EQ(c.state, "ESTABLISHED");
      EXPECT_LE(c.expire_s, 100u);
    }
  EXPECT_TRUE(found);

  ASSERT_TRUE(director_->zero(std::nullopt));
  svcs = director_->listServices(std::nullopt);
  EXPECT_EQ((*svcs)[0].stats.inpkts, 0u);
  EXPECT_FALSE(director_->zero(svc::ServiceKey{svc::Proto::kUdp, ip("10.9.9.9"), 1}));
}

// NAT through the whole director: the forwarding records carry the service's address (the
// dest writer fills it), the reply goes to the kernel to route (the backend's local
// injection), and the reply twin is neither listed nor counted as a connection.
TEST_F(DirectorTest, NatRepliesAreRoutedAndTwinsAreNotConnections) {
  svc::ServiceConfig s;
  s.key = key();
  s.scheduler = "rr";
  ASSERT_TRUE(director_->addService(s));
  svc::DestConfig d;
  d.ep = *net::Endpoint::parse("10.0.2.11:8080");
  d.fwd = svc::FwdMethod::kNat;
  ASSERT_TRUE(director_->addDest(key(), d));

  auto tx = send(tcp(3000, net::kTcpSyn));
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].bytes, PacketBuilder().eth(kDir, mac("02:00:00:00:02:11"))
                             .ipv4("10.0.1.2", "10.0.2.11").tcp(3000, 8080, net::kTcpSyn).build());
  const net::MacAddr rs_mac = mac("02:00:00:00:02:11");
  EXPECT_TRUE(send(PacketBuilder().eth(rs_mac, kDir).ipv4("10.0.2.11", "10.0.1.2")
                       .tcp(8080, 3000, net::kTcpSyn | net::kTcpAck).build()).empty());
  auto routed = io_.takeDeliveredLocal();
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0].bytes, PacketBuilder().eth(rs_mac, kDir).ipv4("10.0.2.100", "10.0.1.2")
                                 .tcp(80, 3000, net::kTcpSyn | net::kTcpAck).build());

  auto conns = director_->listConns();
  ASSERT_EQ(conns.size(), 1u) << "the reply twin is not a connection";
  EXPECT_EQ(conns[0].state, "SYN_RECV");
  auto svcs = director_->listServices(std::nullopt);
  ASSERT_TRUE(svcs);
  const auto& l = (*svcs)[0];
  EXPECT_EQ(l.stats.conns, 1u);
  EXPECT_EQ(l.stats.outpkts, 1u);
  ASSERT_EQ(l.dests.size(), 1u);
  EXPECT_EQ(l.dests[0].active + l.dests[0].inactive, 1u);
}

// The XDP program looks replies up only while a NAT real server exists, deleted ones
// included (their connections still get replies).
TEST(DirectorFastPath, NatRepliesFlagFollowsTheNatRealServers) {
  std::vector<sl_conn> conns(1024);
  std::vector<sl_dest> dests(64);
  std::vector<sl_dest_counts> counts(64);
  std::vector<sl_stats> stats(64);
  sl_dp_config cfg{};
  SharedTables shared{conns, dests, counts, stats, 1, &cfg};
  ManualClock clock;
  FakeNextHops hops;
  Director director(clock, DirectorLimits{1024, 16, 64}, hops, nullptr, &shared);
  svc::ServiceConfig s;
  s.key = svc::ServiceKey{svc::Proto::kTcp, ip("10.0.2.100"), 80};
  s.scheduler = "rr";
  ASSERT_TRUE(director.addService(s));
  svc::DestConfig dr;
  dr.ep = *net::Endpoint::parse("10.0.2.12:80");
  ASSERT_TRUE(director.addDest(s.key, dr));
  EXPECT_EQ(cfg.nat_replies, 0u) << "DR only: nobody pays the reply lookup";
  svc::DestConfig nat;
  nat.ep = *net::Endpoint::parse("10.0.2.11:8080");
  nat.fwd = svc::FwdMethod::kNat;
  ASSERT_TRUE(director.addDest(s.key, nat));
  EXPECT_EQ(cfg.nat_replies, 1u);
  // Its record names the service, for the replies.
  bool named = false;
  for (const sl_dest& d : dests)
    if ((d.flags & SL_DEST_F_LIVE) && d.fwd == SL_FWD_NAT)
      named = std::memcmp(d.vaddr, ip("10.0.2.100").bytes.data(), 16) == 0 && ntohs(d.vport) == 80;
  EXPECT_TRUE(named);
}

// FULLNAT local addresses through the Director (the one mutation path), listed with the
// ports in use that the settable hook reports (the data path's port pools answer it).
TEST_F(DirectorTest, LocalAddressesAndTheirPortsInUse) {
  addRr();
  const svc::LocalAddress a{ip("10.0.2.200"), "eth1"}, b{ip("10.0.2.201"), ""};
  ASSERT_TRUE(director_->addLaddr(key(), a).ok());
  ASSERT_TRUE(director_->apply(svc::AddLaddr{key(), b}).ok());
  auto l = director_->listServices(key());
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->at(0).laddrs.size(), 2u);
  EXPECT_EQ(l->at(0).laddrs[0].conns, 0u) << "no connection yet";

  uint32_t svc_id = UINT32_MAX;
  director_->setLaddrConnsSource([&](uint32_t id, const net::IpAddr& addr) -> uint64_t {
    svc_id = id;
    return addr == ip("10.0.2.200") ? 40000 : 3;
  });
  l = director_->listServices(std::nullopt);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->at(0).laddrs[0].laddr, a);
  EXPECT_EQ(l->at(0).laddrs[0].conns, 40000u);
  EXPECT_EQ(l->at(0).laddrs[1].conns, 3u);
  EXPECT_EQ(svc_id, director_->services().get(key())->svc_id);
  // The data path's view follows.
  EXPECT_EQ(director_->services().snapshot()->serviceView(6, ip("10.0.2.100"), 80)->laddrs.size(), 2u);

  Status st = director_->delLaddr(key(), {ip("10.0.2.9"), ""});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "No such local address");
  ASSERT_TRUE(director_->delLaddr(key(), a).ok());
  EXPECT_EQ(director_->listServices(key())->at(0).laddrs.size(), 1u);
  // A FULLNAT real server is accepted now (with or without local addresses).
  svc::DestConfig f;
  f.ep = *net::Endpoint::parse("10.0.2.13:8080");
  f.fwd = svc::FwdMethod::kFullNat;
  EXPECT_TRUE(director_->addDest(key(), f).ok());
}

// The local addresses are checked against the host's once each, with a warning for one that
// is not the host's; a FULLNAT connection leaves from the first of them, and sluiceadm -G's
// CONNS counts its port (the pools answer it by default).
TEST_F(DirectorTest, FullNatLocalAddressesAreCheckedAndTheirPortsCounted) {
  std::vector<net::IpAddr> asked;
  director_->setLocalAddressCheck([&](const net::IpAddr& a) {
    asked.push_back(a);
    return a == ip("10.0.2.201");
  });
  svc::ServiceConfig s;
  s.key = key();
  s.scheduler = "rr";
  ASSERT_TRUE(director_->addService(s));
  svc::DestConfig d;
  d.ep = *net::Endpoint::parse("10.0.2.11:80");
  d.fwd = svc::FwdMethod::kFullNat;
  ASSERT_TRUE(director_->addDest(key(), d));
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(director_->addLaddr(key(), {ip("10.0.2.200"), ""}).ok());
  ASSERT_TRUE(director_->addLaddr(key(), {ip("10.0.2.201"), ""}).ok());
  svc::ServiceConfig other = s;
  other.key.port = 81;
  ASSERT_TRUE(director_->addService(other));
  ASSERT_TRUE(director_->addLaddr(other.key, {ip("10.0.2.200"), ""}).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("local address 10.0.2.200 of 10.0.2.100:80 is not an address of this host"),
            std::string::npos) << log;
  EXPECT_EQ(log.find("10.0.2.201"), std::string::npos) << log;
  EXPECT_EQ(asked.size(), 2u) << "each address is checked once";

  auto out = send(tcp(40000, net::kTcpSyn));
  ASSERT_EQ(out.size(), 1u);
  const net::ParseResult pr = net::parseFrame(out[0].bytes);
  ASSERT_EQ(int(pr.status), int(net::ParseStatus::kOk));
  EXPECT_EQ(pr.pkt.saddr, ip("10.0.2.200"));
  EXPECT_EQ(pr.pkt.daddr, ip("10.0.2.11"));
  auto l = director_->listServices(key());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->at(0).laddrs.at(0).conns, 1u);
  EXPECT_EQ(l->at(0).laddrs.at(1).conns, 0u);
}

TEST_F(DirectorTest, ConnectionExpiryIsListedInWholeSecondsRoundedDown) {
  addRr();
  send(tcp(5000, net::kTcpSyn));
  send(tcp(5000, net::kTcpAck));  // ESTABLISHED: 900 s from now
  auto expiry = [&] {
    for (const auto& c : director_->listConns())
      if (c.client.port == 5000) return c.expire_s;
    ADD_FAILURE() << "connection not listed";
    return 0u;
  };
  EXPECT_EQ(expiry(), 900u);
  // As /proc/net/ip_vs_conn: (expires - jiffies) / HZ, so 899.5 s left shows as 899.
  clock_.advance(kSecond / 2);
  EXPECT_EQ(expiry(), 899u);
  clock_.advance(kSecond / 2 - 1);
  EXPECT_EQ(expiry(), 899u);
}

TEST_F(DirectorTest, DeletedServiceKeepsItsConnectionsUntilTheyEnd) {
  addRr();
  send(tcp(4000, net::kTcpSyn));
  ASSERT_TRUE(director_->delService(key()));
  // IPVS keeps the connections of a deleted service (their dests go to the trash, no
  // longer available) until they expire, but forwards none of their packets
  // (ip_vs_in: "the destination server is not available"); new ones are not ours any more.
  auto out = send(tcp(4000, net::kTcpAck));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(director_->listConns().size(), 1u);
  EXPECT_TRUE(send(tcp(4001, net::kTcpSyn)).empty());
  EXPECT_EQ(io_.takePassed().size(), 1u);
}

// -Lnc shows a persistence template as ipvsadm does: NONE until a connection it controls
// is established, then ASSURED (ip_vs_ctpl_state_name_table).
TEST_F(DirectorTest, TemplatesShowNoneThenAssured) {
  svc::ServiceConfig s;
  s.key = key();
  s.scheduler = "rr";
  s.persistent = true;
  s.persistence_timeout = 300;
  ASSERT_TRUE(director_->addService(s));
  svc::DestConfig d;
  d.ep = *net::Endpoint::parse("10.0.2.11:80");
  ASSERT_TRUE(director_->addDest(key(), d));
  auto templateState = [&] {
    for (const auto& c : director_->listConns())
      if (c.is_template) return c.state;
    return std::string("(no template)");
  };
  send(tcp(4100, net::kTcpSyn));
  EXPECT_EQ(templateState(), "NONE");
  send(tcp(4100, net::kTcpAck));
  EXPECT_EQ(templateState(), "ASSURED");
}

// The XDP steering map can refuse a service (full, or the kernel says no): the command that
// added it must fail and say so, not report success while the service's packets go to
// the kernel stack.
TEST(DirectorSteering, ARefusedSteeringMapUpdateFailsTheCommand) {
  class Refusing final : public ServiceListener {
   public:
    Status servicesChanged(const svc::Snapshot& snap) override {
      calls++;
      if (refuse && !snap.services().empty()) return makeError("map full (E2BIG)");
      return {};
    }
    bool refuse = true;
    int calls = 0;
  } listener;
  ManualClock clock;
  FakeNextHops hops;
  Director director(clock, DirectorLimits{1024, 16, 64}, hops, &listener);
  svc::ServiceConfig s;
  s.key = svc::ServiceKey{svc::Proto::kTcp, ip("10.0.2.100"), 80};
  s.scheduler = "rr";
  Status st = director.addService(s);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("map full (E2BIG)"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("in the configuration"), std::string::npos) << st.error().message;
  listener.refuse = false;
  svc::DestConfig d;
  d.ep = *net::Endpoint::parse("10.0.2.11:80");
  EXPECT_TRUE(director.addDest(s.key, d)) << "the next change succeeds once the map takes it";
  EXPECT_EQ(listener.calls, 2);
}

// Four workers, each with its own PacketIo and Datapath, receive the SYNs of the same 400
// flows at once (as a SYN and its retransmission may land on two queues): every flow gets
// one entry, rr alternates exactly (scheduling happens under the table's writer lock), and
// the listings sum what the workers counted.
TEST_F(DirectorTest, WorkersRacingOnTheSameFlowsCreateEachFlowOnce) {
  constexpr unsigned kWorkers = 4;
  constexpr uint16_t kFlows = 400;
  DirectorLimits limits{4096, 16, 64};
  limits.workers = kWorkers;
  director_ = std::make_unique<Director>(clock_, limits, hops_);
  ASSERT_EQ(director_->workers(), kWorkers);
  addRr();
  std::vector<std::unique_ptr<io::MemIo>> ios;
  for (unsigned w = 0; w < kWorkers; ++w)
    ios.push_back(std::make_unique<io::MemIo>(io::MemIo::Options{kFlows + 8, 2048, 256, {kIf}}));
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      io::MemIo& io = *ios[w];
      Worker worker(*director_, w, io);
      // Each worker walks the flows from its own starting point.
      for (uint16_t n = 0; n < kFlows; ++n) {
        uint16_t sport = uint16_t(10000 + (n + w * 97) % kFlows);
        EXPECT_TRUE(io.inject(kIf, tcp(sport, net::kTcpSyn)));
        std::array<io::Packet, 8> pkts;
        size_t got = io.rxBurst(pkts);
        worker.processBatch(std::span(pkts.data(), got));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& io : ios) {
    EXPECT_EQ(io->takeTransmitted().size(), kFlows) << "every SYN is forwarded";
    EXPECT_EQ(io->buffersOnLoan(), 0u);
  }
  EXPECT_EQ(director_->listConns().size(), kFlows);
  dp::Counters c = director_->slowPathCounters();
  EXPECT_EQ(c[dp::Counter::kConnNew], kFlows);
  EXPECT_EQ(c[dp::Counter::kTxPackets], kWorkers * kFlows);
  auto list = director_->listServices(std::nullopt);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  const auto& s = list->front();
  EXPECT_EQ(s.stats.conns, kFlows);
  EXPECT_EQ(s.stats.inpkts, kWorkers * kFlows);
  ASSERT_EQ(s.dests.size(), 2u);
  EXPECT_EQ(s.dests[0].active + s.dests[0].inactive, kFlows / 2);
  EXPECT_EQ(s.dests[1].active + s.dests[1].inactive, kFlows / 2);
  EXPECT_EQ(s.dests[0].stats.conns, kFlows / 2);
  EXPECT_EQ(s.dests[1].stats.conns, kFlows / 2);
}

}  // namespace
}  // namespace sluice::daemon
