#!/usr/bin/env bash
# TOA lab test (issue 10, FULLNAT): a real server learns the client behind a FULLNAT
# director from the TOA option (kind 254) in the handshake's last ACK, with stock kernel
# parts only: sluice-toa's sockops program on the server's cgroup and libsluice_toa.so
# preloaded into an unmodified Python server, whose accept() and getpeername() must then
# return the client's address. The client plays the director: it makes the connection by
# hand (raw socket), writing the TOA for a made-up client 203.0.113.7:4242 (or
# [2001:db8:99::7]:4243). Checked: v4 on a dual-stack listener (answered v4-mapped) and on
# an AF_INET one, v6; an ordinary connection and a malformed TOA give the real peer;
# garbage sent to the daemon is answered as such; sluice-toa's counters and clean exit;
# with the daemon stopped, or mute, the server still works and sees the real peer.
# Usage: toa_lab.sh BUILD_DIR.
#
#   client (10.0.9.1, 2001:db8:9::1) ---- rs1 (10.0.9.2, 2001:db8:9::2: sluice-toa, server)
set -uo pipefail

BUILD="$(cd "${1:?usage: toa_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

TOAD="$BUILD/bin/sluice-toa"
PRELOAD="$BUILD/lib/libsluice_toa.so"
[ -x "$TOAD" ] || lab_die "$TOAD not built"
[ -f "$PRELOAD" ] || lab_die "$PRELOAD not built"
CG_ROOT=/sys/fs/cgroup/unified
[ "$(stat -f -c %T "$CG_ROOT" 2>/dev/null)" = cgroup2fs ] || CG_ROOT=/sys/fs/cgroup
if [ "$(stat -f -c %T "$CG_ROOT" 2>/dev/null)" != cgroup2fs ]; then
  echo "SKIP  no cgroup v2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup"; exit 77
fi
command -v nft >/dev/null || lab_die "nft not installed (the client drops its kernel's RSTs with it)"

lab_require_root
lab_require_python
lab_init "${LAB_PREFIX:-sl-$$-}"
T0=$SECONDS

C4=10.0.9.1; C6=2001:db8:9::1
S4=10.0.9.2; S6=2001:db8:9::2
PORT6=8080   # dual-stack listener
PORT4=8081   # AF_INET listener
CG="$CG_ROOT/sluice-toa-lab-$$"
TOA_SOCK="$LAB_RUN/toa.sock"

# lib.sh's cleanup (processes by PID, then namespaces), then the cgroup, once it is empty.
toa_cleanup() {
  local rc=$?
  ( exit "$rc" ); lab_cleanup
  if [ -d "$CG" ]; then
    lab_wait 30 test -z "$(cat "$CG/cgroup.procs" 2>/dev/null)"
    rmdir "$CG" 2>/dev/null || echo "lab: could not remove $CG: $(cat "$CG/cgroup.procs")" >&2
  fi
  exit "$rc"
}
trap toa_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

say() { echo "== $*"; }

say "topology: client --- rs1, one veth"
for ns in "$NS_CLIENT" "$NS_RS1"; do
  LAB_NAMESPACES+=("$ns")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
lab_veth "$NS_CLIENT" eth0 "$NS_RS1" eth0
ip -n "$NS_CLIENT" link set eth0 up
ip -n "$NS_RS1" link set eth0 up
ip -n "$NS_CLIENT" addr add "$C4/24" dev eth0
ip -n "$NS_CLIENT" addr add "$C6/64" dev eth0 nodad
ip -n "$NS_RS1" addr add "$S4/24" dev eth0
ip -n "$NS_RS1" addr add "$S6/64" dev eth0 nodad
lab_ping "$NS_CLIENT" "$S4" || lab_die "topology: client cannot reach $S4"
lab_ping "$NS_CLIENT" "$S6" || lab_die "topology: client cannot reach $S6"
# The hand-made connections are unknown to the client's kernel, which answers the server's
# SYN-ACK (and everything after) with a bare RST (no ACK flag: each of those segments
# carries an ACK). Those are dropped; the client's own closing RST has ACK set and passes.
nsx "$NS_CLIENT" nft -f - <<NFT || lab_die "nftables rule in the client namespace"
table inet toa_lab {
  chain out {
    type filter hook output priority 0;
    tcp sport 20000-20099 tcp flags & (rst | ack) == rst drop
  }
}
NFT

say "rs1: sluice-toa on cgroup $CG, an unmodified Python server under LD_PRELOAD"
mkdir "$CG" || lab_die "cannot create $CG"
# nsenter, not `ip netns exec`: the latter mounts a fresh /sys for the namespace, where the
# cgroup2 mount under /sys/fs/cgroup is not to be seen. (Direct, not through a function, so
# that $! is the process itself.)
nsenter --net="/run/netns/$NS_RS1" "$TOAD" --cgroup "$CG" --socket "$TOA_SOCK" >"$LAB_RUN/toa.log" 2>&1 &
TOA_PID=$!; LAB_PIDS+=("$TOA_PID")
lab_wait 50 test -S "$TOA_SOCK" || lab_die "sluice-toa did not open $TOA_SOCK: $(cat "$LAB_RUN/toa.log")"
# The server joins the cgroup before it execs, so its sockets are born in it.
nsenter --net="/run/netns/$NS_RS1" sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
  env LD_PRELOAD="$PRELOAD" SLUICE_TOA_SOCKET="$TOA_SOCK" \
  "$LAB_PYTHON" "$HERE/toa_server.py" "$PORT6" "$PORT4" >"$LAB_RUN/server.log" 2>&1 &
SERVER_PID=$!; LAB_PIDS+=("$SERVER_PID")
lab_wait 50 grep -q listening "$LAB_RUN/server.log" ||
  lab_die "the server did not start: $(cat "$LAB_RUN/server.log")"
WHY="cgroup.procs: $(cat "$CG/cgroup.procs" | tr '\n' ' ')"
verdict "the server runs in the cgroup" grep -qx "$SERVER_PID" "$CG/cgroup.procs"

# by_hand SPORT DST DPORT [TOA args]: one hand-made connection; prints the server's answer.
by_hand() {
  local sport="$1" dst="$2"; shift 2
  local src="$C4"; [[ "$dst" == *:* ]] && src="$C6"
  nsx "$NS_CLIENT" timeout -s KILL 10 "$LAB_PYTHON" "$HERE/toa_client.py" "$src" "$sport" "$dst" "$@" 2>&1
}
# plain DST DPORT: an ordinary connection from the client's kernel; prints the answer.
plain() {
  nsx "$NS_CLIENT" timeout -s KILL 10 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"hello\n")
print(s.makefile().readline().strip(), "local=%s %d" % s.getsockname()[:2])' "$@" 2>&1
}

