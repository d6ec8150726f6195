#!/usr/bin/env bash
# TUN lab test (issue 9): LVS-TUN with the real servers in another subnet, behind a router,
# as when they sit in another data centre. The director encapsulates each request (IPIP,
# IPv6-in-IPv6, then GUE) to the real server's own address; the real servers, which have no
# ipip module here, run sluice-decap on their interface, which hands the inner packet to the
# stack; they answer the client directly from the VIP (on lo), not through the director.
# Checked with real HTTP: rr over v4 and v6, a 50 MiB download, GUE, -Ln showing Tunnel, the
# real servers' MSS clamp (sluice-decap --mss) seen in the client's connections, and path
# MTU: a full-size datagram no longer fits once encapsulated, the director answers it with
# "fragmentation needed" / "packet too big" carrying the reduced MTU (IPVS's pmtu_disc),
# and the client's next datagram of that size is answered. Usage: tun_lab.sh BUILD_DIR.
#
#   client --- router ---[ switch ]--- director (sluiced)
#                             '------- far (a router) ---- rs1 (10.0.3.11, VIP on lo, sluice-decap)
#                                                    '---- rs2 (10.0.4.12, VIP on lo, sluice-decap)
set -uo pipefail

BUILD="$(cd "${1:?usage: tun_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

DECAP="$BUILD/bin/sluice-decap"
[ -x "$DECAP" ] || lab_die "$DECAP not built"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
T0=$SECONDS

FAR_L4=10.0.2.20;  FAR_L6=2001:db8:2::20
T_RS1_4=10.0.3.11; T_RS1_6=2001:db8:3::11
T_RS2_4=10.0.4.12; T_RS2_6=2001:db8:4::12
GUE_PORT=6080
# The MSS the real servers' SYN-ACKs announce (sluice-decap --mss), so that a client's
# full-size segment still fits the 1500-byte links once the director encapsulates it:
#   IPIP (v4 in v4):  1500 - 20 outer IPv4 - 20 IPv4 - 20 TCP            = 1440
#   IPv6 in IPv6:     1500 - 40 outer IPv6 - 40 IPv6 - 20 TCP            = 1400
#   GUE (v4 in v4):   1500 - 20 outer IPv4 - 8 UDP - 4 GUE - 20 IPv4 - 20 TCP = 1428
# One clamp serves every tunnel of this lab: the smallest, 1400.
MSS_CLAMP=1400
NS_FAR="${LAB_PREFIX}far"

URL4="http://$VIP4/"
URL6="http://[$VIP6]/"
EXPECTED_SHA="$("$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --print-sha256)" || lab_die "cannot compute /big's digest"

say() { echo "== $*"; lab_fresh_scenario; }
adm() {
  local out
  if ! out="$(lab_adm "$@" 2>&1)"; then
    LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  sluiceadm $* — $out"; return 1
  fi
  [ -n "$out" ] && echo "$out"
  return 0
}
tun_service() {   # tun_service VIP:PORT RS1 RS2 [tunnel options]
  local v="$1" r1="$2" r2="$3"; shift 3
  adm -A -t "$v" -s rr && adm -a -t "$v" -r "$r1" -i -w 1 "$@" && adm -a -t "$v" -r "$r2" -i -w 1 "$@"
}

say "topology: the real servers two hops away, behind 'far'"
lab_up
# The DR lab's real servers move to their own subnets behind another router: their LAN ports
# go, new links to 'far' come. They keep the VIP on lo (as for DR), which sluice-decap needs.
LAB_NAMESPACES+=("$NS_FAR")
ip netns add "$NS_FAR"
ip -n "$NS_FAR" link set lo up
lab_sysctl "$NS_FAR" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
  net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$NS_SWITCH" link del p-rs1
ip -n "$NS_SWITCH" link del p-rs2
lab_veth "$NS_FAR" eth0 "$NS_SWITCH" p-far
ip -n "$NS_SWITCH" link set p-far master br0
ip -n "$NS_SWITCH" link set p-far up
lab_veth "$NS_FAR" eth1 "$NS_RS1" eth0
lab_veth "$NS_FAR" eth2 "$NS_RS2" eth0
for l in eth0 eth1 eth2; do ip -n "$NS_FAR" link set "$l" up; done
ip -n "$NS_FAR" addr add "$FAR_L4/24" dev eth0
ip -n "$NS_FAR" addr add "$FAR_L6/64" dev eth0 nodad
ip -n "$NS_FAR" addr add 10.0.3.1/24 dev eth1
ip -n "$NS_FAR" addr add 2001:db8:3::1/64 dev eth1 nodad
ip -n "$NS_FAR" addr add 10.0.4.1/24 dev eth2
ip -n "$NS_FAR" addr add 2001:db8:4::1/64 dev eth2 nodad
ip -n "$NS_FAR" route add default via "$ROUTER_L4"
ip -n "$NS_FAR" -6 route add default via "$ROUTER_L6"
for n in 1 2; do
  if [ "$n" = 1 ]; then ns="$NS_RS1"; a4="$T_RS1_4"; a6="$T_RS1_6"; g4=10.0.3.1; g6=2001:db8:3::1
  else ns="$NS_RS2"; a4="$T_RS2_4"; a6="$T_RS2_6"; g4=10.0.4.1; g6=2001:db8:4::1; fi
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$a4/24" dev eth0
  ip -n "$ns" addr add "$a6/64" dev eth0 nodad
  ip -n "$ns" route add default via "$g4"
  ip -n "$ns" -6 route add default via "$g6"
