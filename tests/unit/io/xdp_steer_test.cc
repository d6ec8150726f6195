// The steering program in a kernel: loaded, attached to a veth in native mode inside a
// throw-away namespace, and run with BPF_PROG_TEST_RUN on hand-built frames.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "io/afxdp.h"
#include "io/xdp_loader.h"
#include "unit/io/frames.h"
#include "unit/io/netns_fixture.h"

namespace sluice::io {
namespace {

using namespace sluice::io::testing;
using net::IpAddr;

class XdpSteer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!netnsAvailable()) GTEST_SKIP() << "needs root and network namespaces";
    ns_ = std::make_unique<Netns>("xdp");
    ASSERT_TRUE(ns_->ok());
    // The counters are compared exactly: keep the kernel's own IPv6 chatter (MLD, ND) off
    // the link.
    ASSERT_TRUE(ns_->exec("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                          "net.ipv6.conf.default.disable_ipv6=1"));
    ASSERT_TRUE(ns_->exec("ip link add io-x0 type veth peer name io-x1"));
    ASSERT_TRUE(ns_->exec("ip link set io-x0 up"));
    ASSERT_TRUE(ns_->exec("ip link set io-x1 up"));
    enter_ = std::make_unique<EnterNetns>(*ns_);
    ASSERT_TRUE(enter_->ok());
    ifindex_ = if_nametoindex("io-x0");
    ASSERT_NE(ifindex_, 0u);
    auto p = SteerProgram::load();
    ASSERT_TRUE(p) << p.error().message;
    prog_ = std::move(*p);
    Status st = prog_->attach(ifindex_, XdpMode::kNative);
    ASSERT_TRUE(st) << st.error().message;
  }
  void TearDown() override {
    io_.reset();
    prog_.reset();
    enter_.reset();
    ns_.reset();
  }

  // Runs the program on `frame` as if it arrived on io-x0 queue 0.
  int run(std::vector<uint8_t> frame) {
    xdp_md ctx{};
    ctx.data_end = uint32_t(frame.size());
    ctx.ingress_ifindex = ifindex_;
    ctx.rx_queue_index = 0;
    std::vector<uint8_t> out(frame.size() + 512);
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = frame.data();
    opts.data_size_in = uint32_t(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = uint32_t(out.size());
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
    opts.repeat = 1;
    int err = bpf_prog_test_run_opts(prog_->programFd(), &opts);
    EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN failed: " << strerror(-err);
    return err ? -1 : int(opts.retval);
  }

  void openSocket() {
    AfXdpOptions o;
    o.ifindexes = {ifindex_};
    o.ring_size = 256;
    auto io = AfXdpIo::open(o, prog_.get());
    ASSERT_TRUE(io) << io.error().message;
    io_ = std::move(*io);
  }

  FrameSpec v4(uint16_t dport, uint8_t proto = 17) {
    FrameSpec s;
    s.saddr = *IpAddr::parse("10.66.0.1");
    s.daddr = vip_;
    s.dport = dport;
    s.proto = proto;
    return s;
  }

  std::unique_ptr<Netns> ns_;
  std::unique_ptr<EnterNetns> enter_;
  std::unique_ptr<SteerProgram> prog_;
  std::unique_ptr<AfXdpIo> io_;
  uint32_t ifindex_ = 0;
  IpAddr vip_ = *IpAddr::parse("10.66.0.100");
};

TEST_F(XdpSteer, AttachedInNativeModeAndVisibleToTheKernel) {
  EXPECT_EQ(prog_->attachedMode(ifindex_), XdpMode::kNative);
  EXPECT_NE(ns_->out("ip -d link show io-x0").find("xdp"), std::string::npos);
  // A second program cannot silently replace ours.
  auto other = SteerProgram::load();
  ASSERT_TRUE(other);
  EXPECT_FALSE((*other)->attach(ifindex_, XdpMode::kNative));
}

TEST_F(XdpSteer, ServiceTrafficIsRedirectedEverythingElsePasses) {
  ASSERT_TRUE(prog_->addService(vip_, 17, 53));
  ASSERT_TRUE(prog_->addService(vip_, 6, 80));
  openSocket();
  EXPECT_EQ(run(buildFrame(v4(53))), XDP_REDIRECT);
  EXPECT_EQ(run(buildFrame(v4(80, 6))), XDP_REDIRECT);
  EXPECT_EQ(run(buildFrame(v4(54))), XDP_PASS);       // other port
  EXPECT_EQ(run(buildFrame(v4(80, 17))), XDP_PASS);   // UDP to a TCP service
  EXPECT_EQ(run(buildArpRequest(vip_)), XDP_PASS);
  auto other = v4(53);
  other.daddr = *IpAddr::parse("10.66.0.101");
  EXPECT_EQ(run(buildFrame(other)), XDP_PASS);
  auto later_frag = v4(53);
  later_frag.frag_off = 100;
  EXPECT_EQ(run(buildFrame(later_frag)), XDP_PASS);
  auto truncated = buildFrame(v4(53));
  truncated.resize(14 + 20 + 2);  // ports cut off: dropped, as the slow path would
  EXPECT_EQ(run(truncated), XDP_DROP);

  auto stats = prog_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->steered(), 2u);
  EXPECT_EQ(stats->v[SL_STEER_PASS_NOT_IP], 1u);
  EXPECT_EQ(stats->v[SL_STEER_PASS_FRAGMENT], 1u);
  EXPECT_EQ(stats->v[SL_STEER_PASS_MALFORMED], 1u);
  EXPECT_EQ(stats->v[SL_STEER_PASS_NO_MATCH], 3u);

  ASSERT_TRUE(prog_->removeService(vip_, 17, 53));
  EXPECT_EQ(run(buildFrame(v4(53))), XDP_PASS);
}

TEST_F(XdpSteer, VlanTaggedAndIpv6AndPortZeroServices) {
  auto vip6 = *IpAddr::parse("2001:db8::100");
  ASSERT_TRUE(prog_->addService(vip_, 6, 443));
  ASSERT_TRUE(prog_->addService(vip6, 6, 0));  // every port
  openSocket();
  auto one = v4(443, 6);
  one.vlans = {10};
  EXPECT_EQ(run(buildFrame(one)), XDP_REDIRECT);
  auto two = v4(443, 6);
  two.vlans = {100, 10};
  EXPECT_EQ(run(buildFrame(two)), XDP_REDIRECT);
  auto three = v4(443, 6);
  three.vlans = {1, 2, 3};  // deeper than both paths accept: vlan_too_deep
  EXPECT_EQ(run(buildFrame(three)), XDP_DROP);

  FrameSpec s6;
  s6.saddr = *IpAddr::parse("2001:db8::1");
  s6.daddr = vip6;
  s6.proto = 6;
  for (uint16_t port : {1, 80, 65535}) {
    s6.dport = port;
    EXPECT_EQ(run(buildFrame(s6)), XDP_REDIRECT) << port;
  }
  s6.proto = 17;  // the port-0 service is TCP only
  EXPECT_EQ(run(buildFrame(s6)), XDP_PASS);
}

TEST_F(XdpSteer, ServiceWithoutASocketPassesToTheKernel) {
  ASSERT_TRUE(prog_->addService(vip_, 17, 53));
  EXPECT_EQ(run(buildFrame(v4(53))), XDP_PASS);
  auto stats = prog_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->v[SL_STEER_PASS_NO_SOCKET], 1u);
  openSocket();
  EXPECT_EQ(run(buildFrame(v4(53))), XDP_REDIRECT);
  io_.reset();  // the socket leaves the XSKMAP with the backend
  EXPECT_EQ(run(buildFrame(v4(53))), XDP_PASS);
}

