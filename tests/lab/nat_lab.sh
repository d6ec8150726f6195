#!/usr/bin/env bash
# NAT lab test (issue 9): LVS-NAT as the HOWTO builds it. The real servers keep their own
# addresses only (no VIP) and their default route goes through the director, which the
# operator has made a router (ip_forward, as for IPVS's NAT). Requests to VIP:port are
# rewritten to RIP:rport, the replies coming back through the director are rewritten to
# VIP:port. Checked with real HTTP: rr over v4 and v6, port mapping (VIP:8000 -> RIP:80), a
# 50 MiB download whose server->client packets the XDP fast path rewrites, -Ln showing
# Masq, the real servers' own traffic (no reply of a virtual service) routed by the kernel
# untouched, and sluiced's warning once forwarding is switched off. Usage: nat_lab.sh BUILD_DIR. Namespaces and processes go away on every
# exit path (lab_trap).
set -uo pipefail

BUILD="$(cd "${1:?usage: nat_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
T0=$SECONDS

URL4="http://$VIP4/"
URL6="http://[$VIP6]/"
EXPECTED_SHA="$("$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --print-sha256)" || lab_die "cannot compute /big's digest"

say() { echo "== $*"; lab_fresh_scenario; }
adm() {   # sluiceadm that must succeed; a failure is a FAIL, the test goes on
  local out
  if ! out="$(lab_adm "$@" 2>&1)"; then
    LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  sluiceadm $* — $out"; return 1
  fi
  [ -n "$out" ] && echo "$out"
  return 0
}
nat_service() {   # nat_service -t|-u VIP:PORT SCHED RS1:PORT RS2:PORT
  adm -A "$1" "$2" -s "$3" && adm -a "$1" "$2" -r "$4" -m -w 1 && adm -a "$1" "$2" -r "$5" -m -w 1
}

say "topology: the real servers route through the director"
lab_up
# From the DR lab's topology to LVS-NAT, as an operator converts it: the real servers drop
# the VIP and send everything through the director, which forwards.
for ns in "$NS_RS1" "$NS_RS2"; do
  ip -n "$ns" addr del "$VIP4/32" dev lo
  ip -n "$ns" addr del "$VIP6/128" dev lo
  ip -n "$ns" route replace default via "$DIR4"
  ip -n "$ns" -6 route replace default via "$DIR6"
done
lab_sysctl "$NS_DIR" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
lab_start_servers

# Before sluiced: the client reaches a real server by its own address, the answer coming back
# through the director's kernel (the real servers' own traffic, which NAT must not touch).
verdict "client reaches RS1 directly through the director's routing (v4)" check_counts \
  "$(lab_ask "http://$RS1_4/")" 1 1 0
verdict "client reaches RS2 directly through the director's routing (v6)" check_counts \
  "$(lab_ask "http://[$RS2_6]/")" 1 0 1

say "director"
if ! lab_start_daemon "$BUILD"; then
  echo "FAIL  sluiced starts and opens its control socket"
  exit 1
fi

say "rr over NAT: 10 requests to $VIP4:80 alternate RS1, RS2"
nat_service -t "$VIP4:80" rr "$RS1_4:80" "$RS2_4:80"
verdict "NAT rr alternates over 10 requests" check_alternates "$(lab_ask_n 10 "$URL4")" 10

say "port mapping: $VIP4:8000 -> RIP:80"
nat_service -t "$VIP4:8000" rr "$RS1_4:80" "$RS2_4:80"
verdict "NAT with port mapping answers 10 requests, 5/5" check_counts \
  "$(lab_ask_n 10 "http://$VIP4:8000/")" 10 5 5

say "IPv6 rr over NAT: 10 requests to [$VIP6]:80"
nat_service -t "[$VIP6]:80" rr "[$RS1_6]:80" "[$RS2_6]:80"
verdict "IPv6 NAT rr alternates over 10 requests" check_alternates "$(lab_ask_n 10 "$URL6")" 10

say "UDP over NAT: 20 datagrams, each a new connection"
nat_service -u "$VIP4:5300" rr "$RS1_4:5300" "$RS2_4:5300"
verdict "UDP NAT answers all 20 datagrams, 10/10" check_counts \
  "$(nsx "$NS_CLIENT" timeout -s KILL 60 "$LAB_PYTHON" "$LAB_ROOT/lab/udp_ask.py" "$VIP4" 5300 20 1 "$(lab_fresh_port 20)")" 20 10 10

