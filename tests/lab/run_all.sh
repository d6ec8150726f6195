#!/usr/bin/env bash
# Runs every lab test (tests/lab/*_lab.sh); each one makes and removes its own namespaces.
# A lab that exits 77 (the automake convention) was skipped: it said why, and it counts as
# neither a pass nor a failure (cluster_lab.sh without bird, for one).
set -uo pipefail
BUILD="$1"
DIR="$(cd "$(dirname "$0")" && pwd)"
pass=0; fail=0; skipped=0; failed=()
LOGS=$(mktemp -d /tmp/sluice-labs.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
for t in "$DIR"/*_lab.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  echo "-- $name"
  # Into a file, shown as it grows; no pipe, which a process the lab failed to stop would
  # hold open and so stall the run.
  timeout -s KILL 900 "$t" "$BUILD" > "$LOGS/$name.log" 2>&1 & lab_pid=$!
  tail -n +1 -f --pid="$lab_pid" "$LOGS/$name.log"
  wait "$lab_pid"; rc=$?
  if [ "$rc" = 0 ]; then pass=$((pass+1)); echo "-- $name: PASS"
  elif [ "$rc" = 77 ]; then skipped=$((skipped+1)); echo "-- $name: SKIP"
  else fail=$((fail+1)); failed+=("$name"); echo "-- $name: FAIL (exit $rc)"; fi
done
# A failing lab's own lines can scroll far above the end of a long run; repeat them last,
# where a log that keeps only its tail still shows them.
for name in "${failed[@]}"; do
  echo "== $name failed; its FAIL lines and its last 30 lines:"
  grep -E '^(FAIL|ERROR)' "$LOGS/$name.log" | head -20
  echo "-- last lines:"
  tail -n 30 "$LOGS/$name.log"
done
echo "lab: $pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
