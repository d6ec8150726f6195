// ldirectord.cf -> Config: the LVS-DR article's file, global defaults and their override,
// the checktype/service mapping, real= ranges, and the refusals.
#include <gtest/gtest.h>

#include "config/desired.h"
#include "config/load.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using namespace testing;

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

// The project's ldirectord input (the LVS-DR article's file).
constexpr std::string_view kArticle = R"(# Global Directives
checktimeout=3
checkinterval=1
#fallback=127.0.0.1:80
#fallback6=[::1]:80
autoreload=yes
logfile="/var/log/ldirectord.log"
#logfile="local0"
#emailalert="admin@x.y.z"
#emailalertfreq=3600
#emailalertstatus=all
quiescent=no

# Sample for an http virtual service
virtual=192.168.214.140:80
        real=192.168.214.143:80 gate
        real=192.168.214.145:80 gate
#       real=192.168.6.6:80 gate
        fallback=127.0.0.1:80 gate
        service=http
        scheduler=rr
        #persistent=600
        #netmask=255.255.255.255
        protocol=tcp
        checktype=negotiate
        checkport=80
        request="index.html"
        receive="RS"
)";

void expectArticle(const Config& c, bool with_fallback) {
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_EQ(c.format, Format::kLdirectord);
  EXPECT_TRUE(c.global.autoreload);
  EXPECT_TRUE(c.global.lvs_flush_on_stop);  // cleanstop defaults to yes
  ASSERT_EQ(c.virtual_servers.size(), 1u);
  const VirtualServerConfig& vs = c.virtual_servers[0];
  ASSERT_EQ(vs.services.size(), 1u);
  const svc::ServiceConfig& s = vs.services[0];
  EXPECT_EQ(s.key.proto, svc::Proto::kTcp);
  EXPECT_EQ(s.key.addr, ip("192.168.214.140"));
  EXPECT_EQ(s.key.port, 80);
  EXPECT_EQ(s.scheduler, "rr");
  EXPECT_FALSE(s.persistent);
  EXPECT_EQ(vs.quorum, 1u);
  ASSERT_EQ(vs.real_servers.size(), 2u);
  EXPECT_EQ(vs.real_servers[0].dest.ep.str(), "192.168.214.143:80");
  EXPECT_EQ(vs.real_servers[1].dest.ep.str(), "192.168.214.145:80");
  for (const RealServerConfig& rs : vs.real_servers) {
    EXPECT_EQ(rs.dest.fwd, svc::FwdMethod::kDr);
    EXPECT_EQ(rs.dest.weight, 1);
    EXPECT_FALSE(rs.inhibit_on_failure);  // quiescent=no
    EXPECT_TRUE(rs.alpha);
    ASSERT_EQ(rs.checkers.size(), 1u);
    const CheckerConfig& ck = rs.checkers[0];
    EXPECT_EQ(ck.kind, CheckKind::kHttp);
    ASSERT_EQ(ck.urls.size(), 1u);
    EXPECT_EQ(ck.urls[0].path, "/index.html");
    EXPECT_EQ(ck.urls[0].regex, "RS");
    EXPECT_EQ(ck.http_method, "GET");
    EXPECT_EQ(ck.connect_port, 80);
    EXPECT_EQ(ck.delay_loop, 1 * kSecond);
    EXPECT_EQ(ck.delay_before_retry, 1 * kSecond);
    EXPECT_EQ(ck.connect_timeout, 3 * kSecond);  // checktimeout; negotiatetimeout not set
    EXPECT_EQ(ck.retry, 0u);                      // failurecount 1
    EXPECT_EQ(ck.warmup, 0u);
    EXPECT_TRUE(ck.alpha);
  }
  ASSERT_EQ(vs.sorry_server.has_value(), with_fallback);
  if (with_fallback) {
    EXPECT_EQ(vs.sorry_server->ep.str(), "127.0.0.1:80");
    EXPECT_EQ(vs.sorry_server->fwd, svc::FwdMethod::kDr);
  }
}

