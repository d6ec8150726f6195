#!/usr/bin/env bash
# Restart lab test: sluiced --state-dir survives a restart without breaking established
# connections. On the DR lab (lab/lib.sh): rr over two real servers, a 50 MiB download
# through the VIP at a steady 4 MB/s, then (a) SIGKILL sluiced mid-download, start it again with the
# same --state-dir; (b) the same with SIGTERM. Each time the download must finish intact,
# new requests must still alternate, and `sluiceadm -Ln` must show the services nobody
# re-added. Finally --release must leave no XDP program and no pins. Usage:
# restart_lab.sh BUILD_DIR. Namespaces, processes and the per-run pin directory go away on
# every exit path.
#
# sluiced runs under `nsenter --net` rather than `ip netns exec`: the latter gives it a
# private /sys, where pins would vanish with the process (sluiced refuses to pin there, and
# this test checks that it does).
set -uo pipefail

BUILD="$(cd "${1:?usage: restart_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

lab_require_root
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  echo "SKIP  restart_lab: no bpffs at /sys/fs/bpf to pin on (mount -t bpf bpf /sys/fs/bpf)"; exit 0
fi
command -v nsenter >/dev/null || lab_die "needs nsenter (util-linux)"
lab_init "${LAB_PREFIX:-sl-$$-}"
PIN_DIR="/sys/fs/bpf/sluice-restart-lab-$$"
STATE_DIR="$LAB_RUN/state"
restart_cleanup() {
  local rc=$?
  # Pins first: with them gone nothing keeps a program attached once its daemon is gone.
  [ -n "${PIN_DIR:-}" ] && rm -rf "$PIN_DIR" 2>/dev/null
  lab_cleanup
  exit "$rc"
}
lab_trap
trap restart_cleanup EXIT
T0=$SECONDS

V4="$VIP4:80"
URL4="http://$VIP4/"
RATE=32mbit   # 50 MiB at 4 MB/s: about 13 s, long enough to restart in the middle
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

# Starts sluiced with the pinned state, in the director's network namespace only.
start_pinned() {
  LAB_BUILD="$BUILD"
  rm -f "$LAB_SOCK"
  echo "---- start $(date +%T.%N)" >>"$LAB_RUN/sluiced.log"
  nsenter --net="/run/netns/$NS_DIR" "$BUILD/bin/sluiced" -i eth0 --socket "$LAB_SOCK" \
    --state-dir "$STATE_DIR" --pin-dir "$PIN_DIR" "$@" 2>>"$LAB_RUN/sluiced.log" >&2 &
  LAB_DAEMON_PID=$!
  LAB_PIDS+=("$LAB_DAEMON_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$LAB_SOCK" ] && return 0
    kill -0 "$LAB_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  sed 's/^/  sluiced: /' "$LAB_RUN/sluiced.log" | tail -20 >&2
  return 1
}

xdp_attached() { ip -n "$NS_DIR" -d link show eth0 | grep -q "prog/xdp"; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
bigger_than() { [ "$(size_of "$1")" -gt "$2" ]; }
# Bytes the client has received: in DR the data comes straight from the real server, and
# keeps coming only while the client's ACKs get through the director.
client_rx() { nsx "$NS_CLIENT" cat /proc/net/dev | awk '$1 == "eth0:" { print $2 }'; }

# restart_mid_download SIGNAL: one whole scenario.
restart_mid_download() {
  local sig="$1" body="$LAB_RUN/dl-$1.body" hdr="$LAB_RUN/dl-$1.hdr" prog="$LAB_RUN/dl-$1.progress"
  say "$sig: a slow download, then $sig sluiced and start it again"
  nsx "$NS_CLIENT" timeout -s KILL 90 curl -sS -g --noproxy '*' --connect-timeout 4 --max-time 80 \
    -D "$hdr" -o "$body" "http://$VIP4/big" 2>"$LAB_RUN/dl-$sig.err" &
  local dl=$!
  LAB_PIDS+=("$dl")
  # Progress every 0.1 s, to see whether the bytes ever stop while no daemon runs. Counted
  # at the client's interface: curl writes the file in bursts of megabytes.
  ( for ((i = 0; i < 900; i++)); do
      kill -0 "$dl" 2>/dev/null || break
      echo "$(date +%s.%N) $(client_rx)"; sleep 0.1
    done ) >"$prog" &
  LAB_PIDS+=($!)
  if ! lab_wait 50 grep -q '^X-Real-Server:' "$hdr" || ! lab_wait 50 bigger_than "$body" 4000000; then
    WHY="no download under way ($(cat "$LAB_RUN/dl-$sig.err" 2>/dev/null))"
    verdict "$sig: the download starts" false
    kill -KILL "$dl" 2>/dev/null; return
  fi
  local rs; rs="$(sed -n 's/^X-Real-Server: *\([0-9]*\).*/\1/p' "$hdr" | tr -d '\r')"
  echo "download under way from RS $rs: $(size_of "$body") bytes"

  local t_kill; t_kill=$(date +%s.%N)
  kill -"$sig" "$LAB_DAEMON_PID"
  local i rc
  for ((i = 0; i < 50; i++)); do kill -0 "$LAB_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$LAB_DAEMON_PID" 2>/dev/null && kill -KILL "$LAB_DAEMON_PID"   # ignored SIGTERM 5 s
  wait "$LAB_DAEMON_PID" 2>/dev/null; rc=$?
  if [ "$sig" = TERM ]; then WHY="exit status $rc"; verdict "TERM: sluiced exits 0" test "$rc" = 0; fi
  sleep 1
  WHY="XDP on eth0 after sluiced died: $(xdp_attached && echo attached || echo gone)"
  verdict "$sig: the program stays attached while no daemon runs" xdp_attached
  if ! start_pinned; then
    WHY="see the log above"; verdict "$sig: sluiced starts again over the pinned state" false
    kill -KILL "$dl" 2>/dev/null; return
  fi
  local t_up; t_up=$(date +%s.%N)
  # What the client received between the signal and the new daemon's socket (the old
  # program forwards until the new one is swapped in, just before that).
  local got
  got="$(awk -v a="$t_kill" -v b="$t_up" '$1 >= a && $1 <= b { if (!n++) first = $2; last = $2 }
                                          END { print n ? last - first : 0 }' "$prog")"
  WHY="the client received $got bytes while no daemon ran"
  verdict "$sig: the kernel keeps forwarding the download without the daemon" test "$got" -gt 0
  local log; log="$(sed -n '/^---- start/h; /^---- start/!H; ${x;p}' "$LAB_RUN/sluiced.log")"
  verdict "$sig: sluiced reuses the pinned tables and restores the configuration" check_contains \
    "the restart's log" "$log" "reusing the tables pinned in $PIN_DIR" "restored 1 service(s)" \
    "swapped into the pinned link of eth0"
  local ln; ln="$(lab_adm -Ln 2>&1)"; echo "$ln"
  verdict "$sig: -Ln shows the service nobody re-added" check_contains "-Ln" "$ln" \
    "TCP  $V4 rr" "$RS1_4:80" "$RS2_4:80"
  local active
  active="$(awk -v rs="$( [ "$rs" = 1 ] && echo "$RS1_4" || echo "$RS2_4"):80" '$2 == rs { print $5 }' <<<"$ln")"
  WHY="ActiveConn of RS $rs: '${active}'"
  verdict "$sig: the download still counts as RS $rs's active connection" test "${active:-0}" -ge 1
  verdict "$sig: new requests alternate rr after the restart" check_alternates "$(lab_ask_n 10 "$URL4")" 10

  for ((i = 0; i < 800; i++)); do kill -0 "$dl" 2>/dev/null || break; sleep 0.1; done
  wait "$dl" 2>/dev/null
  verdict "$sig: the download that spanned the restart completed intact" check_download "$body" \
    "$LAB_BIG_BYTES" "$EXPECTED_SHA"
  # The longest time the client received nothing, around the restart and elsewhere (the
  # second is the yardstick for the first).
  local stall
  stall="$(awk -v a="$t_kill" -v b="$t_up" '
    { if (NR > 1 && $2 == last) { run += $1 - lt } else { run = 0 }
      if ($1 > a - 1 && $1 < b + 2) { if (run > near) near = run } else if (run > far) far = run
      last = $2; lt = $1 }
    END { printf "%.2f s around the restart, %.2f s elsewhere", near, far }' "$prog")"
  local near; near="$(awk '{ print $1 }' <<<"$stall")"
  WHY="longest pause $stall"
  verdict "$sig: the download never paused half a second around the restart" \
    awk -v n="$near" 'BEGIN { exit !(n < 0.5) }'
  echo "measured: daemon down $(awk -v a="$t_kill" -v b="$t_up" 'BEGIN{printf "%.1f", b - a}') s" \
    "(signal to control socket up); longest pause of the download: $stall (real servers shaped to $RATE)"
  rm -f "$body"
}

say "topology"
lab_up
lab_start_servers
# The real servers send at a steady rate (a token bucket on their egress) rather than curl
# reading at one (--limit-rate reads megabytes at once, then sleeps for most of a second,
# which would hide a stall of the forwarding, or fake one). Then any pause the client sees
# is the network's.
for ns in "$NS_RS1" "$NS_RS2"; do
  tc -n "$ns" qdisc add dev eth0 root tbf rate "$RATE" burst 64kb latency 200ms ||
    lab_die "cannot shape $ns's egress (tc tbf)"
done

say "pinning refuses a private /sys"
out="$(timeout -s KILL 10 ip netns exec "$NS_DIR" "$BUILD/bin/sluiced" -i eth0 --socket "$LAB_RUN/x.sock" \
  --state-dir "$LAB_RUN/private" 2>&1)"; rc=$?
WHY="exit $rc: $(tail -1 <<<"$out")"
verdict "sluiced under ip netns exec refuses the default pin dir and says why" \
  check_contains "its error" "$out" "nsenter --net"
refused_cleanly() { [ "$rc" != 0 ] && ! xdp_attached; }
WHY="exit $rc, XDP: $(xdp_attached && echo attached || echo none)"
verdict "... exits non-zero and attaches nothing" refused_cleanly

say "director with --state-dir"
if ! start_pinned; then echo "FAIL  sluiced starts with --state-dir"; exit 1; fi
verdict "sluiced pinned its link and maps" check_contains "$PIN_DIR" "$(ls "$PIN_DIR")" \
  link-eth0 conns dests dest_counts dest_stats dp_config
adm -A -t "$V4" -s rr && adm -a -t "$V4" -r "$RS1_4:80" -g && adm -a -t "$V4" -r "$RS2_4:80" -g
verdict "the state file lists the service" check_contains "state.json" \
  "$(cat "$STATE_DIR/state.json" 2>&1)" "\"svc_id\"" "\"$RS1_4\"" "\"$RS2_4\""
verdict "rr alternates before any restart" check_alternates "$(lab_ask_n 10 "$URL4")" 10

restart_mid_download KILL
restart_mid_download TERM

say "release"
lab_stop_daemon; rc=$?
WHY="exit status $rc"; verdict "sluiced exits 0 on SIGTERM" test "$rc" = 0
WHY="after SIGTERM with pins: $(xdp_attached && echo attached || echo gone)"
verdict "with --state-dir, SIGTERM leaves XDP attached" xdp_attached
out="$(timeout -s KILL 10 "$BUILD/bin/sluiced" --state-dir "$STATE_DIR" --pin-dir "$PIN_DIR" --release 2>&1)"; rc=$?
echo "$out"
WHY="exit $rc"; verdict "--release succeeds" test "$rc" = 0
lab_wait 20 sh -c "! ip -n '$NS_DIR' -d link show eth0 | grep -q prog/xdp"
WHY="$(ip -n "$NS_DIR" -d link show eth0 | grep -o 'prog/xdp.*' || echo 'no XDP program')"
verdict "no XDP program remains on eth0" test -z "$(ip -n "$NS_DIR" -d link show eth0 | grep prog/xdp)"
WHY="$(ls -d "$PIN_DIR" "$STATE_DIR/state.json" 2>&1 | tr '\n' ' ')"
verdict "the pins and the state file are gone" test ! -e "$PIN_DIR" -a ! -e "$STATE_DIR/state.json"

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- sluiced log (last 40 lines):"; tail -40 "$LAB_RUN/sluiced.log"
fi
echo "restart_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
