#!/usr/bin/env bash
# Path MTU discovery through a DR director (issue 6). The link between client and router is
# narrowed to 1400 bytes while the client still advertises a 1500-byte MSS (as a host behind
# a tunnel does), so the real servers' full-size replies, sent with the VIP as source, make
# the router answer "fragmentation needed" / "packet too big" to the VIP. Those errors land
# on the director, which must forward them to the real server of the quoted connection;
# otherwise the download black-holes. A 50 MiB download over IPv4 and over IPv6 must arrive
# intact, the router must really have sent the errors, and sluiced's icmp_forwarded counter
# must show it forwarded them. Usage: pmtu_lab.sh BUILD_DIR. Namespaces and processes go away
# on every exit path (lab_trap).
set -uo pipefail

BUILD="$(cd "${1:?usage: pmtu_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
T0=$SECONDS
NARROW_MTU=1400   # >= 1280, the IPv6 minimum

EXPECTED_SHA="$("$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --print-sha256)" || lab_die "cannot compute /big's digest"

adm() {
  local out
  if ! out="$(lab_adm "$@" 2>&1)"; then
    LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  sluiceadm $* — $out"; return 1
  fi
  return 0
}

# What the router's stack sent: Icmp OutDestUnreachs (v4, includes "fragmentation needed")
# and Icmp6 OutPktTooBigs.
router_icmp_out() {
  if [ "$1" = 4 ]; then
    nsx "$NS_ROUTER" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutDestUnreachs") c = i; h = 1 } else print $c }' /proc/net/snmp
  else
    nsx "$NS_ROUTER" awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' /proc/net/snmp6
  fi
}

echo "== topology, the client's link narrowed to $NARROW_MTU"
lab_up
lab_start_servers
ip -n "$NS_CLIENT" link set dev eth0 mtu "$NARROW_MTU"
ip -n "$NS_ROUTER" link set dev eth0 mtu "$NARROW_MTU"
# The client still offers a 1460/1440-byte MSS, so the servers learn the smaller path MTU
# only from the router's ICMP errors (with a 1400 MTU it would offer 1360 and never need them).
ip -n "$NS_CLIENT" route change default via "$ROUTER_C4" advmss 1460
ip -n "$NS_CLIENT" -6 route change default via "$ROUTER_C6" advmss 1440

echo "== director"
if ! lab_start_daemon "$BUILD"; then
  echo "FAIL  sluiced starts and opens its control socket"
  exit 1
fi
adm -A -t "$VIP4:80" -s rr && adm -a -t "$VIP4:80" -r "$RS1_4:80" -g && adm -a -t "$VIP4:80" -r "$RS2_4:80" -g
adm -A -t "[$VIP6]:80" -s rr && adm -a -t "[$VIP6]:80" -r "[$RS1_6]:80" -g && adm -a -t "[$VIP6]:80" -r "[$RS2_6]:80" -g

for fam in 4 6; do
  if [ "$fam" = 4 ]; then url="http://$VIP4/big"; else url="http://[$VIP6]/big"; fi
  echo "== IPv$fam: 50 MiB from $url over the narrow link"
  body="$LAB_RUN/big$fam.body"
  icmp_before="$(router_icmp_out "$fam")"
  ctr_before="$(lab_adm --counters 2>&1)"
  LAB_CURL_MAX=60 lab_curl -o "$body" "$url" 2>"$LAB_RUN/curl$fam.err" || true
  ctr_after="$(lab_adm --counters 2>&1)"
  icmp_after="$(router_icmp_out "$fam")"
  WHY=""
  verdict "IPv$fam: the download through the narrow link arrives intact" \
    check_download "$body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
  [ -s "$LAB_RUN/curl$fam.err" ] && echo "      curl: $(head -c 200 "$LAB_RUN/curl$fam.err")"
  rm -f "$body"
  verdict "IPv$fam: the router sent path-MTU errors to the VIP" \
    check_at_least "router's ICMP errors sent" "$((icmp_after - icmp_before))" 1
  verdict "IPv$fam: sluiced forwarded them to the real server" \
    check_at_least "icmp_forwarded" "$(counter_delta "$ctr_before" "$ctr_after" icmp_forwarded total)" 1
done

echo "== sluiceadm --counters"
lab_adm --counters 2>&1 | grep -E "Counter|icmp|tx_packets|pass_packets"

lab_stop_daemon; rc=$?
WHY="exit status $rc"; verdict "sluiced exits 0 on SIGTERM" test "$rc" = 0

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- sluiced log (last 30 lines):"; lab_daemon_log | tail -30
fi
echo "pmtu_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
