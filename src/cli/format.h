// ipvsadm 1.31's listing formats, byte for byte: -L (plain, --stats, --rate, --exact,
// --thresholds, --persistent-conn), -Lc, --timeout and -S. Scripts and monitoring parse
// these columns, so the printf widths, the trailing spaces of real-server rows and even
// ipvsadm's sort order (see sortLikeIpvsadm) are reproduced rather than improved.
// Addresses are always printed numerically (ipvsadm without -n would resolve names).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctl/backend.h"
#include "svc/model.h"

namespace sluice::cli {

struct ListFormat {
  bool stats = false;
  bool rate = false;
  bool thresholds = false;
  bool persistent_conn = false;
  bool exact = false;
  bool nosort = false;
  bool tun_info = false;  // --tun-info: the TunnelInfo column (after the four above)
};

// "IP Virtual Server version 1.2.1 (size=N)\n" — printed by `-L` without a service only.
std::string formatHeader(uint32_t conn_table_size);
// The two title lines and one block per service (real servers below it).
std::string formatServices(std::vector<ctl::ServiceInfo> services, const ListFormat& f);
// `-S`: one ipvsadm command line per service and real server, no header. A tunnelled real
// server carries its --tun-* options as ipvsadm 1.31 prints them (print_tunnel_rule):
//   -a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type ipip
//   -a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
//   -a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type gre --tun-csum
// A service whose FULLNAT client-address mode is not TOA carries --client-addr MODE, and its
// local addresses follow its -A line as DPVS commands (DPVS's own -S leaves them out):
//   -P -t 10.0.0.1:80 -z 192.168.100.200 -F eth1
std::string formatSave(std::vector<ctl::ServiceInfo> services, bool nosort);
// `-G` (DPVS's --get-laddr), DPVS's columns: a title, then per service its VIP:VPORT and how
// many local addresses it has, then one row per address with CONFLICTS (always 0 here) and
// CONNS (its ports in use). Services in sluiced's order; nothing at all without services.
std::string formatLaddrs(const std::vector<ctl::ServiceInfo>& services);
// `-Lc`: "IPVS connection entries", the title, one row per connection.
std::string formatConns(const std::vector<ctl::ConnInfo>& conns);
// `-L --timeout`.
std::string formatTimeouts(const svc::Timeouts& t);
// `-L --daemon`: ipvsadm's line per sync role, master then backup, with the parts ipvsadm
// 1.29+ prints after mcast and syncid (maxlen, port; never group or ttl: sync is unicast):
//   master sync daemon (mcast=eth1, syncid=1, maxlen=1400, port=8848)
//   backup sync daemon (mcast=eth1, syncid=1, maxlen=1400, port=8848)
// A cluster director always runs both (one node that sends and receives); nothing at all
// without a sluice_cluster block, as ipvsadm with no daemon. mcast= names the interface
// carrying the sync address, or the address itself should none carry it at the moment.
std::string formatSyncDaemons(const std::optional<ctl::SyncDaemonInfo>& running);
// `--counters` (no ipvsadm equivalent): "Counter Slow Fast Total", one row per counter in
// the daemon's order, full digits, "drop" after the counters that count dropped packets.
// The numbers are always columns 2 to 4, so `awk '$1 == "tx_packets" {print $3}'` works.
std::string formatCounters(const std::vector<ctl::CounterInfo>& counters);

// `--health` (no ipvsadm equivalent): one row per real server of the config file (sorry
// servers included), the service first, then one indented row per checker:
//   Service                  Real server              State  Weight  Since                 Reason
//   TCP  10.0.0.100:80       10.0.0.11:80             UP          1  2026-12-07 06:30:00Z  all checkers up
//     HTTP_GET 10.0.0.11:80  up, 12 checks, 0 failed: HTTP status 200
// State: UP, DOWN (out of the table), DOWN/0 (inhibit_on_failure: kept at weight 0),
// SORRY (the sorry server in use) or IDLE (the sorry server while quorum holds).
std::string formatHealth(const std::vector<ctl::HealthInfo>& rows, bool numeric);

// ipvsadm's print_largenum: 9 columns, K/M/G/T suffixes past 10^8 (exact: full digits).
std::string largeNum(uint64_t n, bool exact);

// ipvsadm's default order: by fwmark, family, protocol, address, port (dests: address,
// port). Addresses are compared the way libipvs does it, as the int difference of two
// 32-bit words, so addresses 2^31 or more apart sort "backwards" (192.168.x before 10.x),
// and the sort is glibc's merge sort, so even such orders come out as ipvsadm's.
void sortLikeIpvsadm(std::vector<ctl::ServiceInfo>& services);

// "-t 10.0.0.1:80", "-u [2001:db8::1]:53", "-f 7", "-f 7 -6": a service as ipvsadm args.
std::string serviceArgs(const svc::ServiceKey& k);

}  // namespace sluice::cli
