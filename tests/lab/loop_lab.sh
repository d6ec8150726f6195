#!/usr/bin/env bash
# Loop lab (issue 8 item 4): the keepalived article's cluster, where the two directors are
# also real servers. The article's directors forwarded packets to each other for ever once
# the master had been stopped and started again; here every request must be answered and the
# director-to-director traffic must stay bounded by the load, in every order of start, stop
# and restart of the two directors.
#
#   client --- router ---[ switch: br0 ]--- d1, d2 (sluiced + nginx; keepalived -P or BIRD)
#                                  '------- rs3 (nginx)
#
# d1, d2 and rs3 are the real servers of one DR service (rr, TCP_CHECK), each with the VIP on
# lo and arp_ignore=1/arp_announce=2, as the article's real servers have it: a director also
# serves the VIP while its own sluiced is stopped, as its peer keeps sending it its share.
# Both directors read the same keepalived.conf (a sluice_cluster block, a vrrp_instance whose
# priority is chosen by keepalived's -i config id, the virtual_server).
#
# Two arrangements, each through the same sequence of director changes:
#   vrrp: keepalived -P (VRRP only) on each director moves the VIP on eth0; the router routes
#         the VIP onto the LAN. d1 has the higher priority and takes the VIP back (preempts).
#   ecmp: BIRD announces each director's VIP device over OSPF; the router spreads flows over
#         the directors (L4 hash).
# Sequence: (1) start d1, start d2; (2) stop d1 (d2 only); (3) start d1 again (the article's
# failing step); (4) restart d2 while d1 is up; (5) both stopped, then d2 started before d1. After each step has settled, `ab -n N -c 20`
# from the client, and the verdicts: 0 failed requests, every real server answered, and the
# frames to the VIP that the bridge carried between d1 and d2 (nftables counters in the
# switch), as well as both directors' `peer_balanced` counters, are at most 10 per request
# and stop growing when the load stops.
#
# Usage: loop_lab.sh BUILD_DIR. LOOP_LAB_ARRANGEMENTS="vrrp ecmp" (default both),
# LOOP_LAB_REQUESTS=2000. Exit 0: every verdict passed; 1: one failed; 77: skipped (keepalived,
# bird, ab, nginx or nft missing). Every namespace and process is removed on every exit, and
# namespaces of a SIGKILLed earlier run are reaped at start.
set -uo pipefail

BUILD="$(cd "${1:?usage: loop_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"
# shellcheck source=../../lab/routing/render.sh
. "$HERE/../../lab/routing/render.sh"

for tool in keepalived bird ab nginx nft; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP loop_lab: $tool not installed (./run deps installs it)"
    exit 77
  fi
done
lab_require_root
for b in sluiced sluiceadm; do
  [ -x "$BUILD/bin/$b" ] || lab_die "$BUILD/bin/$b not built (ninja -C $BUILD $b)"
done
SLUICED="$BUILD/bin/sluiced"; ADM="$BUILD/bin/sluiceadm"

PFX="${LOOP_LAB_PREFIX:-sp-$$-}"
NS_C="${PFX}client"; NS_R="${PFX}router"; NS_SW="${PFX}switch"
CLIENT4=10.50.0.2; ROUTER_C4=10.50.0.1; ROUTER_L4=10.51.0.1
D1=10.51.0.11; D2=10.51.0.12; RS3=10.51.0.23
VIP=10.52.0.100; VIP_NET4=10.52.0.0/16; VIP_NET6=2001:db8:52::/48
REQUESTS="${LOOP_LAB_REQUESTS:-2000}"
PER_REQUEST=10   # director-to-director frames allowed per request (about 2 are needed)
T0=$SECONDS

run_is_alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
loop_reap_stale() {   # namespaces and run directories of a SIGKILLed run (no trap ran)
  local ns pid p d
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^sp-([0-9]+)-(client|router|switch|d1|d2|rs3)$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    run_is_alive "$pid" && continue
    lab_log "removing $ns, left behind by dead run $pid"
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for d in /tmp/sluice-looplab.*.*; do
    [[ "$d" =~ ^/tmp/sluice-looplab\.([0-9]+)\.[A-Za-z0-9]+$ ]] && [ -d "$d" ] || continue
    run_is_alive "${BASH_REMATCH[1]}" || rm -rf -- "$d"
  done
}
loop_reap_stale
LAB_RUN="$(mktemp -d "/tmp/sluice-looplab.$$.XXXXXX")"
lab_trap

say() { echo "== $* ($((SECONDS - T0)) s)"; }
measured() { echo "MEASURED  $*"; }

# ------------------------------------------------------------------------------ topology
SERVERS=(d1 d2 rs3)
addr_of() { case "$1" in d1) echo "$D1" ;; d2) echo "$D2" ;; rs3) echo "$RS3" ;; esac; }

