#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [--runs N] [--engines a,b,...] [--quick] [--warmup S] [--window S]
#                        [--out DIR] [--rt] [--gen auto|live|packet]
# The packet-rate benchmark behind `./run bench`: generator -> director -> sink in three
# network namespaces, one engine at a time in the director, each measured as packets
# delivered to the sink per second of director CPU. See bench/README.md for the method and
# what each engine is. Trade-off: one script drives everything (topology, engines, CPU
# pinning, windows), so the whole method is readable in one place; the measuring itself is
# done by a small compiled tool (bench/tool) because the window edges must be sharp.
set -uo pipefail

BUILD="$(cd "${1:?usage: bench/run.sh BUILD_DIR [--runs N] [--engines a,b,c,d,e,f] [--quick]}" && pwd)"
shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=../lab/lib.sh
. "$ROOT/lab/lib.sh"   # nsx, lab_wait, lab_trap/lab_cleanup (namespaces and PIDs on every exit)

RUNS=3
ENGINES="a,b,c,d,e,f,g,h,i"
WARMUP=1
WINDOW=4
OUT=""
SCHED_MODE="${BENCH_SCHED:-nice}"
GEN_WANT="${BENCH_GEN:-auto}"      # live: BPF live frames; packet: AF_PACKET; auto: live if allowed
GEN_IO="${BENCH_GEN_IO:-mmsg}"     # the fallback generator: sendmmsg (fastest here), ring (TX_RING) or xsk (AF_XDP)
GEN_BATCH="${BENCH_GEN_BATCH:-256}"
while (($#)); do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --engines) ENGINES="$2"; shift 2 ;;
    --quick) RUNS=1; WARMUP=0.5; WINDOW=2; shift ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --rt) SCHED_MODE=rt; shift ;;
    --gen) GEN_WANT="$2"; shift 2 ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs needs a positive number" >&2; exit 2; }
[[ "$ENGINES" =~ ^[a-i](,[a-i])*$ ]] || { echo "bench: --engines is a list of a..i, e.g. a,e,f" >&2; exit 2; }
[[ "$GEN_WANT" =~ ^(auto|live|packet)$ ]] || { echo "bench: --gen / BENCH_GEN is auto, live or packet" >&2; exit 2; }
[[ "$GEN_IO" =~ ^(mmsg|ring|xsk)$ ]] || { echo "bench: BENCH_GEN_IO is mmsg, ring or xsk" >&2; exit 2; }
IFS=, read -r -a ENGINE_LIST <<<"$ENGINES"

bench_log() { echo "bench: $*" >&2; }
bench_die() { echo "bench: error: $*" >&2; exit 1; }
lab_require_root
(( $(nproc) >= 2 )) || bench_die "needs at least 2 CPUs (one for the director, one for generator and sink)"

# ---------------------------------------------------------------- settings
DIR_CPU="${BENCH_DIR_CPU:-0}"      # the director's core: its NAPI threads and user-space engines
GEN_CPU="${BENCH_GEN_CPU:-1}"      # generator, sink, and their NAPI threads
VIP=10.9.9.100; VPORT=5000
GEN_ADDR=10.9.1.2; DIR_IN_ADDR=10.9.1.1; DIR_OUT_ADDR=10.9.2.1
SINK_ADDR=10.9.2.2; RS1=10.9.2.11; RS2=10.9.2.12
NEW_FLOW_BASE=10.10.0.0            # new-flow mode: source addresses 10.10.x.x, ports 1024..65535
EST_FLOWS="${BENCH_EST_FLOWS:-1024}"
CONN_TABLE_NEW="${BENCH_CONN_TABLE:-4194304}"   # (f): live entries ~ rate x UDP timeout (5 s)
SLUICE_UDP_TIMEOUT=5
FNAT_LADDR=10.9.8.1   # (i): the FULLNAT local address (the sink counts whatever arrives)
# NAPI nice of the director for user-space data planes (b, f); kernel engines (a, c, d, and e, whose established flows stay in XDP) get -20.
USER_NAPI_NICE="${BENCH_USER_NAPI_NICE:-10}"

