#!/usr/bin/env bash
# The two-minute tour (`./run demo`): builds the DR lab in namespaces, starts sluiced on the
# director, configures a round-robin service over two real web servers with sluiceadm, sends
# ten requests from the client, shows the listings, and removes everything again.
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
lab_start_servers 2>/dev/null

step "Starting sluiced on the director's LAN interface (XDP)."
show "sluiced -i eth0 --socket $LAB_SOCK"
lab_start_daemon "$BUILD" 2>/dev/null || { lab_daemon_log; lab_die "sluiced did not start"; }

step "Configuring the virtual service, exactly as with ipvsadm:"
for args in "-A -t $VIP4:80 -s rr" "-a -t $VIP4:80 -r $RS1_4:80 -g -w 1" "-a -t $VIP4:80 -r $RS2_4:80 -g -w 1"; do
  show "sluiceadm $args"
  # shellcheck disable=SC2086
  lab_adm $args || lab_die "sluiceadm $args failed"
done

step "Ten requests from the client to http://$VIP4/ :"
ok=0
for i in $(seq 1 10); do
  if answer="$(lab_curl "http://$VIP4/" 2>&1)"; then ok=$((ok + 1)); else answer="(failed: $answer)"; fi
  printf '   request %2d -> %s\n' "$i" "$answer"
done
echo "   $ok of 10 answered; round robin takes turns between the two servers."

step "What the director knows:"
show "sluiceadm -Ln"
lab_adm -Ln | sed 's/^/   /'
show "sluiceadm -Ln --stats"
lab_adm -Ln --stats | sed 's/^/   /'
echo "   (OutPkts stay 0: in direct routing the replies never pass through the director.)"

step "Cleaning up: stopping sluiced, removing every namespace."
lab_stop_daemon; rc=$?
[ "$rc" = 0 ] || echo "   sluiced exited with status $rc"
lab_cleanup
echo "   Done. Try './run lab' for an interactive shell in this topology."
[ "$ok" = 10 ]
