#!/usr/bin/env bash
# The cluster lab (cluster_lab.sh) with BFD on every OSPF adjacency (BIRD), measuring how long
# the flows of a director that dies silently stall (scenario (h)); cluster_lab.sh measures
# the same without BFD. Usage: cluster_bfd_lab.sh BUILD_DIR.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -n "${SLUICE_LAB_QUICK:-}" ]; then
  echo "SKIP cluster_bfd_lab: a measurement, run by ./run test (SLUICE_LAB_QUICK is set)"
  exit 77
fi
CLUSTER_LAB_BFD=yes CLUSTER_LAB_SCENARIOS="${CLUSTER_LAB_SCENARIOS:-h}" exec "$HERE/cluster_lab.sh" "$@"
