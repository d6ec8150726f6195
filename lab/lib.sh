# lab/lib.sh — the single-director DR lab as an LVS operator builds it, in network namespaces.
# Sourced by lab/demo.sh, lab/lab.sh and tests/lab/*_lab.sh. It builds the topology, starts
# the web servers and the daemon (PID-tracked), and removes every namespace and process it
# made on every exit path. Trade-off: plain bash over a framework, so an operator can read
# each `ip` command and repeat it by hand; the price is careful quoting and explicit waits.
#
#   client --- router ---[ switch: br0 ]--- director (sluiced on eth0)
#                                  |------- rs1 (VIP on lo, python web server)
#                                  '------- rs2
#
# Nothing is created in the root namespace: every veth is born inside its namespaces.
# shellcheck shell=bash

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_PYTHON="${LAB_PYTHON:-/usr/bin/python3}"   # not a pyenv shim: it must run inside `ip netns exec`

# Addresses (fixed: the namespaces isolate concurrent runs, not the addresses).
VIP4=10.0.2.100;        VIP6=2001:db8:2::100
CLIENT4=10.0.1.2;       CLIENT6=2001:db8:1::2
ROUTER_C4=10.0.1.1;     ROUTER_C6=2001:db8:1::1
ROUTER_L4=10.0.2.1;     ROUTER_L6=2001:db8:2::1
DIR4=10.0.2.10;         DIR6=2001:db8:2::10
RS1_4=10.0.2.11;        RS1_6=2001:db8:2::11
RS2_4=10.0.2.12;        RS2_6=2001:db8:2::12
LAB_BIG_BYTES=$((50 * 1024 * 1024))            # size of /big, must match http_server.py

LAB_NAMESPACES=()
LAB_PIDS=()
LAB_DAEMON_PID=""
LAB_VERBOSE="${LAB_VERBOSE:-0}"

lab_log() { echo "lab: $*" >&2; }
lab_die() { echo "lab: error: $*" >&2; exit 1; }

# lab_init PREFIX [RUNDIR]: names the namespaces PREFIX{client,router,switch,dir,rs1,rs2}.
# The prefix must be unique per run (e.g. "sl-$$-") so concurrent runs never collide.
lab_init() {
  LAB_PREFIX="$1"
  NS_CLIENT="${LAB_PREFIX}client"; NS_ROUTER="${LAB_PREFIX}router"
  NS_SWITCH="${LAB_PREFIX}switch"; NS_DIR="${LAB_PREFIX}dir"
  NS_RS1="${LAB_PREFIX}rs1";       NS_RS2="${LAB_PREFIX}rs2"
  LAB_ALL_NS=("$NS_CLIENT" "$NS_ROUTER" "$NS_SWITCH" "$NS_DIR" "$NS_RS1" "$NS_RS2")
  if [ -n "${2:-}" ]; then LAB_RUN="$2"; mkdir -p "$LAB_RUN"
  else LAB_RUN="$(mktemp -d "/tmp/sluice-lab.XXXXXX")"; fi
  LAB_SOCK="$LAB_RUN/sluiced.sock"
  lab_reap_stale
}