declare -A ENGINE_NAME=(
  [a]="XDP forwarder (MACs + devmap redirect)"
  [b]="AF_XDP copy-mode forwarder"
  [c]="kernel IPv4 forwarding"
  [d]="nftables DNAT numgen (conntrack)"
  [e]="Sluice DR, established flows"
  [f]="Sluice DR, every packet a new flow"
  [g]="Sluice NAT, established flows"
  [h]="Sluice TUN (IPIP), established flows"
  [i]="Sluice FULLNAT, established flows"
)
declare -A ENGINE_TRAFFIC=(
  [a]="random source port" [b]="random source port" [c]="random source port"
  [d]="random source port (64k flows, mostly established in conntrack)"
  [e]="$EST_FLOWS flows in turn" [f]="unique (source address, port) per packet"
  [g]="$EST_FLOWS flows in turn" [h]="$EST_FLOWS flows in turn" [i]="$EST_FLOWS flows in turn"
)

# ---------------------------------------------------------------- build the helpers
TOOL_DIR="$BUILD/bench"
TOOL="$TOOL_DIR/sluice-bench"
build_tools() {
  mkdir -p "$TOOL_DIR"
  local src obj
  for src in "$HERE"/bpf/*.bpf.c; do
    obj="$TOOL_DIR/$(basename "${src%.c}").o"
    if [ ! -f "$obj" ] || [ -n "$(find "$HERE/bpf" -newer "$obj" -name '*.[ch]' -print -quit)" ]; then
      clang -O2 -g -Wall -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$obj" ||
        bench_die "cannot compile $src"
    fi
  done
  if [ ! -x "$TOOL" ] || [ -n "$(find "$HERE/tool" "$HERE/bpf/bench_abi.h" -newer "$TOOL" -print -quit)" ]; then
    bench_log "compiling $TOOL"
    g++ -std=c++20 -O2 -g -Wall -Wextra -Wno-missing-field-initializers -o "$TOOL" \
      "$HERE"/tool/*.cc -lxdp -lbpf -lelf -lz || bench_die "cannot compile bench/tool"
  fi
  if [ ! -x "$BUILD/bin/sluiced" ] || [ ! -x "$BUILD/bin/sluiceadm" ]; then
    bench_die "$BUILD/bin/sluiced or sluiceadm not built"
  fi
}

# ---------------------------------------------------------------- topology
ID=$$
NS_GEN="slb-$ID-gen"; NS_DIR="slb-$ID-dir"; NS_SINK="slb-$ID-sink"
IF_G="bG$ID"; IF_I="bI$ID"; IF_O="bO$ID"; IF_S="bS$ID"   # <= 9 chars: napi/IF- fits in a comm

# Namespaces of a bench run that was SIGKILLed (no trap ran): slb-PID-* whose PID is gone.
reap_stale() {
  local ns pid p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^slb-([0-9]+)-(gen|dir|sink)$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] && continue
    bench_log "removing $ns, left behind by dead run $pid"
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

mac_of() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }

# PIDs of the NAPI kernel threads of interface $1 (named napi/IF-NAPIID).
napi_tids() {
  local f c
  for f in /proc/[0-9]*/comm; do
    read -r c <"$f" 2>/dev/null || continue
    [[ "$c" == "napi/$1-"* ]] && { f="${f#/proc/}"; echo "${f%/comm}"; }
  done
}

# veth pair, one end in each namespace, one queue each, set up as BENCHMARKING.md found best:
# TSO and tx checksum offload off (the receiver's work then stays in its own NAPI), GRO on
# (the NAPI exists without an XDP program, so XDP_TX/redirect into it works), threaded NAPI.
veth_pair() {   # NS1 IF1 NS2 IF2
  ip link add "$2" netns "$1" numtxqueues 1 numrxqueues 1 type veth \
    peer name "$4" netns "$3" numtxqueues 1 numrxqueues 1 || bench_die "cannot create veth $2/$4"
  local ns dev ns_dev
  for ns_dev in "$1 $2" "$3 $4"; do
    read -r ns dev <<<"$ns_dev"
    nsx "$ns" ethtool -K "$dev" tso off tx off >/dev/null 2>&1 || bench_die "ethtool on $dev failed"
    ip -n "$ns" link set "$dev" up
  done
  # GRO only once both ends are up: veth creates the NAPI instance and tells the peer it may
  # XDP-transmit into it (NETDEV_XDP_ACT_NDO_XMIT) only when GRO is switched on while up.
  # Switched on while down, XDP_TX into it is silently dropped until an XDP program is attached.
  for ns_dev in "$1 $2" "$3 $4"; do
    read -r ns dev <<<"$ns_dev"
    nsx "$ns" ethtool -K "$dev" gro on >/dev/null 2>&1 || bench_die "cannot turn GRO on for $dev"
  done
}

