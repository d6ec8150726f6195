// sluiceadm end to end minus the socket: the real argument parser, client, protocol
// encoding, dispatch and formatting, against the in-memory FakeBackend, whose changes go
// through the daemon's own model (svc::ServiceTable) first.
#include "cli/sluiceadm.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/clock.h"
#include "support/ctl_fake_backend.h"
#include "svc/service_table.h"

namespace sluice::cli {
namespace {

// The FakeBackend's bookkeeping, behind the validation sluiced applies: what the model
// refuses, sluiceadm must show with the model's words.
class ModelBackend : public testing::FakeBackend {
 public:
  Status addService(const svc::ServiceConfig& s) override {
    return both(table_.addService(s), [&] { return FakeBackend::addService(s); });
  }
  Status editService(const svc::ServiceConfig& s) override {
    return both(table_.editService(s), [&] { return FakeBackend::editService(s); });
  }
  Status delService(const svc::ServiceKey& k) override {
    return both(table_.delService(k), [&] { return FakeBackend::delService(k); });
  }
  Status clear() override {
    return both(table_.clear(), [&] { return FakeBackend::clear(); });
  }
  Status addDest(const svc::ServiceKey& k, const svc::DestConfig& d) override {
    return both(table_.addDest(k, d), [&] { return FakeBackend::addDest(k, d); });
  }
  Status editDest(const svc::ServiceKey& k, const svc::DestConfig& d) override {
    return both(table_.editDest(k, d), [&] { return FakeBackend::editDest(k, d); });
  }
  Status delDest(const svc::ServiceKey& k, const net::Endpoint& rs) override {
    return both(table_.delDest(k, rs), [&] { return FakeBackend::delDest(k, rs); });
  }
  Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override {
    return both(table_.addLaddr(k, l), [&] { return FakeBackend::addLaddr(k, l); });
  }
  Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress& l) override {
    return both(table_.delLaddr(k, l), [&] { return FakeBackend::delLaddr(k, l); });
  }

 private:
  template <class Fn>
  Status both(Status model, Fn fake) {
    if (!model) {
      ++calls;  // it reached the daemon, which refused it
      return model;
    }
    return fake();
  }
  ManualClock clock_;
  svc::ServiceTable table_{clock_, {}};
};

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

  ModelBackend backend_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  std::string connected_path_;
};

TEST_F(SluiceadmTest, AddListDelete) {
  ASSERT_EQ(run("-A -t 10.20.0.100:80 -s wlc -p 300 -M 255.255.255.0"), 0) << err();
  ASSERT_EQ(run("-a -t 10.20.0.100:80 -r 192.168.10.11:80 -g -w 100"), 0) << err();
  ASSERT_EQ(run("-a -t 10.20.0.100:80 -r 192.168.10.12 -g -w 100"), 0) << err();
  backend_.services[0].dests[0].active = 12;
  backend_.services[0].dests[0].inactive = 240;
  ASSERT_EQ(run("-Ln"), 0) << err();
  EXPECT_EQ(out(),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.20.0.100:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 192.168.10.11:80             Route   100    12         240       \n"
            "  -> 192.168.10.12:80             Route   100    0          0         \n");
  // One service: no version header, like ipvsadm's list_service.
  ASSERT_EQ(run("-L -n -t 10.20.0.100:80"), 0);
  EXPECT_EQ(out().rfind("Prot LocalAddress:Port Scheduler Flags\n", 0), 0u);
  ASSERT_EQ(run("-d -t 10.20.0.100:80 -r 192.168.10.12"), 0) << err();
  EXPECT_EQ(backend_.services[0].dests.size(), 1u);
  ASSERT_EQ(run("-D -t 10.20.0.100:80"), 0) << err();
  EXPECT_TRUE(backend_.services.empty());
  EXPECT_EQ(connected_path_, kDefaultSocket);
}