topology() {
  local ns s all=("$NS_C" "$NS_R" "$NS_SW")
  for s in "${SERVERS[@]}"; do all+=("$PFX$s"); done
  for ns in "${all[@]}"; do
    if ip netns list | grep -qw -- "$ns"; then lab_die "namespace $ns already exists"; fi
    LAB_NAMESPACES+=("$ns")   # recorded before it exists: cleanup must see half-built labs
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  lab_sysctl "$NS_R" net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
  lab_veth "$NS_C" eth0 "$NS_R" eth0
  lab_veth "$NS_R" lan "$NS_SW" p-router
  # No STP (ports forward at once), no multicast snooping (VRRP and OSPF hellos flood).
  ip -n "$NS_SW" link add br0 type bridge stp_state 0 mcast_snooping 0
  ip -n "$NS_SW" link set p-router master br0
  for s in "${SERVERS[@]}"; do
    lab_veth "$PFX$s" eth0 "$NS_SW" "p-$s"
    ip -n "$NS_SW" link set "p-$s" master br0
  done
  local p
  for ns in "${all[@]}"; do
    for p in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip -n "$ns" link set "$p" up
    done
  done
  ip -n "$NS_C" addr add "$CLIENT4/24" dev eth0
  ip -n "$NS_C" route add default via "$ROUTER_C4"
  ip -n "$NS_R" addr add "$ROUTER_C4/24" dev eth0
  ip -n "$NS_R" addr add "$ROUTER_L4/24" dev lan
  # Every real server, the directors included, as the article has them: the VIP on lo, never
  # answered in ARP on the LAN (the VRRP master answers for it on eth0, where keepalived puts
  # it), replies straight to the router.
  for s in "${SERVERS[@]}"; do
    ns="$PFX$s"
    lab_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
      net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
    ip -n "$ns" addr add "$(addr_of "$s")/24" dev eth0
    ip -n "$ns" addr add "$VIP/32" dev lo
    ip -n "$ns" route add default via "$ROUTER_L4"
  done
  local bad=0 pr
  for pr in "$NS_C $ROUTER_C4" "$NS_R $D1" "$NS_R $D2" "$NS_R $RS3" "${PFX}d1 $D2" \
            "${PFX}d1 $RS3" "${PFX}d2 $RS3" "$NS_C $RS3"; do
    set -- $pr
    lab_ping "$1" "$2" || { lab_log "topology: $1 cannot reach $2"; bad=1; }
  done
  [ "$bad" = 0 ] || lab_die "topology self-check failed"
}

mac_of() { ip -n "$PFX$1" link show eth0 | awk '/link\/ether/ {print $2}'; }

# Frames to the VIP between the two directors, counted by the switch in both directions.
bridge_counters() {
  local m1 m2
  m1="$(mac_of d1)"; m2="$(mac_of d2)"
  nsx "$NS_SW" nft -f - <<NFT || lab_die "cannot install the switch's nftables counters"
table bridge looplab {
  counter d1_d2 {}
  counter d2_d1 {}
  chain forward_count {
    type filter hook forward priority 0; policy accept;
    ether saddr $m1 ether daddr $m2 ip daddr $VIP counter name "d1_d2"
    ether saddr $m2 ether daddr $m1 ip daddr $VIP counter name "d2_d1"
  }
}
NFT
}
bridge_frames() {   # frames to the VIP d1 -> d2 plus d2 -> d1 so far
  local a b
  a="$(nsx "$NS_SW" nft list counter bridge looplab d1_d2 | awk '/packets/ {print $2}')"
  b="$(nsx "$NS_SW" nft list counter bridge looplab d2_d1 | awk '/packets/ {print $2}')"
  echo $((${a:-0} + ${b:-0}))
}