topology_up() {
  local ns
  for ns in "$NS_GEN" "$NS_DIR" "$NS_SINK"; do
    LAB_NAMESPACES+=("$ns")
    ip netns add "$ns" || bench_die "cannot create namespace $ns"
    ip -n "$ns" link set lo up
    # No IPv6: no router solicitations or MLD reports wandering into the counts.
    lab_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  veth_pair "$NS_GEN" "$IF_G" "$NS_DIR" "$IF_I"
  veth_pair "$NS_DIR" "$IF_O" "$NS_SINK" "$IF_S"
  MAC_G="$(mac_of "$NS_GEN" "$IF_G")"; MAC_I="$(mac_of "$NS_DIR" "$IF_I")"
  MAC_S="$(mac_of "$NS_SINK" "$IF_S")"

  ip -n "$NS_GEN" addr add "$GEN_ADDR/24" dev "$IF_G"
  ip -n "$NS_DIR" addr add "$DIR_IN_ADDR/24" dev "$IF_I"
  ip -n "$NS_DIR" addr add "$DIR_OUT_ADDR/24" dev "$IF_O"
  ip -n "$NS_SINK" addr add "$SINK_ADDR/24" dev "$IF_S"
  ip -n "$NS_SINK" addr add "$RS1/24" dev "$IF_S"
  ip -n "$NS_SINK" addr add "$RS2/24" dev "$IF_S"
  ip -n "$NS_SINK" addr add "$VIP/32" dev lo          # DR: the real servers hold the VIP
  # Static neighbours: no ARP during a window.
  ip -n "$NS_DIR" neigh replace "$GEN_ADDR" lladdr "$MAC_G" dev "$IF_I" nud permanent
  local a
  for a in "$SINK_ADDR" "$RS1" "$RS2"; do
    ip -n "$NS_DIR" neigh replace "$a" lladdr "$MAC_S" dev "$IF_O" nud permanent
  done
  ip -n "$NS_DIR" route add "$VIP/32" via "$RS1" dev "$IF_O"   # (c): plain routing of the VIP
  ip -n "$NS_DIR" route add "$NEW_FLOW_BASE/16" via "$GEN_ADDR" dev "$IF_I"
  lab_sysctl "$NS_DIR" net.ipv4.ip_forward=0 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$IF_I.rp_filter=0" "net.ipv4.conf.$IF_O.rp_filter=0"

  local dev t ns_dev
  for ns_dev in "$NS_GEN $IF_G" "$NS_DIR $IF_I" "$NS_DIR $IF_O" "$NS_SINK $IF_S"; do
    read -r ns dev <<<"$ns_dev"
    nsx "$ns" sh -c "echo 1 > /sys/class/net/$dev/threaded" || bench_die "threaded NAPI refused on $dev"
  done
  DIR_NAPI=(); OTHER_NAPI=()
  local -a tids
  for dev in "$IF_I" "$IF_O" "$IF_G" "$IF_S"; do
    mapfile -t tids < <(napi_tids "$dev")
    ((${#tids[@]})) || bench_die "no napi/$dev-* thread (threaded NAPI on veth needs GRO on)"
    if [ "$dev" = "$IF_I" ] || [ "$dev" = "$IF_O" ]; then DIR_NAPI+=("${tids[@]}"); else OTHER_NAPI+=("${tids[@]}"); fi
  done
  for t in "${DIR_NAPI[@]}"; do taskset -p -c "$DIR_CPU" "$t" >/dev/null || bench_die "cannot pin napi thread $t"; done
  # The sink must keep up with anything the director sends (a drop there would be charged to
  # the director as wasted work), so its NAPI thread outranks the generator on their core.
  for t in "${OTHER_NAPI[@]}"; do
    taskset -p -c "$GEN_CPU" "$t" >/dev/null || bench_die "cannot pin napi thread $t"
    if [ "$SCHED_MODE" = rt ]; then chrt -f -p 50 "$t" >/dev/null; else renice -n -20 -p "$t" >/dev/null; fi
  done
  bench_log "topology up: $NS_GEN ($IF_G) -> $NS_DIR ($IF_I, $IF_O) -> $NS_SINK ($IF_S);" \
    "director NAPI threads ${DIR_NAPI[*]} on CPU $DIR_CPU"
}

# Scheduling of the director's threads, as BENCHMARKING.md measured best: a kernel-only engine
# wants its NAPI threads at nice -20; a user-space data plane wants itself at nice -20 and the
# NAPI threads at +10, so the process drains its rings before NAPI refills them. With --rt
# the same order is made strict with SCHED_FIFO (NAPI below the process), so other load on
# the director's core (a shared machine) cannot squeeze the director; the kernel's RT
# throttling still leaves others 5 %.
director_sched() {   # kernel|user
  local t
  for t in "${DIR_NAPI[@]}"; do
    chrt -o -p 0 "$t" >/dev/null
    if [ "$SCHED_MODE" = rt ]; then
      chrt -f -p "$([ "$1" = kernel ] && echo 50 || echo 10)" "$t" >/dev/null
    else
      renice -n "$([ "$1" = kernel ] && echo -20 || echo "$USER_NAPI_NICE")" -p "$t" >/dev/null
    fi
  done
}
# Prefixes for the command lines of a user-space engine and of the generator (threads inherit).
if [ "$SCHED_MODE" = rt ]; then USER_SCHED=(chrt -f 20); GEN_SCHED=(chrt -f 10)
else USER_SCHED=(nice -n -20); GEN_SCHED=(nice -n -20); fi

# Frames the director could not hand to the sink (its ring full): delivered would understate.
egress_drops() {
  local x t
  x="$(nsx "$NS_DIR" ethtool -S "$IF_O" 2>/dev/null | awk '/xdp_xmit_errors/ {s += $2} END {print s + 0}')"
  t="$(nsx "$NS_DIR" cat "/sys/class/net/$IF_O/statistics/tx_dropped" 2>/dev/null || echo 0)"
  echo $((x + t))
}

# Which generator runs, decided once: live XDP frames where the kernel allows them (or with
# --gen live), else the AF_PACKET generator, whose frames the probe first checks byte for byte
# against gen.bpf.c's. Sets GEN_KIND (live|packet) and GEN_TEXT (for the results).
choose_generator() {
  local p
  p="$(ip netns exec "$NS_GEN" timeout -s KILL 20 "$TOOL" gen --bpf-dir "$TOOL_DIR" --iface "$IF_G" \
    --dmac "$MAC_I" --src "$GEN_ADDR" --dst "$VIP" --dport "$VPORT" --generator "$GEN_WANT" \
    --packet-io "$GEN_IO" --probe 1)" || bench_die "no generator works here (--gen $GEN_WANT)"
  GEN_KIND="$("$LAB_PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["kind"])' "$p")"
  GEN_TEXT="$("$LAB_PYTHON" -c 'import json,sys; d = json.loads(sys.argv[1])
print(d["generator"] + (" (" + d["note"] + ")" if d["note"] else ""))' "$p")"
  [ "$GEN_KIND" = packet ] && GEN_TEXT="$GEN_TEXT, batches of $GEN_BATCH"
  bench_log "generator: $GEN_TEXT"
}

# ---------------------------------------------------------------- engines
ENGINE_PID=""
SLUICE_SOCK=""

start_bg_in_dir() {   # READYFILE CMD...: starts CMD in the director namespace, waits for READYFILE
  local ready="$1"; shift
  rm -f "$ready"
  ip netns exec "$NS_DIR" "$@" >"$RUN/engine.log" 2>&1 &
  ENGINE_PID=$!
  LAB_PIDS+=("$ENGINE_PID")
  lab_wait 100 test -e "$ready" && return 0
  bench_log "engine did not come up: $(tail -5 "$RUN/engine.log")"
  return 1
}

stop_engine_pid() {
  [ -n "$ENGINE_PID" ] || return 0
  kill -TERM "$ENGINE_PID" 2>/dev/null
  local i
  for ((i = 0; i < 50; i++)); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$ENGINE_PID" 2>/dev/null
  wait "$ENGINE_PID" 2>/dev/null
  ENGINE_PID=""
}

sadm() { timeout -s KILL 10 "$BUILD/bin/sluiceadm" --socket "$SLUICE_SOCK" "$@"; }

start_sluiced() {   # extra sluiced args; SLUICE_FWD (-g, -m, -i) picks the method
  SLUICE_SOCK="$RUN/sluiced.sock"
  rm -f "$SLUICE_SOCK"
  # The whole process on the director's core at nice -20 (workers inherit both). Native
  # mode: the bench's topology arranges the peers for it (XDP on each peer, tx checksum
  # offload off: see bench/README.md); auto would pick generic on veth.
  ip netns exec "$NS_DIR" "${USER_SCHED[@]}" taskset -c "$DIR_CPU" "$BUILD/bin/sluiced" \
    -i "$IF_I" -i "$IF_O" --socket "$SLUICE_SOCK" --xdp-mode native "$@" >"$RUN/engine.log" 2>&1 &
  ENGINE_PID=$!
  LAB_PIDS+=("$ENGINE_PID")
  lab_wait 100 test -S "$SLUICE_SOCK" || { bench_log "sluiced did not start: $(tail -5 "$RUN/engine.log")"; return 1; }
  sadm -A -u "$VIP:$VPORT" -s rr &&
    sadm -a -u "$VIP:$VPORT" -r "$RS1:$VPORT" "${SLUICE_FWD:--g}" -w 1 &&
    sadm -a -u "$VIP:$VPORT" -r "$RS2:$VPORT" "${SLUICE_FWD:--g}" -w 1 || return 1
}

# engine_start X: sets GEN_MODE and GEN_FLOWS for the generator.
engine_start() {
  GEN_MODE=random; GEN_FLOWS=1024; GEN_SRC="$GEN_ADDR"
  case "$1" in
    a) director_sched kernel
       start_bg_in_dir "$RUN/ready" taskset -c "$DIR_CPU" "$TOOL" xdpfwd --bpf-dir "$TOOL_DIR" \
         --in "$IF_I" --out "$IF_O" --dmac "$MAC_S" --ready "$RUN/ready" --seconds 300 ;;
    b) director_sched user
       start_bg_in_dir "$RUN/ready" "${USER_SCHED[@]}" taskset -c "$DIR_CPU" "$TOOL" xskfwd --bpf-dir "$TOOL_DIR" \
         --in "$IF_I" --out "$IF_O" --dmac "$MAC_S" --ring 8192 --ready "$RUN/ready" --seconds 300 ;;
    c) director_sched kernel
       lab_sysctl "$NS_DIR" net.ipv4.ip_forward=1 ;;
    d) director_sched kernel
       lab_sysctl "$NS_DIR" net.ipv4.ip_forward=1
       nsx "$NS_DIR" nft -f - <<EOF || return 1
