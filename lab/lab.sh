#!/usr/bin/env bash
# Interactive DR lab (`./run lab`). Usage: lab/lab.sh BUILD_DIR [shell|up|down|status]
#   shell (default)  build the lab, start the web servers and sluiced with a sample rr
#                    service, open a shell in the client namespace; tear down on exit.
#   up               the same, but leave it running and return (state in lab/run/).
#   down             stop what `up` started and remove its namespaces.
#   status           show what `up` left running.
# Inside the lab: `lab-adm -Ln` runs sluiceadm in the director; `lab-ns dir ip a` runs any
# command in a namespace (client, router, switch, dir, rs1, rs2). One `up` lab per checkout.
set -uo pipefail

BUILD="$(cd "${1:?usage: lab.sh BUILD_DIR [shell|up|down|status]}" && pwd)"
MODE="${2:-shell}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
STATE_DIR="$LAB_ROOT/lab/run"      # git-ignored
STATE="$STATE_DIR/state"

lab_require_root

write_helpers() {   # small commands usable from the lab shell
  mkdir -p "$LAB_RUN/bin"
  cat >"$LAB_RUN/bin/lab-adm" <<EOF
#!/bin/sh
exec ip netns exec "$NS_DIR" "$BUILD/bin/sluiceadm" --socket "$LAB_SOCK" "\$@"
EOF
  cat >"$LAB_RUN/bin/lab-ns" <<EOF
#!/bin/sh
# lab-ns ROLE CMD...: ROLE is client, router, switch, dir, rs1 or rs2
role="\$1"; shift
exec ip netns exec "${LAB_PREFIX}\$role" "\$@"
EOF
  chmod +x "$LAB_RUN/bin/lab-adm" "$LAB_RUN/bin/lab-ns"
}

bring_up() {
  lab_up
  lab_start_servers
  lab_start_daemon "$BUILD" || lab_die "sluiced did not start (log above)"
  lab_adm -A -t "$VIP4:80" -s rr
  lab_adm -a -t "$VIP4:80" -r "$RS1_4:80" -g -w 1
  lab_adm -a -t "$VIP4:80" -r "$RS2_4:80" -g -w 1
  lab_adm -A -t "[$VIP6]:80" -s rr
  lab_adm -a -t "[$VIP6]:80" -r "[$RS1_6]:80" -g -w 1
  lab_adm -a -t "[$VIP6]:80" -r "[$RS2_6]:80" -g -w 1
  write_helpers
}

banner() {
  cat <<EOF
Sluice DR lab (namespaces ${LAB_PREFIX}*)
  VIP $VIP4 / [$VIP6] port 80, rr over rs1 $RS1_4 and rs2 $RS2_4
  try:   curl http://$VIP4/        curl -g 'http://[$VIP6]/'
         lab-adm -Ln --stats       lab-adm -e -t $VIP4:80 -r $RS1_4:80 -g -w 0
         lab-ns dir ip -d link show eth0
  sluiced log: $LAB_RUN/sluiced.log
EOF
}

case "$MODE" in
  shell)
    lab_init "${LAB_PREFIX:-sl-$$-}"
    lab_trap
    bring_up
    banner
    PATH="$LAB_RUN/bin:$PATH" PS1="[sluice-lab client] \w# " \
      ip netns exec "$NS_CLIENT" bash --norc -i
    echo "leaving the lab: tearing it down"
    ;;
  up)
    [ -f "$STATE" ] && lab_die "a lab is already up (see $STATE); run 'lab.sh $1 down' first"
    mkdir -p "$STATE_DIR"
    lab_init "sl-lab-" "$STATE_DIR/$$"
    lab_trap
    bring_up
    { echo "LAB_PREFIX=$LAB_PREFIX"; echo "LAB_RUN=$LAB_RUN"; echo "LAB_DAEMON_PID=$LAB_DAEMON_PID"; } >"$STATE"
    trap - EXIT INT TERM HUP      # hand the lab over: `down` removes it
    banner
    echo "  helpers: PATH=$LAB_RUN/bin:\$PATH     enter: ip netns exec ${LAB_PREFIX}client bash"
    echo "  remove:  ./run lab down   (or lab/lab.sh BUILD_DIR down)"
    ;;
  down)
    saved_run=""
    if [ -f "$STATE" ]; then
      # shellcheck disable=SC1090
      saved_run="$(. "$STATE"; echo "$LAB_RUN")"
    fi
    # Also works with no state file: removes what a crashed `up` may have left.
    lab_init "sl-lab-" "${saved_run:-$(mktemp -d)}"
    for ns in "${LAB_ALL_NS[@]}"; do
      ip netns list | grep -qw -- "$ns" && LAB_NAMESPACES+=("$ns")
    done
    lab_cleanup      # TERMs every process inside the namespaces, then deletes them
    rm -f "$STATE"
    echo "lab down"
    ;;
  status)
    [ -f "$STATE" ] || { echo "no lab up"; exit 0; }
    cat "$STATE"; ip netns list | grep -- '^sl-lab-' || true
    ;;
  *) lab_die "unknown mode '$MODE' (shell, up, down, status)" ;;
esac