# nginx on every real server, answering its name in 4 bytes plus a newline (equal lengths:
# ab counts a body of another length as a failed request), logging each request.
start_nginx() {
  local s ns conf
  chmod 711 "$LAB_RUN"
  for s in "${SERVERS[@]}"; do
    ns="$PFX$s"; conf="$LAB_RUN/nginx-$s.conf"
    mkdir -p "$LAB_RUN/nginx-$s"
    cat >"$conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
pid $LAB_RUN/nginx-$s.pid;
error_log $LAB_RUN/nginx-$s.err warn;
events { worker_connections 4096; }
http {
  access_log $LAB_RUN/access-$s.log;
  client_body_temp_path $LAB_RUN/nginx-$s;
  server {
    listen 80 backlog=4096;
    location / { return 200 "$(printf '%-4s' "$s")\n"; }
  }
}
NGINX
    ip netns exec "$ns" nginx -c "$conf" -p "$LAB_RUN/nginx-$s" >"$LAB_RUN/nginx-$s.out" 2>&1 &
    LAB_PIDS+=($!)
  done
  for s in "${SERVERS[@]}"; do
    lab_wait 100 nsx "$PFX$s" curl -sf --noproxy '*' --max-time 1 "http://$(addr_of "$s")/" ||
      lab_die "nginx in $s did not come up: $(tail -5 "$LAB_RUN/nginx-$s.err" "$LAB_RUN/nginx-$s.out" 2>/dev/null)"
  done
}
served() { wc -l <"$LAB_RUN/access-$1.log" 2>/dev/null || echo 0; }

# ------------------------------------------------------------------------------ directors
KCONF="$LAB_RUN/keepalived.conf"
write_kconf() {
  local s
  (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$LAB_RUN/cluster.key")
  {
    echo "! The loop lab: one file for both directors (sluiced, and keepalived -P -i dN)"
    echo "global_defs {"
    echo "   router_id LOOP_LAB"
    echo "}"
    echo "sluice_cluster {"
    echo "    director 1 $D1"
    echo "    director 2 $D2"
    echo "    vip_interface sluice-vip"
    echo "    shared_key_file $LAB_RUN/cluster.key"
    echo "    join_timeout 2"
    echo "    drain_time 1"
    echo "}"
    echo "vrrp_instance VI_LOOP {"
    echo "    state BACKUP"
    echo "    interface eth0"
    echo "    virtual_router_id 52"
    echo "@d1 priority 150"
    echo "@d2 priority 100"
    echo "    advert_int 1"
    echo "    virtual_ipaddress {"
    echo "        $VIP/32 dev eth0"
    echo "    }"
    echo "}"
    echo "virtual_server $VIP 80 {"
    echo "    delay_loop 1"
    echo "    lb_algo rr"
    echo "    lb_kind DR"
    echo "    protocol TCP"
    for s in "${SERVERS[@]}"; do
      echo "    real_server $(addr_of "$s") 80 {"
      echo "        weight 1"
      echo "        TCP_CHECK {"
      echo "            connect_timeout 1"
      echo "            retry 1"
      echo "            delay_before_retry 1"
      echo "        }"
      echo "    }"
    done
    echo "}"
  } >"$KCONF"
}

ARRANGEMENT=""
declare -A SLUICED_PID=() KA_PID=() STARTS=()
sock() { echo "$LAB_RUN/$1.sock"; }
slog() { echo "$LAB_RUN/sluiced-$1.${STARTS[$1]:-0}.log"; }
adm() { local d="$1"; shift; ip netns exec "$PFX$d" timeout -s KILL 10 "$ADM" --socket "$(sock "$d")" "$@"; }

# start_director dN: sluiced (and in the vrrp arrangement keepalived -P), then waits until
# its sluiced knows its peer's MAC when the peer runs (heard over session sync).
start_director() {
  local d="$1" peer i
  STARTS[$d]=$((${STARTS[$d]:-0} + 1))
  rm -f "$(sock "$d")"
  ip netns exec "$PFX$d" "$SLUICED" -i eth0 --socket "$(sock "$d")" -f "$KCONF" >"$(slog "$d")" 2>&1 &
  SLUICED_PID[$d]=$!; LAB_PIDS+=($!)
  for ((i = 0; i < 100; i++)); do
    [ -S "$(sock "$d")" ] && break
    kill -0 "${SLUICED_PID[$d]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$(sock "$d")" ] || { tail -20 "$(slog "$d")" >&2; lab_die "sluiced in $d did not start"; }
  if [ "$ARRANGEMENT" = vrrp ]; then
    ip netns exec "$PFX$d" keepalived -P -n -l -D -f "$KCONF" -i "$d" -p "$LAB_RUN/ka-$d.pid" \
      -r "$LAB_RUN/ka-vrrp-$d.pid" >>"$LAB_RUN/keepalived-$d.log" 2>&1 &
    KA_PID[$d]=$!; LAB_PIDS+=($!)
  fi
  if [ "$d" = d1 ]; then peer=d2; else peer=d1; fi
  if [ -n "${SLUICED_PID[$peer]:-}" ]; then
    lab_wait 100 grep -q "1 peer director MAC" "$(slog "$d")" ||
      lab_log "$d: its peer's MAC not heard within 10 s"
  fi
}