table ip slbench {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $VIP udp dport $VPORT dnat to numgen inc mod 2 map { 0 : $RS1, 1 : $RS2 }
  }
}
EOF
       ;;
    e) # Established flows never leave the kernel (Sluice's XDP fast path): schedule the
       # director like the other kernel engines. sluiced itself still runs at user-space
       # priority for the first packet of each flow.
       director_sched kernel
       GEN_MODE=cycle; GEN_FLOWS="$EST_FLOWS"
       start_sluiced ;;
    f) director_sched user
       GEN_MODE=unique; GEN_SRC="$NEW_FLOW_BASE"
       start_sluiced --conn-table-size "$CONN_TABLE_NEW" && sadm --set 0 0 "$SLUICE_UDP_TIMEOUT" ;;
    # NAT and TUN as (e): established flows, which stay in the XDP fast path. NAT rewrites the
    # destination (address and checksums); TUN prepends a 20-byte IPv4 header, so the sink
    # receives 84-byte frames. Only the client->server direction is measured: NAT's replies
    # take the same rewrite the other way, TUN's never cross the director.
    g) director_sched kernel
       GEN_MODE=cycle; GEN_FLOWS="$EST_FLOWS"
       SLUICE_FWD=-m start_sluiced ;;
    h) director_sched kernel
       GEN_MODE=cycle; GEN_FLOWS="$EST_FLOWS"
       SLUICE_FWD=-i start_sluiced ;;
    # FULLNAT as (e): both addresses and the source port rewritten, from one local address
    # (its replies would take the same rewrite back; they are not measured).
    i) director_sched kernel
       GEN_MODE=cycle; GEN_FLOWS="$EST_FLOWS"
       SLUICE_FWD=-b start_sluiced && sadm -P -u "$VIP:$VPORT" -z "$FNAT_LADDR" ;;
  esac
}

