#!/usr/bin/env bash
# The cluster lab (cluster_lab.sh) with FRR instead of BIRD on the router and the directors,
# and the held connections over IPv6: steady state, a director SIGKILLed (0 broken), and its
# restart (0 broken; left out with SLUICE_LAB_QUICK, as ./run asan sets it).
# Usage: cluster_frr_lab.sh BUILD_DIR.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
default="a b c"
[ -n "${SLUICE_LAB_QUICK:-}" ] && default="a b"
CLUSTER_LAB_ROUTING=frr CLUSTER_LAB_FAMILY=6 CLUSTER_LAB_SCENARIOS="${CLUSTER_LAB_SCENARIOS:-$default}" \
  exec "$HERE/cluster_lab.sh" "$@"