stop_pid() {   # SIGTERM, then SIGKILL after 10 s; waits for the exit
  local pid="$1" i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
stop_director() {
  local d="$1"
  [ -n "${KA_PID[$d]:-}" ] && stop_pid "${KA_PID[$d]}"
  stop_pid "${SLUICED_PID[$d]:-}"
  KA_PID[$d]=""; SLUICED_PID[$d]=""
}

# ------------------------------------------------------------------------ settling waits
vip_on_eth0() { ip -n "$PFX$1" -4 addr show dev eth0 | grep -q " $VIP/32 "; }
vrrp_master_is() {   # vrrp_master_is dN: dN holds the VIP on eth0, the other one does not
  local other=d1; [ "$1" = d1 ] && other=d2
  vip_on_eth0 "$1" && ! vip_on_eth0 "$other"
}
nexthops() {
  local out
  out="$(ip -n "$NS_R" route show "$VIP" 2>/dev/null)"
  if [ -z "$out" ]; then echo 0
  elif grep -q nexthop <<<"$out"; then grep -c nexthop <<<"$out"
  else echo 1; fi
}
ecmp_has() {   # ecmp_has N: the router's route to the VIP has N next hops
  [ "$(nexthops)" = "$1" ]
}

# settle: waits (bounded) until the live directors carry the VIP as the arrangement says.
# settle d1|d2|both
settle() {
  local ok=0
  if [ "$ARRANGEMENT" = vrrp ]; then
    case "$1" in both|d1) lab_wait 150 vrrp_master_is d1 && ok=1 ;; d2) lab_wait 150 vrrp_master_is d2 && ok=1 ;; esac
  else
    case "$1" in both) lab_wait 400 ecmp_has 2 && ok=1 ;; *) lab_wait 400 ecmp_has 1 && ok=1 ;; esac
  fi
  local where
  if [ "$ARRANGEMENT" = vrrp ]; then where="VIP on eth0 of:$(vip_on_eth0 d1 && echo " d1")$(vip_on_eth0 d2 && echo " d2")"
  else where="router: $(ip -n "$NS_R" route show "$VIP" 2>&1 | tr '\n\t' '  ' | tr -s ' ')"; fi
  WHY="$where"
  local on="${1/both/d1 and d2}"
  [ "$ARRANGEMENT" = vrrp ] && on="${1/both/d1} (VRRP master)"
  verdict "[$ARRANGEMENT] the VIP settles on $on" test "$ok" = 1
}

# ------------------------------------------------------------------------------ the load
peer_balanced() {   # peer_balanced dN: its counter (0 when its sluiced is not running)
  [ -n "${SLUICED_PID[$1]:-}" ] || { echo 0; return; }
  local v
  v="$(counter_value "$(adm "$1" --counters 2>/dev/null)" peer_balanced total)"
  echo "${v:-0}"
}
local_delivered() {
  [ -n "${SLUICED_PID[$1]:-}" ] || { echo 0; return; }
  local v
  v="$(counter_value "$(adm "$1" --counters 2>/dev/null)" local_delivered total)"
  echo "${v:-0}"
}

