// Golden listings: the expected text is what ipvsadm 1.31's printf formats produce for the
// same table, written out by hand (trailing spaces of real-server rows included).
#include "cli/format.h"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

svc::ServiceKey tcp(const char* a, uint16_t port, svc::Proto p = svc::Proto::kTcp) {
  svc::ServiceKey k;
  k.proto = p;
  k.addr = ip(a);
  k.port = port;
  return k;
}

ctl::DestInfo dest(const char* a, uint16_t port, svc::FwdMethod fwd, int32_t w, uint32_t act, uint32_t inact) {
  ctl::DestInfo d;
  d.cfg.ep = {ip(a), port};
  d.cfg.fwd = fwd;
  d.cfg.weight = w;
  d.active = act;
  d.inactive = inact;
  return d;
}

// The table of ECOSYSTEM.md §2.2, deliberately not in ipvsadm's order.
std::vector<ctl::ServiceInfo> table() {
  ctl::ServiceInfo web;
  web.cfg.key = tcp("10.20.0.100", 80);
  web.cfg.persistent = true;
  web.cfg.persistence_timeout = 300;
  web.cfg.persistence_prefix = 24;
  web.dests = {dest("192.168.10.12", 80, svc::FwdMethod::kTun, 100, 9, 198),
               dest("192.168.10.11", 80, svc::FwdMethod::kDr, 100, 12, 240)};

  ctl::ServiceInfo dns;
  dns.cfg.key = tcp("10.20.0.53", 53, svc::Proto::kUdp);
  dns.cfg.scheduler = "rr";
  dns.cfg.one_packet = true;
  dns.dests = {dest("192.168.10.21", 53, svc::FwdMethod::kNat, 1, 0, 17)};

  ctl::ServiceInfo fwm;
  fwm.cfg.key.fwmark = 7;
  fwm.cfg.scheduler = "sh";
  fwm.cfg.sched_flags = svc::kSchedFlag1 | svc::kSchedFlag2;
  fwm.dests = {dest("172.16.1.11", 0, svc::FwdMethod::kNat, 1, 0, 0)};
  return {fwm, dns, web};
}

TEST(Format, Header) {
  EXPECT_EQ(formatHeader(4096), "IP Virtual Server version 1.2.1 (size=4096)\n");
}

TEST(Format, PlainListingSortedLikeIpvsadm) {
  EXPECT_EQ(formatServices(table(), {}),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.20.0.100:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 192.168.10.11:80             Route   100    12         240       \n"
            "  -> 192.168.10.12:80             Tunnel  100    9          198       \n"
            "UDP  10.20.0.53:53 rr ops\n"
            "  -> 192.168.10.21:53             Masq    1      0          17        \n"
            "FWM  7 sh (sh-fallback,sh-port)\n"
            "  -> 172.16.1.11:0                Masq    1      0          0         \n");
}

TEST(Format, NoSortKeepsDaemonOrder) {
  ListFormat f;
  f.nosort = true;
  std::string out = formatServices(table(), f);
  EXPECT_LT(out.find("FWM  7"), out.find("UDP  10.20.0.53:53"));
  EXPECT_LT(out.find("192.168.10.12:80"), out.find("192.168.10.11:80"));
}

TEST(Format, SortKeepsLibipvsWrapAroundQuirk) {
  // ntohl(10.0.0.1) - ntohl(192.168.1.1) wraps to a positive int: ipvsadm lists 192.168.1.1
  // first. 10.0.0.1 vs 10.0.0.2 compares normally.
  std::vector<ctl::ServiceInfo> v(3);
  v[0].cfg.key = tcp("10.0.0.2", 80);
  v[1].cfg.key = tcp("192.168.1.1", 80);
  v[2].cfg.key = tcp("10.0.0.1", 80);
  sortLikeIpvsadm(v);
  EXPECT_EQ(v[0].cfg.key.addr, ip("192.168.1.1"));
  EXPECT_EQ(v[1].cfg.key.addr, ip("10.0.0.1"));
  EXPECT_EQ(v[2].cfg.key.addr, ip("10.0.0.2"));
}

TEST(Format, SortOrdersFamilyProtocolAndPort) {
  std::vector<ctl::ServiceInfo> v(4);
  v[0].cfg.key = tcp("2001:db8::1", 80);
  v[1].cfg.key = tcp("10.0.0.1", 443);
  v[2].cfg.key = tcp("10.0.0.1", 53, svc::Proto::kUdp);
  v[3].cfg.key = tcp("10.0.0.1", 80);
  sortLikeIpvsadm(v);
  EXPECT_EQ(v[0].cfg.key.port, 80);
  EXPECT_TRUE(v[0].cfg.key.addr.isV4());
  EXPECT_EQ(v[1].cfg.key.port, 443);
  EXPECT_EQ(v[2].cfg.key.proto, svc::Proto::kUdp);
  EXPECT_TRUE(v[3].cfg.key.addr.isV6());
}

