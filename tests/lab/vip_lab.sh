#!/usr/bin/env bash
# VIP announcement lab: a router and two directors in network namespaces, OSPF between them,
# each director's VIPs held on a VIP device (src/cluster/vip_device.h) by tests/tools/vip_hold,
# a stand-in for sluiced's cluster part. Checks, with BIRD 2 (lab/routing/bird/):
#   (a) the router gets one ECMP route per VIP with both directors as next hops, IPv4 and IPv6;
#   (b) a second VIP added on one director (and removed again) reaches the router while the
#       first VIP's route is never touched (`ip monitor route` in the router sees nothing of it);
#   (c) SIGKILL of one holder: the router drops that next hop; the time is reported, not judged;
# and with FRR (lab/routing/frr/), (a) and (c) for IPv4 and IPv6.
#
#   d1 (vip_hold + routing daemon) uplink ---- to-d1 \
#                                                     router (ECMP, L4 hash)
#   d2 (vip_hold + routing daemon) uplink ---- to-d2 /
#
# Usage: vip_lab.sh BUILD_DIR. Every namespace and process is removed on every exit.
set -uo pipefail

BUILD="$(cd "${1:?usage: vip_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"
# shellcheck source=../../lab/routing/render.sh
. "$HERE/../../lab/routing/render.sh"

lab_require_root
HOLD="$BUILD/bin/vip_hold"
[ -x "$HOLD" ] || lab_die "$HOLD not built (ninja -C $BUILD vip_hold)"
command -v bird >/dev/null || lab_die "bird not installed: run './run deps' (bird2)"
[ -x /usr/lib/frr/ospfd ] || lab_die "FRR not installed: run './run deps' (frr)"

PFX="${VIP_LAB_PREFIX:-sv-$$-}"
NS_R="${PFX}r"; NS_D1="${PFX}d1"; NS_D2="${PFX}d2"
VIP_DEV=sluice-vip
VIP4A=10.31.0.100;       VIP4B=10.31.0.101;       VIP_NET4=10.31.0.0/16
VIP6A=2001:db8:31::100;  VIP6B=2001:db8:31::101;  VIP_NET6=2001:db8:31::/48
LAB_RUN="$(mktemp -d /tmp/sluice-viplab.XXXXXX)"
T0=$SECONDS
BFD="${VIP_LAB_BFD:-no}"   # VIP_LAB_BFD=yes: the same checks with BFD on every OSPF link

# Namespaces of this scheme left by a SIGKILLed run (no trap ran): removed when their run's
# PID is gone, as lab_reap_stale does for the DR lab's names.
vip_reap_stale() {
  local ns pid p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^sv-([0-9]+)-(r|d1|d2)$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    if kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; then continue; fi
    lab_log "removing $ns, left behind by dead run $pid"
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}
vip_reap_stale
lab_trap   # lab_cleanup: LAB_PIDS, then anything left in LAB_NAMESPACES, then LAB_RUN

say() { echo "== $* ($((SECONDS - T0)) s)"; }

topology() {
  local ns n
  for ns in "$NS_R" "$NS_D1" "$NS_D2"; do
    if ip netns list | grep -qw -- "$ns"; then lab_die "namespace $ns already exists"; fi
    LAB_NAMESPACES+=("$ns")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  routing_router_sysctls "$NS_R"
  for n in 1 2; do
    ns="${PFX}d$n"
    lab_veth "$NS_R" "to-d$n" "$ns" uplink
    ip -n "$NS_R" addr add "10.30.$n.1/30" dev "to-d$n"
    ip -n "$NS_R" addr add "2001:db8:30:$n::1/64" dev "to-d$n" nodad
    ip -n "$NS_R" link set "to-d$n" up
    ip -n "$ns" addr add "10.30.$n.2/30" dev uplink
    ip -n "$ns" addr add "2001:db8:30:$n::2/64" dev uplink nodad
    ip -n "$ns" link set uplink up
    ip -n "$ns" route add default via "10.30.$n.1"
    ip -n "$ns" -6 route add default via "2001:db8:30:$n::1"
  done
}

# hold N [vip_hold args]: starts the VIP holder in director N; its PID is HOLD_PID[N].
declare -A HOLD_PID=()
hold() {
  local n="$1"; shift
  local log="$LAB_RUN/hold-d$n.log"
  : >"$log"
  ip netns exec "${PFX}d$n" "$HOLD" "$VIP_DEV" "$@" >>"$log" 2>&1 &
  HOLD_PID[$n]=$!
  LAB_PIDS+=($!)
  lab_wait 50 grep -q '^ready' "$log" || lab_die "vip_hold in d$n did not start: $(cat "$log")"
}

# nexthops NS ADDR: how many next hops the router's kernel route to ADDR has (0: no route).
nexthops() {
  local fam=-4 out
  [[ "$2" == *:* ]] && fam=-6
  out="$(ip -n "$1" "$fam" route show "$2" 2>/dev/null)"
  if [ -z "$out" ]; then echo 0
  elif grep -q nexthop <<<"$out"; then grep -c nexthop <<<"$out"
  else echo 1; fi
}
nexthops_are() { [ "$(nexthops "$NS_R" "$1")" = "$2" ]; }
# route_of ADDR: the router's kernel route to ADDR on one line, for the verdicts.
route_of() {
  local fam=-4
  [[ "$1" == *:* ]] && fam=-6
  ip -n "$NS_R" "$fam" route show "$1" 2>&1 | tr '\n\t' '  ' | tr -s ' '
}

# wait_ms TENTHS CMD...: polls every 50 ms until CMD succeeds; prints the ms it took, or
# "never" after TENTHS tenths of a second.
wait_ms() {
  local limit="$1"; shift
  local t0 now i
  t0=$(date +%s%N)
  for ((i = 0; i < limit * 2; i++)); do
    if "$@" >/dev/null 2>&1; then now=$(date +%s%N); echo $(((now - t0) / 1000000)); return 0; fi
    sleep 0.05
  done
  echo never
  return 1
}

# ------------------------------------------------------------------------------------ BIRD
start_bird() {   # start_bird NS CONF
  local ns="$1" conf="$2"
  ip netns exec "$ns" bird -f -c "$conf" -s "$LAB_RUN/$ns.bird.ctl" -P "$LAB_RUN/$ns.bird.pid" \
    >>"$LAB_RUN/$ns.bird.out" 2>&1 &
  BIRD_PIDS+=($!)
  LAB_PIDS+=($!)
}

bird_up() {
  local bfd="${1:-no}" n
  BIRD_PIDS=()
  routing_render bird/router.conf.in "$LAB_RUN/router.bird.conf" ROUTER_ID=10.30.0.1 \
    DIR_IFACES="to-d*" VIP_NET4="$VIP_NET4" VIP_NET6="$VIP_NET6" BFD="$bfd" \
    LOG="$LAB_RUN/router.bird.log" || lab_die "cannot render the router's BIRD config"
  start_bird "$NS_R" "$LAB_RUN/router.bird.conf"
  for n in 1 2; do
    routing_render bird/director.conf.in "$LAB_RUN/d$n.bird.conf" ROUTER_ID="10.30.$n.2" \
      UPLINK=uplink VIP_DEV="$VIP_DEV" VIP_NET4="$VIP_NET4" VIP_NET6="$VIP_NET6" BFD="$bfd" \
      LOG="$LAB_RUN/d$n.bird.log" || lab_die "cannot render d$n's BIRD config"
    start_bird "${PFX}d$n" "$LAB_RUN/d$n.bird.conf"
  done
}

stop_pids() {   # stop_pids PID...: TERM, bounded wait, KILL
  local p i
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  for ((i = 0; i < 30; i++)); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  return 0
}

say "topology: router, d1, d2"
topology

say "BIRD: (a) ECMP to both directors"
hold 1 "$VIP4A" "$VIP6A" --extra "$VIP4B" --extra "$VIP6B"
hold 2 "$VIP4A" "$VIP6A"
bird_up "$BFD"
for v in "$VIP4A" "$VIP6A"; do
  ms=$(wait_ms 300 nexthops_are "$v" 2)
  WHY="router route after ${ms} ms: $(route_of "$v")"
  verdict "BIRD (a) $v has both directors as next hops" nexthops_are "$v" 2
done

say "BIRD: (b) a second VIP on d1 comes and goes, the first does not flap"
MON="$LAB_RUN/router-monitor.log"
ip netns exec "$NS_R" timeout -s KILL 120 ip monitor route >"$MON" 2>&1 &
MON_PID=$!; LAB_PIDS+=("$MON_PID")
sleep 1
kill -USR1 "${HOLD_PID[1]}"
for v in "$VIP4B" "$VIP6B"; do
  ms=$(wait_ms 200 nexthops_are "$v" 1)
  WHY="announced in ${ms} ms"
  verdict "BIRD (b) $v added on d1 reaches the router (one next hop)" nexthops_are "$v" 1
done
sleep 2
kill -USR2 "${HOLD_PID[1]}"
for v in "$VIP4B" "$VIP6B"; do
  ms=$(wait_ms 200 nexthops_are "$v" 0)
  WHY="withdrawn in ${ms} ms"
  verdict "BIRD (b) $v removed on d1 leaves the router" nexthops_are "$v" 0
done
sleep 3   # late flaps of the first VIP would show up here
stop_pids "$MON_PID"
untouched() {
  local v hits=""
  for v in "$VIP4A" "$VIP6A"; do grep -qw -- "$v" "$MON" && hits+=" $v"; done
  WHY="route events seen: $(wc -l <"$MON"); events for the first VIPs:${hits:- none}"
  [ -z "$hits" ] && grep -qw -- "$VIP4B" "$MON"
}
verdict "BIRD (b) the first VIPs' routes were never touched" untouched
for v in "$VIP4A" "$VIP6A"; do
  WHY="$(nexthops "$NS_R" "$v") next hops"
  verdict "BIRD (b) $v still has both next hops" nexthops_are "$v" 2
done

say "BIRD: (c) SIGKILL of d2's holder"
kill -KILL "${HOLD_PID[2]}"
for v in "$VIP4A" "$VIP6A"; do
  ms=$(wait_ms 150 nexthops_are "$v" 1)
  echo "MEASURED  BIRD: $v lost d2's next hop ${ms} ms after SIGKILL of its VIP holder"
  WHY="after ${ms} ms: $(route_of "$v")"
  verdict "BIRD (c) $v drops d2 and keeps d1" nexthops_are "$v" 1
done
wait "${HOLD_PID[2]}" 2>/dev/null
WHY="ip link in d2: $(ip -n "$NS_D2" -o link show "$VIP_DEV" 2>&1 | head -c 120)"
verdict "BIRD (c) the kernel removed d2's VIP device" test -z "$(ip -n "$NS_D2" -o link show "$VIP_DEV" 2>/dev/null)"
stop_pids "${BIRD_PIDS[@]}"

# ------------------------------------------------------------------------------------- FRR
FRR_PIDS=()
frr_daemon() {   # frr_daemon NS DAEMON: runs /usr/lib/frr/DAEMON in NS with NS's config dir
  local ns="$1" d="$2" dir="$LAB_RUN/frr-$1"
  local -a extra=()
  [ "$d" = bfdd ] && extra=(--bfdctl "$dir/bfdd.sock")   # not the shared /var/run/frr one
  ip netns exec "$ns" /usr/lib/frr/"$d" -u frr -g frr -P 0 -f "$dir/$d.conf" -i "$dir/$d.pid" \
    -z "$dir/zserv.api" --vty_socket "$dir" "${extra[@]}" >>"$dir/$d.out" 2>&1 &
  FRR_PIDS+=($!)
  LAB_PIDS+=($!)
}
frr_dir() {   # the daemons run as frr: their directory must be theirs
  local dir="$LAB_RUN/frr-$1"
  mkdir -p "$dir"; chown frr:frr "$dir"; chmod 755 "$LAB_RUN"
  echo "$dir"
}

frr_up() {
  local bfd="${1:-no}" n ns dir
  dir=$(frr_dir "$NS_R")
  routing_render frr/zebra.conf.in "$dir/zebra.conf" HOSTNAME=router LOGDIR="$dir" || return 1
  routing_render frr/router-ospfd.conf.in "$dir/ospfd.conf" HOSTNAME=router LOGDIR="$dir" \
    ROUTER_ID=10.30.0.1 NETWORK4=10.30.0.0/16 \
    IFACES="$(frr_ospf_iface to-d1 "$bfd"; echo; frr_ospf_iface to-d2 "$bfd")" || return 1
  routing_render frr/router-ospf6d.conf.in "$dir/ospf6d.conf" HOSTNAME=router LOGDIR="$dir" \
    ROUTER_ID=10.30.0.1 \
    IFACES="$(frr_ospf_iface to-d1 "$bfd" v6; echo; frr_ospf_iface to-d2 "$bfd" v6)" || return 1
  for n in 1 2; do
    ns="${PFX}d$n"; local ddir; ddir=$(frr_dir "$ns")
    routing_render frr/zebra.conf.in "$ddir/zebra.conf" HOSTNAME="d$n" LOGDIR="$ddir" || return 1
    routing_render frr/director-ospfd.conf.in "$ddir/ospfd.conf" HOSTNAME="d$n" LOGDIR="$ddir" \
      ROUTER_ID="10.30.$n.2" UPLINK_NET4="10.30.$n.0/30" VIP_NET4="$VIP_NET4" \
      IFACES="$(frr_ospf_iface uplink "$bfd")" || return 1
    routing_render frr/director-ospf6d.conf.in "$ddir/ospf6d.conf" HOSTNAME="d$n" \
      LOGDIR="$ddir" ROUTER_ID="10.30.$n.2" VIP_NET6="$VIP_NET6" \
      IFACES="$(frr_ospf_iface uplink "$bfd" v6)" || return 1
  done
  for ns in "$NS_R" "$NS_D1" "$NS_D2"; do
    routing_render frr/bfdd.conf.in "$LAB_RUN/frr-$ns/bfdd.conf" HOSTNAME="$ns" \
      LOGDIR="$LAB_RUN/frr-$ns" || return 1
  done
  chown frr:frr "$LAB_RUN"/frr-*/*.conf
  for ns in "$NS_R" "$NS_D1" "$NS_D2"; do
    frr_daemon "$ns" zebra
    lab_wait 50 test -S "$LAB_RUN/frr-$ns/zserv.api" || lab_die "zebra in $ns did not start: $(tail -3 "$LAB_RUN/frr-$ns/zebra.out")"
    [ "$bfd" = yes ] && frr_daemon "$ns" bfdd
    frr_daemon "$ns" ospfd
    frr_daemon "$ns" ospf6d
  done
}

say "FRR: (a) ECMP to both directors"
hold 2 "$VIP4A" "$VIP6A"
frr_up "$BFD" || lab_die "cannot render the FRR configs"
for v in "$VIP4A" "$VIP6A"; do
  ms=$(wait_ms 400 nexthops_are "$v" 2)
  WHY="router route after ${ms} ms: $(route_of "$v")"
  verdict "FRR (a) $v has both directors as next hops" nexthops_are "$v" 2
done

say "FRR: (c) SIGKILL of d2's holder"
sleep 6   # past MinLSInterval since the first origination, as an established cluster would be
kill -KILL "${HOLD_PID[2]}"
for v in "$VIP4A" "$VIP6A"; do
  ms=$(wait_ms 150 nexthops_are "$v" 1)
  echo "MEASURED  FRR: $v lost d2's next hop ${ms} ms after SIGKILL of its VIP holder"
  WHY="after ${ms} ms: $(route_of "$v")"
  verdict "FRR (c) $v drops d2 and keeps d1" nexthops_are "$v" 1
done
stop_pids "${FRR_PIDS[@]}"

echo "vip_lab: $LAB_PASSES passed, $LAB_FAILS failed ($((SECONDS - T0)) s)"
if [ "$LAB_FAILS" != 0 ]; then
  for f in "$LAB_RUN"/*.log "$LAB_RUN"/*.out "$LAB_RUN"/frr-*/*.log; do
    [ -s "$f" ] && { echo "--- ${f#"$LAB_RUN"/}"; tail -15 "$f"; }
  done
fi
[ "$LAB_FAILS" = 0 ]
