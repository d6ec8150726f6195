#!/usr/bin/env bash
# The two-minute tour (`./run demo`): builds the DR lab in namespaces, starts sluiced on the
# director from a keepalived.conf (a round-robin service over two real web servers, with
# TCP_CHECK and HTTP_GET), sends requests, stops one web server and shows the director take
# it out and put it back by itself, shows the listings and the metrics, and removes
# everything again.
# Usage: lab/demo.sh BUILD_DIR
set -uo pipefail

BUILD="$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
step() { printf '\n%s>> %s%s\n' "$B" "$*" "$N"; }
show() { printf '   $ %s\n' "$*"; }

step "Building the lab: a client, a router, a switch, one director and two real servers,"
echo "   each in its own network namespace (prefix ${LAB_PREFIX}). Nothing touches this host's network."
lab_up 2>/dev/null || lab_die "could not build the topology (run as root; see lab/README.md)"
echo "   client $CLIENT4 -> router -> LAN 10.0.2.0/24: director $DIR4, rs1 $RS1_4, rs2 $RS2_4"
echo "   The router sends the VIP $VIP4 to the director; the real servers hold the VIP on lo"
echo "   and answer the client directly (LVS direct routing)."

step "Starting a small web server on each real server (it answers 'RS 1' or 'RS 2')."
lab_start_rs 1
lab_start_rs 2

CONF="$LAB_RUN/keepalived.conf"
cat >"$CONF" <<CONF
global_defs {
   router_id LVS_DEMO
}

virtual_server $VIP4 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP

    real_server $RS1_4 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server $RS2_4 80 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
CONF
step "The director's configuration is an ordinary keepalived.conf (its LVS part):"
sed 's/^/   | /' "$CONF"
show "sluiced --check -f keepalived.conf"
"$BUILD/bin/sluiced" --check -f "$CONF" 2>&1 | sed 's/^/   /'

step "Starting sluiced on the director's LAN interface (XDP), configured from that file."
show "sluiced -i eth0 -f keepalived.conf --metrics $DIR4:9101 --socket $LAB_SOCK"
lab_start_daemon "$BUILD" -f "$CONF" --metrics "$DIR4:9101" 2>/dev/null || { lab_daemon_log; lab_die "sluiced did not start"; }

rs1_state() { lab_adm --health | awk -v r="$RS1_4:80" '$3 == r {print $4; exit}'; }
rs1_is() { [ "$(rs1_state)" = "$1" ]; }
ask10() {
  local ok=0 i answer
  for i in $(seq 1 10); do
    if answer="$(lab_curl "http://$VIP4/" 2>&1)"; then ok=$((ok + 1)); else answer="(failed: $answer)"; fi
    printf '   request %2d -> %s\n' "$i" "$answer"
  done
  echo "   $ok of 10 answered."
  [ "$ok" = 10 ]
}

step "Ten requests from the client to http://$VIP4/ (round robin takes turns):"
ask10; ok1=$?

step "The health view and the table:"
show "sluiceadm --health"
lab_adm --health | sed 's/^/   /'
show "sluiceadm -Ln"
lab_adm -Ln | sed 's/^/   /'

step "Real server 1's web server dies (we stop it); its TCP_CHECK fails within seconds:"
lab_stop_rs 1
lab_wait 100 rs1_is DOWN
grep -F "Removing service" "$LAB_RUN/sluiced.log" | tail -1 | sed 's/^/   log: /'
show "sluiceadm --health"
lab_adm --health | sed 's/^/   /'
echo "   Every request now goes to real server 2; none is lost:"
ask10; ok2=$?

step "Real server 1 comes back; sluiced notices and puts it back in rotation by itself:"
lab_start_rs 1
lab_wait 100 rs1_is UP
grep -F "Adding service" "$LAB_RUN/sluiced.log" | tail -1 | sed 's/^/   log: /'
ask10; ok3=$?

step "What monitoring sees (Prometheus text, node_exporter's IPVS names):"
show "curl -s http://$DIR4:9101/metrics | grep ^node_ipvs_backend_weight"
nsx "$NS_DIR" timeout -s KILL 10 curl -sS --noproxy '*' "http://$DIR4:9101/metrics" |
  grep '^node_ipvs_backend_weight' | sed 's/^/   /'
show "sluiceadm -Ln --stats"
lab_adm -Ln --stats | sed 's/^/   /'
echo "   (OutPkts stay 0: in direct routing the replies never pass through the director.)"

step "Cleaning up: stopping sluiced, removing every namespace."
lab_stop_daemon; rc=$?
[ "$rc" = 0 ] || echo "   sluiced exited with status $rc"
lab_cleanup
echo "   Done. Try './run lab' for an interactive shell in this topology."
part1=1
[ "$ok1" = 0 ] && [ "$ok2" = 0 ] && [ "$ok3" = 0 ] && part1=0

step "Part two: the active-active cluster (docs/CLUSTER.md). A router running BIRD spreads
   flows by OSPF ECMP over three directors that each read the same keepalived.conf with a
   sluice_cluster block; 1000 long-lived connections echo every 100 ms while new ones
   arrive. One director is SIGKILLed, then restarted: no established connection breaks."
if ! command -v bird >/dev/null 2>&1; then
  echo "   (skipped: BIRD is not installed; './run deps' installs it)"
  exit "$part1"
fi
CLUSTER_LAB_SCENARIOS="${DEMO_CLUSTER_SCENARIOS:-a b c}" \
  "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/cluster_lab.sh" "$BUILD"
part2=$?
[ "$part1" = 0 ] && [ "$part2" = 0 ]
