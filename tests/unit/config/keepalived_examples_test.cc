// The two keepalived.conf examples of the project's reference (ECOSYSTEM.md §3, which pass
// `keepalived -t`), one keyword per line as on disk: everything Sluice has is read, and
// what it lacks is refused at its line.
#include <gtest/gtest.h>

#include "config/load.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using namespace testing;

constexpr std::string_view kExample1 = R"(global_defs {
  router_id LVS_DIR1
  lvs_timeouts tcp 900 tcpfin 120 udp 300
  lvs_flush
  lvs_notify_fifo /run/keepalived-lvs.fifo
  enable_script_security
  script_user root
}
virtual_server 10.20.0.100 80 {
    delay_loop 6
    lvs_sched wlc
    lvs_method DR
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    quorum 2
    hysteresis 1
    quorum_up "/usr/local/bin/vip-announce.sh up 10.20.0.100"
    quorum_down "/usr/local/bin/vip-announce.sh down 10.20.0.100"
    sorry_server 192.168.10.250 80
    alpha
    omega
    real_server 192.168.10.11 80 {
        weight 100
        inhibit_on_failure
        uthreshold 20000
        HTTP_GET {
            url {
                path /healthz
                status_code 200
            }
            url {
                path /
                digest 9b3a0c85a887a256d6939da88aabd8cd
            }
            connect_timeout 3
            retry 3
            delay_before_retry 2
        }
    }
    real_server 192.168.10.12 80 {
        weight 100
        lvs_method TUN type gue port 6080 csum
        TCP_CHECK {
            connect_port 80
            connect_timeout 3
        }
    }
}
)";

TEST(ConfigKeepalivedExamples, Example1) {
  Config c = ka(kExample1);
  EXPECT_EQ(diagLines(c), (std::vector<std::string>{
                              "k.conf:7: warning: script_user: notify and quorum commands run as "
                              "sluiced's own user (MISC_CHECK's user is honoured)"}));
  EXPECT_EQ(c.global.script_user, "root");
  EXPECT_TRUE(c.global.enable_script_security);
  const VirtualServerConfig& vs = c.virtual_servers.at(0);
  EXPECT_EQ(vs.services.at(0).persistence_timeout, 300u);
  EXPECT_EQ(vs.services.at(0).persistence_prefix, 24u);
  EXPECT_EQ(vs.quorum, 2u);
  EXPECT_EQ(vs.quorum_up, "/usr/local/bin/vip-announce.sh up 10.20.0.100");
  EXPECT_TRUE(vs.omega);
  const RealServerConfig& r1 = vs.real_servers.at(0);
  EXPECT_TRUE(r1.alpha);
  EXPECT_TRUE(r1.inhibit_on_failure);
  EXPECT_EQ(r1.dest.u_threshold, 20000u);
  const CheckerConfig& h = r1.checkers.at(0);
  EXPECT_EQ(h.urls.size(), 2u);
  EXPECT_EQ(h.urls[0].status_codes, (std::vector<std::pair<int, int>>{{200, 200}}));
  EXPECT_EQ(h.delay_before_retry, 2 * kSecond);
  EXPECT_EQ(h.delay_loop, 6 * kSecond);
  EXPECT_TRUE(h.alpha);
  // The second real server's own lvs_method: a GUE tunnel with its checksum.
  const svc::DestConfig& r2 = vs.real_servers.at(1).dest;
  EXPECT_EQ(r2.fwd, svc::FwdMethod::kTun);
  EXPECT_EQ(r2.tun_type, SL_TUN_GUE);
  EXPECT_EQ(r2.tun_port, 6080);
  EXPECT_EQ(r2.tun_flags, SL_TUN_F_CSUM);
  EXPECT_EQ(r1.dest.fwd, svc::FwdMethod::kDr);
}

constexpr std::string_view kExample2 = R"(track_file rs3_weight {
    file /run/rs3.weight
}
virtual_server_group WEB {
    10.20.0.100 443
    10.20.0.101-103 443
    fwmark 7
}
virtual_server group WEB {
    delay_loop 5
    lvs_sched mh
    mh-port
    mh-fallback
    lvs_method NAT
    protocol TCP
    real_server 172.16.1.11 443 {
        SSL_GET {
            url {
                path /healthz
                status_code 200-299
                regex "ok"
            }
            enable_sni
            connect_timeout 3
        }
    }
    real_server 172.16.1.12 443 {
        MISC_CHECK {
            misc_path "/usr/local/bin/check_backend 172.16.1.12"
            misc_timeout 5
            misc_dynamic
        }
    }
    real_server 172.16.1.13 443 {
        FILE_CHECK {
            track_file rs3_weight
            weight 1
        }
    }
}
virtual_server 10.20.0.53 53 {
    delay_loop 10
    lvs_sched rr
    lvs_method DR
    protocol UDP
    ops
    real_server 192.168.10.21 53 {
        DNS_CHECK {
            type A
            name example.org
            retry 3
        }
    }
    real_server 192.168.10.22 53 {
        UDP_CHECK {
            connect_port 53
            payload 00 01 01 00 00 01 00 00 00 00 00 00 00 00 01 00 01
            require_reply
        }
        PING_CHECK {
        }
    }
}
)";

TEST(ConfigKeepalivedExamples, Example2) {
  Config c = ka(kExample2);
  EXPECT_EQ(diagLines(c),
            (std::vector<std::string>{
                "k.conf:7: fwmark 7: Firewall-mark services (-f) are not implemented yet; use -t or -u "
                "with the virtual address and port"}));
  EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).dest.fwd, svc::FwdMethod::kNat);
  const VirtualServerConfig& web = c.virtual_servers.at(0);
  ASSERT_EQ(web.services.size(), 5u);
  EXPECT_EQ(web.services[3].key.addr, *net::IpAddr::parse("10.20.0.103"));
  EXPECT_EQ(web.services[4].key.fwmark, 7u);
  EXPECT_EQ(web.services[0].sched_flags, svc::kSchedFlag1 | svc::kSchedFlag2);
  const auto& f = web.real_servers.at(2).checkers.at(0);
  EXPECT_EQ(f.file_path, "/run/rs3.weight");
  EXPECT_EQ(f.file_weight, 1);
  const auto& m = web.real_servers.at(1).checkers.at(0);
  EXPECT_EQ(m.misc_timeout, 5 * kSecond);
  const VirtualServerConfig& dns = c.virtual_servers.at(1);
  EXPECT_TRUE(dns.services.at(0).one_packet);
  EXPECT_EQ(dns.real_servers.at(1).checkers.at(0).udp_payload.size(), 17u);
  EXPECT_EQ(dns.real_servers.at(1).checkers.size(), 2u);
}

}  // namespace
}  // namespace sluice::config