done
# The director and the client's router reach the far subnets through 'far'.
for ns in "$NS_DIR" "$NS_ROUTER"; do
  ip -n "$ns" route add 10.0.3.0/24 via "$FAR_L4"
  ip -n "$ns" route add 10.0.4.0/24 via "$FAR_L4"
  ip -n "$ns" -6 route add 2001:db8:3::/64 via "$FAR_L6"
  ip -n "$ns" -6 route add 2001:db8:4::/64 via "$FAR_L6"
done
for pr in "$NS_DIR $T_RS1_4" "$NS_DIR $T_RS2_6" "$NS_CLIENT $T_RS2_4" "$NS_CLIENT $T_RS1_6"; do
  set -- $pr
  lab_ping "$1" "$2" || lab_die "topology: $1 cannot reach $2"
done
lab_start_servers

say "real servers: sluice-decap on their interface"
DECAP_PID=()
for n in 1 2; do
  if [ "$n" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
  ip netns exec "$ns" "$DECAP" --interface eth0 --vip "$VIP4" --vip "$VIP6" --gue-port "$GUE_PORT" \
    --mss "$MSS_CLAMP" >>"$LAB_RUN/decap-rs$n.log" 2>&1 &
  DECAP_PID[$n]=$!; LAB_PIDS+=($!)
done
sleep 1
for n in 1 2; do
  WHY="$(tail -3 "$LAB_RUN/decap-rs$n.log" | tr '\n' ' ')"
  verdict "sluice-decap runs on rs$n" kill -0 "${DECAP_PID[$n]}"
  verdict "sluice-decap on rs$n clamps the MSS on egress" check_contains "its log" \
    "$(cat "$LAB_RUN/decap-rs$n.log")" "clamping the MSS of SYN-ACKs from the VIPs to $MSS_CLAMP"
done

say "director"
if ! lab_start_daemon "$BUILD"; then
  echo "FAIL  sluiced starts and opens its control socket"
  exit 1
fi

say "IPIP: rr over 10 requests"
tun_service "$VIP4:80" "$T_RS1_4:80" "$T_RS2_4:80"
verdict "TUN (IPIP) rr alternates over 10 requests" check_alternates "$(lab_ask_n 10 "$URL4")" 10

say "IPv6-in-IPv6: rr over 10 requests"
tun_service "[$VIP6]:80" "[$T_RS1_6]:80" "[$T_RS2_6]:80"
verdict "TUN (IPv6 in IPv6) rr alternates over 10 requests" check_alternates "$(lab_ask_n 10 "$URL6")" 10

say "MSS clamp: the client's connections to the VIP send segments of at most $MSS_CLAMP bytes"
# A connection held open (python, at most 4 s) while `ss -tni` reads the client's MSS for
# it: without the clamp it would be 1460 less options (1448), too big for the tunnel.
check_client_mss() {   # check_client_mss VIP
  local vip="$1" out mss m
  nsx "$NS_CLIENT" timeout -s KILL 4 "$LAB_PYTHON" -c \
    'import socket, sys, time; s = socket.create_connection((sys.argv[1], 80), timeout=2); time.sleep(3)' \
    "$vip" >/dev/null 2>&1 &
  local pid=$!
  sleep 1
  out="$(nsx "$NS_CLIENT" timeout -s KILL 5 ss -tniH state established dport = :80)"
  wait "$pid" 2>/dev/null
  mss="$(grep -o ' mss:[0-9]*' <<<"$out" | head -1 | cut -d: -f2)"
  if [ -z "$mss" ]; then WHY="no connection to $vip in ss -tni: $out"; return 1; fi
  WHY="ss -tni shows mss:$mss (clamp $MSS_CLAMP)"
  [ "$mss" -le "$MSS_CLAMP" ]
}
verdict "IPv4 (IPIP): the client's MSS is at most the clamp" check_client_mss "$VIP4"
verdict "IPv6 (IPv6 in IPv6): the client's MSS is at most the clamp" check_client_mss "$VIP6"

say "50 MiB download (the answer goes straight back to the client)"
ctr_before="$(lab_adm --counters 2>&1)"
LAB_CURL_MAX=60 lab_curl -o "$LAB_RUN/big.body" "http://$VIP4/big" || true
ctr_after="$(lab_adm --counters 2>&1)"
verdict "50 MiB download over TUN arrives intact" check_download "$LAB_RUN/big.body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
rm -f "$LAB_RUN/big.body"
# The director carries the client's ACKs (hundreds for 50 MiB, see dr_lab.sh), each one
# encapsulated; nearly all of them must be the fast path's.
verdict "the fast path encapsulated the download's client->server packets" check_fast_path \
  "tx_packets during the download" \
  "$(counter_delta "$ctr_before" "$ctr_after" tx_packets slow)" \
  "$(counter_delta "$ctr_before" "$ctr_after" tx_packets fast)" 200 10

say "path MTU: a full-size datagram no longer fits once encapsulated"
# A UDP service over the tunnel; lab/pmtu_probe.py sends a 1500-byte datagram with DF, must
# be told the smaller MTU by the director (from the VIP), and then gets an answer to a
# datagram of that size. A TCP upload would show the same, but on veth in generic XDP mode
# the client's segments reach the director as TSO aggregates, which XDP cannot encapsulate
# (README, "Status"): one datagram is one packet.
for fam in 4 6; do
  if [ "$fam" = 4 ]; then vip="$VIP4"; r1="$T_RS1_4:5300"; r2="$T_RS2_4:5300"
  else vip="$VIP6"; r1="[$T_RS1_6]:5300"; r2="[$T_RS2_6]:5300"; fi
  if [ "$fam" = 4 ]; then v="$vip:5300"; else v="[$vip]:5300"; fi
  adm -A -u "$v" -s rr && adm -a -u "$v" -r "$r1" -i -w 1 && adm -a -u "$v" -r "$r2" -i -w 1
  ctr_before="$(lab_adm --counters 2>&1)"
  out="$(nsx "$NS_CLIENT" timeout -s KILL 20 "$LAB_PYTHON" "$LAB_ROOT/lab/pmtu_probe.py" "$vip" 5300 2>&1)"; rc=$?
  ctr_after="$(lab_adm --counters 2>&1)"
  WHY="pmtu_probe.py: exit $rc, $out"
  verdict "IPv$fam: the client learns the tunnel's MTU and a datagram of that size is answered" test "$rc" = 0
  verdict "IPv$fam: the director sent the MTU error" check_at_least \
    "icmp_frag_needed_sent" "$(counter_delta "$ctr_before" "$ctr_after" icmp_frag_needed_sent total)" 1
done

say "GUE: rr over 10 requests to $VIP4:81 (--tun-type gue --tun-port $GUE_PORT)"
# TUN keeps the service's port (ipvsadm forces rport = vport for -g and -i), so a second
# service port needs its own listener on the real servers.
tun_service "$VIP4:81" "$T_RS1_4:81" "$T_RS2_4:81" --tun-type gue --tun-port "$GUE_PORT"
for n in 1 2; do
  if [ "$n" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
  ip netns exec "$ns" "$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --id "$n" --port 81 --big-mib 1 \
    >>"$LAB_RUN/http81-rs$n.log" 2>&1 &
  LAB_PIDS+=($!)
  lab_wait 100 nsx "$ns" curl -sf --noproxy '*' --max-time 1 http://127.0.0.1:81/ ||
    lab_die "port-81 web server in rs$n did not come up"
done
verdict "TUN (GUE) rr alternates over 10 requests" check_alternates "$(lab_ask_n 10 "http://$VIP4:81/")" 10

say "sluiceadm -Ln"
ln="$(lab_adm -Ln 2>&1)"; echo "$ln"
verdict "-Ln lists the real servers as Tunnel" check_contains "-Ln" "$ln" "$T_RS1_4:80" "Tunnel"
ti="$(lab_adm -Ln --tun-info 2>&1)"; echo "$ti"
verdict "-Ln --tun-info shows the GUE port" check_contains "--tun-info" "$ti" "gue" "$GUE_PORT"

say "shutdown"
lab_stop_daemon; rc=$?
WHY="exit status $rc"; verdict "sluiced exits 0 on SIGTERM" test "$rc" = 0
for n in 1 2; do
  kill -TERM "${DECAP_PID[$n]}" 2>/dev/null; wait "${DECAP_PID[$n]}"; rc=$?
  if [ "$n" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
  link="$(ip -n "$ns" -d link show eth0)"
  WHY="exit status $rc; $(grep -o 'prog/xdp[^ ]*' <<<"$link" || echo 'no XDP program left')"
  verdict "sluice-decap on rs$n exits 0 on SIGTERM and detaches" test "$rc" = 0 -a -z "$(grep -o 'prog/xdp' <<<"$link")"
  # The tc filter, unlike the XDP link, would outlive the process if it were not removed.
  tcf="$(tc -n "$ns" filter show dev eth0 egress 2>&1)"
  WHY="tc filter show dev eth0 egress: ${tcf:-empty}"
  verdict "sluice-decap on rs$n removed its egress filter" test -z "$tcf"
  WHY=""
  verdict "sluice-decap on rs$n counted clamped SYN-ACKs" grep -q 'SYN-ACKs clamped [1-9]' "$LAB_RUN/decap-rs$n.log"
done

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- sluiced log (last 30 lines):"; lab_daemon_log | tail -30
  for n in 1 2; do echo "-- sluice-decap rs$n log:"; tail -10 "$LAB_RUN/decap-rs$n.log"; done
fi
echo "tun_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