# load STEP: ab from the client, then the verdicts.
load() {
  local step="$1" tag="[$ARRANGEMENT] ($1)" s out rc
  local -A before=()
  for s in "${SERVERS[@]}"; do before[$s]=$(served "$s"); done
  local pb1 pb2 ld1 ld2 fr0
  pb1=$(peer_balanced d1); pb2=$(peer_balanced d2)
  ld1=$(local_delivered d1); ld2=$(local_delivered d2)
  fr0=$(bridge_frames)
  out="$(nsx "$NS_C" timeout -s KILL 120 ab -q -s 5 -n "$REQUESTS" -c 20 "http://$VIP/" 2>&1)"; rc=$?
  local fr1 complete failed non2xx
  fr1=$(bridge_frames)
  complete="$(awk '/^Complete requests:/ {print $3}' <<<"$out")"
  failed="$(awk '/^Failed requests:/ {print $3}' <<<"$out")"
  non2xx="$(awk '/^Non-2xx responses:/ {print $3}' <<<"$out")"
  WHY="ab exit $rc, complete ${complete:-?}, failed ${failed:-?}, non-2xx ${non2xx:-0}$( [ "$rc" = 0 ] || echo "; ab said: $(tail -3 <<<"$out" | tr '\n' ' ')")"
  verdict "$tag $REQUESTS requests, every one answered" \
    test "$rc" = 0 -a "${complete:-x}" = "$REQUESTS" -a "${failed:-x}" = 0 -a "${non2xx:-0}" = 0
  local spread="" low=""
  for s in "${SERVERS[@]}"; do
    local n=$(($(served "$s") - before[$s]))
    spread+="$s=$n "
    [ "$n" -ge $((REQUESTS / 10)) ] || low+=" $s"
  done
  WHY="answered by: $spread"
  verdict "$tag every real server answered (at least a tenth each)" test -z "$low"
  local frames=$((fr1 - fr0)) pb ld
  pb=$(($(peer_balanced d1) - pb1 + $(peer_balanced d2) - pb2))
  ld=$(($(local_delivered d1) - ld1 + $(local_delivered d2) - ld2))
  WHY="bridge carried $frames frames to the VIP between d1 and d2; peer_balanced +$pb; local_delivered +$ld; bound $((PER_REQUEST * REQUESTS))"
  verdict "$tag director-to-director frames at most $PER_REQUEST per request" \
    test "$frames" -le $((PER_REQUEST * REQUESTS)) -a "$pb" -le $((PER_REQUEST * REQUESTS))
  # The article's loop keeps going after the client stops: nothing more may cross.
  sleep 2
  local fr2 fr3
  fr2=$(bridge_frames); sleep 2; fr3=$(bridge_frames)
  WHY="$((fr3 - fr2)) frames in the 2 s after the load had stopped (+$((fr2 - fr1)) in the 2 s before)"
  verdict "$tag no director-to-director traffic once the load stops" test $((fr3 - fr2)) -le 5
  if [ "$2" = both ]; then
    # Both directors up: the peer path must have been used, or the bound proves nothing.
    WHY="peer_balanced +$pb, bridge frames $frames"
    verdict "$tag the directors did balance to each other (peer path exercised)" \
      test "$pb" -gt 0 -a "$frames" -gt 0
  fi
}

