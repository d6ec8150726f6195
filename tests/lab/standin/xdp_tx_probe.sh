#!/usr/bin/env bash
# Checks the veth/XDP facts behind sluiced's --xdp-mode auto with a real native XDP_TX
# director (xdp_tx_probe.c, all VIP traffic to rs1), independent of sluiced. The lab keeps
# default settings, so this probe arranges what native XDP_TX on veth needs itself: tx
# checksum offload off on every sender, and a stub XDP_PASS (xdp_pass.c) on the director's
# peer. Asserts: with that stub, HTTP (v4, v6) and a 50 MiB download work through XDP_TX; without any
# NAPI on the peer, XDP_TX frames are dropped. Reports (does not assert) GRO-only behaviour.
# Needs root and clang. Not part of ./run test. Usage: xdp_tx_probe.sh
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../../../lab/lib.sh"
lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
lab_up
lab_start_servers
for e in "$NS_CLIENT eth0" "$NS_ROUTER eth0" "$NS_ROUTER eth1" "$NS_DIR eth0" "$NS_RS1 eth0" \
         "$NS_RS2 eth0" "$NS_SWITCH p-router" "$NS_SWITCH p-dir" "$NS_SWITCH p-rs1" "$NS_SWITCH p-rs2"; do
  set -- $e
  nsx "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || lab_die "ethtool tx off failed on $1/$2"
done
clang -O2 -target bpf -c "$HERE/xdp_pass.c" -o "$LAB_RUN/xdp_pass.o" || lab_die "clang failed (stub)"
ip -n "$NS_SWITCH" link set dev p-dir xdpdrv obj "$LAB_RUN/xdp_pass.o" sec xdp || lab_die "stub attach failed"
mac="$(ip -n "$NS_RS1" -j link show eth0 | "$LAB_PYTHON" -c 'import json,sys; print(",".join("0x"+b for b in json.load(sys.stdin)[0]["address"].split(":")))')"
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -DRS_MAC="$mac" \
  -c "$HERE/xdp_tx_probe.c" -o "$LAB_RUN/probe.o" || lab_die "clang failed"
ip -n "$NS_DIR" link set dev eth0 xdpdrv obj "$LAB_RUN/probe.o" sec xdp || lab_die "attach failed"
fail=0
ask12() { local r="" i; lab_fresh_scenario; for i in $(seq 12); do rm -f "$LAB_RUN/skip"; r+="$(lab_ask "$1") "; done; echo "${r% }"; }
all_ones() { [ "$1" = "$(printf '1 %.0s' $(seq 12) | sed 's/ $//')" ]; }

r4="$(ask12 "http://$VIP4/")"; r6="$(ask12 "http://[$VIP6]/")"
echo "stub XDP on p-dir: v4 [$r4]  v6 [$r6]"
all_ones "$r4" && all_ones "$r6" || { fail=1; echo "FAIL  XDP_TX through the stub-XDP peer"; }
LAB_CURL_MAX=30 lab_curl -o "$LAB_RUN/big" "http://$VIP4/big"
want="$("$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --print-sha256)"
if [ -f "$LAB_RUN/big" ] && [ "$(sha256sum "$LAB_RUN/big" | cut -d' ' -f1)" = "$want" ]; then
  echo "50 MiB via XDP_TX: intact"
else fail=1; echo "FAIL  50 MiB via XDP_TX"; fi

ip -n "$NS_SWITCH" link set dev p-dir xdpdrv off
r4="$(ask12 "http://$VIP4/")"
echo "no XDP, no GRO on p-dir: v4 [$r4] (want failures)"
grep -q ERR <<<"$r4" || { fail=1; echo "FAIL  XDP_TX without NAPI on the peer unexpectedly worked"; }
nsx "$NS_DIR" ethtool -S eth0 | grep -E 'xdp_tx_errors'

nsx "$NS_SWITCH" ethtool -K p-dir gro on >/dev/null
r4="$(ask12 "http://$VIP4/")"
echo "GRO only on p-dir (report only): v4 [$r4]"

[ "$fail" = 0 ] && echo "xdp_tx_probe: PASS" || echo "xdp_tx_probe: FAIL"
exit "$fail"