# engine_notes X: one JSON value with what the engine itself reports (after the window).
engine_notes() {
  case "$1" in
    d) local n m
       n="$(nsx "$NS_DIR" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo null)"
       m="$(nsx "$NS_DIR" cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo null)"
       echo "{\"conntrack_count\": ${n:-null}, \"conntrack_max\": ${m:-null}}" ;;
    e|f|g|h|i) local f="$OUT/sluiced-$1-run$2.txt"
       { sadm -Ln --stats --exact; echo; sadm -L --timeout; } >"$f" 2>&1
       echo "{\"sluiceadm_stats\": \"$(basename "$f")\"}" ;;
    *) echo null ;;
  esac
}

engine_stop() {
  case "$1" in
    a|e|f|g|h|i) stop_engine_pid ;;
    b) stop_engine_pid; grep -h '^xskfwd:' "$RUN/engine.log" >&2 ;;
    c) lab_sysctl "$NS_DIR" net.ipv4.ip_forward=0 ;;
    d) nsx "$NS_DIR" nft delete table ip slbench 2>/dev/null
       lab_sysctl "$NS_DIR" net.ipv4.ip_forward=0 ;;
  esac
  # Whatever an engine left on the director's veths (a killed daemon's XDP program) goes.
  ip -n "$NS_DIR" link set "$IF_I" xdp off 2>/dev/null
  ip -n "$NS_DIR" link set "$IF_O" xdp off 2>/dev/null
}

