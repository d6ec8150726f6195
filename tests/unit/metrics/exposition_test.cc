// The /metrics page: a golden page for a small director, the label spellings node_exporter
// uses, merging of equal label sets, and promtool's verdict on a rich page.
#include "metrics/exposition.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/format.h"
#include "unit/metrics/metrics_inputs.h"

namespace sluice::metrics {
namespace {

using namespace testing;

Inputs smallInputs() {
  Inputs in;
  ctl::ServiceInfo s;
  s.cfg.key = service(svc::Proto::kTcp, "10.0.0.1", 80);
  s.stats = {3, 30, 20, 3000, 2000};
  s.dests = {dest("192.168.1.10", 8080, svc::FwdMethod::kDr, 5, 2, 1, {3, 30, 20, 3000, 2000})};
  in.services = {s};
  in.totals = {4, 31, 20, 3100, 2000};
  in.counters = {{"rx_packets", false, 31, 0}, {"no_real_server", true, 1, 0}};
  in.conn_entries = 3;
  in.conn_capacity = 4096;
  RealServerHealth h;
  h.svc = s.cfg.key;
  h.rs = s.dests[0].cfg.ep;
  h.up = false;
  h.checked = true;
  h.last_transition_unix_ns = 1765000000050000000ull;
  health::TargetStatus c;
  c.kind = config::CheckKind::kTcp;
  c.rs = h.rs;
  c.connect_to = h.rs;
  c.checks_run = 9;
  c.checks_failed = 3;
  h.checkers = {c};
  in.health = {h};
  return in;
}


// Every line written out by hand once and checked against node_exporter's collector
// (names, HELP texts and label order of node_ipvs_*) and the text format 0.0.4.
TEST(MetricsExposition, GoldenPageForASmallDirector) {
  EXPECT_EQ(render(smallInputs()), R"(# HELP node_ipvs_connections_total The total number of connections made.
# TYPE node_ipvs_connections_total counter
node_ipvs_connections_total 4
# HELP node_ipvs_incoming_packets_total The total number of incoming packets.
# TYPE node_ipvs_incoming_packets_total counter
node_ipvs_incoming_packets_total 31
# HELP node_ipvs_outgoing_packets_total The total number of outgoing packets.
# TYPE node_ipvs_outgoing_packets_total counter
node_ipvs_outgoing_packets_total 20
# HELP node_ipvs_incoming_bytes_total The total amount of incoming data.
# TYPE node_ipvs_incoming_bytes_total counter
node_ipvs_incoming_bytes_total 3100
# HELP node_ipvs_outgoing_bytes_total The total amount of outgoing data.
# TYPE node_ipvs_outgoing_bytes_total counter
node_ipvs_outgoing_bytes_total 2000
# HELP node_ipvs_backend_connections_active The current active connections by local and remote address.
# TYPE node_ipvs_backend_connections_active gauge
node_ipvs_backend_connections_active{local_address="10.0.0.1",local_port="80",remote_address="192.168.1.10",remote_port="8080",proto="TCP",local_mark=""} 2
# HELP node_ipvs_backend_connections_inactive The current inactive connections by local and remote address.
# TYPE node_ipvs_backend_connections_inactive gauge
node_ipvs_backend_connections_inactive{local_address="10.0.0.1",local_port="80",remote_address="192.168.1.10",remote_port="8080",proto="TCP",local_mark=""} 1
# HELP node_ipvs_backend_weight The current backend weight by local and remote address.
# TYPE node_ipvs_backend_weight gauge
node_ipvs_backend_weight{local_address="10.0.0.1",local_port="80",remote_address="192.168.1.10",remote_port="8080",proto="TCP",local_mark=""} 5
# HELP sluice_service_connections_total Virtual service: connections scheduled.
# TYPE sluice_service_connections_total counter
sluice_service_connections_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark=""} 3
# HELP sluice_service_incoming_packets_total Virtual service: packets from clients.
# TYPE sluice_service_incoming_packets_total counter
sluice_service_incoming_packets_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark=""} 30
# HELP sluice_service_outgoing_packets_total Virtual service: packets to clients.
# TYPE sluice_service_outgoing_packets_total counter
sluice_service_outgoing_packets_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark=""} 20
# HELP sluice_service_incoming_bytes_total Virtual service: bytes from clients.
# TYPE sluice_service_incoming_bytes_total counter
sluice_service_incoming_bytes_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark=""} 3000
# HELP sluice_service_outgoing_bytes_total Virtual service: bytes to clients.
# TYPE sluice_service_outgoing_bytes_total counter
sluice_service_outgoing_bytes_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark=""} 2000
# HELP sluice_real_server_connections_total Real server: connections scheduled.
# TYPE sluice_real_server_connections_total counter
sluice_real_server_connections_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 3
# HELP sluice_real_server_incoming_packets_total Real server: packets from clients.
# TYPE sluice_real_server_incoming_packets_total counter
sluice_real_server_incoming_packets_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 30
# HELP sluice_real_server_outgoing_packets_total Real server: packets to clients.
# TYPE sluice_real_server_outgoing_packets_total counter
sluice_real_server_outgoing_packets_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 20
# HELP sluice_real_server_incoming_bytes_total Real server: bytes from clients.
# TYPE sluice_real_server_incoming_bytes_total counter
sluice_real_server_incoming_bytes_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 3000
# HELP sluice_real_server_outgoing_bytes_total Real server: bytes to clients.
# TYPE sluice_real_server_outgoing_bytes_total counter
sluice_real_server_outgoing_bytes_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 2000
# HELP sluice_real_server_active_connections TCP connections in ESTABLISHED (ipvsadm ActiveConn).
# TYPE sluice_real_server_active_connections gauge
sluice_real_server_active_connections{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 2
# HELP sluice_real_server_inactive_connections Every other connection (ipvsadm InActConn).
# TYPE sluice_real_server_inactive_connections gauge
sluice_real_server_inactive_connections{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 1
# HELP sluice_real_server_persistent_connections Persistence templates pointing at the real server.
# TYPE sluice_real_server_persistent_connections gauge
sluice_real_server_persistent_connections{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 0
# HELP sluice_real_server_weight Configured weight (0: quiescent).
# TYPE sluice_real_server_weight gauge
sluice_real_server_weight{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"} 5
# HELP sluice_laddr_ports_in_use FULLNAT local address: ports held by connections.
# TYPE sluice_laddr_ports_in_use gauge
# HELP sluice_packets_dropped_total Packets dropped by the data plane, by reason and by the path that dropped them.
# TYPE sluice_packets_dropped_total counter
sluice_packets_dropped_total{reason="no_real_server",path="fast"} 0
sluice_packets_dropped_total{reason="no_real_server",path="slow"} 1
# HELP sluice_datapath_events_total Other data-plane events, by the path that counted them.
# TYPE sluice_datapath_events_total counter
sluice_datapath_events_total{event="rx_packets",path="fast"} 0
sluice_datapath_events_total{event="rx_packets",path="slow"} 31
# HELP sluice_real_server_up 1 when the health checkers hold the real server up (always 1 without checkers).
# TYPE sluice_real_server_up gauge
sluice_real_server_up{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080"} 0
# HELP sluice_real_server_checked 1 when the real server has at least one health checker.
# TYPE sluice_real_server_checked gauge
sluice_real_server_checked{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080"} 1
# HELP sluice_real_server_last_transition_timestamp_seconds Wall-clock time of the real server's last up/down change.
# TYPE sluice_real_server_last_transition_timestamp_seconds gauge
sluice_real_server_last_transition_timestamp_seconds{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080"} 1765000000.050000000
# HELP sluice_health_checks_total Health checks run.
# TYPE sluice_health_checks_total counter
sluice_health_checks_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",checker="TCP_CHECK",connect="192.168.1.10:8080"} 9
# HELP sluice_health_check_failures_total Health checks that failed.
# TYPE sluice_health_check_failures_total counter
sluice_health_check_failures_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",checker="TCP_CHECK",connect="192.168.1.10:8080"} 3
# HELP sluice_health_checker_up 1 when this checker finds the real server up.
# TYPE sluice_health_checker_up gauge
sluice_health_checker_up{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",checker="TCP_CHECK",connect="192.168.1.10:8080"} 0
# HELP sluice_connection_table_entries Connections and templates in the connection table.
# TYPE sluice_connection_table_entries gauge
sluice_connection_table_entries 3
# HELP sluice_connection_table_capacity Entries the connection table can hold (ipvsadm size=).
# TYPE sluice_connection_table_capacity gauge
sluice_connection_table_capacity 4096
)");
}

TEST(MetricsExposition, DeterministicForEqualInputs) {
  EXPECT_EQ(render(richInputs()), render(richInputs()));
}

TEST(MetricsExposition, LabelValuesEscaped) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Inputs in = smallInputs();
  in.version = "1.0 \"rc\\1\"\nx";
  std::string page = render(in);
  EXPECT_NE(page.find("sluice_build_info{version=\"1.0 \\\"rc\\\\1\\\"\\nx\"} 1\n"), std::string::npos) << page;
  in.counters = {{"odd\"name", true, 1, 2}};
  page = render(in);
  EXPECT_NE(page.find("sluice_packets_dropped_total{reason=\"odd\\\"name\",path=\"fast\"} 2\n"), std::string::npos);
}

// node_exporter sums backends whose label values come out equal; a listing never holds
// one real server twice in one service, so the duplicate is made by hand here.
TEST(MetricsExposition, EqualBackendsSummed) {
  Inputs in = smallInputs();
  ctl::ServiceInfo again = in.services[0];
  again.dests[0].active = 10;
  again.dests[0].inactive = 20;
  again.dests[0].cfg.weight = 7;
  again.dests[0].stats = {100, 0, 0, 0, 0};
  in.services.push_back(again);
  auto got = samples(render(in));
  const std::string labels =
      R"({local_address="10.0.0.1",local_port="80",remote_address="192.168.1.10",remote_port="8080",proto="TCP",local_mark=""})";
  EXPECT_EQ(got["node_ipvs_backend_connections_active" + labels], "12");
  EXPECT_EQ(got["node_ipvs_backend_connections_inactive" + labels], "21");
  EXPECT_EQ(got["node_ipvs_backend_weight" + labels], "12");
  EXPECT_EQ(got[R"(sluice_real_server_connections_total{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",rip="192.168.1.10",rport="8080",fwd="dr"})"],
            "103");
  // One series each, not two.
  std::string page = render(in);
  size_t n = 0;
  for (size_t p = 0; (p = page.find("node_ipvs_backend_weight{", p)) != std::string::npos; ++p) ++n;
  EXPECT_EQ(n, 1u);
}

TEST(MetricsExposition, FwmarkLabelsAsNodeExporterReadsProcNetIpVs) {
  auto got = samples(render(richInputs()));
  // /proc/net/ip_vs prints "FWM  %08X": node_exporter's local_mark is that hex field.
  EXPECT_EQ(got[R"(node_ipvs_backend_weight{local_address="",local_port="0",remote_address="172.16.1.11",remote_port="0",proto="FWM",local_mark="0000000A"})"],
            "2");
  EXPECT_EQ(got[R"(node_ipvs_backend_connections_active{local_address="",local_port="0",remote_address="::1",remote_port="0",proto="FWM",local_mark="0000000B"})"],
            "0");
  EXPECT_EQ(got[R"(sluice_service_incoming_packets_total{vip="",vport="0",proto="FWM",fwmark="10"})"], "50");
  EXPECT_EQ(got[R"(sluice_real_server_connections_total{vip="",vport="0",proto="FWM",fwmark="10",rip="172.16.1.11",rport="0",fwd="fullnat"})"],
            "5");
}

// FULLNAT: one gauge per service and local address, the ports its connections hold
// (ctl::LaddrInfo::conns, from the Director's hook into the port pools).
TEST(MetricsExposition, LocalAddressPortsInUse) {
  Inputs in;
  ctl::ServiceInfo s;
  s.cfg.key = service(svc::Proto::kTcp, "10.0.0.1", 80);
  s.laddrs = {ctl::LaddrInfo{{ip("192.168.100.200"), "eth1"}, 1234}, ctl::LaddrInfo{{ip("192.168.100.201"), ""}, 0}};
  ctl::ServiceInfo v6;
  v6.cfg.key = service(svc::Proto::kUdp, "2001:db8::1", 53);
  v6.laddrs = {ctl::LaddrInfo{{ip("2001:db8::200"), ""}, 7}};
  in.services = {s, v6};
  const std::string page = render(in);
  auto got = samples(page);
  EXPECT_EQ(got[R"(sluice_laddr_ports_in_use{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",laddr="192.168.100.200",ifname="eth1"})"],
            "1234");
  EXPECT_EQ(got[R"(sluice_laddr_ports_in_use{vip="10.0.0.1",vport="80",proto="TCP",fwmark="",laddr="192.168.100.201",ifname=""})"],
            "0");
  EXPECT_EQ(got[R"(sluice_laddr_ports_in_use{vip="2001:db8::1",vport="53",proto="UDP",fwmark="",laddr="2001:db8::200",ifname=""})"],
            "7");
  EXPECT_NE(page.find("# TYPE sluice_laddr_ports_in_use gauge\n"), std::string::npos);
}

TEST(MetricsExposition, FwmarkIpv4AndIpv6WithOneMarkShareServiceSeries) {
  Inputs in;
  ctl::ServiceInfo a, b;
  a.cfg.key = fwmark(3);
  a.stats = {1, 0, 0, 0, 0};
  b.cfg.key = fwmark(3, net::Family::kV6);
  b.stats = {2, 0, 0, 0, 0};
  in.services = {a, b};
  auto got = samples(render(in));
  EXPECT_EQ(got[R"(sluice_service_connections_total{vip="",vport="0",proto="FWM",fwmark="3"})"], "3");
}

TEST(MetricsExposition, AddressesAsGoPrintsThem) {
  EXPECT_EQ(addrLabel(ip("10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(addrLabel(ip("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(addrLabel(ip("::")), "::");
  EXPECT_EQ(addrLabel(ip("::1")), "::1");
  EXPECT_EQ(addrLabel(ip("2001:DB8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");   // first of equal runs
  EXPECT_EQ(addrLabel(ip("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");        // the longest run
  EXPECT_EQ(addrLabel(ip("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");  // one zero group stays
  EXPECT_EQ(addrLabel(ip("fe80::")), "fe80::");
  EXPECT_EQ(addrLabel(ip("::ffff:10.0.0.1")), "10.0.0.1");  // Go prints IPv4-mapped as IPv4
  EXPECT_EQ(addrLabel(ip("::a00:1")), "::a00:1");           // glibc would print ::10.0.0.1

  auto got = samples(render(richInputs()));
  EXPECT_EQ(got[R"(node_ipvs_backend_connections_inactive{local_address="2001:db8::53",local_port="53",remote_address="2001:db8:0:1::21",remote_port="53",proto="UDP",local_mark=""})"],
            "17");
  EXPECT_EQ(got[R"(sluice_real_server_up{vip="2001:db8::53",vport="53",proto="UDP",fwmark="",rip="2001:db8:0:1::21",rport="53"})"],
            "1");
}

TEST(MetricsExposition, HealthSeries) {
  auto got = samples(render(richInputs()));
  const std::string rs1 = R"(vip="10.20.0.100",vport="80",proto="TCP",fwmark="",rip="192.168.10.11",rport="80")";
  const std::string rs2 = R"(vip="10.20.0.100",vport="80",proto="TCP",fwmark="",rip="192.168.10.12",rport="8080")";
  EXPECT_EQ(got["sluice_real_server_up{" + rs1 + "}"], "1");
  EXPECT_EQ(got["sluice_real_server_up{" + rs2 + "}"], "0");
  EXPECT_EQ(got["sluice_real_server_last_transition_timestamp_seconds{" + rs1 + "}"], "1765000000.123456789");
  EXPECT_EQ(got["sluice_health_checks_total{" + rs1 + R"(,checker="HTTP_GET",connect="192.168.10.11:8081"})"], "120");
  EXPECT_EQ(got["sluice_health_check_failures_total{" + rs1 + R"(,checker="HTTP_GET",connect="192.168.10.11:8081"})"], "2");
  EXPECT_EQ(got["sluice_health_checker_up{" + rs2 + R"(,checker="TCP_CHECK",connect="192.168.10.12:8080"})"], "0");
  // Unchecked: no timestamp series.
  EXPECT_EQ(got.count(R"(sluice_real_server_last_transition_timestamp_seconds{vip="2001:db8::53",vport="53",proto="UDP",fwmark="",rip="2001:db8:0:1::21",rport="53"})"),
            0u);
  EXPECT_EQ(got["sluice_start_time_seconds"], "1764999000.500000000");
}

TEST(MetricsExposition, DropsAndEventsSplitByPath) {
  auto got = samples(render(richInputs()));
  EXPECT_EQ(got[R"(sluice_packets_dropped_total{reason="no_real_server",path="slow"})"], "7");
  EXPECT_EQ(got[R"(sluice_packets_dropped_total{reason="no_real_server",path="fast"})"], "2");
  EXPECT_EQ(got[R"(sluice_datapath_events_total{event="rx_packets",path="fast"})"], "50000");
  EXPECT_EQ(got.count(R"(sluice_datapath_events_total{event="no_real_server",path="slow"})"), 0u);
  EXPECT_EQ(got.count(R"(sluice_packets_dropped_total{reason="rx_packets",path="slow"})"), 0u);
}

// The numbers equal sluiceadm -Ln --stats --exact's columns for the same listing.
TEST(MetricsExposition, TrafficEqualsSluiceadmStats) {
  Inputs in = richInputs();
  cli::ListFormat f;
  f.stats = f.exact = f.nosort = true;
  std::string listing = cli::formatServices(in.services, f);
  auto got = samples(render(in));
  std::regex row(R"((TCP|UDP|FWM|  ->)\s+(\S+)(?: IPv6)?\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*)");
  const char* fields[] = {"connections", "incoming_packets", "outgoing_packets", "incoming_bytes", "outgoing_bytes"};
  size_t svc_i = 0, dest_i = 0, rows = 0;
  std::istringstream lines(listing);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    ++rows;
    std::string labels;
    const ctl::ServiceInfo* s = nullptr;
    if (m[1] != "  ->") {
      s = &in.services.at(svc_i++);
      dest_i = 0;
      const auto& k = s->cfg.key;
      labels = k.fwmark ? fmt::format(R"({{vip="",vport="0",proto="FWM",fwmark="{}"}})", k.fwmark)
                        : fmt::format(R"({{vip="{}",vport="{}",proto="{}",fwmark=""}})", addrLabel(k.addr), k.port,
                                      std::string(m[1]));
      for (int i = 0; i < 5; ++i)
        EXPECT_EQ(got[fmt::format("sluice_service_{}_total{}", fields[i], labels)], m[3 + i].str()) << line;
    } else {
      s = &in.services.at(svc_i - 1);
      const auto& k = s->cfg.key;
      const auto& d = s->dests.at(dest_i++);
      std::string svc = k.fwmark ? fmt::format(R"(vip="",vport="0",proto="FWM",fwmark="{}")", k.fwmark)
                                 : fmt::format(R"(vip="{}",vport="{}",proto="{}",fwmark="")", addrLabel(k.addr), k.port,
                                               k.proto == svc::Proto::kUdp ? "UDP" : "TCP");
      std::string prefix = fmt::format(R"({{{},rip="{}",rport="{}",fwd=")", svc, addrLabel(d.cfg.ep.addr), d.cfg.ep.port);
      for (int i = 0; i < 5; ++i) {
        // The fwd label is the last one; find the series by prefix.
        std::string want = fmt::format("sluice_real_server_{}_total{}", fields[i], prefix);
        auto it = got.lower_bound(want);
        ASSERT_TRUE(it != got.end() && it->first.starts_with(want)) << want;
        EXPECT_EQ(it->second, m[3 + i].str()) << line;
      }
    }
  }
  EXPECT_EQ(rows, 4u + 5u);  // four services, five real servers
}

TEST(MetricsExposition, ClusterSeries) {
  std::string page = render(richInputs());
  EXPECT_NE(page.find("sluice_cluster_ready{node_id=\"2\"} 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("sluice_cluster_vip_announced{vip=\"2001:db8:31::100\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("sluice_sync_messages_sent_total{type=\"conn_update\"} 7\n"), std::string::npos);
  EXPECT_NE(page.find("sluice_sync_messages_received_total{type=\"heartbeat\"} 12\n"), std::string::npos);
  EXPECT_NE(page.find("sluice_sync_dropped_total{reason=\"replay\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("sluice_sync_entries_installed_total 40\n"), std::string::npos);
  EXPECT_NE(page.find("sluice_sync_peers_alive 2\n"), std::string::npos);
  Inputs plain;
  EXPECT_EQ(render(plain).find("sluice_cluster"), std::string::npos);  // not a cluster director
}

// promtool (Debian's prometheus package) is the reference parser and linter.
TEST(MetricsExposition, PromtoolAcceptsRichPage) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  std::string path = ::testing::TempDir() + "sluice_metrics_promtool.txt";
  {
    std::ofstream f(path);
    f << render(richInputs());
  }
  std::string out_path = path + ".out";
  int rc = std::system(("timeout -s KILL 30 promtool check metrics <" + path + " >" + out_path + " 2>&1").c_str());
  std::ifstream o(out_path);
  std::string verdict((std::istreambuf_iterator<char>(o)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << verdict;
  EXPECT_EQ(verdict, "") << "promtool's lint found problems";
  std::remove(path.c_str());
  std::remove(out_path.c_str());
}

}  // namespace
}  // namespace sluice::metrics
