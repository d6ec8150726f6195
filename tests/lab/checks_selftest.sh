#!/usr/bin/env bash
# Self-test of tests/lab/checks.sh: each verdict must accept the sequences a correct director
# produces and reject the ones a broken director produces. No root, no namespaces; runs in
# well under a second. Not a *_lab.sh, so run_all.sh does not pick it up: run it by hand
# after editing checks.sh.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

bad=0
expect() {   # expect pass|fail CHECK ARGS...
  local want="$1"; shift
  WHY=""
  if "$@"; then got=pass; else got=fail; fi
  if [ "$got" = "$want" ]; then echo "ok    $want: $* ($WHY)"
  else echo "WRONG wanted $want, got $got: $* ($WHY)"; bad=1; fi
}

expect pass check_alternates "1 2 1 2 1 2 1 2 1 2" 10
expect pass check_alternates "2 1 2 1 2 1 2 1 2 1" 10
expect fail check_alternates "1 1 2 2 1 1 2 2 1 2" 10
expect fail check_alternates "1 2 1 2 1 2 1 2 1" 10        # one request lost
expect fail check_alternates "1 2 1 2 ERR 2 1 2 1 2" 10
expect fail check_alternates "1 1 1 1 1 1 1 1 1 1" 10

w=""; for i in $(seq 10); do w+="1 1 1 2 "; done
expect pass check_counts "${w% }" 40 30 10
expect fail check_counts "${w% }" 40 10 30
expect fail check_counts "1 2 1 2" 40 30 10

expect pass check_all_same "2 2 2 2" 4
expect fail check_all_same "2 2 1 2" 4
expect fail check_all_same "ERR ERR ERR ERR" 4
expect pass check_all_are "2 2 2" 3 2
expect fail check_all_are "2 1 2" 3 2
expect fail check_all_are "1 1 1" 3 2

expect pass check_sticky_spread "a=1 1 1;b=2 2 2;c=1 1 1" 3
expect fail check_sticky_spread "a=1 1 1;b=1 1 1;c=1 1 1" 3     # no spread
expect fail check_sticky_spread "a=1 1 1;b=2 1 2;c=1 1 1" 3     # b not sticky

tmp="$(mktemp)"; trap 'rm -f "$tmp"' EXIT
printf 'hello' >"$tmp"
sha="$(sha256sum "$tmp" | cut -d' ' -f1)"
expect pass check_download "$tmp" 5 "$sha"
expect fail check_download "$tmp" 6 "$sha"
expect fail check_download "$tmp" 5 "0000$sha"
expect fail check_download "$tmp.missing" 5 "$sha"

stats='TCP  10.0.2.100:80                      12       50        0     3000        0
  -> 10.0.2.11:80                          6       25        0     1500        0'
expect pass check_at_least "conns" "$(stats_conns "$stats" "TCP  10.0.2.100:80")" 10
expect fail check_at_least "conns" "$(stats_conns "$stats" "TCP  10.0.2.100:80")" 13
expect fail check_at_least "conns" "$(stats_conns "$stats" "TCP  [2001:db8:2::100]:80")" 1
expect pass check_contains "-Ln" "$stats" "10.0.2.100:80" "10.0.2.11:80"
expect fail check_contains "-Ln" "$stats" "10.0.2.12:80"

before='Counter                        Slow           Fast          Total
rx_packets                        5             10             15
tx_packets                        4              8             12
no_real_server                    0              0              0  drop'
after='Counter                        Slow           Fast          Total
rx_packets                        7           2010           2017
tx_packets                        6           1908           1914
no_real_server                    1              0              1  drop'
expect pass test "$(counter_value "$after" tx_packets fast)" = 1908
expect pass test "$(counter_value "$after" no_real_server total)" = 1
expect pass test -z "$(counter_value "$after" tx_failed slow)"
expect pass test -z "$(counter_value "$after" Counter slow)"          # the title is no row
expect pass test "$(counter_delta "$before" "$after" tx_packets fast)" = 1900
expect pass test -z "$(counter_delta "$before" "" tx_packets fast)"
expect pass check_fast_path "download" 2 1900 200 10
expect fail check_fast_path "download" 200 1900 200 10              # fast path only half-working
expect fail check_fast_path "download" 0 100 200 10                 # too little traffic seen
expect fail check_fast_path "download" "" 1900 200 10
expect pass check_slow_path_only "rr" 40 0 30
expect fail check_slow_path_only "rr" 40 3 30
expect fail check_slow_path_only "rr" 12 0 30
expect fail check_slow_path_only "rr" "" 0 30

[ "$bad" = 0 ] && echo "checks_selftest: all as expected" || echo "checks_selftest: MISMATCH"
exit "$bad"
