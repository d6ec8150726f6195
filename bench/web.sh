#!/usr/bin/env bash
# bench/web.sh BUILD_DIR [--requests N] [--concurrency C] [--runs R]
# Web load through the director, as the LVS-DR article's users run it: ApacheBench (HTTP/1.0,
# a new connection per request) from the client against Debian's nginx on the real servers,
# on the DR lab topology as an operator builds it (lab/lib.sh: default interface settings,
# sluiced with its default --xdp-mode). Reports requests/s straight to one real server and
# through the director (one and two real servers), each as a ratio of straight in the same
# run. A benchmark, not a test: it asserts nothing but that no request failed.
set -uo pipefail
BUILD="$(cd "${1:?usage: bench/web.sh BUILD_DIR [--requests N] [--concurrency C] [--runs R]}" && pwd)"
shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lab/lib.sh"
N=20000; C=50; RUNS=3
while (($#)); do
  case "$1" in
    --requests) N="$2"; shift 2 ;;
    --concurrency) C="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "web: unknown option $1" >&2; exit 2 ;;
  esac
done
lab_require_root
lab_init "sl-$$-"
lab_trap
lab_up 2>/dev/null || lab_die "could not build the lab topology"
lab_start_nginx
lab_start_daemon "$BUILD" || lab_die "sluiced did not start"
# Two services, so nothing is deleted between runs: VIP:P with RS1 alone, VIP:P+1 with both.
# (Deleting a real server while clients reuse their ports would stall those clients until
# the deleted server's FIN_WAIT entries expire, as IPVS does without expire_nodest_conn.)
P=$LAB_NGINX_PORT; P2=$((LAB_NGINX_PORT + 1))
lab_adm -A -t "$VIP4:$P" -s rr >/dev/null && lab_adm -a -t "$VIP4:$P" -r "$RS1_4:$P" -g >/dev/null &&
  lab_adm -A -t "$VIP4:$P2" -s rr >/dev/null && lab_adm -a -t "$VIP4:$P2" -r "$RS1_4:$P2" -g >/dev/null &&
  lab_adm -a -t "$VIP4:$P2" -r "$RS2_4:$P2" -g >/dev/null || lab_die "cannot configure the services"

rate() {   # rate URL: requests/s of one ab run, or FAIL(...) when any request failed
  local out; out="$(lab_ab "$N" "$C" "$1")"
  local done failed rps
  done=$(awk '/^Complete requests:/ {print $3}' <<<"$out")
  failed=$(awk '/^Failed requests:/ {print $3}' <<<"$out")
  rps=$(awk '/^Requests per second:/ {print $4}' <<<"$out")
  if [ "${done:-0}" != "$N" ] || [ "${failed:-1}" != 0 ]; then echo "FAIL(complete=${done:-?},failed=${failed:-?})"; return 1; fi
  echo "$rps"
}
echo "web: ab -n $N -c $C, $RUNS runs; requests/s (ratio to straight in the same run)"
printf '%-5s %12s %22s %22s\n' run straight "director, 1 server" "director, 2 servers"
bad=0
for ((r = 1; r <= RUNS; r++)); do
  s=$(rate "http://$RS1_4:$P/") || bad=1
  d1=$(rate "http://$VIP4:$P/") || bad=1
  d2=$(rate "http://$VIP4:$P2/") || bad=1
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a / b; else print "-" }'; }
  printf '%-5s %12s %15s (%s) %15s (%s)\n' "$r" "$s" "$d1" "$(ratio "$d1" "$s")" "$d2" "$(ratio "$d2" "$s")"
done
grep -E "mode|warn" "$LAB_RUN/sluiced.log" | sed 's/^/web: sluiced: /'
exit "$bad"
