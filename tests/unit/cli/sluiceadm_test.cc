// sluiceadm end to end minus the socket: the real argument parser, client, protocol
// encoding, dispatch and formatting, against the in-memory FakeBackend.
#include "cli/sluiceadm.h"

#include <gtest/gtest.h>

#include <sstream>

#include "support/ctl_fake_backend.h"

namespace sluice::cli {
namespace {

class SluiceadmTest : public ::testing::Test {
 protected:
  int run(const std::string& line, const std::string& input = "") {
    std::istringstream words(line);
    std::vector<std::string> args;
    std::string w;
    while (words >> w) args.push_back(w);
    in_.str(input);
    in_.clear();
    out_.str("");
    err_.str("");
    CliEnv env{in_, out_, err_, kDefaultSocket, nullptr, "sluiceadm"};
    env.connect = [this](const std::string& path) -> Result<std::unique_ptr<ctl::Transport>> {
      connected_path_ = path;
      if (path == "/nonexistent/sock") return makeError("Could not connect to sluiced at {}: No such file or directory", path);
      return std::unique_ptr<ctl::Transport>(new ctl::DirectTransport(backend_));
    };
    return runSluiceadm(args, env);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  testing::FakeBackend backend_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  std::string connected_path_;
};

TEST_F(SluiceadmTest, AddListDelete) {
  ASSERT_EQ(run("-A -t 10.20.0.100:80 -s wlc -p 300 -M 255.255.255.0"), 0) << err();
  ASSERT_EQ(run("-a -t 10.20.0.100:80 -r 192.168.10.11:80 -g -w 100"), 0) << err();
  ASSERT_EQ(run("-a -t 10.20.0.100:80 -r 192.168.10.12 -i -w 100"), 0) << err();
  backend_.services[0].dests[0].active = 12;
  backend_.services[0].dests[0].inactive = 240;
  ASSERT_EQ(run("-Ln"), 0) << err();
  EXPECT_EQ(out(),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.20.0.100:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 192.168.10.11:80             Route   100    12         240       \n"
            "  -> 192.168.10.12:80             Tunnel  100    0          0         \n");
  // One service: no version header, like ipvsadm's list_service.
  ASSERT_EQ(run("-L -n -t 10.20.0.100:80"), 0);
  EXPECT_EQ(out().rfind("Prot LocalAddress:Port Scheduler Flags\n", 0), 0u);
  ASSERT_EQ(run("-d -t 10.20.0.100:80 -r 192.168.10.12"), 0) << err();
  EXPECT_EQ(backend_.services[0].dests.size(), 1u);
  ASSERT_EQ(run("-D -t 10.20.0.100:80"), 0) << err();
  EXPECT_TRUE(backend_.services.empty());
  EXPECT_EQ(connected_path_, kDefaultSocket);
}

TEST_F(SluiceadmTest, DaemonRefusalsExitTwoWithItsMessage) {
  EXPECT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.1"), 2);
  EXPECT_EQ(err(), "Service not defined\n");
  EXPECT_EQ(run("-D -t 10.0.0.1:80"), 2);
  EXPECT_EQ(err(), "No such service\n");
  EXPECT_EQ(run("-L -n -t 10.0.0.1:80"), 2);
  EXPECT_EQ(err(), "No such service\n");
  EXPECT_EQ(out(), "");
}

TEST_F(SluiceadmTest, ParseRefusalsNeverReachTheDaemon) {
  EXPECT_EQ(run("-A -t 10.0.0.1:80 -c"), 2);
  EXPECT_EQ(err(), "Illegal 'connection' option with the 'add-service' command\n");
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_TRUE(connected_path_.empty());
}

TEST_F(SluiceadmTest, SocketOptionAndConnectFailure) {
  EXPECT_EQ(run("--socket /nonexistent/sock -Ln"), 2);
  EXPECT_EQ(err(), "Could not connect to sluiced at /nonexistent/sock: No such file or directory\n");
  EXPECT_EQ(run("-Ln --socket=/tmp/other.sock"), 0) << err();
  EXPECT_EQ(connected_path_, "/tmp/other.sock");
  EXPECT_EQ(run("-Ln --socket"), 2);
}

TEST_F(SluiceadmTest, HelpNeedsNoDaemon) {
  EXPECT_EQ(run("-h"), 0);
  EXPECT_NE(out().find("--socket PATH"), std::string::npos);
  EXPECT_NE(out().find("-b, --fullnat"), std::string::npos);
  EXPECT_TRUE(connected_path_.empty());
}

TEST_F(SluiceadmTest, SaveThenRestoreRoundTrips) {
  ASSERT_EQ(run("-A -u 10.20.0.53:53 -s rr -o"), 0) << err();
  ASSERT_EQ(run("-a -u 10.20.0.53:53 -r 192.168.10.21:5353 -m -w 3"), 0) << err();
  ASSERT_EQ(run("-A -f 7 -s sh -b sh-fallback,sh-port -p 60"), 0) << err();
  ASSERT_EQ(run("-a -f 7 -r 172.16.1.11 -b"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  std::string saved = out();
  EXPECT_EQ(saved,
            "-A -u 10.20.0.53:53 -s rr -o\n"
            "-a -u 10.20.0.53:53 -r 192.168.10.21:5353 -m -w 3\n"
            "-A -f 7 -s sh -p 60 -b sh-fallback,sh-port\n"
            "-a -f 7 -r 172.16.1.11:0 -b -w 1\n");
  ASSERT_EQ(run("-C"), 0);
  EXPECT_TRUE(backend_.services.empty());
  ASSERT_EQ(run("-R", "# saved table\n\n" + saved), 0) << err();
  ASSERT_EQ(run("-S"), 0);
  EXPECT_EQ(out(), saved);
}

TEST_F(SluiceadmTest, RestoreChecksEveryLineBeforeApplying) {
  EXPECT_EQ(run("-R", "ipvsadm -A -t 10.0.0.1:80\n-A -t 10.0.0.2\n"), 2);
  EXPECT_EQ(err(), "line 2: Zero port specified for non-persistent service\n");
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_EQ(run("-R", "-L -n\n"), 2);
  EXPECT_EQ(err(), "line 1: the 'list' command cannot be used in a restore\n");
}

TEST_F(SluiceadmTest, RestoreStopsAtFirstDaemonRefusal) {
  EXPECT_EQ(run("-R", "-A -t 10.0.0.1:80\n\n-a -t 10.0.0.9:80 -r 192.168.1.1\n-A -t 10.0.0.3:80\n"), 2);
  EXPECT_EQ(err(), "line 3: Service not defined\n");
  ASSERT_EQ(backend_.services.size(), 1u);
}

TEST_F(SluiceadmTest, ZeroAndTimeouts) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80"), 0);
  ASSERT_EQ(run("-Z"), 0);
  EXPECT_FALSE(backend_.last_zero_key.has_value());
  ASSERT_EQ(run("-Z -t 10.0.0.1:80"), 0);
  ASSERT_TRUE(backend_.last_zero_key.has_value());
  EXPECT_EQ(backend_.last_zero_key->port, 80);
  ASSERT_EQ(run("--set 7200 0 30"), 0);
  ASSERT_EQ(run("-L --timeout"), 0);
  EXPECT_EQ(out(), "Timeout (tcp tcpfin udp): 7200 120 30\n");
}

TEST_F(SluiceadmTest, ConnectionsAndJson) {
  ctl::ConnInfo c;
  c.proto = 17;
  c.state = "UDP";
  c.expire_s = 299;
  c.client = *net::Endpoint::parse("10.10.0.2:40001");
  c.vip = *net::Endpoint::parse("10.20.0.53:53");
  c.dest = *net::Endpoint::parse("192.168.10.21:53");
  backend_.conns = {c};
  ASSERT_EQ(run("-Lnc"), 0);
  EXPECT_EQ(out(),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n"
            "UDP 04:59  UDP         10.10.0.2:40001    10.20.0.53:53      192.168.10.21:53\n");
  ASSERT_EQ(run("-Lc --json"), 0);
  auto j = ctl::Json::parse(out());
  EXPECT_EQ(j["conns"][0]["expire_s"], 299);
  EXPECT_EQ(j["conns"][0]["client"]["port"], 40001);

  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr"), 0);
  backend_.table_size = 65536;
  ASSERT_EQ(run("-L --json"), 0);
  j = ctl::Json::parse(out());
  EXPECT_EQ(j["conn_table_size"], 65536);
  EXPECT_EQ(j["services"][0]["service"]["scheduler"], "rr");
  ASSERT_EQ(run("-L --timeout --json"), 0);
  EXPECT_EQ(ctl::Json::parse(out())["timeouts"]["tcp_fin"], 120);
}

TEST_F(SluiceadmTest, NoArgumentsListsTheTable) {
  ASSERT_EQ(run(""), 0) << err();
  EXPECT_EQ(out(),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
}

TEST_F(SluiceadmTest, Counters) {
  backend_.counter_values = {{"tx_packets", false, 9, 120}, {"no_real_server", true, 4, 0}};
  ASSERT_EQ(run("--counters"), 0) << err();
  EXPECT_EQ(out(),
            "Counter                  Slow           Fast          Total\n"
            "tx_packets                  9            120            129\n"
            "no_real_server              4              0              4  drop\n");
  ASSERT_EQ(run("--counters --json"), 0) << err();
  auto j = ctl::Json::parse(out());
  ASSERT_EQ(j["counters"].size(), 2u);
  EXPECT_EQ(j["counters"][0]["fast"], 120);
  EXPECT_EQ(j["counters"][1]["drop"], true);
  // Refused before the daemon is asked.
  int calls = backend_.calls;
  connected_path_.clear();
  EXPECT_EQ(run("--counters -c"), 2);
  EXPECT_EQ(err(), "Illegal 'connection' option with the 'counters' command\n");
  EXPECT_TRUE(connected_path_.empty());
  EXPECT_EQ(backend_.calls, calls);
  // Not a rule -R applies.
  EXPECT_EQ(run("-R", "--counters\n"), 2);
  EXPECT_EQ(err(), "line 1: the 'counters' command cannot be used in a restore\n");
}

TEST_F(SluiceadmTest, HelpDocumentsCounters) {
  ASSERT_EQ(run("-h"), 0);
  EXPECT_NE(out().find("--counters [--json]"), std::string::npos);
  EXPECT_NE(out().find("  --counters  "), std::string::npos);
}

}  // namespace
}  // namespace sluice::cli
