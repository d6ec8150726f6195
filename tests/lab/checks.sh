# tests/lab/checks.sh — verdicts over sequences of answers, e.g. "1 2 1 2 ERR".
# Pure functions (no namespaces, no network) so tests/lab/checks_selftest.sh can prove each
# one fails on the sequences it must reject. Each check_* returns 0/1 and sets WHY to a short
# explanation a person can act on; `verdict` prints PASS/FAIL and keeps the score.
# shellcheck shell=bash

LAB_PASSES=0
LAB_FAILS=0
WHY=""

# verdict NAME CHECK_FUNCTION ARGS...: runs the check, prints PASS/FAIL with what it saw.
# The check_* functions set WHY themselves; for a plain command (true, false, test) set WHY
# before calling verdict. WHY is cleared afterwards so nothing leaks into the next verdict.
verdict() {
  local name="$1"; shift
  if "$@"; then
    LAB_PASSES=$((LAB_PASSES + 1)); echo "PASS  $name${WHY:+ — $WHY}"
  else
    LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  $name — ${WHY:-no detail}"
  fi
  WHY=""
}

seq_count() {   # seq_count VALUE "SEQ"
  local n=0 x
  for x in $2; do [ "$x" = "$1" ] && n=$((n + 1)); done
  echo "$n"
}

seq_len() { local -a a; read -r -a a <<<"$1"; echo "${#a[@]}"; }

# All answers came from a real server (no ERR, nothing else); N of them.
check_valid() {
  local seq="$1" n="$2" x
  if [ "$(seq_len "$seq")" != "$n" ]; then WHY="expected $n answers, saw $(seq_len "$seq"): $seq"; return 1; fi
  for x in $seq; do
    case "$x" in 1|2) ;; *) WHY="a request failed or got a foreign answer ('$x') in: $seq"; return 1 ;; esac
  done
  WHY="saw: $seq"
}

# Round robin over two servers: never the same server twice in a row, so both get n/2.
check_alternates() {
  local seq="$1" n="$2" x prev="" i=0
  check_valid "$seq" "$n" || return 1
  for x in $seq; do
    i=$((i + 1))
    if [ "$x" = "$prev" ]; then WHY="RS $x answered twice in a row (requests $((i - 1)) and $i): $seq"; return 1; fi
    prev="$x"
  done
  WHY="saw: $seq"
}

# Exact split: check_counts SEQ N COUNT_RS1 COUNT_RS2
check_counts() {
  local seq="$1" n="$2" want1="$3" want2="$4" c1 c2
  check_valid "$seq" "$n" || return 1
  c1="$(seq_count 1 "$seq")"; c2="$(seq_count 2 "$seq")"
  if [ "$c1" != "$want1" ] || [ "$c2" != "$want2" ]; then
    WHY="wanted RS1=$want1 RS2=$want2, saw RS1=$c1 RS2=$c2: $seq"; return 1
  fi
  WHY="RS1=$c1 RS2=$c2"
}

# Every answer from the same server.
check_all_same() {
  local seq="$1" n="$2" first
  check_valid "$seq" "$n" || return 1
  first="${seq%% *}"
  if [ "$(seq_count "$first" "$seq")" != "$n" ]; then WHY="answers moved between servers: $seq"; return 1; fi
  WHY="all $n from RS $first"
}

# Every answer from server V.
check_all_are() {
  local seq="$1" n="$2" v="$3"
  check_valid "$seq" "$n" || return 1
  if [ "$(seq_count "$v" "$seq")" != "$n" ]; then WHY="wanted only RS $v, saw: $seq"; return 1; fi
  WHY="all $n from RS $v"
}

# Per-source stickiness and spread: check_sticky_spread "ADDR=SEQ;ADDR=SEQ;..." PER_ADDR
# Each address must always land on one server, and (with two equal servers and many
# addresses) both servers must be used, or source hashing is not hashing.
check_sticky_spread() {
  local groups="$1" per="$2" g addr seq used1=0 used2=0 first nad=0
  local IFS=';'
  for g in $groups; do
    addr="${g%%=*}"; seq="${g#*=}"
    IFS=' '
    nad=$((nad + 1))
    if ! check_all_same "$seq" "$per"; then WHY="source $addr: $WHY"; return 1; fi
    first="${seq%% *}"
    [ "$first" = 1 ] && used1=$((used1 + 1))
    [ "$first" = 2 ] && used2=$((used2 + 1))
    IFS=';'
  done
  if [ "$used1" = 0 ] || [ "$used2" = 0 ]; then
    WHY="all $nad sources hashed to one server (RS1=$used1 sources, RS2=$used2)"; return 1
  fi
  WHY="$nad sources each sticky; RS1 got $used1 sources, RS2 got $used2"
}