# ---------------------------------------------------------------- one measurement
# measure ENGINE RUN: prints one JSON line for runs.jsonl.
measure() {
  local e="$1" r="$2" mpid gpid rc notes
  local gen_secs; gen_secs="$(awk -v w="$WARMUP" -v n="$WINDOW" 'BEGIN { print w + n + 2 }')"
  local limit; limit="$(awk -v s="$gen_secs" 'BEGIN { print int(s) + 15 }')"
  rm -f "$RUN/mready" "$RUN/m.json" "$RUN/g.json"
  ip netns exec "$NS_SINK" taskset -c "$GEN_CPU" timeout -s KILL "$limit" "$TOOL" measure \
    --bpf-dir "$TOOL_DIR" --iface "$IF_S" --netns "/run/netns/$NS_DIR" \
    --napi "napi/$IF_I-,napi/$IF_O-" --cpu "$DIR_CPU" --warmup "$WARMUP" --window "$WINDOW" \
    --ready "$RUN/mready" >"$RUN/m.json" 2>"$RUN/m.err" &
  mpid=$!; LAB_PIDS+=("$mpid")
  lab_wait 100 test -e "$RUN/mready" || bench_log "sink did not attach: $(cat "$RUN/m.err")"
  local drops0; drops0="$(egress_drops)"
  ip netns exec "$NS_GEN" "${GEN_SCHED[@]}" taskset -c "$GEN_CPU" timeout -s KILL "$limit" "$TOOL" gen \
    --bpf-dir "$TOOL_DIR" --iface "$IF_G" --dmac "$MAC_I" --src "$GEN_SRC" --dst "$VIP" \
    --dport "$VPORT" --mode "$GEN_MODE" --flows "$GEN_FLOWS" --seconds "$gen_secs" \
    --generator "$GEN_KIND" --packet-io "$GEN_IO" --batch "$GEN_BATCH" \
    >"$RUN/g.json" 2>"$RUN/g.err" &
  gpid=$!; LAB_PIDS+=("$gpid")
  wait "$mpid"; rc=$?
  kill -TERM "$gpid" 2>/dev/null   # the generator stops at its next call or batch (<= 0.5 s)
  wait "$gpid"
  notes="$(engine_notes "$e" "$r")"
  local drops=$(( $(egress_drops) - drops0 ))
  local m g
  m="$(cat "$RUN/m.json")"; [ -n "$m" ] || m="{\"error\": \"measure exited $rc: $(tr -d '"\n' <"$RUN/m.err")\"}"
  g="$(cat "$RUN/g.json")"; [ -n "$g" ] || g="{\"error\": \"$(tr -d '"\n' <"$RUN/g.err")\"}"
  echo "{\"engine\": \"$e\", \"run\": $r, \"measure\": $m, \"gen\": $g, \"notes\": $notes, \"egress_drops\": $drops}"
}