TEST_F(XdpSteer, DetachRemovesTheProgram) {
  ASSERT_TRUE(prog_->detach(ifindex_));
  EXPECT_FALSE(prog_->attachedMode(ifindex_));
  EXPECT_EQ(ns_->out("ip -d link show io-x0").find("prog/xdp"), std::string::npos);
  EXPECT_TRUE(prog_->attach(ifindex_, XdpMode::kGeneric));
  EXPECT_EQ(prog_->attachedMode(ifindex_), XdpMode::kGeneric);
}

TEST_F(XdpSteer, ProgramLeavesWithAProcessThatDiesWithoutCleaningUp) {
  ASSERT_TRUE(prog_->detach(ifindex_));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // still in the test namespace: attach, then die without destructors
    auto p = SteerProgram::load();
    _exit(p && (*p)->attach(ifindex_, XdpMode::kNative) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not attach";
  // The link closed with the process; give the kernel a moment to release it.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = ns_->out("ip -d link show io-x0").find("prog/xdp") == std::string::npos;
    if (!gone) usleep(20000);
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(prog_->attach(ifindex_, XdpMode::kNative));
}

TEST(XdpLoader, MissingObjectFileIsAClearError) {
  auto p = SteerProgram::load("/nonexistent/steer.bpf.o");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("/nonexistent/steer.bpf.o"), std::string::npos);
}

}  // namespace
}  // namespace sluice::io