// ipvsadm 1.31 returns -1 (255) when the kernel refuses a change, and exits 1 when a
// listing fails (list_service: "No such service").
TEST_F(SluiceadmTest, DaemonRefusalsExitAsIpvsadmWithItsMessage) {
  EXPECT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.1"), kExitDaemonRefused);
  EXPECT_EQ(kExitDaemonRefused, 255);
  EXPECT_EQ(err(), "Service not defined\n");
  EXPECT_EQ(run("-D -t 10.0.0.1:80"), 255);
  EXPECT_EQ(err(), "No such service\n");
  EXPECT_EQ(run("-L -n -t 10.0.0.1:80"), 1);
  EXPECT_EQ(err(), "No such service\n");
  EXPECT_EQ(out(), "");
}

// -f, GRE tunnels, --tun-remcsum and PROXY v2 parse (so the refusal is specific) but sluiced
// refuses them: nothing is stored that its data path would drop.
TEST_F(SluiceadmTest, WhatIsNotImplementedIsRefusedWithTheDaemonsReason) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr"), 0) << err();
  const std::pair<const char*, const char*> refused[] = {
      {"-i --tun-type gre", "GRE tunnels are not implemented yet; use ipip or gue\n"},
      {"-i --tun-type gre --tun-csum", "GRE tunnels are not implemented yet; use ipip or gue\n"},
      {"-i --tun-type gue --tun-port 6080 --tun-remcsum",
       "Remote checksum offload (--tun-remcsum) is not implemented yet; use --tun-csum or --tun-nocsum\n"},
  };
  for (const auto& [flag, why] : refused) {
    EXPECT_EQ(run(std::string("-a -t 10.0.0.1:80 -r 192.168.1.1:8080 ") + flag), 255) << flag;
    EXPECT_EQ(err(), why);
  }
  EXPECT_EQ(run("-A -f 7 -s rr"), 255);
  EXPECT_EQ(err(),
            "Firewall-mark services (-f) are not implemented yet; use -t or -u with the virtual "
            "address and port\n");
  for (const char* pp : {"--client-addr proxy-v2", "--proxy-protocol v2"}) {
    EXPECT_EQ(run(std::string("-E -t 10.0.0.1:80 -s rr ") + pp), 255) << pp;
    EXPECT_EQ(err(), "PROXY protocol v2 is not implemented yet; use toa\n");
  }
  // -e cannot switch a DR server to one either.
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.1"), 0) << err();
  EXPECT_EQ(run("-e -t 10.0.0.1:80 -r 192.168.1.1 -i --tun-type gre -w 5"), 255);
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(),
            "-A -t 10.0.0.1:80 -s rr\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 1\n");
}

// NAT keeps the real server's port (port mapping); DR forces the service's.
TEST_F(SluiceadmTest, NatKeepsTheGivenRealServerPort) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.2 -m"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -g"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(),
            "-A -t 10.0.0.1:80 -s rr\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 1\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 1\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.3:80 -g -w 1\n");
}

