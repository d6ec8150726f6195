// keepalived.conf -> Config: spellings, inheritance and defaults, groups, refusals and the
// validation errors, with the exact "FILE:LINE: message" text for a few of them.
#include <gtest/gtest.h>

#include "config/lexer.h"
#include "config/load.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using namespace testing;

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

// The project's keepalived 1.x input: old spellings, must load clean.
constexpr std::string_view kOneX = R"(virtual_server 42.1.1.100 80 {
    delay_loop 6
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 10.101.10.14 80 {
        weight 6
        TCP_CHECK {
            connect_port 80
            connect_timeout 20
            nb_get_retry 3
            delay_before_retry 5
        }
    }
}
)";

TEST(ConfigKeepalived, OneXFileLoads) {
  Config c = ka(kOneX);
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_TRUE(c.diags.empty()) << allDiags(c);
  ASSERT_EQ(c.virtual_servers.size(), 1u);
  const VirtualServerConfig& vs = c.virtual_servers[0];
  ASSERT_EQ(vs.services.size(), 1u);
  EXPECT_EQ(vs.services[0].key.proto, svc::Proto::kTcp);
  EXPECT_EQ(vs.services[0].key.addr, ip("42.1.1.100"));
  EXPECT_EQ(vs.services[0].key.port, 80);
  EXPECT_EQ(vs.services[0].scheduler, "wlc");
  EXPECT_FALSE(vs.services[0].persistent);
  ASSERT_EQ(vs.real_servers.size(), 1u);
  const RealServerConfig& rs = vs.real_servers[0];
  EXPECT_EQ(rs.dest.ep.addr, ip("10.101.10.14"));
  EXPECT_EQ(rs.dest.ep.port, 80);
  EXPECT_EQ(rs.dest.weight, 6);
  EXPECT_EQ(rs.dest.fwd, svc::FwdMethod::kDr);
  EXPECT_EQ(rs.at.line, 6);
  ASSERT_EQ(rs.checkers.size(), 1u);
  const CheckerConfig& ck = rs.checkers[0];
  EXPECT_EQ(ck.kind, CheckKind::kTcp);
  EXPECT_EQ(ck.connect_port, 80);
  EXPECT_EQ(ck.connect_timeout, 20 * kSecond);
  EXPECT_EQ(ck.retry, 3u);
  EXPECT_EQ(ck.delay_before_retry, 5 * kSecond);
  EXPECT_EQ(ck.delay_loop, 6 * kSecond);
  EXPECT_EQ(ck.warmup, 6 * kSecond);  // warmup defaults to delay_loop
  EXPECT_EQ(ck.at.line, 8);
}

