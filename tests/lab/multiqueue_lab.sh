#!/usr/bin/env bash
# Multi-queue lab test: the director's LAN interface has 4 rx queues (a veth made with
# numrxqueues 4 numtxqueues 4, like a NIC with RSS), so new flows arrive on any of them.
# sluiced must serve every queue: 40 requests from 40 client source ports all succeed with
# rr balance, and more than one worker (one per queue here) received frames. Before every
# queue had a socket, only the flows hashed to queue 0 reached sluiced; the others' SYNs
# went to the kernel stack, which reset them. Usage: multiqueue_lab.sh BUILD_DIR.
# MQ_SLUICED_ARGS overrides sluiced's extra arguments (default "--workers 4").
# Namespaces and processes go away on every exit path.
set -uo pipefail

BUILD="$(cd "${1:?usage: multiqueue_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
T0=$SECONDS
QUEUES=4
read -r -a SLUICED_ARGS <<<"${MQ_SLUICED_ARGS---workers 4}"

say() { echo "== $*"; lab_fresh_scenario; }
adm() {
  local out
  if ! out="$(lab_adm "$@" 2>&1)"; then
    LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  sluiceadm $* — $out"; return 1
  fi
  [ -n "$out" ] && echo "$out"
  return 0
}

say "topology: the director's eth0 has $QUEUES queues"
LAB_DIR_QUEUES=$QUEUES lab_up
lab_start_servers
rxq="$(nsx "$NS_DIR" sh -c 'ls -d /sys/class/net/eth0/queues/rx-*' | wc -l)"
WHY="the director's eth0 has $rxq rx queues"; verdict "the lab gives the director $QUEUES rx queues" test "$rxq" = "$QUEUES"

say "director"
if ! lab_start_daemon "$BUILD" "${SLUICED_ARGS[@]}"; then
  echo "FAIL  sluiced starts and opens its control socket"
  exit 1
fi
lab_daemon_log | grep -E "rx queue|worker" | sed 's/^/  sluiced: /'

say "rr: 40 requests from 40 client ports"
adm -A -t "$VIP4:80" -s rr && adm -a -t "$VIP4:80" -r "$RS1_4:80" -g && adm -a -t "$VIP4:80" -r "$RS2_4:80" -g
answers=()
for ((i = 1; i <= 40; i++)); do
  # A fixed, distinct source port per request: 40 different flows, hashed over the queues.
  answers+=("$(lab_ask "http://$VIP4/" --local-port $((20000 + i * 7)))")
done
verdict "40 requests over 4 queues all succeed, rr 20/20" check_counts "${answers[*]}" 40 20 20
verdict "rr alternates over them" check_alternates "${answers[*]}" 40
st="$(lab_adm -Ln --stats 2>&1)"
verdict "--stats counts the 40 connections" check_at_least "Conns of $VIP4:80" \
  "$(stats_conns "$st" "TCP  $VIP4:80")" 40

say "shutdown: what each worker received"
lab_stop_daemon; rc=$?
WHY="exit status $rc"; verdict "sluiced exits 0 on SIGTERM" test "$rc" = 0
per_worker="$(lab_daemon_log | sed -n 's/.*worker \([0-9]*\) (.*): received \([0-9]*\) frames.*/\1=\2/p' | tr '\n' ' ')"
busy=0
for kv in $per_worker; do [ "${kv#*=}" -gt 0 ] && busy=$((busy + 1)); done
WHY="frames received per worker: ${per_worker:-none logged}"
verdict "more than one queue's worker received frames" test "$busy" -ge 2

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- sluiced log (last 30 lines):"
  lab_daemon_log | tail -30
fi
echo "multiqueue_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
