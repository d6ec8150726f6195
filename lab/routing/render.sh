# lab/routing/render.sh — fills the routing daemons' config templates (*.conf.in in bird/ and
# frr/ beside this file). Sourced by tests/lab/vip_lab.sh; an operator can source it too:
#
#   . lab/routing/render.sh
#   routing_render bird/director.conf.in /etc/bird/bird.conf ROUTER_ID=10.10.1.2 UPLINK=eth0 \
#     VIP_DEV=sluice-vip VIP_NET4=10.20.0.0/16 VIP_NET6=2001:db8:20::/48 BFD=no
#
# Placeholders are @NAME@. Values may span lines (the FRR interface stanzas do). Every
# placeholder must get a value: a template left with an @NAME@ in it is refused, so a typo
# never reaches a daemon as a literal. Trade-off: bash substitution over envsubst or a
# template engine — no dependency and no surprise with the `$` that BIRD filters use.
# shellcheck shell=bash

ROUTING_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# routing_render TEMPLATE OUT KEY=VALUE...: TEMPLATE is relative to lab/routing/ or absolute.
routing_render() {
  local in="$1" out="$2"; shift 2
  [ "${in#/}" != "$in" ] || in="$ROUTING_DIR/$in"
  [ -f "$in" ] || { echo "routing_render: no template $in" >&2; return 1; }
  local text kv key
  text="$(cat "$in")"
  for kv in "$@"; do
    key="${kv%%=*}"
    [[ "$key" =~ ^[A-Z0-9_]+$ ]] || { echo "routing_render: bad key '$key'" >&2; return 1; }
    text="${text//@"$key"@/"${kv#*=}"}"
  done
  if [[ "$text" =~ @([A-Z0-9_]+)@ ]]; then
    echo "routing_render: $in: no value for @${BASH_REMATCH[1]}@" >&2
    return 1
  fi
  printf '%s\n' "$text" >"$out"
}

# frr_ospf_iface NAME BFD(yes|no) [v6]: an FRR interface stanza with the timers that were
# measured to work (hello 1, dead 4, point-to-point), for ospfd or (with v6) ospf6d.
frr_ospf_iface() {
  local name="$1" bfd="$2" v6="${3:-}"
  if [ "$v6" = v6 ]; then
    printf 'interface %s\n ipv6 ospf6 area 0.0.0.0\n ipv6 ospf6 network point-to-point\n' "$name"
    printf ' ipv6 ospf6 hello-interval 1\n ipv6 ospf6 dead-interval 4\n'
    [ "$bfd" = yes ] && printf ' ipv6 ospf6 bfd\n ipv6 ospf6 bfd profile fast\n'
  else
    printf 'interface %s\n ip ospf network point-to-point\n' "$name"
    printf ' ip ospf hello-interval 1\n ip ospf dead-interval 4\n'
    [ "$bfd" = yes ] && printf ' ip ospf bfd\n ip ospf bfd profile fast\n'
  fi
  printf '!'
}

# The sysctls a router needs for ECMP that spreads flows (not just source addresses): layer-4
# hashing for both families. A new namespace starts with the kernel defaults (policy 0 = L3).
routing_router_sysctls() {
  local ns="$1"
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 >/dev/null
}

# routing_frr_dir NS: the directory of NS's FRR daemons under $LAB_RUN (owned by frr, which
# the daemons run as). Prints its path.
routing_frr_dir() {
  local dir="$LAB_RUN/frr-$1"
  mkdir -p "$dir"; chown frr:frr "$dir"; chmod 755 "$LAB_RUN"
  echo "$dir"
}

# routing_frr_daemon NS DAEMON: runs /usr/lib/frr/DAEMON in NS with the config, pid file,
# zebra socket and vty sockets in NS's directory (nothing shared with a system FRR); its PID
# is appended to LAB_PIDS and left in ROUTING_FRR_PID.
routing_frr_daemon() {
  local ns="$1" d="$2" dir="$LAB_RUN/frr-$1"
  local -a extra=()
  [ "$d" = bfdd ] && extra=(--bfdctl "$dir/bfdd.sock")   # not the shared /var/run/frr one
  ip netns exec "$ns" /usr/lib/frr/"$d" -u frr -g frr -P 0 -f "$dir/$d.conf" -i "$dir/$d.pid" \
    -z "$dir/zserv.api" --vty_socket "$dir" "${extra[@]}" >>"$dir/$d.out" 2>&1 &
  ROUTING_FRR_PID=$!
  LAB_PIDS+=("$ROUTING_FRR_PID")
}