TEST(ConfigKeepalived, InheritanceVirtualRealChecker) {
  Config c = ka(R"(virtual_server 10.0.0.1 80 {
  lvs_method DR
  protocol TCP
  delay_loop 10
  connect_timeout 2
  retry 4
  warmup 0
  alpha
  inhibit_on_failure
  virtualhost vs.example
  real_server 10.0.1.1 80 {
    retry 2
    delay_before_retry 7.5
    HTTP_GET {
      url { path /a }
      connect_timeout 0.25
    }
    TCP_CHECK {
      retry 9
    }
  }
  real_server 10.0.1.2 80 {
    alpha off
    inhibit_on_failure false
    virtualhost rs.example
    HTTP_GET {
      url { path /b }
    }
  }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& r1 = c.virtual_servers.at(0).real_servers.at(0);
  const auto& r2 = c.virtual_servers.at(0).real_servers.at(1);
  EXPECT_TRUE(r1.alpha);
  EXPECT_TRUE(r1.inhibit_on_failure);
  EXPECT_FALSE(r2.alpha);
  EXPECT_FALSE(r2.inhibit_on_failure);
  const CheckerConfig& h = r1.checkers.at(0);
  EXPECT_EQ(h.delay_loop, 10 * kSecond);            // from the virtual server
  EXPECT_EQ(h.connect_timeout, 250'000'000u);       // its own
  EXPECT_EQ(h.retry, 2u);                           // from the real server
  EXPECT_EQ(h.delay_before_retry, 7'500'000'000u);  // from the real server
  EXPECT_EQ(h.warmup, 0u);                          // from the virtual server
  EXPECT_TRUE(h.alpha);
  EXPECT_EQ(h.virtualhost, "vs.example");
  const CheckerConfig& t = r1.checkers.at(1);
  EXPECT_EQ(t.retry, 9u);
  EXPECT_EQ(t.connect_timeout, 2 * kSecond);
  EXPECT_EQ(r2.checkers.at(0).virtualhost, "rs.example");
  EXPECT_FALSE(r2.checkers.at(0).alpha);
  EXPECT_EQ(r2.checkers.at(0).retry, 4u);
  EXPECT_EQ(r2.checkers.at(0).delay_before_retry, 3 * kSecond);  // HTTP default
}

TEST(ConfigKeepalived, DefaultsPerCheckerKind) {
  Config c = ka(R"(virtual_server 10.0.0.1 53 {
  lvs_method DR
  protocol UDP
  delay_loop 20
  real_server 10.0.1.1 53 {
    DNS_CHECK { name example.org
      type aaaa }
    MISC_CHECK { misc_path "/bin/check 1 2"
      misc_dynamic }
    UDP_CHECK { payload 00 01 ff
      require_reply 0a0b
      min_reply_length 2 }
    PING_CHECK { }
  }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& ck = c.virtual_servers.at(0).real_servers.at(0).checkers;
  ASSERT_EQ(ck.size(), 4u);
  EXPECT_EQ(ck[0].kind, CheckKind::kDns);
  EXPECT_EQ(ck[0].retry, 3u);
  EXPECT_EQ(ck[0].delay_before_retry, 20 * kSecond);  // DNS: delay_loop
  EXPECT_EQ(ck[0].dns_type, "AAAA");
  EXPECT_EQ(ck[0].dns_name, "example.org");
  EXPECT_EQ(ck[1].kind, CheckKind::kMisc);
  EXPECT_EQ(ck[1].retry, 0u);
  EXPECT_EQ(ck[1].misc_path, "/bin/check 1 2");
  EXPECT_TRUE(ck[1].misc_dynamic);
  EXPECT_EQ(ck[1].misc_timeout, 20 * kSecond);
  EXPECT_EQ(ck[2].kind, CheckKind::kUdp);
  EXPECT_EQ(ck[2].udp_payload, (std::vector<uint8_t>{0x00, 0x01, 0xff}));
  EXPECT_TRUE(ck[2].require_reply);
  EXPECT_EQ(ck[2].udp_reply, (std::vector<uint8_t>{0x0a, 0x0b}));
  EXPECT_EQ(ck[2].min_reply_length, 2u);
  EXPECT_EQ(ck[2].retry, 1u);
  EXPECT_EQ(ck[2].delay_before_retry, 1 * kSecond);
  EXPECT_EQ(ck[3].kind, CheckKind::kPing);
  EXPECT_EQ(ck[3].connect_timeout, 5 * kSecond);
  EXPECT_EQ(ck[3].warmup, 20 * kSecond);
}

TEST(ConfigKeepalived, HttpUrlsAndSsl) {
  Config c = ka(R"(virtual_server 10.0.0.1 443 {
  lvs_method DR
  protocol TCP
  real_server 10.0.1.1 443 {
    SSL_GET {
      url {
        path /healthz
        status_code 200 300-302
        regex "^ok"
        regex_no_match
        virtualhost h.example
      }
      url { path /x
        digest 9B3A0C85A887A256D6939DA88AABD8CD }
      enable_sni
      http_protocol 1.1
      fast_recovery
    }
  }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const CheckerConfig& s = c.virtual_servers.at(0).real_servers.at(0).checkers.at(0);
  EXPECT_EQ(s.kind, CheckKind::kSsl);
  EXPECT_TRUE(s.enable_sni);
  EXPECT_TRUE(s.fast_recovery);
  EXPECT_EQ(s.http_protocol, "1.1");
  ASSERT_EQ(s.urls.size(), 2u);
  EXPECT_EQ(s.urls[0].path, "/healthz");
  EXPECT_EQ(s.urls[0].status_codes, (std::vector<std::pair<int, int>>{{200, 200}, {300, 302}}));
  EXPECT_EQ(s.urls[0].regex, "^ok");
  EXPECT_TRUE(s.urls[0].regex_no_match);
  EXPECT_EQ(s.urls[0].virtualhost, "h.example");
  EXPECT_EQ(s.urls[1].digest, "9b3a0c85a887a256d6939da88aabd8cd");
  EXPECT_EQ(s.delay_before_retry, 3 * kSecond);
}

TEST(ConfigKeepalived, SmtpHostBlocksMakeOneCheckerEach) {
  Config c = ka(R"(virtual_server 10.0.0.1 25 {
  lvs_method DR
  protocol TCP
  real_server 10.0.1.1 25 {
    SMTP_CHECK {
      helo_name "foo.bar.com"
      connect_timeout 10
      host {
        connect_ip 10.0.1.1
      }
      host {
        connect_ip 192.168.1.2
        connect_port 587
        bindto 10.0.0.9
      }
    }
  }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& ck = c.virtual_servers.at(0).real_servers.at(0).checkers;
  ASSERT_EQ(ck.size(), 2u);
  EXPECT_EQ(ck[0].connect_ip, ip("10.0.1.1"));
  EXPECT_EQ(ck[0].connect_port, 0);
  EXPECT_EQ(ck[1].connect_ip, ip("192.168.1.2"));
  EXPECT_EQ(ck[1].connect_port, 587);
  EXPECT_EQ(ck[1].bindto, ip("10.0.0.9"));
  EXPECT_EQ(ck[1].helo_name, "foo.bar.com");
  EXPECT_EQ(ck[1].connect_timeout, 10 * kSecond);
  EXPECT_EQ(ck[1].at.line, 11);
}

TEST(ConfigKeepalived, FileCheckUsesTrackFileDefinedLater) {
  Config c = ka(R"(virtual_server 10.0.0.1 80 {
  lvs_method DR
  protocol TCP
  real_server 10.0.1.1 80 {
    FILE_CHECK { track_file w1 }
    FILE_CHECK { track_file w1
      weight -3 reverse }
  }
}
track_file w1 {
  file "/run/w1"
  weight 5
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& ck = c.virtual_servers.at(0).real_servers.at(0).checkers;
  ASSERT_EQ(ck.size(), 2u);
  EXPECT_EQ(ck[0].file_path, "/run/w1");
  EXPECT_EQ(ck[0].file_weight, 5);
  EXPECT_FALSE(ck[0].file_reverse);
  EXPECT_EQ(ck[1].file_weight, -3);
  EXPECT_TRUE(ck[1].file_reverse);
}

TEST(ConfigKeepalived, ServiceOptions) {
  Config c = ka(R"(virtual_server 10.0.0.1 80 {
  lvs_method DR
  protocol TCP
  lvs_sched mh
  mh-port
  mh-fallback
  persistence_timeout
  persistence_granularity 255.255.255.0
  quorum 3
  hysteresis 1
  quorum_up "/bin/up now"
  quorum_down /bin/down x
  omega
  ha_suspend
  sorry_server 10.0.2.2 8080
  sorry_server_inhibit
  real_server 10.0.1.1 80 { weight 0
    uthreshold 100
    lthreshold 50
    notify_up "/bin/n up"
    notify_down /bin/n down }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const VirtualServerConfig& vs = c.virtual_servers.at(0);
  const svc::ServiceConfig& s = vs.services.at(0);
  EXPECT_EQ(s.scheduler, "mh");
  EXPECT_EQ(s.sched_flags, svc::kSchedFlag1 | svc::kSchedFlag2);
  EXPECT_TRUE(s.persistent);
  EXPECT_EQ(s.persistence_timeout, 360u);
  EXPECT_EQ(s.persistence_prefix, 24u);
  EXPECT_EQ(vs.quorum, 3u);
  EXPECT_EQ(vs.hysteresis, 1u);
  EXPECT_EQ(vs.quorum_up, "/bin/up now");
  EXPECT_EQ(vs.quorum_down, "/bin/down x");
  EXPECT_TRUE(vs.omega);
  EXPECT_TRUE(vs.ha_suspend);
  ASSERT_TRUE(vs.sorry_server);
  EXPECT_EQ(vs.sorry_server->ep.str(), "10.0.2.2:8080");
  EXPECT_EQ(vs.sorry_server->fwd, svc::FwdMethod::kDr);
  EXPECT_TRUE(vs.sorry_server->inhibit);
  const RealServerConfig& rs = vs.real_servers.at(0);
  EXPECT_EQ(rs.dest.weight, 0);
  EXPECT_EQ(rs.dest.u_threshold, 100u);
  EXPECT_EQ(rs.dest.l_threshold, 50u);
  EXPECT_EQ(rs.notify_up, "/bin/n up");
  EXPECT_EQ(rs.notify_down, "/bin/n down");
  EXPECT_TRUE(rs.checkers.empty());
}

TEST(ConfigKeepalived, MissingProtocolIsUdpWithAWarning) {
  Config c = ka("virtual_server 10.0.0.1 53 {\n  lvs_method DR\n  real_server 10.0.1.1 53 { }\n}\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_EQ(c.virtual_servers.at(0).services.at(0).key.proto, svc::Proto::kUdp);
  EXPECT_TRUE(hasDiag(c, "k.conf:1: warning: virtual_server without protocol: UDP, as keepalived "
                         "2.2.7 does; write 'protocol TCP' or 'protocol UDP'"))
      << allDiags(c);
}

TEST(ConfigKeepalived, NatIsTheDefaultAndMayMapThePort) {
  Config c = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind NAT\n"
                "  real_server 10.0.1.1 8080 { }\n}\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).dest.fwd, svc::FwdMethod::kNat);
  EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).dest.ep.port, 8080);
  Config d = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 { }\n}\n");
  ASSERT_TRUE(d.ok()) << allDiags(d);
  EXPECT_EQ(d.virtual_servers.at(0).real_servers.at(0).dest.fwd, svc::FwdMethod::kNat);
}

// keepalived 2.x's tunnel options: the virtual_server's method is its real servers' and
// sorry server's default, tunnel options included; a real_server's own lvs_method
// replaces it whole (TUN alone is ipip again, as keepalived's svr_forwarding_handler).
TEST(ConfigKeepalived, TunnelOptionsInheritAndOverride) {
  Config c = ka(R"(virtual_server 10.0.0.1 80 {
  protocol TCP
  lvs_method TUN type gue port 6080 csum
  sorry_server 10.0.9.9 80
  real_server 10.0.1.1 80 { }
  real_server 10.0.1.2 80 {
    lvs_method TUN
  }
  real_server 10.0.1.3 80 {
    lvs_method TUN csum port 7000 type gue
  }
  real_server 10.0.1.4 8080 {
    lvs_method NAT
  }
  real_server 2001:db8::5 80 {
    lvs_method TUN type ipip nocsum
  }
  real_server 10.0.1.6 80 {
    lvs_method TUN type gue port 6081 nocsum
  }
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& rs = c.virtual_servers.at(0).real_servers;
  ASSERT_EQ(rs.size(), 6u);
  auto expect = [&](size_t i, svc::FwdMethod fwd, uint8_t type, uint16_t port, uint8_t flags) {
    SCOPED_TRACE(i);
    EXPECT_EQ(rs[i].dest.fwd, fwd);
    EXPECT_EQ(rs[i].dest.tun_type, type);
    EXPECT_EQ(rs[i].dest.tun_port, port);
    EXPECT_EQ(rs[i].dest.tun_flags, flags);
  };
  expect(0, svc::FwdMethod::kTun, SL_TUN_GUE, 6080, SL_TUN_F_CSUM);
  expect(1, svc::FwdMethod::kTun, SL_TUN_IPIP, 0, 0);
  expect(2, svc::FwdMethod::kTun, SL_TUN_GUE, 7000, SL_TUN_F_CSUM);
  expect(3, svc::FwdMethod::kNat, SL_TUN_IPIP, 0, 0);
  expect(4, svc::FwdMethod::kTun, SL_TUN_IPIP, 0, 0);
  expect(5, svc::FwdMethod::kTun, SL_TUN_GUE, 6081, 0);
  const auto& ss = *c.virtual_servers.at(0).sorry_server;
  EXPECT_EQ(ss.fwd, svc::FwdMethod::kTun);
  EXPECT_EQ(ss.tun_type, SL_TUN_GUE);
  EXPECT_EQ(ss.tun_port, 6080);

  // GRE and remcsum are valid keepalived but refused, with the line and the alternative.
  Config g = ka("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lvs_method DR\n"
                "  real_server 10.0.1.1 80 {\n    lvs_method TUN type gre csum\n  }\n"
                "  real_server 10.0.1.2 80 {\n    lvs_method TUN type gue port 1 remcsum\n  }\n}\n");
  EXPECT_TRUE(hasDiag(g, "k.conf:5: lvs_method TUN type gre csum: GRE tunnels are not implemented yet; use "
                         "ipip or gue"))
      << allDiags(g);
  EXPECT_TRUE(hasDiag(g, "k.conf:8: lvs_method TUN type gue port 1 remcsum: Remote checksum offload "
                         "(--tun-remcsum) is not implemented yet; use --tun-csum or --tun-nocsum"))
      << allDiags(g);
}

TEST(ConfigKeepalived, RefusalsNameTheirLine) {
  Config c = ka(R"(virtual_server fwmark 7 {
  lvs_method DR
}
virtual_server 10.0.0.2 80 {
  protocol SCTP
  persistence_engine sip
  lvs_method TUN type gre
  real_server 10.0.1.1 80 {
    BFD_CHECK { name b1 }
  }
}
)");
  EXPECT_TRUE(hasDiag(c, "k.conf:1: fwmark 7: Firewall-mark services (-f) are not implemented yet; "
                         "use -t or -u with the virtual address and port"))
      << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:5: protocol: not supported by sluiced: SCTP services are not "
                         "implemented (TCP and UDP are)"));
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:6: persistence_engine: not supported by sluiced"));
  EXPECT_TRUE(hasDiag(c, "k.conf:7: lvs_method TUN type gre: GRE tunnels are not implemented yet; use ipip or "
                         "gue"))
      << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:9: BFD_CHECK: not supported by sluiced"));
}

// keepalived 2.x's tunnel options after TUN (check_parser.c svr_forwarding_handler): any
// order, a gue tunnel needs its port and only gue has one, ipip takes no checksum option,
// gre no remcsum. Each mistake names its line.
TEST(ConfigKeepalived, TunnelOptionMistakesNameTheirLine) {
  const std::pair<const char*, const char*> bad[] = {
      {"lvs_method TUN type", "lvs_method TUN type: 'type' needs a value"},
      {"lvs_method TUN type vxlan", "lvs_method TUN type vxlan: unknown tunnel type 'vxlan' (ipip, gue or gre)"},
      {"lvs_method TUN type gue", "lvs_method TUN type gue: a gue tunnel needs 'port N'"},
      {"lvs_method TUN type gue port 0", "lvs_method TUN type gue port 0: invalid gue tunnel port '0' (1-65535)"},
      {"lvs_method TUN type gue port 65536",
       "lvs_method TUN type gue port 65536: invalid gue tunnel port '65536' (1-65535)"},
      {"lvs_method TUN type gue port", "lvs_method TUN type gue port: 'port' needs a value"},
      {"lvs_method TUN port 6080", "lvs_method TUN port 6080: only gue tunnels take a port"},
      {"lvs_method TUN type gre port 6080", "lvs_method TUN type gre port 6080: only gue tunnels take a port"},
      {"lvs_method TUN type ipip csum", "lvs_method TUN type ipip csum: ipip tunnels take no checksum option"},
      {"lvs_method TUN type gre remcsum", "lvs_method TUN type gre remcsum: gre tunnels do not support remcsum"},
      {"lvs_method TUN type gue port 6080 checksum",
       "lvs_method TUN type gue port 6080 checksum: invalid tunnel option 'checksum' (type, port, nocsum, csum, "
       "remcsum)"},
      {"lvs_method DR type ipip", "lvs_method: options after DR (only TUN takes tunnel options)"},
      {"lb_kind NAT port 80", "lb_kind: options after NAT (only TUN takes tunnel options)"},
      {"lvs_method GUE", "lvs_method: 'GUE' is not NAT, DR, TUN or FNAT"},
  };
  for (const auto& [line, message] : bad) {
    Config c = ka(std::string("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  ") + line +
                  "\n  real_server 10.0.1.1 80 { }\n}\n");
    EXPECT_FALSE(c.ok()) << line;
    EXPECT_TRUE(hasDiag(c, std::string("k.conf:3: ") + message)) << allDiags(c);
    // The same words per real server, at the real server's line (lb_kind is the
    // virtual_server's old spelling only).
    if (std::string_view(line).starts_with("lb_kind")) continue;
    Config r = ka(std::string("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lvs_method DR\n"
                              "  real_server 10.0.1.1 80 {\n    ") +
                  line + "\n  }\n}\n");
    EXPECT_TRUE(hasDiag(r, std::string("k.conf:5: ") + message)) << allDiags(r);
  }
}

TEST(ConfigKeepalived, ValidationErrors) {
  Config c = ka(R"(virtual_server 10.0.0.1 80 {
  lvs_method DR
  protocol TCP
  lvs_sched rr
  sh-port
  mh-fallback
  persistence_timeout 60
  ops
  bogus_kw 1
  quorum 0
  real_server 10.0.1.1 80 { weight 70000 }
  real_server 10.0.1.1 80 { }
  real_server fd00::1 80 { }
  real_server 10.0.1.3 80 { HTTP_GET { connect_timeout 1 } }
  real_server 10.0.1.4 80 { MISC_CHECK { } }
}
virtual_server 10.0.0.1 0 {
  lvs_method DR
  protocol TCP
}
virtual_server 10.0.0.1 80 {
  lvs_method DR
  protocol TCP
  lvs_sched nope
}
)");
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(hasDiag(c, "k.conf:5: sh-port/sh-fallback need lvs_sched sh or mh, not rr")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:6: mh-port/mh-fallback need lvs_sched mh, not rr"));
  EXPECT_TRUE(hasDiag(c, "k.conf:8: ops (one-packet scheduling) cannot be combined with persistence_timeout"));
  EXPECT_TRUE(hasDiag(c, "k.conf:9: unknown keyword 'bogus_kw' in virtual_server"));
  EXPECT_TRUE(hasDiag(c, "k.conf:10: quorum must be at least 1"));
  EXPECT_TRUE(hasDiag(c, "k.conf:11: weight: '70000' is not a number from 0 to 65535"));
  EXPECT_TRUE(hasDiag(c, "k.conf:12: duplicate real_server 10.0.1.1:80 (first at k.conf:11)"));
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:13: fd00::1 is IPv6 but the virtual service TCP 10.0.0.1:80 is IPv4"));
  EXPECT_TRUE(hasDiag(c, "k.conf:14: HTTP_GET without a url block"));
  EXPECT_TRUE(hasDiag(c, "k.conf:15: MISC_CHECK without misc_path"));
  EXPECT_TRUE(hasDiag(c, "k.conf:17: TCP 10.0.0.1:0: port 0 (all ports) needs persistence_timeout"));
  EXPECT_TRUE(hasDiag(c, "k.conf:21: duplicate virtual service TCP 10.0.0.1:80 (first at k.conf:1)"));
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:24: lvs_sched: unknown scheduler 'nope'"));
}

TEST(ConfigKeepalived, BadValues) {
  Config c = ka(R"(virtual_server 10.0.0.1 99999 {
}
virtual_server 10.0.0.300 80 {
}
virtual_server 10.0.0.2 80 {
  lvs_method DR
  protocol TCP
  delay_loop -1
  connect_timeout 1.x
  real_server 10.0.1.1 80 {
    TCP_CHECK { connect_port 70000
      alpha maybe }
  }
}
)");
  EXPECT_TRUE(hasDiag(c, "k.conf:1: virtual_server: '99999' is not a number from 0 to 65535")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:3: virtual_server: '10.0.0.300' is not an IP address"));
  EXPECT_TRUE(hasDiag(c, "k.conf:8: delay_loop: '-1' is not a time in seconds (0 to 86400)"));
  EXPECT_TRUE(hasDiag(c, "k.conf:9: connect_timeout: '1.x' is not a time in seconds (0 to 86400)"));
  EXPECT_TRUE(hasDiag(c, "k.conf:11: connect_port: '70000' is not a number from 0 to 65535"));
  EXPECT_TRUE(hasDiag(c, "k.conf:12: alpha: 'maybe' is not a boolean (on/off, true/false, yes/no)"));
}

TEST(ConfigKeepalived, MissingClosingBraceNamesTheOpeningLine) {
  Config c = ka("global_defs {\n}\nvirtual_server 10.0.0.1 80 {\n  lvs_method DR\n"
                "  real_server 10.0.1.1 80 {\n    weight 2\n  }\n");
  EXPECT_TRUE(hasDiag(c, "k.conf:3: missing '}' for the '{' opened here (virtual_server)")) << allDiags(c);
  Config d = ka("}\n");
  EXPECT_TRUE(hasDiag(d, "k.conf:1: '}' without a matching '{'"));
}

TEST(ConfigKeepalived, GroupsExpandIntoServices) {
  Config c = ka(R"(virtual_server_group G {
  10.0.0.1-3 80
  10.0.1.0/30 443
  fd00::8-a 80
  10.0.2.5
}
virtual_server group G {
  lvs_method DR
  protocol TCP
  persistence_timeout 30
}
)");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& s = c.virtual_servers.at(0).services;
  ASSERT_EQ(s.size(), 3u + 4u + 3u + 1u);
  EXPECT_EQ(s[0].key.addr, ip("10.0.0.1"));
  EXPECT_EQ(s[2].key.addr, ip("10.0.0.3"));
  EXPECT_EQ(s[3].key.addr, ip("10.0.1.0"));
  EXPECT_EQ(s[6].key.addr, ip("10.0.1.3"));
  EXPECT_EQ(s[6].key.port, 443);
  EXPECT_EQ(s[7].key.addr, ip("fd00::8"));
  EXPECT_EQ(s[9].key.addr, ip("fd00::a"));
  EXPECT_EQ(s[9].persistence_prefix, 128u);
  EXPECT_EQ(s[10].key.port, 0);
  for (const auto& x : s) {
    EXPECT_EQ(x.key.proto, svc::Proto::kTcp);
    EXPECT_TRUE(x.persistent);
  }
}

TEST(ConfigKeepalived, GroupErrors) {
  Config c = ka(R"(virtual_server_group G {
  10.0.0.1-2 80
  11.0.0.0/8 80
  fwmark 3
}
virtual_server group G {
  lvs_method DR
  protocol TCP
}
virtual_server 10.0.0.2 80 {
  lvs_method DR
  protocol TCP
}
virtual_server group NOPE {
}
)");
  EXPECT_TRUE(hasDiag(c, "k.conf:3: virtual_server_group G expands to more than 1024 services")) << allDiags(c);
  EXPECT_TRUE(hasDiag(c, "k.conf:10: duplicate virtual service TCP 10.0.0.2:80 (first at k.conf:2)"));
  EXPECT_TRUE(hasDiag(c, "k.conf:14: virtual_server group NOPE: no virtual_server_group of that name"));
  // The capped group keeps its first 1024 members; fwmark 3 after the cap is never reached.
  EXPECT_EQ(c.virtual_servers.at(0).services.size(), 1024u);
}

TEST(ConfigKeepalived, VrrpBlocksAreSkippedAndListed) {
  Config c = ka(R"(vrrp_instance VI_1 {
  state MASTER
  virtual_ipaddress {
    192.168.200.16
  }
}
vrrp_script chk { script "/bin/true" }
static_ipaddress {
  10.1.1.1/24 dev eth0
}
global_defs {
  router_id LVS_1
  lvs_timeouts tcp 100 tcpfin 10 udp 20
  lvs_flush
  lvs_notify_fifo /run/f.fifo
  checker_log_all_failures on
  notification_email { a@b }
  vrrp_garp_master_delay 5
  something_new 1
  lvs_sync_daemon eth0 VI_1
}
)");
  EXPECT_EQ(c.skipped, (std::vector<std::string>{"vrrp_instance VI_1 (k.conf:1)", "vrrp_script chk (k.conf:7)",
                                                  "static_ipaddress (k.conf:8)"}));
  EXPECT_EQ(c.global.router_id, "LVS_1");
  ASSERT_TRUE(c.global.lvs_timeouts);
  EXPECT_EQ(c.global.lvs_timeouts->tcp, 100u);
  EXPECT_EQ(c.global.lvs_timeouts->tcp_fin, 10u);
  EXPECT_EQ(c.global.lvs_timeouts->udp, 20u);
  EXPECT_TRUE(c.global.lvs_flush);
  EXPECT_EQ(c.global.lvs_notify_fifo, "/run/f.fifo");
  EXPECT_TRUE(c.global.checker_log_all_failures);
  EXPECT_TRUE(hasDiag(c, "k.conf:19: warning: unknown keyword 'something_new' in global_defs: ignored"))
      << allDiags(c);
  EXPECT_TRUE(hasDiagContaining(c, "k.conf:20: lvs_sync_daemon: not supported by sluiced"));
  EXPECT_EQ(diagLines(c, true).size(), 1u) << allDiags(c);
}