say "IPv4 client through a dual-stack listener: answered v4-mapped"
out="$(by_hand 20001 "$S4" "$PORT6" 203.0.113.7 4242)"; echo "$out"
verdict "accept() and getpeername() give ::ffff:203.0.113.7 4242" check_contains "answer" "$out" \
  "accept=::ffff:203.0.113.7 4242 getpeername=::ffff:203.0.113.7 4242"

say "IPv4 client through an AF_INET listener"
out="$(by_hand 20002 "$S4" "$PORT4" 203.0.113.7 4242)"; echo "$out"
verdict "accept() and getpeername() give 203.0.113.7 4242" check_contains "answer" "$out" \
  "accept=203.0.113.7 4242 getpeername=203.0.113.7 4242"

say "IPv6 client (TOA of 20 bytes)"
out="$(by_hand 20003 "$S6" "$PORT6" 2001:db8:99::7 4243)"; echo "$out"
verdict "accept() and getpeername() give 2001:db8:99::7 4243" check_contains "answer" "$out" \
  "accept=2001:db8:99::7 4243 getpeername=2001:db8:99::7 4243"

say "a malformed TOA (an IPv4 one of 20 bytes) is not believed"
out="$(by_hand 20004 "$S4" "$PORT4" 203.0.113.9 4244 20)"; echo "$out"
verdict "the server sees the real peer $C4 20004" check_contains "answer" "$out" \
  "accept=$C4 20004 getpeername=$C4 20004"

