#!/usr/bin/env bash
# Runs every lab test (tests/lab/*_lab.sh); each one makes and removes its own namespaces.
# A lab that exits 77 (the automake convention) was skipped: it said why, and it counts as
# neither a pass nor a failure (cluster_lab.sh without bird, for one).
set -uo pipefail
BUILD="$1"
DIR="$(cd "$(dirname "$0")" && pwd)"
pass=0; fail=0; skipped=0
for t in "$DIR"/*_lab.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  echo "-- $name"
  timeout -s KILL 900 "$t" "$BUILD"; rc=$?
  if [ "$rc" = 0 ]; then pass=$((pass+1)); echo "-- $name: PASS"
  elif [ "$rc" = 77 ]; then skipped=$((skipped+1)); echo "-- $name: SKIP"
  else fail=$((fail+1)); echo "-- $name: FAIL"; fi
done
echo "lab: $pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