# Removes namespaces left by a run that was SIGKILLed (no trap runs then): names of the form
# sl-PID-ROLE whose PID is gone. Only this scheme is touched, so other users' namespaces and
# live runs are safe.
lab_reap_stale() {
  local ns pid p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^sl-([0-9]+)-(client|router|switch|dir|rs1|rs2)$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    # Alive, and not a zombie waiting for a slow reaper: a live run, leave it.
    if kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; then continue; fi
    lab_log "removing $ns, left behind by dead run $pid"
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

# Installs the cleanup trap. INT/TERM/HUP turn into a normal exit so the EXIT trap runs once.
lab_trap() {
  trap lab_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
lab_sysctl() { local ns="$1"; shift; local kv; for kv in "$@"; do nsx "$ns" sysctl -qw "$kv" >/dev/null; done; }

lab_require_root() { [ "$(id -u)" = 0 ] || lab_die "needs root (network namespaces, XDP)"; }

lab_require_python() {
  [ -x "$LAB_PYTHON" ] || lab_die "$LAB_PYTHON not found: run './run deps' (installs python3)"
}

# Waits until CMD... succeeds, polling every 0.1 s, at most TENTHS polls. Returns 1 on timeout.
lab_wait() {
  local tenths="$1"; shift
  local i
  for ((i = 0; i < tenths; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Creates a veth pair whose ends are born directly inside two namespaces. An optional fifth
# argument gives both ends that many rx and tx queues (as a real NIC has several): the
# sending end spreads flows over its tx queues, and each lands on the peer's rx queue of
# the same number.
lab_veth() {
  local -a q=()
  [ "${5:-1}" -gt 1 ] && q=(numtxqueues "$5" numrxqueues "$5")
  ip link add "$2" netns "$1" "${q[@]}" type veth peer name "$4" netns "$3" "${q[@]}"
}

# LAB_DIR_QUEUES=N before lab_up: the director's LAN veth (and its switch port) get N queues.
LAB_DIR_QUEUES="${LAB_DIR_QUEUES:-1}"

lab_up() {
  lab_require_root
  lab_require_python
  local ns
  for ns in "${LAB_ALL_NS[@]}"; do
    if ip netns list | grep -qw -- "$ns"; then lab_die "namespace $ns already exists (a run with this prefix is up)"; fi
  done
  for ns in "${LAB_ALL_NS[@]}"; do
    LAB_NAMESPACES+=("$ns")      # record before creating: cleanup must see half-built labs
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # No DAD: addresses are usable at once and link-locals never sit tentative.
    lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  lab_sysctl "$NS_SWITCH" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

  lab_veth "$NS_CLIENT" eth0 "$NS_ROUTER" eth0
  lab_veth "$NS_ROUTER" eth1 "$NS_SWITCH" p-router
  lab_veth "$NS_DIR" eth0 "$NS_SWITCH" p-dir "$LAB_DIR_QUEUES"
  lab_veth "$NS_RS1" eth0 "$NS_SWITCH" p-rs1
  lab_veth "$NS_RS2" eth0 "$NS_SWITCH" p-rs2

  # The shared L2 segment. No STP (ports forward at once), no multicast snooping (ND floods).
  ip -n "$NS_SWITCH" link add br0 type bridge stp_state 0 mcast_snooping 0
  local p
  for p in p-router p-dir p-rs1 p-rs2; do
    ip -n "$NS_SWITCH" link set "$p" master br0
  done

  # Interfaces keep their defaults: checksum offload on (veth hands half-done checksums
  # around), no XDP program or GRO on any peer. That is what a user's namespaces and
  # containers look like, and sluiced must work on them as they are (--xdp-mode auto).
  for ns in "${LAB_ALL_NS[@]}"; do
    for p in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip -n "$ns" link set "$p" up
    done
  done

  # client
  ip -n "$NS_CLIENT" addr add "$CLIENT4/24" dev eth0
  ip -n "$NS_CLIENT" addr add "$CLIENT6/64" dev eth0 nodad
  ip -n "$NS_CLIENT" route add default via "$ROUTER_C4"
  ip -n "$NS_CLIENT" -6 route add default via "$ROUTER_C6"

  # router: the VIPs are routed to the director, the classic DR front.
  ip -n "$NS_ROUTER" addr add "$ROUTER_C4/24" dev eth0
  ip -n "$NS_ROUTER" addr add "$ROUTER_C6/64" dev eth0 nodad
  ip -n "$NS_ROUTER" addr add "$ROUTER_L4/24" dev eth1
  ip -n "$NS_ROUTER" addr add "$ROUTER_L6/64" dev eth1 nodad
  lab_sysctl "$NS_ROUTER" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ip -n "$NS_ROUTER" route add "$VIP4/32" via "$DIR4"
  ip -n "$NS_ROUTER" -6 route add "$VIP6/128" via "$DIR6"

  # director: the VIP on lo; sluiced's XDP program sees service packets before the stack.
  ip -n "$NS_DIR" addr add "$DIR4/24" dev eth0
  ip -n "$NS_DIR" addr add "$DIR6/64" dev eth0 nodad
  ip -n "$NS_DIR" addr add "$VIP4/32" dev lo
  ip -n "$NS_DIR" addr add "$VIP6/128" dev lo nodad
  ip -n "$NS_DIR" route add default via "$ROUTER_L4"
  ip -n "$NS_DIR" -6 route add default via "$ROUTER_L6"

  # real servers: the VIP on lo, never answered in ARP; replies go straight to the router.
  local rs addr4 addr6
  for rs in 1 2; do
    if [ "$rs" = 1 ]; then ns="$NS_RS1"; addr4="$RS1_4"; addr6="$RS1_6"
    else ns="$NS_RS2"; addr4="$RS2_4"; addr6="$RS2_6"; fi
    lab_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
      net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
    ip -n "$ns" addr add "$addr4/24" dev eth0
    ip -n "$ns" addr add "$addr6/64" dev eth0 nodad
    ip -n "$ns" addr add "$VIP4/32" dev lo
    ip -n "$ns" addr add "$VIP6/128" dev lo nodad   # NS for an address on lo is not answered on eth0
    ip -n "$ns" route add default via "$ROUTER_L4"
    ip -n "$ns" -6 route add default via "$ROUTER_L6"
  done

  lab_check_links
}

lab_ping() {   # lab_ping NS ADDR: a few bounded tries (first one may wait for ARP/ND)
  local i
  for i in 1 2 3; do
    nsx "$1" timeout -s KILL 3 "$LAB_PYTHON" "$LAB_ROOT/lab/ping.py" "$2" 1 >/dev/null 2>&1 && return 0
  done
  return 1
}

# Reachability on every link. Side effect, on purpose: neighbour caches are warm
# (director -> rs1/rs2/router), as on a LAN that has been up for a while.
lab_check_links() {
  local -a pairs=("$NS_CLIENT $ROUTER_C4" "$NS_CLIENT $ROUTER_C6"
                  "$NS_ROUTER $DIR4" "$NS_ROUTER $DIR6"
                  "$NS_DIR $RS1_4" "$NS_DIR $RS1_6" "$NS_DIR $RS2_4" "$NS_DIR $RS2_6"
                  "$NS_DIR $ROUTER_L4" "$NS_DIR $ROUTER_L6"
                  "$NS_CLIENT $RS1_4" "$NS_CLIENT $RS2_6")
  local pr bad=0
  for pr in "${pairs[@]}"; do
    set -- $pr
    lab_ping "$1" "$2" || { lab_log "topology: $1 cannot reach $2"; bad=1; }
  done
  [ "$bad" = 0 ] || lab_die "topology self-check failed"
  lab_log "topology up: ${LAB_ALL_NS[*]}"
}

# lab_start_rs N [args]: (re)starts the Python web server of real server N (1 or 2) on port 80
# (extra http_server.py args after N) and waits until it answers locally. Its PID is
# LAB_RS_PID[N], so a test can stop that one server (lab_stop_rs N) and start it again.
LAB_RS_PID=()
lab_start_rs() {
  lab_require_python
  local rs="$1" ns; shift
  if [ "$rs" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
  # `ip netns exec` directly (not the nsx function): $! must be the server itself, and
  # a function would run in a forked subshell whose death leaves the server behind.
  ip netns exec "$ns" "$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --id "$rs" --port 80 "$@" \
    >>"$LAB_RUN/http-rs$rs.log" 2>&1 &
  LAB_RS_PID[$rs]=$!
  LAB_PIDS+=($!)
  lab_wait 100 nsx "$ns" curl -sf --noproxy '*' --max-time 1 http://127.0.0.1/ ||
    lab_die "web server in $ns did not come up: $(tail -5 "$LAB_RUN/http-rs$rs.log")"
}
lab_stop_rs() { kill -TERM "${LAB_RS_PID[$1]}" 2>/dev/null; wait "${LAB_RS_PID[$1]}" 2>/dev/null; }

# Starts the web servers in rs1 and rs2 (HTTP on 80, UDP echo on 5300).
lab_start_servers() {
  lab_start_rs 1 --udp-port 5300
  lab_start_rs 2 --udp-port 5300
  lab_log "web servers up on rs1, rs2 (port 80, v4 and v6)"
}

# Starts Debian's nginx in rs1 and rs2 on ports 8080 and 8081 (v4 and v6), answering `RS n`
# on every path but /www/: the real web server for load tests (the Python one is for content
# and downloads). Two ports, so a test can have two services without changing either.
# /www/FILE serves $LAB_RUN/www-rsN/FILE (404 when absent): pages a health-check test
# changes or removes to make a checker fail.
LAB_NGINX_PORT=8080
lab_start_nginx() {
  command -v nginx >/dev/null || lab_die "nginx not installed: run './run deps'"
  local rs ns conf
  for rs in 1 2; do
    if [ "$rs" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
    conf="$LAB_RUN/nginx-rs$rs.conf"
    mkdir -p "$LAB_RUN/nginx-rs$rs" "$LAB_RUN/www-rs$rs"
    # nginx's workers run as nobody: they must be able to reach the pages.
    chmod 711 "$LAB_RUN"; chmod 755 "$LAB_RUN/www-rs$rs"
    cat >"$conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
pid $LAB_RUN/nginx-rs$rs.pid;
error_log $LAB_RUN/nginx-rs$rs.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $LAB_RUN/nginx-rs$rs;
  server {
    listen $LAB_NGINX_PORT backlog=4096;
    listen [::]:$LAB_NGINX_PORT ipv6only=on backlog=4096;
    listen $((LAB_NGINX_PORT + 1)) backlog=4096;
    listen [::]:$((LAB_NGINX_PORT + 1)) ipv6only=on backlog=4096;
    location / { return 200 "RS $rs\n"; }
    location /www/ { alias $LAB_RUN/www-rs$rs/; }
  }
}
NGINX
    ip netns exec "$ns" nginx -c "$conf" -p "$LAB_RUN/nginx-rs$rs" >"$LAB_RUN/nginx-rs$rs.log" 2>&1 &
    LAB_PIDS+=($!)
  done
  for rs in 1 2; do
    if [ "$rs" = 1 ]; then ns="$NS_RS1"; else ns="$NS_RS2"; fi
    lab_wait 100 nsx "$ns" curl -sf --noproxy '*' --max-time 1 "http://127.0.0.1:$LAB_NGINX_PORT/" ||
      lab_die "nginx in $ns did not come up: $(cat "$LAB_RUN/nginx-rs$rs.err" "$LAB_RUN/nginx-rs$rs.log" 2>/dev/null | tail -5)"
  done
  lab_log "nginx up on rs1, rs2 (port $LAB_NGINX_PORT)"
}

# lab_ab N C URL: ApacheBench from the client (HTTP/1.0, a new connection per request),
# bounded in time; prints ab's report.
lab_ab() {
  nsx "$NS_CLIENT" timeout -s KILL 300 ab -q -s 5 -n "$1" -c "$2" "$3" 2>&1
}

# lab_start_daemon BUILD_DIR [extra sluiced args]: runs sluiced in the director namespace on
# its LAN interface and waits (bounded) for its control socket.
lab_start_daemon() {
  local build="$1"; shift
  LAB_BUILD="$build"
  [ -x "$build/bin/sluiced" ] || lab_die "$build/bin/sluiced not built"
  rm -f "$LAB_SOCK"
  ip netns exec "$NS_DIR" "$build/bin/sluiced" -i eth0 --socket "$LAB_SOCK" "$@" \
    2>"$LAB_RUN/sluiced.log" >&2 &
  LAB_DAEMON_PID=$!
  LAB_PIDS+=("$LAB_DAEMON_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$LAB_SOCK" ] && { lab_log "sluiced up (pid $LAB_DAEMON_PID, socket $LAB_SOCK)"; return 0; }
    kill -0 "$LAB_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  lab_log "sluiced did not open $LAB_SOCK; its log:"
  sed 's/^/  sluiced: /' "$LAB_RUN/sluiced.log" >&2
  return 1
}

# Stops sluiced with SIGTERM (KILL after 5 s); returns its exit status.
lab_stop_daemon() {
  local pid="$LAB_DAEMON_PID" i rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    lab_log "sluiced ignored SIGTERM for 5 s; killing it"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null; rc=$?
  LAB_DAEMON_PID=""
  return "$rc"
}

lab_daemon_log() { [ -f "$LAB_RUN/sluiced.log" ] && cat "$LAB_RUN/sluiced.log"; }

# sluiceadm in the director namespace (the socket is a path, so any namespace would do).
lab_adm() {
  nsx "$NS_DIR" timeout -s KILL 10 "$LAB_BUILD/bin/sluiceadm" --socket "$LAB_SOCK" "$@"
}

# lab_curl [curl args...]: one bounded request from the client namespace.
LAB_CURL_MAX=10
lab_curl() {
  nsx "$NS_CLIENT" timeout -s KILL $((LAB_CURL_MAX + 5)) \
    curl -sS -g --noproxy '*' --connect-timeout 4 --max-time "$LAB_CURL_MAX" "$@"
}

# lab_ask URL [curl args]: prints the real server number (1, 2) that answered, or ERR<n>
# with curl's exit code (7: refused, e.g. a kernel RST; 28: timed out, e.g. dropped;
# 137: killed by the outer timeout), or ERRbody for an answer that is not "RS n".
#
# Each request leaves from a source port never used before in this run (lab_fresh_port). A
# director, like IPVS with conn_reuse_mode=1, sends a SYN that reuses the ports of a
# connection it still holds in FIN_WAIT (two minutes) to that connection's real server
# instead of scheduling it; with the kernel's ephemeral ports that happens now and then,
# and exact scheduler counts (wrr 3:1, sh stickiness) would then be off by chance.
lab_ask() {
  local url="$1"; shift
  local body rc
  if [ -f "$LAB_RUN/skip" ]; then echo SKIP; return; fi
  body="$(LAB_CURL_MAX=4 lab_curl --local-port "$(lab_fresh_port)" "$@" "$url" 2>/dev/null)"; rc=$?
  if [ "$rc" = 0 ]; then
    case "$body" in
      "RS 1") echo 1; echo 0 >"$LAB_RUN/errs"; return ;;
      "RS 2") echo 2; echo 0 >"$LAB_RUN/errs"; return ;;
      *) rc=body ;;
    esac
  fi
  echo "ERR$rc"
  # Fail fast: after 3 failures in a row the rest of the scenario is SKIP, so a dead director
  # costs seconds, not minutes of timeouts. lab_fresh_scenario re-arms it.
  local errs; errs=$(( $(cat "$LAB_RUN/errs" 2>/dev/null || echo 0) + 1 ))
  echo "$errs" >"$LAB_RUN/errs"
  [ "$errs" -ge 3 ] && touch "$LAB_RUN/skip"
  return 0
}

# lab_fresh_port [COUNT]: the first of COUNT client source ports not used before in this run,
# below the kernel's ephemeral range (32768-60999) so they never meet the ports it picks.
lab_fresh_port() {
  local n="${1:-1}" f="$LAB_RUN/next_port" p
  p="$(cat "$f" 2>/dev/null || echo 10000)"
  echo $((p + n)) >"$f"
  echo "$p"
}

lab_fresh_scenario() { rm -f "$LAB_RUN/skip" "$LAB_RUN/errs"; }

# lab_ask_n N URL [curl args]: N requests, the answers space-separated.
lab_ask_n() {
  local n="$1"; shift
  local i out=()
  for ((i = 0; i < n; i++)); do out+=("$(lab_ask "$@")"); done
  echo "${out[*]}"
}

lab_ns_empty() {
  local ns
  for ns in "${LAB_NAMESPACES[@]}"; do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || return 1
  done
}

lab_cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  local pid i alive
  for pid in "${LAB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for ((i = 0; i < 30; i++)); do
    alive=0
    for pid in "${LAB_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${LAB_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # Anything still inside our namespaces was started by this run (a stray curl, or what
  # `lab.sh up` left running): TERM first so sluiced can detach XDP, then KILL.
  local ns sig stray
  for sig in TERM KILL; do
    stray=""
    for ns in "${LAB_NAMESPACES[@]}"; do stray+=" $(ip netns pids "$ns" 2>/dev/null)"; done
    [ -z "${stray// /}" ] && break
    for pid in $stray; do kill -"$sig" "$pid" 2>/dev/null; done
    [ "$sig" = TERM ] && lab_wait 30 lab_ns_empty
  done
  for ns in "${LAB_NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  LAB_NAMESPACES=()
  [ -n "${LAB_RUN:-}" ] && [ "${LAB_KEEP_RUN:-0}" = 0 ] && rm -rf "$LAB_RUN"
  [ "$LAB_VERBOSE" = 1 ] && lab_log "cleaned up"
  return "$rc"
}