# The download arrived whole: check_download FILE EXPECTED_BYTES EXPECTED_SHA256
check_download() {
  local file="$1" bytes="$2" sha="$3" got_bytes got_sha
  if [ ! -f "$file" ]; then WHY="nothing downloaded"; return 1; fi
  got_bytes="$(stat -c %s "$file")"
  got_sha="$(sha256sum "$file" | cut -d' ' -f1)"
  if [ "$got_bytes" != "$bytes" ]; then WHY="size $got_bytes, wanted $bytes"; return 1; fi
  if [ "$got_sha" != "$sha" ]; then WHY="sha256 $got_sha, wanted $sha"; return 1; fi
  WHY="$got_bytes bytes, sha256 ${got_sha:0:16}… matches"
}

# A grep over a listing: check_contains NAME_OF_THING TEXT PATTERN...
check_contains() {
  local what="$1" text="$2" p
  shift 2
  for p in "$@"; do
    if ! grep -qF -- "$p" <<<"$text"; then WHY="$what lacks '$p'"; return 1; fi
  done
  WHY="$what shows $*"
}

# First numeric column after the line that starts with PROTO VIP in `-Ln --stats` output.
stats_conns() {   # stats_conns TEXT "TCP  10.0.2.100:80"
  awk -v key="$2" 'index($0, key) == 1 { print $3; exit }' <<<"$1" | tr -d 'K'
}

stats_inpkts() {   # stats_inpkts TEXT "TCP  10.0.2.100:80"
  awk -v key="$2" 'index($0, key) == 1 { print $4; exit }' <<<"$1" | tr -d 'K'
}

check_at_least() {   # check_at_least WHAT VALUE MIN
  if ! [[ "$2" =~ ^[0-9]+$ ]]; then WHY="$1: no number found"; return 1; fi
  if [ "$2" -lt "$3" ]; then WHY="$1 is $2, wanted at least $3"; return 1; fi
  WHY="$1 is $2"
}

# One number from `sluiceadm --counters` (columns: name slow fast total [drop]):
# counter_value TEXT NAME slow|fast|total. Prints nothing when the row is missing.
counter_value() {
  local col
  case "$3" in slow) col=2 ;; fast) col=3 ;; total) col=4 ;; *) return 1 ;; esac
  awk -v n="$2" -v c="$col" '$1 == n && $c ~ /^[0-9]+$/ { print $c; exit }' <<<"$1"
}

# How much a counter grew between two `--counters` tables: counter_delta BEFORE AFTER NAME COL.
counter_delta() {
  local a b
  a="$(counter_value "$1" "$3" "$4")"; b="$(counter_value "$2" "$3" "$4")"
  [ -n "$a" ] && [ -n "$b" ] && echo $((b - a))
}

# Established flows stay in the kernel: the fast path sent at least MIN packets and more
# than RATIO times what the slow path sent. check_fast_path WHAT SLOW FAST MIN RATIO
check_fast_path() {
  local what="$1" slow="$2" fast="$3" min="$4" ratio="$5"
  if ! [[ "$slow" =~ ^[0-9]+$ && "$fast" =~ ^[0-9]+$ ]]; then
    WHY="$what: no counters found (slow '$slow', fast '$fast')"; return 1
  fi
  if [ "$fast" -lt "$min" ]; then WHY="$what: fast path $fast, slow path $slow; wanted at least $min in the fast path"; return 1; fi
  if [ "$fast" -le $((ratio * slow)) ]; then
    WHY="$what: fast path $fast is not more than $ratio x the slow path's $slow"; return 1
  fi
  WHY="$what: fast path $fast, slow path $slow"
}

# Everything went through the daemon: the slow path sent at least MIN, the fast path none.
# check_slow_path_only WHAT SLOW FAST MIN
check_slow_path_only() {
  local what="$1" slow="$2" fast="$3" min="$4"
  if ! [[ "$slow" =~ ^[0-9]+$ && "$fast" =~ ^[0-9]+$ ]]; then
    WHY="$what: no counters found (slow '$slow', fast '$fast')"; return 1
  fi
  if [ "$fast" != 0 ]; then WHY="$what: the fast path sent $fast (slow path $slow); wanted 0"; return 1; fi
  if [ "$slow" -lt "$min" ]; then WHY="$what: slow path $slow, wanted at least $min"; return 1; fi
  WHY="$what: slow path $slow, fast path 0"
}