say "50 MiB download through the VIP (the replies are rewritten by the director)"
ctr_before="$(lab_adm --counters 2>&1)"
LAB_CURL_MAX=60 lab_curl -o "$LAB_RUN/big.body" "http://$VIP4/big" || true
ctr_after="$(lab_adm --counters 2>&1)"
verdict "50 MiB download over NAT arrives intact" check_download "$LAB_RUN/big.body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
rm -f "$LAB_RUN/big.body"
# 50 MiB is 36000 full-size segments from the server, but on veth they reach the director as
# TSO aggregates of up to 64 KiB (800 or so frames, seen), plus the client's few hundred ACKs.
# Nearly all of them must be the fast path's: the slow path sees a flow's first packets only.
verdict "the fast path rewrote the download's packets" check_fast_path "tx_packets during the download" \
  "$(counter_delta "$ctr_before" "$ctr_after" tx_packets slow)" \
  "$(counter_delta "$ctr_before" "$ctr_after" tx_packets fast)" 400 10
LAB_CURL_MAX=60 lab_curl -o "$LAB_RUN/big6.body" "http://[$VIP6]/big" || true
verdict "50 MiB download over IPv6 NAT arrives intact" check_download "$LAB_RUN/big6.body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
rm -f "$LAB_RUN/big6.body"

say "the real servers' own traffic goes through untouched"
verdict "with sluiced running, the client still reaches RS1 by its own address" check_counts \
  "$(lab_ask "http://$RS1_4/")" 1 1 0
out="$(nsx "$NS_RS1" timeout -s KILL 10 "$LAB_PYTHON" "$LAB_ROOT/lab/ping.py" "$CLIENT4" 3 2>&1)"; rc=$?
WHY="ping.py from rs1 to the client: exit $rc, ${out:0:120}"
verdict "RS1 pings the client through the director" test "$rc" = 0

say "sluiceadm -Ln"
ln="$(lab_adm -Ln 2>&1)"; echo "$ln"
verdict "-Ln lists the NAT real servers as Masq" check_contains "-Ln" "$ln" \
  "$VIP4:8000" "$RS1_4:80" "Masq"
lc="$(lab_adm -Lnc 2>&1)"
verdict "-Lnc shows the client's connections (and no reply twins)" check_contains "-Lnc" "$lc" "$CLIENT4:"
# -Lnc's columns: pro expire state source virtual destination. A reply twin listed as a
# connection would show the client's address as its source and a real server's as its
# virtual address; the real connections show the VIP there.
twins="$(grep -cE "$CLIENT4:[0-9]+ +($RS1_4|$RS2_4):80 " <<<"$lc")"
conns="$(grep -cE "$CLIENT4:[0-9]+ +$VIP4:(80|8000) " <<<"$lc")"
WHY="$twins lines have a real server as the virtual address, $conns the VIP"
verdict "-Lnc lists no reply-direction entries as connections" test "$twins" = 0 -a "$conns" -gt 0

say "a director that does not forward: sluiced says so when NAT real servers appear"
# An operator who forgot the HOWTO's ip_forward: the warning names the sysctl, per family.
adm -C
lab_sysctl "$NS_DIR" net.ipv4.ip_forward=0
nat_service -t "$VIP4:80" rr "$RS1_4:80" "$RS2_4:80"
lab_wait 30 grep -q 'net.ipv4.ip_forward is 0' "$LAB_RUN/sluiced.log"
WHY="sluiced's log: $(lab_daemon_log | grep 'NAT real servers' | tail -2 | tr '\n' ' ')"
verdict "sluiced warns that net.ipv4.ip_forward is 0" grep -q 'net.ipv4.ip_forward is 0' "$LAB_RUN/sluiced.log"
verdict "and not about IPv6, which still forwards" \
  test "$(grep -c 'net.ipv6.conf.all.forwarding is 0' "$LAB_RUN/sluiced.log")" = 0
lab_sysctl "$NS_DIR" net.ipv4.ip_forward=1

say "shutdown"
lab_stop_daemon; rc=$?
WHY="exit status $rc"; verdict "sluiced exits 0 on SIGTERM" test "$rc" = 0

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- sluiced log (last 30 lines):"; lab_daemon_log | tail -30
fi
echo "nat_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