TEST(ConfigLdirectord, ArticleFileLoads) {
  Config c = loadString(kArticle, "ldirectord.cf", Format::kAuto);
  expectArticle(c, true);
  // The logfile line is accepted with a warning, nothing else is said.
  EXPECT_EQ(diagLines(c), std::vector<std::string>{"ldirectord.cf:7: warning: logfile: no effect in "
                                                   "sluiced (it logs to stderr/journal)"});
}

TEST(ConfigLdirectord, ArticleFileWithoutFallback) {
  std::string text(kArticle);
  text.replace(text.find("        fallback=127.0.0.1:80 gate"), 8, "#       ");
  expectArticle(loadString(text, "ldirectord.cf", Format::kAuto), false);
}

TEST(ConfigLdirectord, GlobalsApplyUnlessOverridden) {
  Config c = ld(R"(checktimeout=4
negotiatetimeout=9
checkinterval=2
failurecount=3
fallback=10.9.9.9:80
virtual=10.0.0.1:80
	real=10.0.1.1:80 gate 5
	checktype=connect
virtual=10.0.0.2:80
	real=10.0.1.2 gate
	checkinterval=7
	quiescent=no
	fallback=10.8.8.8
	request="/health"
	httpmethod=head
virtual=10.0.0.3:25
	real=10.0.1.3:25 gate
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  ASSERT_EQ(c.virtual_servers.size(), 3u);
  const auto& a = c.virtual_servers[0];
  EXPECT_EQ(a.services[0].scheduler, "wrr");
  EXPECT_EQ(a.real_servers[0].dest.weight, 5);
  EXPECT_TRUE(a.real_servers[0].inhibit_on_failure);  // quiescent=yes by default
  const CheckerConfig& ca = a.real_servers[0].checkers.at(0);
  EXPECT_EQ(ca.kind, CheckKind::kTcp);
  EXPECT_EQ(ca.connect_timeout, 4 * kSecond);
  EXPECT_EQ(ca.delay_loop, 2 * kSecond);
  EXPECT_EQ(ca.retry, 2u);
  EXPECT_EQ(a.sorry_server->ep.str(), "10.9.9.9:80");
  const auto& b = c.virtual_servers[1];
  EXPECT_FALSE(b.real_servers[0].inhibit_on_failure);
  EXPECT_EQ(b.real_servers[0].dest.ep.port, 0);  // the service's
  const CheckerConfig& cb = b.real_servers[0].checkers.at(0);
  EXPECT_EQ(cb.kind, CheckKind::kHttp);  // negotiate by default, http from port 80
  EXPECT_EQ(cb.connect_timeout, 9 * kSecond);
  EXPECT_EQ(cb.delay_loop, 7 * kSecond);
  EXPECT_EQ(cb.delay_before_retry, 7 * kSecond);
  EXPECT_EQ(cb.urls.at(0).path, "/health");
  EXPECT_EQ(cb.http_method, "HEAD");
  EXPECT_EQ(b.sorry_server->ep.str(), "10.8.8.8:0");
  EXPECT_EQ(c.virtual_servers[2].real_servers[0].checkers.at(0).kind, CheckKind::kSmtp);
}

TEST(ConfigLdirectord, CheckTypes) {
  Config c = ld(R"(virtual=10.0.0.1:53
	real=10.0.1.1:53 gate 1 "example.org"
	request="a.example"
	checktype=negotiate
virtual=10.0.0.2:53
	real=10.0.1.2:53 gate
	checktype=connect
virtual=10.0.0.3:443
	real=10.0.1.3 gate
virtual=10.0.0.4:80
	real=10.0.1.4 gate 2 "/a", "ok" <l:5> <u:50>
	checktype=5
virtual=10.0.0.5:9000
	real=10.0.1.5 gate
	checktype=on
virtual=10.0.0.6:9000
	real=10.0.1.6 gate
	checktype=external
	checkcommand="/bin/chk"
virtual=10.0.0.7:9000
	real=10.0.1.7 gate
	checktype=off
virtual=10.0.0.8:9000
	real=10.0.1.8 gate
	checktype=ping
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  auto ck = [&](size_t i) { return c.virtual_servers.at(i).real_servers.at(0).checkers.at(0); };
  EXPECT_EQ(c.virtual_servers[0].services[0].key.proto, svc::Proto::kUdp);  // port 53
  EXPECT_EQ(ck(0).kind, CheckKind::kDns);
  EXPECT_EQ(ck(0).dns_name, "example.org");  // the real's request wins
  EXPECT_EQ(ck(1).kind, CheckKind::kPing);   // connect on UDP pings, as ldirectord does
  EXPECT_EQ(ck(2).kind, CheckKind::kSsl);
  EXPECT_EQ(ck(3).kind, CheckKind::kHttp);
  EXPECT_EQ(ck(3).urls.at(0).path, "/a");
  EXPECT_EQ(ck(3).urls.at(0).regex, "ok");
  EXPECT_EQ(c.virtual_servers[3].real_servers[0].dest.l_threshold, 5u);
  EXPECT_EQ(c.virtual_servers[3].real_servers[0].dest.u_threshold, 50u);
  EXPECT_EQ(c.virtual_servers[3].real_servers[0].dest.weight, 2);
  EXPECT_TRUE(hasDiagContaining(c, "l.cf:12: warning: checktype=5: sluiced negotiates on every check"))
      << allDiags(c);
  EXPECT_EQ(ck(4).kind, CheckKind::kOn);  // port 9000: service none
  EXPECT_EQ(ck(5).kind, CheckKind::kMisc);
  EXPECT_EQ(ck(5).misc_path, "/bin/chk 10.0.0.6 9000 10.0.1.6 9000");
  EXPECT_EQ(ck(6).kind, CheckKind::kOff);
  EXPECT_EQ(ck(7).kind, CheckKind::kPing);
}

TEST(ConfigLdirectord, RealRangesAndDuplicates) {
  Config c = ld("virtual=10.0.0.1:80\n\treal=10.0.1.1->10.0.1.4:80 gate\n\treal=10.0.1.2:80 gate\n"
                "\tchecktype=connect\n");
  ASSERT_EQ(c.virtual_servers.at(0).real_servers.size(), 4u) << allDiags(c);
  EXPECT_EQ(c.virtual_servers[0].real_servers[3].dest.ep.str(), "10.0.1.4:80");
  EXPECT_TRUE(hasDiag(c, "l.cf:3: duplicate real server 10.0.1.2:80")) << allDiags(c);
}

// ldirectord's three methods per real= line (and on fallback=): gate, masq, ipip. ipip is
// an IPIP tunnel (ldirectord has no GUE); masq may map the port, gate and ipip take the
// virtual's (config::desired, as the ServiceTable does).
TEST(ConfigLdirectord, GateMasqIpip) {
  Config c = ld("virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n\treal=10.0.1.2:8080 masq 3\n"
                "\treal=10.0.1.3:8080 ipip\n\treal=[2001:db8::4]:80 ipip\n\tfallback=10.0.9.9:80 ipip\n"
                "\tchecktype=on\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& rs = c.virtual_servers.at(0).real_servers;
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].dest.fwd, svc::FwdMethod::kDr);
  EXPECT_EQ(rs[1].dest.fwd, svc::FwdMethod::kNat);
  EXPECT_EQ(rs[1].dest.weight, 3);
  EXPECT_EQ(rs[2].dest.fwd, svc::FwdMethod::kTun);
  EXPECT_EQ(rs[2].dest.tun_type, SL_TUN_IPIP);
  EXPECT_EQ(rs[3].dest.fwd, svc::FwdMethod::kTun);  // a tunnel may cross families
  EXPECT_EQ(c.virtual_servers[0].sorry_server->fwd, svc::FwdMethod::kTun);
  const DesiredService ds = desired(c, {}, {}).begin()->second;
  ASSERT_EQ(ds.dests.size(), 4u);
  EXPECT_EQ(ds.dests[1].ep, *net::Endpoint::parse("10.0.1.2:8080"));
  EXPECT_EQ(ds.dests[2].ep, *net::Endpoint::parse("10.0.1.3:80"));
  EXPECT_TRUE(hasDiag(ld("virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gue\n"),
                      "l.cf:2: real: 'gue' is not gate, masq or ipip"));
}

TEST(ConfigLdirectord, ErrorsAndRefusals) {
  Config c = ld(R"(callback="/bin/cb"
emailalert="a@b"
fork=yes
cleanstop=no
bogus=1
virtual=10.0.0.1:80
	real=10.0.1.1:80 masq
	real=10.0.1.2:80 gate
	service=mysql
	scheduler=lblcr
	protocol=fwm
virtual=7
	real=10.0.1.9 gate
	checktype=connect
virtual6=[fd00::1]:80
	real=[fd00::2]:80 gate
	real=10.0.0.9:80 gate
	checktype=connect
virtual=web.example:80
scheduler=rr
)");
  EXPECT_TRUE(hasDiag(c, "l.cf:1: callback: not supported by sluiced: configuration-change callbacks are not run"))
      << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "l.cf:2: warning: emailalert: alerts are logged, not mailed"));
  EXPECT_EQ(c.global.emailalert, "a@b");
  EXPECT_TRUE(hasDiag(c, "l.cf:3: warning: fork: no effect in sluiced"));
  EXPECT_FALSE(c.global.lvs_flush_on_stop);  // cleanstop=no
  EXPECT_TRUE(hasDiag(c, "l.cf:5: unknown keyword 'bogus'"));
  EXPECT_FALSE(hasDiagContaining(c, "l.cf:7:")) << "masq (NAT) is accepted";
  EXPECT_TRUE(hasDiag(c, "l.cf:6: checktype=negotiate for service=mysql: sluiced has no mysql check; "
                         "use checktype=connect"));
  EXPECT_TRUE(hasDiag(c, "l.cf:10: scheduler: lblcr is not implemented in Sluice (lblc, without "
                         "replication, is)"));
  EXPECT_TRUE(hasDiagContaining(c, "l.cf:11: protocol: 'fwm' does not fit"));
  EXPECT_TRUE(hasDiagContaining(c, "l.cf:12: virtual: Firewall-mark services (-f) are not implemented yet"));
  EXPECT_TRUE(hasDiagContaining(c, "l.cf:17: real: 10.0.0.9 is not of the virtual service's address family"));
  EXPECT_TRUE(hasDiag(c, "l.cf:19: virtual: 'web.example' is not an IP address (sluiced does not "
                         "resolve host names)"));
  EXPECT_TRUE(hasDiag(c, "l.cf:20: scheduler belongs in an indented line under a virtual="));
  // The IPv6 virtual is read as such.
  bool found_v6 = false;
  for (const auto& vs : c.virtual_servers)
    if (vs.services.at(0).key.addr == ip("fd00::1")) {
      found_v6 = true;
      EXPECT_EQ(vs.real_servers.at(0).dest.ep.str(), "[fd00::2]:80");
      EXPECT_EQ(vs.services[0].persistence_prefix, 128u);
    }
  EXPECT_TRUE(found_v6);
}

TEST(ConfigLdirectord, PersistenceAndNetmask) {
  Config c = ld("virtual=10.0.0.1:443\n real=10.0.1.1 gate\n persistent=600\n netmask=255.255.0.0\n"
                " checktype=connect\n ops=no\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& s = c.virtual_servers.at(0).services.at(0);
  EXPECT_TRUE(s.persistent);
  EXPECT_EQ(s.persistence_timeout, 600u);
  EXPECT_EQ(s.persistence_prefix, 16u);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigLdirectord, BadGlobalValueIsReportedOnce) {
  Config c = testing::ld("checktimeout=soon\nvirtual=10.0.0.1:80\n real=10.0.1.1 gate\n"
                         "virtual=10.0.0.2:80\n real=10.0.1.2 gate\n");
  EXPECT_EQ(testing::diagLines(c),
            std::vector<std::string>{"l.cf:1: checktimeout: 'soon' is not a number of seconds"});
}

}  // namespace
}  // namespace sluice::config
