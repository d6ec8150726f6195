#!/usr/bin/env bash
# Runs every lab test (tests/lab/*_lab.sh); each one makes and removes its own namespaces.
set -uo pipefail
BUILD="$1"
DIR="$(cd "$(dirname "$0")" && pwd)"
pass=0; fail=0
for t in "$DIR"/*_lab.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  echo "-- $name"
  if timeout -s KILL 900 "$t" "$BUILD"; then pass=$((pass+1)); echo "-- $name: PASS"
  else fail=$((fail+1)); echo "-- $name: FAIL"; fi
done
echo "lab: $pass passed, $fail failed"
[ "$fail" = 0 ]