// ipvsadm's option table takes -M without -p; IPVS keeps the mask and it has no effect
// until the service is persistent, so neither -L nor -S shows it.
TEST_F(SluiceadmTest, NetmaskWithoutPersistenceIsAccepted) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr -M 255.255.255.0"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(), "-A -t 10.0.0.1:80 -s rr\n");
  ASSERT_EQ(run("-E -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(), "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0\n");
}

TEST_F(SluiceadmTest, UsageErrorsExit255AndBadValuesExit2) {
  EXPECT_EQ(run("--bogus"), kExitUsage);
  EXPECT_EQ(err(), "Try `sluiceadm -h' or 'sluiceadm --help' for more information.\n");
  EXPECT_EQ(run("-L --bogus"), 255);
  EXPECT_EQ(err(), "--bogus: unknown option\n");
  EXPECT_EQ(run("-A -t"), 255);
  EXPECT_EQ(err(), "-t: missing argument\n");
  EXPECT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.1 -w 65536"), kExitRefused);
  EXPECT_EQ(kExitRefused, 2);
  EXPECT_EQ(err(), "illegal weight specified\n");
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_TRUE(connected_path_.empty());
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
  EXPECT_EQ(run("-Ln --socket"), 255);  // popt's "missing argument"
}

TEST_F(SluiceadmTest, HelpNeedsNoDaemon) {
  EXPECT_EQ(run("-h"), 0);
  EXPECT_NE(out().find("--socket PATH"), std::string::npos);
  EXPECT_NE(out().find("-b, --fullnat"), std::string::npos);
  EXPECT_TRUE(connected_path_.empty());
}

TEST_F(SluiceadmTest, HelpTellsTheTruth) {
  ASSERT_EQ(run("-h"), 0);
  // lblcr is not implemented: not advertised.
  EXPECT_EQ(out().find("lblcr"), std::string::npos);
  EXPECT_NE(out().find("rr wrr lc wlc lblc dh sh sed nq fo ovf mh twos"), std::string::npos);
  EXPECT_EQ(out().find("FULLNAT is not implemented yet"), std::string::npos);
  EXPECT_NE(out().find("-P, --add-laddr"), std::string::npos);
  EXPECT_NE(out().find("-G, --get-laddr"), std::string::npos);
  EXPECT_NE(out().find("--client-addr MODE"), std::string::npos);
  EXPECT_NE(out().find("  255  sluiced refused the change"), std::string::npos);
  EXPECT_NE(out().find("-w, --weight N          0 to 65535"), std::string::npos);
}

TEST_F(SluiceadmTest, SaveThenRestoreRoundTrips) {
  ASSERT_EQ(run("-A -u 10.20.0.53:53 -s rr -o"), 0) << err();
  ASSERT_EQ(run("-a -u 10.20.0.53:53 -r 192.168.10.21 -g -w 3"), 0) << err();
  ASSERT_EQ(run("-A -t 10.20.0.80:0 -s sh -b sh-fallback,sh-port -p 60 -M 255.255.255.0"), 0) << err();
  ASSERT_EQ(run("-a -t 10.20.0.80:0 -r 172.16.1.11 -w 65535"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  std::string saved = out();
  EXPECT_EQ(saved,
            "-A -t 10.20.0.80:0 -s sh -p 60 -M 255.255.255.0 -b sh-fallback,sh-port\n"
            "-a -t 10.20.0.80:0 -r 172.16.1.11:0 -g -w 65535\n"
            "-A -u 10.20.0.53:53 -s rr -o\n"
            "-a -u 10.20.0.53:53 -r 192.168.10.21:53 -g -w 3\n");
  ASSERT_EQ(run("-C"), 0);
  EXPECT_TRUE(backend_.services.empty());
  ASSERT_EQ(run("-R", "# saved table\n\n" + saved), 0) << err();
  ASSERT_EQ(run("-S"), 0);
  EXPECT_EQ(out(), saved);
}

// -S | -R | -S gives the same text for every method and tunnel type sluiced carries: NAT
// with a mapped port, DR and IPIP with the service's port forced, GUE with and without its
// checksum, and a tunnel to the other address family.
TEST_F(SluiceadmTest, SaveRestoreRoundTripsNatAndTunnels) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 2"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -i"), 0) << err();  // port forced to 80
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 10.1.0.4 -i -w 3 --tun-type gue --tun-port 6081 --tun-csum"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 10.1.0.5 -i --tun-type ipip"), 0) << err();
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 2001:db8::6 -i --tun-type gue --tun-port 6082"), 0) << err();
  ASSERT_EQ(run("-A -u 10.0.0.2:53 -s wlc"), 0) << err();
  ASSERT_EQ(run("-a -u 10.0.0.2:53 -r 10.1.0.1:5353 -m"), 0) << err();
  ASSERT_EQ(run("-S -n"), 0) << err();
  const std::string saved = out();
  EXPECT_EQ(saved,
            "-A -t 10.0.0.1:80 -s rr\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 2\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type ipip\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.4:80 -i -w 3 --tun-type gue --tun-port 6081 --tun-csum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -i -w 1 --tun-type ipip\n"
            "-a -t 10.0.0.1:80 -r [2001:db8::6]:80 -i -w 1 --tun-type gue --tun-port 6082 --tun-nocsum\n"
            "-A -u 10.0.0.2:53 -s wlc\n"
            "-a -u 10.0.0.2:53 -r 10.1.0.1:5353 -m -w 1\n");
  ASSERT_EQ(run("-L -n --tun-info -t 10.0.0.1:80"), 0) << err();
  EXPECT_EQ(out(),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
            "TCP  10.0.0.1:80 rr\n"
            "  -> 10.1.0.1:8080                Masq    n/a           2      0          0         \n"
            "  -> 10.1.0.2:80                  Tunnel  ipip          1      0          0         \n"
            "  -> 10.1.0.3:80                  Tunnel  gue:6080:-c   1      0          0         \n"
            "  -> 10.1.0.4:80                  Tunnel  gue:6081:+c   3      0          0         \n"
            "  -> 10.1.0.5:80                  Tunnel  ipip          1      0          0         \n"
            "  -> [2001:db8::6]:80             Tunnel  gue:6082:-c   1      0          0         \n");
  ASSERT_EQ(run("-C"), 0);
  ASSERT_EQ(run("-R", saved), 0) << err();
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(), saved);
  // -e changes the tunnel options like any other field, and -S shows the change.
  ASSERT_EQ(run("-e -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 7000 --tun-csum"), 0) << err();
  ASSERT_EQ(run("-S -n -t 10.0.0.1:80"), 2);  // ipvsadm -S takes no service
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_NE(out().find("-r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 7000 --tun-csum\n"), std::string::npos);
}