TEST(Format, Stats) {
  auto t = table();
  auto& web = t[2];
  web.stats = {1234, 56789, 0, 4567890, 0};
  web.dests[1].stats = {617, 28394, 0, 123456789, 0};
  web.dests[0].stats = {617, 28395, 0, 4444434, 0};
  std::vector<ctl::ServiceInfo> only{web};
  ListFormat f;
  f.stats = true;
  EXPECT_EQ(formatServices(only, f),
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.20.0.100:80                   1234    56789        0  4567890        0\n"
            "  -> 192.168.10.11:80                  617    28394        0  123456K        0\n"
            "  -> 192.168.10.12:80                  617    28395        0  4444434        0\n");
}

TEST(Format, Rate) {
  ctl::ServiceInfo web = table()[2];
  web.rate = {12, 340, 0, 250000, 0};
  web.dests = {web.dests[1]};
  web.dests[0].rate = {6, 170, 0, 125000, 0};
  ListFormat f;
  f.rate = true;
  EXPECT_EQ(formatServices({web}, f),
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.20.0.100:80                     12      340        0   250000        0\n"
            "  -> 192.168.10.11:80                    6      170        0   125000        0\n");
}

TEST(Format, ExactAndAbbreviated) {
  ctl::ServiceInfo web = table()[2];
  web.stats = {1234, 56789, 0, 12345678901ull, 0};
  web.dests = {web.dests[1]};
  web.dests[0].stats = {617, 28394, 0, 123456789, 0};
  ListFormat f;
  f.stats = true;
  std::string title =
      "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
      "  -> RemoteAddress:Port\n";
  EXPECT_EQ(formatServices({web}, f),
            title +
                "TCP  10.20.0.100:80                   1234    56789        0   12345M        0\n"
                "  -> 192.168.10.11:80                  617    28394        0  123456K        0\n");
  f.exact = true;
  EXPECT_EQ(formatServices({web}, f),
            title +
                "TCP  10.20.0.100:80                   1234    56789        0 12345678901        0\n"
                "  -> 192.168.10.11:80                  617    28394        0 123456789        0\n");
}

TEST(Format, LargeNumBoundaries) {
  EXPECT_EQ(largeNum(0, false), "        0");
  EXPECT_EQ(largeNum(99999999, false), " 99999999");
  EXPECT_EQ(largeNum(100000000, false), "  100000K");
  EXPECT_EQ(largeNum(999999999, false), "  999999K");
  EXPECT_EQ(largeNum(1000000000, false), "    1000M");
  EXPECT_EQ(largeNum(99999999999ull, false), "   99999M");
  EXPECT_EQ(largeNum(100000000000ull, false), "     100G");
  EXPECT_EQ(largeNum(99999999999999ull, false), "   99999G");
  EXPECT_EQ(largeNum(100000000000000ull, false), "     100T");
  EXPECT_EQ(largeNum(123456789012ull, false), "     123G");
  EXPECT_EQ(largeNum(5, true), "        5");
  EXPECT_EQ(largeNum(12345678, true), " 12345678");
  EXPECT_EQ(largeNum(123456789, true), " 123456789");
  EXPECT_EQ(largeNum(18446744073709551615ull, true), " 18446744073709551615");
}