# ---------------------------------------------------------------- main
build_tools
reap_stale
LAB_RUN="$(mktemp -d /tmp/sluice-bench.XXXXXX)"; RUN="$LAB_RUN"
lab_trap
if [ -z "$OUT" ]; then OUT="$HERE/results/$(date +%Y%m%d-%H%M%S)-$(hostname -s)"; fi
mkdir -p "$OUT" || bench_die "cannot create $OUT"
T0=$SECONDS
load1="$(cut -d' ' -f1 /proc/loadavg)"
if [ "$SCHED_MODE" = nice ] && awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  bench_log "warning: load average $load1 before starting: other work shares the CPUs. The NAPI"
  bench_log "  threads of user-space engines (b, f) run at nice $USER_NAPI_NICE and will be starved by it;"
  bench_log "  --rt (SCHED_FIFO for the director's and sink's threads) measures as if the cores were free."
fi
topology_up
choose_generator

{
  echo "{\"date\": \"$(date -Is)\", \"host\": \"$(hostname -s)\", \"kernel\": \"$(uname -r)\","
  echo " \"cpus\": $(nproc), \"cpu_model\": \"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)\","
  echo " \"commit\": \"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
  echo " \"loadavg_at_start\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"runs\": $RUNS,"
  echo " \"scheduling\": \"$SCHED_MODE\", \"user_napi_nice\": $USER_NAPI_NICE,"
  echo " \"warmup_s\": $WARMUP, \"window_s\": $WINDOW, \"director_cpu\": $DIR_CPU, \"generator_cpu\": $GEN_CPU,"
  echo " \"generator\": \"$GEN_TEXT\", \"generator_kind\": \"$GEN_KIND\","
  echo " \"frame_bytes\": 64, \"engines\": {"
  sep=""
  for e in "${ENGINE_LIST[@]}"; do
    echo "$sep  \"$e\": {\"name\": \"${ENGINE_NAME[$e]}\", \"traffic\": \"${ENGINE_TRAFFIC[$e]}\"}"
    sep=","
  done
  echo " }}"
} >"$OUT/meta.json"

: >"$OUT/runs.jsonl"
for ((r = 1; r <= RUNS; r++)); do
  for e in "${ENGINE_LIST[@]}"; do
    bench_log "run $r/$RUNS engine ($e) ${ENGINE_NAME[$e]}"
    if engine_start "$e"; then
      line="$(measure "$e" "$r")"
    else
      line="{\"engine\": \"$e\", \"run\": $r, \"measure\": {\"error\": \"engine did not start\"}, \"gen\": null, \"notes\": null}"
    fi
    engine_stop "$e"
    echo "$line" >>"$OUT/runs.jsonl"
    "$LAB_PYTHON" "$HERE/report.py" --line "$line" >&2
  done
done
bench_log "measured in $((SECONDS - T0)) s"
"$LAB_PYTHON" "$HERE/report.py" "$OUT"