# ------------------------------------------------------------------------------ sequences
arrangement_up() {
  ARRANGEMENT="$1"
  if [ "$1" = vrrp ]; then
    ip -n "$NS_R" route replace "$VIP/32" dev lan
  else
    ip -n "$NS_R" route del "$VIP/32" 2>/dev/null
    routing_render bird/router.conf.in "$LAB_RUN/router.bird.conf" ROUTER_ID="$ROUTER_L4" \
      DIR_IFACES=lan VIP_NET4="$VIP_NET4" VIP_NET6="$VIP_NET6" BFD=no \
      LOG="$LAB_RUN/router.bird.log" || lab_die "cannot render the router's BIRD config"
    local d
    for d in d1 d2; do
      routing_render bird/director.conf.in "$LAB_RUN/$d.bird.conf" ROUTER_ID="$(addr_of "$d")" \
        UPLINK=eth0 VIP_DEV=sluice-vip VIP_NET4="$VIP_NET4" VIP_NET6="$VIP_NET6" BFD=no \
        LOG="$LAB_RUN/$d.bird.log" || lab_die "cannot render $d's BIRD config"
    done
    # The router and the directors share one LAN: OSPF as a broadcast network there.
    sed -i 's/type ptp;/type broadcast;/' "$LAB_RUN"/*.bird.conf
    for d in router d1 d2; do
      local ns="$PFX$d"; [ "$d" = router ] && ns="$NS_R"
      ip netns exec "$ns" bird -f -c "$LAB_RUN/$d.bird.conf" -s "$LAB_RUN/$d.bird.ctl" \
        -P "$LAB_RUN/$d.bird.pid" >>"$LAB_RUN/$d.bird.out" 2>&1 &
      LAB_PIDS+=($!); BIRD_PIDS+=($!)
    done
  fi
}
BIRD_PIDS=()
arrangement_down() {
  stop_director d1; stop_director d2
  local p
  for p in "${BIRD_PIDS[@]}"; do stop_pid "$p"; done
  BIRD_PIDS=()
}

# Each director lists its own address as ipvsadm lists IPVS's LOCALNODE real server
# ("Local"), and the other two as Route.
check_listing() {
  local d="$1" out
  out="$(adm "$d" -Ln 2>&1)"
  WHY="$(grep -- '->' <<<"$out" | tr -s ' ' | tr '\n' ';')"
  verdict "[$ARRANGEMENT] $d lists itself as Local, the others as Route" \
    check_local_listing "$out" "$(addr_of "$d")"
}
check_local_listing() {
  local out="$1" self="$2" s
  grep -Eq -- "-> $self:80 +Local " <<<"$out" || return 1
  for s in "${SERVERS[@]}"; do
    [ "$(addr_of "$s")" = "$self" ] && continue
    grep -Eq -- "-> $(addr_of "$s"):80 +Route " <<<"$out" || return 1
  done
}

run_sequence() {
  say "[$ARRANGEMENT] (1) start d1, start d2"
  start_director d1; start_director d2
  settle both
  check_listing d1; check_listing d2
  load 1 both
  say "[$ARRANGEMENT] (2) stop d1: d2 alone"
  stop_director d1
  settle d2; load 2 d2
  say "[$ARRANGEMENT] (3) start d1 again (the article's failing step)"
  start_director d1
  settle both; load 3 both
  say "[$ARRANGEMENT] (4) restart d2 while d1 is up"
  stop_director d2; start_director d2
  settle both; load 4 both
  say "[$ARRANGEMENT] (5) both stopped, then d2 started before d1"
  stop_director d1; stop_director d2
  start_director d2; start_director d1
  settle both; load 5 both
}

# ---------------------------------------------------------------------------------- main
write_kconf
out="$("$SLUICED" --check -f "$KCONF" 2>&1)" || lab_die "sluiced --check refuses the lab's keepalived.conf: $out"
say "topology: client, router, switch, d1, d2, rs3"
topology
bridge_counters
start_nginx
for a in ${LOOP_LAB_ARRANGEMENTS:-vrrp ecmp}; do
  case "$a" in vrrp|ecmp) ;; *) lab_die "LOOP_LAB_ARRANGEMENTS: no arrangement '$a' (vrrp ecmp)" ;; esac
  arrangement_up "$a"
  run_sequence
  arrangement_down
done

echo "loop_lab: $LAB_PASSES passed, $LAB_FAILS failed ($((SECONDS - T0)) s)"
if [ "$LAB_FAILS" != 0 ]; then
  for f in "$LAB_RUN"/sluiced-*.log "$LAB_RUN"/keepalived-*.log "$LAB_RUN"/*.bird.log; do
    [ -s "$f" ] && { echo "--- ${f#"$LAB_RUN"/}"; tail -15 "$f"; }
  done
fi
[ "$LAB_FAILS" = 0 ]