say "an ordinary connection (no TOA) keeps its real peer"
out="$(plain "$S4" "$PORT6")"; echo "$out"
port="$(sed -n 's/.*local=[^ ]* \([0-9]*\)$/\1/p' <<<"$out")"
verdict "v4 on the dual-stack listener: ::ffff:$C4 $port" check_contains "answer" "$out" \
  "accept=::ffff:$C4 $port getpeername=::ffff:$C4 $port"
out="$(plain "$S6" "$PORT6")"; echo "$out"
port="$(sed -n 's/.*local=[^ ]* \([0-9]*\)$/\1/p' <<<"$out")"
verdict "v6: $C6 $port" check_contains "answer" "$out" "accept=$C6 $port getpeername=$C6 $port"

say "garbage on sluice-toa's socket gets an error answer, and it keeps answering"
out="$(timeout -s KILL 10 "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(3)
s.connect(sys.argv[1])
s.send(b"GET / HTTP/1.0\r\n\r\n")
a = s.recv(64)
print("len=%d status=%d" % (len(a), a[4]))' "$TOA_SOCK" 2>&1)"; echo "$out"
verdict "a malformed request is answered 'bad request' (status 2)" check_contains "answer" "$out" \
  "len=24 status=2"
out="$(by_hand 20006 "$S4" "$PORT4" 203.0.113.8 4245)"; echo "$out"
verdict "the next lookup is answered: 203.0.113.8 4245" check_contains "answer" "$out" \
  "accept=203.0.113.8 4245 getpeername=203.0.113.8 4245"

say "sluice-toa stops: counters, detach, socket file removed"
kill -TERM "$TOA_PID"; wait "$TOA_PID"; rc=$?
cat "$LAB_RUN/toa.log"
WHY="exit status $rc"; verdict "sluice-toa exits 0 on SIGTERM" test "$rc" = 0
WHY="$TOA_SOCK"; verdict "its socket file is gone" test ! -e "$TOA_SOCK"
log="$(cat "$LAB_RUN/toa.log")"
verdict "it stored 4 TOAs and removed them when their sockets closed" check_contains "its log" \
  "$log" "TOA stored 4," "removed at close 4;"
verdict "it counted the malformed one and the ordinary connections" check_contains "its log" \
  "$log" "malformed 1," "absent 2,"
verdict "it found the 4 clients for 8 lookups (accept + getpeername each), 1 bad request" \
  check_contains "its log" "$log" "lookups found 8," "bad requests 1,"

say "without the daemon, the server is unharmed"
out="$(by_hand 20005 "$S4" "$PORT4" 203.0.113.7 4242)"; echo "$out"
verdict "a TOA connection now gives the real peer $C4 20005" check_contains "answer" "$out" \
  "accept=$C4 20005 getpeername=$C4 20005"
verdict "the server still runs" kill -0 "$SERVER_PID"

say "a daemon that never answers: the server is unharmed (the library waits 20 ms, no more)"
# A stand-in on the daemon's path that listens and never accepts: connect and send succeed
# (the backlog holds them), the answer never comes.
"$LAB_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(64); print("mute", flush=True); time.sleep(60)' "$TOA_SOCK" \
  >"$LAB_RUN/mute.log" 2>&1 &
MUTE_PID=$!; LAB_PIDS+=("$MUTE_PID")
lab_wait 50 grep -q mute "$LAB_RUN/mute.log" || lab_die "the mute stand-in did not start"
out="$(by_hand 20007 "$S4" "$PORT6" 203.0.113.7 4242)"; echo "$out"
verdict "the server answers with the real peer ::ffff:$C4 20007" check_contains "answer" "$out" \
  "accept=::ffff:$C4 20007 getpeername=::ffff:$C4 20007"
kill -TERM "$MUTE_PID"; wait "$MUTE_PID" 2>/dev/null; rm -f "$TOA_SOCK"

if [ "$LAB_FAILS" != 0 ]; then
  echo "-- server log:"; tail -20 "$LAB_RUN/server.log"
fi
echo "toa_lab: $LAB_PASSES passed, $LAB_FAILS failed in $((SECONDS - T0)) s"
[ "$LAB_FAILS" = 0 ]