// A malformed line may be a typo in a rule the others need: every one is reported, none
// of the input is applied.
TEST_F(SluiceadmTest, RestoreChecksEveryLineBeforeApplying) {
  EXPECT_EQ(run("-R", "ipvsadm -A -t 10.0.0.1:80\n-A -t 10.0.0.2\n-A -t 10.0.0.3:80\n-a -t 10.0.0.1:80 -r 10.1.0.1 -w 70000\n"),
            2);
  EXPECT_EQ(err(),
            "line 2: Zero port specified for non-persistent service\n"
            "line 4: illegal weight specified\n");
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_EQ(run("-R", "-L -n\n"), 2);
  EXPECT_EQ(err(), "line 1: the 'list' command cannot be used in a restore\n");
}

// A line sluiced refuses is reported with its number and reason, and skipped; the rest of
// the table goes in, and the exit status says that something was refused.
TEST_F(SluiceadmTest, RestoreGoesOnPastRefusedLines) {
  EXPECT_EQ(run("-R",
                "-A -t 10.0.0.1:80\n"
                "\n"
                "-a -t 10.0.0.9:80 -r 192.168.1.1\n"
                "-A -t 10.0.0.3:80\n"
                "-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -i --tun-type gre\n"
                "-A -f 7\n"
                "-a -t 10.0.0.1:80 -r 192.168.1.3\n"),
            255);
  EXPECT_EQ(err(),
            "line 3: Service not defined\n"
            "line 5: GRE tunnels are not implemented yet; use ipip or gue\n"
            "line 6: Firewall-mark services (-f) are not implemented yet; use -t or -u with the "
            "virtual address and port\n");
  ASSERT_EQ(run("-S -n"), 0);
  EXPECT_EQ(out(),
            "-A -t 10.0.0.1:80 -s wlc\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.3:80 -g -w 1\n"
            "-A -t 10.0.0.3:80 -s wlc\n");
  // Nothing refused: 0.
  EXPECT_EQ(run("-R", "-C\n-A -t 10.0.0.4:80\n"), 0) << err();
  EXPECT_EQ(err(), "");
}