TEST(ConfigKeepalived, UnknownTopLevelKeywordIsAnError) {
  Config c = ka("virtual_servr 10.0.0.1 80 {\n}\n");
  EXPECT_TRUE(hasDiag(c, "k.conf:1: unknown keyword 'virtual_servr' in the top level")) << allDiags(c);
}

TEST(ConfigKeepalived, ChecklogAllFailuresFromGlobal) {
  Config c = ka("global_defs {\n checker_log_all_failures\n}\nvirtual_server 10.0.0.1 80 {\n"
                " lvs_method DR\n protocol TCP\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n }\n"
                " PING_CHECK {\n log_all_failures off\n }\n }\n}\n");
  ASSERT_TRUE(c.ok()) << allDiags(c);
  const auto& ck = c.virtual_servers.at(0).real_servers.at(0).checkers;
  EXPECT_TRUE(ck.at(0).log_all_failures);
  EXPECT_FALSE(ck.at(1).log_all_failures);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigKeepalived, BlockShapes) {
  Config c = testing::ka("virtual_server 10.0.0.1 80\nvirtual_server 10.0.0.2 80 {\n lvs_method DR\n"
                         " protocol TCP\n real_server 10.0.1.1 80\n real_server 10.0.1.2 80 {\n"
                         "  weight 2 { }\n  TCP_CHECK\n }\n}\n");
  EXPECT_TRUE(testing::hasDiag(c, "k.conf:1: virtual_server needs a { } block")) << testing::allDiags(c);
  EXPECT_TRUE(testing::hasDiag(c, "k.conf:5: real_server needs a { } block"));
  EXPECT_TRUE(testing::hasDiag(c, "k.conf:7: weight takes no { } block"));
  EXPECT_TRUE(testing::hasDiag(c, "k.conf:8: TCP_CHECK needs a { } block"));
  EXPECT_EQ(testing::diagLines(c).size(), 4u) << testing::allDiags(c);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

// Groups multiply: many blocks using one large group stop at the configuration's cap.
TEST(ConfigKeepalived, ExpansionIsCappedAcrossBlocks) {
  std::string text = "virtual_server_group G {\n 10.0.0.0/22 80\n}\n";  // 1024 services
  for (int i = 0; i < 70; ++i)
    text += "virtual_server group G {\n lvs_method DR\n protocol TCP\n}\n";
  Config c = testing::ka(text);
  size_t services = 0;
  for (const auto& vs : c.virtual_servers) services += vs.services.size();
  EXPECT_LE(services, kMaxServices);
  EXPECT_TRUE(testing::hasDiagContaining(c, "more than 65536 virtual services in this configuration"));
}

}  // namespace
}  // namespace sluice::config