TEST(Format, ThresholdsAndPersistentConn) {
  ctl::ServiceInfo web = table()[2];
  web.dests = {web.dests[1]};
  web.dests[0].cfg.u_threshold = 2000;
  web.dests[0].cfg.l_threshold = 1500;
  web.dests[0].persist = 7;
  ListFormat f;
  f.thresholds = true;
  EXPECT_EQ(formatServices({web}, f),
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.20.0.100:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 192.168.10.11:80             2000       1500       12         240       \n");
  f.thresholds = false;
  f.persistent_conn = true;
  EXPECT_EQ(formatServices({web}, f),
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.20.0.100:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 192.168.10.11:80             100       7           12         240       \n");
}

TEST(Format, Ipv6AndFullNat) {
  ctl::ServiceInfo s;
  s.cfg.key = tcp("2001:db8::1", 80);
  s.cfg.persistent = true;
  s.cfg.persistence_timeout = 600;
  s.cfg.persistence_prefix = 64;
  s.dests = {dest("2001:db8::10", 8080, svc::FwdMethod::kFullNat, 5, 1, 2)};
  ctl::ServiceInfo f6;
  f6.cfg.key.fwmark = 9;
  f6.cfg.key.fwmark_family = net::Family::kV6;
  f6.cfg.persistence_prefix = 128;
  f6.cfg.sched_flags = svc::kSchedFlag3;
  EXPECT_EQ(formatServices({s, f6}, {}),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  [2001:db8::1]:80 wlc persistent 600 mask 64\n"
            "  -> [2001:db8::10]:8080          FullNat 5      1          2         \n"
            "FWM  9 IPv6 wlc (flag-3)\n");
  EXPECT_EQ(formatSave({s, f6}, false),
            "-A -t [2001:db8::1]:80 -s wlc -p 600 -M 64\n"
            "-a -t [2001:db8::1]:80 -r [2001:db8::10]:8080 -b -w 5\n"
            "-A -f 9 -6 -s wlc -b flag-3\n");
}

TEST(Format, Save) {
  EXPECT_EQ(formatSave(table(), false),
            "-A -t 10.20.0.100:80 -s wlc -p 300 -M 255.255.255.0\n"
            "-a -t 10.20.0.100:80 -r 192.168.10.11:80 -g -w 100\n"
            "-a -t 10.20.0.100:80 -r 192.168.10.12:80 -i -w 100 --tun-type ipip\n"
            "-A -u 10.20.0.53:53 -s rr -o\n"
            "-a -u 10.20.0.53:53 -r 192.168.10.21:53 -m -w 1\n"
            "-A -f 7 -s sh -b sh-fallback,sh-port\n"
            "-a -f 7 -r 172.16.1.11:0 -m -w 1\n");
}

// Real servers of every tunnel type, and one of each other method: ipvsadm 1.31's
// print_tunnel_rule for -S, fwd_tun_info for the --tun-info column.
std::vector<ctl::ServiceInfo> tunnelTable() {
  ctl::ServiceInfo s;
  s.cfg.key = tcp("10.0.0.1", 80);
  s.cfg.scheduler = "rr";
  auto tun = [](const char* a, uint8_t type, uint16_t port, uint8_t flags) {
    ctl::DestInfo d = dest(a, 80, svc::FwdMethod::kTun, 1, 0, 0);
    d.cfg.tun_type = type;
    d.cfg.tun_port = port;
    d.cfg.tun_flags = flags;
    return d;
  };
  s.dests = {tun("10.1.0.1", SL_TUN_IPIP, 0, 0),
             tun("10.1.0.2", SL_TUN_GUE, 6080, 0),
             tun("10.1.0.3", SL_TUN_GUE, 6081, SL_TUN_F_CSUM),
             tun("10.1.0.4", SL_TUN_GUE, 6082, SL_TUN_F_REMCSUM),
             tun("10.1.0.5", SL_TUN_GRE, 0, SL_TUN_F_CSUM),
             dest("10.1.0.6", 8080, svc::FwdMethod::kNat, 2, 3, 4),
             dest("10.1.0.7", 80, svc::FwdMethod::kDr, 65535, 100, 2000)};
  return {s};
}

TEST(Format, SaveWritesTunnelOptionsAsIpvsadm) {
  EXPECT_EQ(formatSave(tunnelTable(), false),
            "-A -t 10.0.0.1:80 -s rr\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type ipip\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.4:80 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -i -w 1 --tun-type gre --tun-csum\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.6:8080 -m -w 2\n"
            "-a -t 10.0.0.1:80 -r 10.1.0.7:80 -g -w 65535\n");
}

TEST(Format, TunInfoColumn) {
  ListFormat f;
  f.tun_info = true;
  EXPECT_EQ(formatServices(tunnelTable(), f),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
            "TCP  10.0.0.1:80 rr\n"
            "  -> 10.1.0.1:80                  Tunnel  ipip          1      0          0         \n"
            "  -> 10.1.0.2:80                  Tunnel  gue:6080:-c   1      0          0         \n"
            "  -> 10.1.0.3:80                  Tunnel  gue:6081:+c   1      0          0         \n"
            "  -> 10.1.0.4:80                  Tunnel  gue:6082:r+c  1      0          0         \n"
            "  -> 10.1.0.5:80                  Tunnel  gre:+c        1      0          0         \n"
            "  -> 10.1.0.6:8080                Masq    n/a           2      3          4         \n"
            "  -> 10.1.0.7:80                  Route   n/a           65535  100        2000      \n");
  // ipvsadm checks --stats, --rate, --thresholds and --persistent-conn first: with any of
  // them, --tun-info changes nothing.
  ListFormat st = f;
  st.thresholds = true;
  ListFormat plain_thr;
  plain_thr.thresholds = true;
  EXPECT_EQ(formatServices(tunnelTable(), st), formatServices(tunnelTable(), plain_thr));
  // Without --tun-info the Forward column is the same width (Masq/Tunnel/Route, %-7s).
  EXPECT_NE(formatServices(tunnelTable(), {}).find("  -> 10.1.0.6:8080                Masq    2      3          4         \n"),
            std::string::npos);
}

TEST(Format, Connections) {
  auto conn = [](uint8_t proto, const char* state, uint32_t exp, const char* c, uint16_t cp, const char* v,
                 uint16_t vp, const char* d, uint16_t dp) {
    ctl::ConnInfo x;
    x.proto = proto;
    x.state = state;
    x.expire_s = exp;
    x.client = {ip(c), cp};
    x.vip = {ip(v), vp};
    x.dest = {ip(d), dp};
    return x;
  };
  std::vector<ctl::ConnInfo> conns{
      conn(6, "ESTABLISHED", 900, "10.10.0.2", 40312, "10.20.0.100", 80, "192.168.10.11", 80),
      conn(17, "UDP", 299, "10.10.0.2", 40001, "10.20.0.53", 53, "192.168.10.21", 53),
      conn(6, "NONE", 300, "10.10.0.0", 0, "10.20.0.100", 80, "192.168.10.11", 80),
      conn(6, "SYN_RECV", 7, "2001:db8::99", 5555, "2001:db8::1", 443, "2001:db8::10", 443),
  };
  EXPECT_EQ(formatConns(conns),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n"
            "TCP 15:00  ESTABLISHED 10.10.0.2:40312    10.20.0.100:80     192.168.10.11:80\n"
            "UDP 04:59  UDP         10.10.0.2:40001    10.20.0.53:53      192.168.10.21:53\n"
            "TCP 05:00  NONE        10.10.0.0:0        10.20.0.100:80     192.168.10.11:80\n"
            "TCP 00:07  SYN_RECV    [2001:db8::99]:5555 [2001:db8::1]:443  [2001:db8::10]:443\n");
}

TEST(Format, Timeouts) {
  EXPECT_EQ(formatTimeouts({}), "Timeout (tcp tcpfin udp): 900 120 300\n");
  EXPECT_EQ(formatTimeouts({7200, 60, 30}), "Timeout (tcp tcpfin udp): 7200 60 30\n");
}

TEST(Format, Counters) {
  std::vector<ctl::CounterInfo> c = {{"rx_packets", false, 812, 73104},
                                     {"ipv6_bad_payload_len", true, 0, 0},
                                     {"tx_failed", true, 18446744073709551615ull, 0}};
  EXPECT_EQ(formatCounters(c),
            "Counter                        Slow           Fast          Total\n"
            "rx_packets                      812          73104          73916\n"
            "ipv6_bad_payload_len              0              0              0  drop\n"
            "tx_failed            18446744073709551615              0 18446744073709551615  drop\n");
  // The name column is as wide as the longest name, never narrower than its title.
  EXPECT_EQ(formatCounters({{"a", false, 1, 2}}),
            "Counter           Slow           Fast          Total\n"
            "a                    1              2              3\n");
}

TEST(Format, Health) {
  ctl::HealthInfo up;
  up.svc.addr = *net::IpAddr::parse("10.0.0.100");
  up.svc.port = 80;
  up.vs = "10.0.0.100 80";
  up.rs = *net::Endpoint::parse("10.0.0.11:80");
  up.in_table = true;
  up.weight = 3;
  up.reason = "all checkers up";
  up.last_transition_unix_ns = 1796625600ull * 1'000'000'000ull;  // 2026-12-07 06:40:00Z
  up.checkers.push_back({"TCP_CHECK", up.rs, true, "connected", 12, 1, 0});
  ctl::HealthInfo down = up;
  down.rs = *net::Endpoint::parse("10.0.0.12:80");
  down.up = false;
  down.in_table = true;
  down.weight = 0;
  down.reason = "HTTP status 503";
  down.checkers = {{"HTTP_GET", down.rs, false, "HTTP status 503", 4, 4, 0}};
  ctl::HealthInfo sorry = up;
  sorry.rs = *net::Endpoint::parse("10.0.0.250:80");
  sorry.sorry = true;
  sorry.up = false;
  sorry.in_table = false;
  sorry.last_transition_unix_ns = 0;
  sorry.reason = "quorum held: not in use";
  sorry.checkers.clear();
  std::string out = formatHealth({up, down, sorry}, true);
  EXPECT_EQ(out,
            "Service                      Real server                  State  Weight  Since                 Reason\n"
            "TCP  10.0.0.100:80           10.0.0.11:80                 UP          3  2026-12-07 06:40:00Z  all checkers up\n"
            "    TCP_CHECK 10.0.0.11:80  up, 12 checks, 1 failed: connected\n"
            "TCP  10.0.0.100:80           10.0.0.12:80                 DOWN/0      0  2026-12-07 06:40:00Z  HTTP status 503\n"
            "    HTTP_GET 10.0.0.12:80  down, 4 checks, 4 failed: HTTP status 503\n"
            "TCP  10.0.0.100:80           10.0.0.250:80                IDLE        -  -                     quorum held: not in use\n");
}

}  // namespace
}  // namespace sluice::cli