// DPVS's local-address commands, end to end: -P/-Q/-G, -S saving them for -R, --json.
TEST_F(SluiceadmTest, LocalAddresses) {
  ASSERT_EQ(run("-A -t 10.0.0.1:80 -s rr"), 0) << err();
  ASSERT_EQ(run("-A -t [2001:db8::1]:443 -s rr --client-addr none"), 0) << err();
  // A FULLNAT real server before any local address: accepted, as DPVS does.
  ASSERT_EQ(run("-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -b -w 2"), 0) << err();
  ASSERT_EQ(run("-P -t 10.0.0.1:80 -z 192.168.100.200 -F eth1"), 0) << err();
  ASSERT_EQ(run("--add-laddr -t 10.0.0.1:80 --laddr 192.168.100.201"), 0) << err();
  ASSERT_EQ(run("-P -t [2001:db8::1]:443 -z [2001:db8::200]"), 0) << err();
  backend_.services[0].laddrs[0].conns = 17;

  // DPVS's -G columns.
  ASSERT_EQ(run("-G"), 0) << err();
  EXPECT_EQ(out(),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "10.0.0.1:80          2        \n"
            "                              192.168.100.200      0          17        \n"
            "                              192.168.100.201      0          0         \n"
            "[2001:db8::1]:443    1        \n"
            "                              2001:db8::200        0          0         \n");
  ASSERT_EQ(run("-G -t [2001:db8::1]:443"), 0) << err();
  EXPECT_EQ(out(),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "[2001:db8::1]:443    1        \n"
            "                              2001:db8::200        0          0         \n");
  EXPECT_EQ(run("-G -t 10.0.0.9:80"), 1);
  EXPECT_EQ(err(), "No such service\n");
  ASSERT_EQ(run("-G -t 10.0.0.1:80 --json"), 0) << err();
  EXPECT_NE(out().find("\"addr\": \"192.168.100.200\""), std::string::npos) << out();
  EXPECT_NE(out().find("\"ifname\": \"eth1\""), std::string::npos) << out();
  EXPECT_NE(out().find("\"conns\": 17"), std::string::npos) << out();
  ASSERT_EQ(run("-Ln --json"), 0) << err();
  EXPECT_NE(out().find("\"laddrs\""), std::string::npos);

  // -L: the FullNat real server, and the client-address mode only when not TOA.
  ASSERT_EQ(run("-Ln"), 0) << err();
  EXPECT_NE(out().find("TCP  10.0.0.1:80 rr\n  -> 192.168.1.2:8080             FullNat 2      0          0         \n"),
            std::string::npos)
      << out();
  EXPECT_NE(out().find("TCP  [2001:db8::1]:443 rr client-addr none\n"), std::string::npos) << out();

  // The daemon's refusals, in its words.
  EXPECT_EQ(run("-P -t 10.0.0.1:80 -z 192.168.100.200"), 255);
  EXPECT_EQ(err(), "Local address already exists\n");
  EXPECT_EQ(run("-P -t [2001:db8::1]:443 -z 192.168.100.9"), 255);
  EXPECT_EQ(err(),
            "IPv4 local address 192.168.100.9 for an IPv6 service: local addresses must be of the "
            "service's family (NAT64 is not supported)\n");
  EXPECT_EQ(run("-Q -t 10.0.0.1:80 -z 192.168.100.99"), 255);
  EXPECT_EQ(err(), "No such local address\n");
  EXPECT_EQ(run("-P -t 10.0.0.7:80 -z 192.168.100.99"), 255);
  EXPECT_EQ(err(), "Service not defined\n");

  // -S saves them (DPVS's own -S does not), so -R brings them back.
  ASSERT_EQ(run("-S -n"), 0) << err();
  const std::string saved = out();
  EXPECT_EQ(saved,
            "-A -t 10.0.0.1:80 -s rr\n"
            "-P -t 10.0.0.1:80 -z 192.168.100.200 -F eth1\n"
            "-P -t 10.0.0.1:80 -z 192.168.100.201\n"
            "-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -b -w 2\n"
            "-A -t [2001:db8::1]:443 -s rr --client-addr none\n"
            "-P -t [2001:db8::1]:443 -z 2001:db8::200\n");
  ASSERT_EQ(run("-C"), 0);
  ASSERT_EQ(run("-R", saved), 0) << err();
  ASSERT_EQ(run("-S -n"), 0) << err();
  EXPECT_EQ(out(), saved);

  ASSERT_EQ(run("-Q -t 10.0.0.1:80 -z 192.168.100.200 -F eth1"), 0) << err();
  ASSERT_EQ(run("--del-laddr -t 10.0.0.1:80 --laddr=192.168.100.201"), 0) << err();
  ASSERT_EQ(run("-G -t 10.0.0.1:80"), 0) << err();
  EXPECT_EQ(out(),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "10.0.0.1:80          0        \n");
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

ctl::SyncDaemonInfo clusterSync() {
  ctl::SyncDaemonInfo x;
  x.interface = "eth1";
  x.addr = *net::IpAddr::parse("10.0.0.11");
  x.syncid = 1;
  x.port = 8848;
  x.maxlen = 1400;
  x.ready = true;
  x.peers = 2;
  x.peers_alive = 2;
  x.counters = {{"sent_heartbeat", 40}, {"dropped_bad_mac", 1}};
  return x;
}

// Without a sluice_cluster block nothing syncs: nothing is listed, as ipvsadm with no
// daemon, and the commands say where sync comes from.
TEST_F(SluiceadmTest, SyncDaemonWithoutACluster) {
  ASSERT_EQ(run("-L --daemon"), 0) << err();
  EXPECT_EQ(out(), "");
  ASSERT_EQ(run("-l --daemon --json"), 0) << err();
  EXPECT_EQ(ctl::Json::parse(out()), ctl::Json::parse(R"({"sync":null})"));
  EXPECT_EQ(run("--start-daemon master --mcast-interface eth0"), 255);
  EXPECT_EQ(err(),
            "no master sync daemon to start: session sync is configured by the sluice_cluster block "
            "(docs/CLUSTER.md) and starts with sluiced; it is unicast to the listed directors, "
            "authenticated with their shared key, and each director is both master and backup\n");
  EXPECT_EQ(run("--stop-daemon backup"), 255);
  EXPECT_EQ(err(), "No daemon is running\n");  // libipvs's ESRCH text
}

// A cluster director: both of ipvsadm's lines, from the one sync node.
TEST_F(SluiceadmTest, SyncDaemonListing) {
  backend_.sync = clusterSync();
  const std::string lines =
      "master sync daemon (mcast=eth1, syncid=1, maxlen=1400, port=8848)\n"
      "backup sync daemon (mcast=eth1, syncid=1, maxlen=1400, port=8848)\n";
  ASSERT_EQ(run("-L --daemon"), 0) << err();
  EXPECT_EQ(out(), lines);
  ASSERT_EQ(run("-l --daemon -n"), 0) << err();
  EXPECT_EQ(out(), lines);
  ASSERT_EQ(run("-L --daemon --json"), 0) << err();
  auto j = ctl::Json::parse(out())["sync"];
  EXPECT_EQ(j["roles"], ctl::Json::parse(R"(["master","backup"])"));
  EXPECT_EQ(j["interface"], "eth1");
  EXPECT_EQ(j["addr"], "10.0.0.11");
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["peers"], 2);
  EXPECT_EQ(j["peers_alive"], 2);
  EXPECT_EQ(j["counters"]["sent_heartbeat"], 40);
  // The sync address on no interface at the moment: the address stands in for the name.
  backend_.sync->interface.clear();
  ASSERT_EQ(run("-L --daemon"), 0) << err();
  EXPECT_EQ(out().substr(0, out().find('\n')), "master sync daemon (mcast=10.0.0.11, syncid=1, maxlen=1400, port=8848)");
}

// --start-daemon agrees with what runs or says which option does not and why.
TEST_F(SluiceadmTest, StartDaemonOnAClusterDirector) {
  backend_.sync = clusterSync();
  for (const char* agreeing :
       {"--start-daemon master", "--start-daemon backup --mcast-interface eth1 --syncid 1",
        "--start-daemon master --mcast-port 8848 --sync-maxlen 1400"}) {
    EXPECT_EQ(run(agreeing), 0) << agreeing << ": " << err();
    EXPECT_EQ(out(), "");
    EXPECT_EQ(err(), "");
  }
  const std::pair<const char*, const char*> refused[] = {
      {"--start-daemon master --mcast-interface eth0",
       "--mcast-interface eth0: session sync runs on eth1, the interface carrying this director's sync address "
       "10.0.0.11 (its `director` line in the sluice_cluster block)"},
      {"--start-daemon backup --syncid 255",
       "--syncid 255: this director's sync id is its node id, 1 (sluice_cluster block); peers are told apart "
       "by their listed addresses and the shared key"},
      {"--start-daemon master --mcast-group 224.0.0.81",
       "--mcast-group 224.0.0.81: session sync is unicast to the directors listed in the sluice_cluster block; "
       "there is no multicast group"},
      {"--start-daemon master --mcast-port 8849",
       "--mcast-port 8849: session sync uses UDP port 8848 (sync_port in the sluice_cluster block)"},
      {"--start-daemon master --mcast-ttl 1",
       "--mcast-ttl 1: session sync is unicast and routed with the system's default TTL; there is no "
       "multicast TTL to set"},
      {"--start-daemon master --sync-maxlen 1472",
       "--sync-maxlen 1472: session sync datagrams are at most 1400 bytes, fixed by its wire format so that "
       "they are never fragmented"},
      // The first disagreement, in ipvsadm's option order.
      {"--start-daemon master --sync-maxlen 1472 --syncid 2",
       "--syncid 2: this director's sync id is its node id, 1 (sluice_cluster block); peers are told apart "
       "by their listed addresses and the shared key"},
  };
  for (const auto& [line, why] : refused) {
    EXPECT_EQ(run(line), 255) << line;
    EXPECT_EQ(err(), std::string(why) + "\n") << line;
  }
  backend_.sync->interface.clear();
  EXPECT_EQ(run("--start-daemon master --mcast-interface eth1"), 255);
  EXPECT_EQ(err(), "--mcast-interface eth1: no interface carries this director's sync address 10.0.0.11 now\n");
  // Not a rule -R applies (ipvsadm -R would not run it either: not in its restore grammar).
  EXPECT_EQ(run("-R", "--start-daemon master\n"), 2);
  EXPECT_EQ(err(), "line 1: the 'start-daemon' command cannot be used in a restore\n");
}

TEST_F(SluiceadmTest, StopDaemonIsRefusedOnAClusterDirector) {
  backend_.sync = clusterSync();
  for (const char* role : {"master", "backup"}) {
    EXPECT_EQ(run(std::string("--stop-daemon ") + role), 255);
    EXPECT_EQ(err(),
              "session sync is not stopped on a cluster director: it is what keeps this director's "
              "connections alive on its peers when it dies. To take the director out, stop sluiced "
              "gracefully: SIGTERM withdraws its VIPs, drains for drain_time, then stops\n");
  }
  // Still running, still listed.
  ASSERT_EQ(run("-L --daemon"), 0);
  EXPECT_NE(out().find("master sync daemon"), std::string::npos);
}

TEST_F(SluiceadmTest, HelpDocumentsTheSyncDaemonCommands) {
  ASSERT_EQ(run("-h"), 0);
  EXPECT_NE(out().find("--start-daemon master|backup [--mcast-interface IF]"), std::string::npos);
  EXPECT_NE(out().find("--stop-daemon master|backup"), std::string::npos);
  EXPECT_NE(out().find("(docs/CLUSTER.md)"), std::string::npos);
  EXPECT_EQ(out().find("accepted; prints nothing"), std::string::npos);
}

}  // namespace
}  // namespace sluice::cli
