#!/usr/bin/env bash
# Health-check lab test: sluiced configured from a keepalived.conf and then from an
# ldirectord.cf, on the DR lab (one director, two real servers with real web servers), the
# way an operator runs keepalived or ldirectord. A real server whose web server is stopped
# leaves the rotation within the configured time and comes back by itself; inhibit_on_failure
# keeps an established download; a sorry server takes over when quorum is lost and hands
# back; ldirectord's negotiate check fails on a page without its `receive` string and its
# fallback takes over; ten reloads (SIGHUP and sluiceadm --reload) during a download leave it
# intact, and a broken file is refused with the running configuration kept; /metrics passes
# promtool and agrees with sluiceadm -Ln --stats. Usage: health_lab.sh BUILD_DIR.
set -uo pipefail

BUILD="$(cd "${1:?usage: health_lab.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lab/lib.sh
. "$HERE/../../lab/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

lab_require_root
lab_init "${LAB_PREFIX:-sl-$$-}"
lab_trap
T0=$SECONDS

URL="http://$VIP4/"
NG="$LAB_NGINX_PORT"          # nginx on 8080 and 8081 in both real servers
EXPECTED_SHA="$("$LAB_PYTHON" "$LAB_ROOT/lab/http_server.py" --print-sha256)" || lab_die "cannot compute /big's digest"
METRICS="$DIR4:9101"

say() { echo "== $*"; lab_fresh_scenario; }
health() { lab_adm --health 2>&1; }
# rs_state N: UP / DOWN / DOWN/0 for real server N of the port-80 service, from --health.
rs_state() {
  local addr; if [ "$1" = 1 ]; then addr="$RS1_4"; else addr="$RS2_4"; fi
  health | awk -v s="$VIP4:${2:-80}" -v r="$addr:${2:-80}" '$1 == "TCP" && $2 == s && $3 == r {print $4; exit}'
}
state_is() { [ "$(rs_state "$1" "${3:-80}")" = "$2" ]; }

say "topology, web servers"
lab_up
lab_start_rs 1
lab_start_rs 2
lab_start_nginx
for rs in 1 2; do echo "healthy RS $rs" >"$LAB_RUN/www-rs$rs/ok.html"; done

# ---------------------------------------------------------------- keepalived.conf
KCONF="$LAB_RUN/keepalived.conf"
write_kconf() {   # write_kconf RS2_WEIGHT: the file the daemon reads (reloads change the weight)
  cat >"$KCONF" <<EOF
! Configuration File for keepalived, as an LVS operator keeps it
global_defs {
   router_id LVS_LAB
   lvs_timeouts tcp 900 tcpfin 120 udp 300
}

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        $VIP4
    }
}

# keepalived 1.x spellings (lb_algo, lb_kind, nb_get_retry) on purpose.
virtual_server $VIP4 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP

    real_server $RS1_4 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 1
            nb_get_retry 1
            delay_before_retry 1
        }
    }
    real_server $RS2_4 80 {
        weight $1
        inhibit_on_failure
        HTTP_GET {
            url {
                path /www/ok.html
                status_code 200
            }
            connect_port $NG
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}

virtual_server $VIP4 $((NG + 1)) {
    delay_loop 1
    lvs_sched rr
    lvs_method DR
    protocol TCP
    quorum 1
    sorry_server $RS2_4 $((NG + 1))
    real_server $RS1_4 $((NG + 1)) {
        HTTP_GET {
            url {
                path /www/ok.html
                status_code 200
            }
            connect_timeout 1
            retry 0
        }
    }
}
EOF
}
write_kconf 1

say "keepalived.conf: checked, then loaded"
out="$("$BUILD/bin/sluiced" --check -f "$KCONF" 2>&1)"; rc=$?
WHY="exit $rc: $out"; verdict "sluiced --check accepts the keepalived.conf (1.x spellings, a VRRP block)" test "$rc" = 0
bad="$LAB_RUN/bad.conf"
printf 'virtual_server %s 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    bogus_keyword 1\n    real_server %s 80 {\n        weight 70000\n    }\n}\n' "$VIP4" "$RS1_4" >"$bad"
out="$("$BUILD/bin/sluiced" --check -f "$bad" 2>&1)"; rc=$?
verdict "--check refuses a bad file, naming each line" check_contains "sluiced --check" "rc=$rc $out" "$bad:5:" "$bad:7:"
[ "$rc" != 0 ] || { LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  --check exits non-zero on errors"; }

if ! lab_start_daemon "$BUILD" -f "$KCONF" --metrics "$METRICS"; then
  echo "FAIL  sluiced starts from the keepalived.conf"; exit 1
fi
verdict "the VRRP block is named in the log as skipped" check_contains "sluiced's log" "$(lab_daemon_log)" "vrrp_instance VI_1"
lab_wait 100 state_is 1 UP
verdict "both real servers in rotation (rr)" check_alternates "$(lab_ask_n 6 "$URL")" 6
verdict "-Ln lists the file's services" check_contains "sluiceadm -Ln" "$(lab_adm -Ln)" \
  "TCP  $VIP4:80 rr" "$RS1_4:80" "$RS2_4:80" "TCP  $VIP4:$((NG + 1)) rr"

say "a real server whose web server stops leaves the rotation, and comes back"
lab_stop_rs 1
t=$SECONDS
if lab_wait 100 state_is 1 DOWN; then
  WHY="after $((SECONDS - t)) s (delay_loop 1, connect_timeout 1, retry 1)"; verdict "RS1 marked down" true
else
  WHY="$(health)"; verdict "RS1 marked down within 10 s" false
fi
verdict "RS1 is out of the table" check_all_are "$(lab_ask_n 6 "$URL")" 6 2
verdict "the transition is logged with its reason" check_contains "sluiced's log" "$(lab_daemon_log)" \
  "Removing service [$RS1_4]:tcp:80 from VS [$VIP4]:tcp:80"
lab_start_rs 1
if lab_wait 100 state_is 1 UP; then verdict "RS1 comes back by itself" true
else WHY="$(health)"; verdict "RS1 comes back by itself" false; fi
verdict "both in rotation again" check_alternates "$(lab_ask_n 6 "$URL")" 6

say "inhibit_on_failure keeps an established download"
lab_stop_rs 1
lab_wait 100 state_is 1 DOWN
slow_body="$LAB_RUN/slow.body"
nsx "$NS_CLIENT" timeout -s KILL 60 curl -sS -g --noproxy '*' --connect-timeout 4 --max-time 50 --limit-rate 10M \
  -o "$slow_body" "http://$VIP4/big" 2>"$LAB_RUN/slow.err" &
slow_pid=$!; LAB_PIDS+=("$slow_pid")
sleep 1
rm -f "$LAB_RUN/www-rs2/ok.html"            # RS2's checker now gets a 404
lab_wait 100 state_is 2 DOWN/0
verdict "RS2 is kept at weight 0 (inhibit_on_failure)" check_contains "sluiceadm --health" "$(health)" "DOWN/0"
for ((i = 0; i < 600; i++)); do kill -0 "$slow_pid" 2>/dev/null || break; sleep 0.1; done
wait "$slow_pid" 2>/dev/null
verdict "the download on the inhibited server completed intact" check_download "$slow_body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
rm -f "$slow_body"
echo "healthy RS 2" >"$LAB_RUN/www-rs2/ok.html"
lab_start_rs 1
lab_wait 100 state_is 2 UP; lab_wait 100 state_is 1 UP
verdict "both back after the failures end" check_alternates "$(lab_ask_n 6 "$URL")" 6

say "quorum lost: the sorry server takes over, and hands back"
URL81="http://$VIP4:$((NG + 1))/"
verdict "RS1 serves port $((NG + 1))" check_all_are "$(lab_ask_n 4 "$URL81")" 4 1
mv "$LAB_RUN/www-rs1/ok.html" "$LAB_RUN/www-rs1/gone.html"
lab_wait 100 state_is 1 DOWN $((NG + 1))
verdict "the sorry server (RS2) answers while quorum is lost" check_all_are "$(lab_ask_n 4 "$URL81")" 4 2
verdict "quorum loss is logged" check_contains "sluiced's log" "$(lab_daemon_log)" "Lost quorum" "Adding sorry server"
mv "$LAB_RUN/www-rs1/gone.html" "$LAB_RUN/www-rs1/ok.html"
lab_wait 100 state_is 1 UP $((NG + 1))
verdict "RS1 takes back over when quorum returns" check_all_are "$(lab_ask_n 4 "$URL81")" 4 1

say "metrics"
m="$(nsx "$NS_DIR" timeout -s KILL 10 curl -sS --noproxy '*' "http://$METRICS/metrics")"
verdict "/metrics has node_exporter's IPVS names" check_contains "/metrics" "$m" \
  "node_ipvs_connections_total" "node_ipvs_backend_connections_active{" "node_ipvs_backend_weight{" \
  "sluice_real_server_up{"
if command -v promtool >/dev/null; then
  out="$(promtool check metrics <<<"$m" 2>&1)"; rc=$?
  WHY="$out"; verdict "promtool check metrics passes on the live /metrics" test "$rc" = 0
else
  LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL  promtool not installed (./run deps installs Debian's prometheus)"
fi
# The service's connection count, from both views, at one moment without traffic.
stats="$(lab_adm -Ln --stats --exact)"
conns_adm="$(stats_conns "$stats" "TCP  $VIP4:80")"
m="$(nsx "$NS_DIR" timeout -s KILL 10 curl -sS --noproxy '*' "http://$METRICS/metrics")"
conns_m="$(awk -v v="vip=\"$VIP4\"" -v p='vport="80"' '/^sluice_service_connections_total\{/ && index($0, v) && index($0, p) {print $NF; exit}' <<<"$m")"
WHY="sluiceadm $conns_adm, /metrics $conns_m"
verdict "/metrics agrees with sluiceadm -Ln --stats (connections of $VIP4:80)" test -n "$conns_m" -a "$conns_adm" = "$conns_m"

say "ten reloads during a download; a broken file is refused"
dl_body="$LAB_RUN/reload.body"
nsx "$NS_CLIENT" timeout -s KILL 60 curl -sS -g --noproxy '*' --connect-timeout 4 --max-time 50 --limit-rate 10M \
  -o "$dl_body" "http://$VIP4/big" 2>"$LAB_RUN/reload.err" &
dl_pid=$!; LAB_PIDS+=("$dl_pid")
sleep 0.5
reload_fail=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  write_kconf $(( (i % 3) + 1 ))
  if ((i % 2)); then kill -HUP "$LAB_DAEMON_PID"
  else lab_adm --reload >/dev/null 2>&1 || reload_fail=$((reload_fail + 1)); fi
  sleep 0.3
done
WHY="$reload_fail failed"; verdict "sluiceadm --reload succeeds (5 of the 10 reloads)" test "$reload_fail" = 0
verdict "the last reload's weight is in place" check_contains "sluiceadm -Ln" "$(lab_adm -Ln)" "$RS2_4:80 "
w2="$(lab_adm -Ln | awk -v r="$RS2_4:80" '$2 == r {print $4; exit}')"
WHY="RS2 weight $w2"; verdict "RS2's weight follows the file (2 after the tenth reload)" test "$w2" = 2
for ((i = 0; i < 600; i++)); do kill -0 "$dl_pid" 2>/dev/null || break; sleep 0.1; done
wait "$dl_pid" 2>/dev/null
verdict "the download across ten reloads arrived intact" check_download "$dl_body" "$LAB_BIG_BYTES" "$EXPECTED_SHA"
rm -f "$dl_body"
before="$(lab_adm -Ln)"
cp "$bad" "$KCONF"
out="$(lab_adm --reload 2>&1)"; rc=$?
verdict "a reload of a broken file is refused with its lines" check_contains "sluiceadm --reload" "rc=$rc $out" "$KCONF:5:"
WHY="exit $rc"; verdict "sluiceadm --reload exits non-zero on a refused file" test "$rc" != 0
WHY="$(diff <(echo "$before") <(lab_adm -Ln))"; verdict "the running configuration stays" test "$before" = "$(lab_adm -Ln)"
verdict "still serving" check_valid "$(lab_ask_n 4 "$URL")" 4
lab_stop_daemon; rc=$?
WHY="exit $rc"; verdict "sluiced stops cleanly" test "$rc" = 0

# ---------------------------------------------------------------- ldirectord.cf
say "ldirectord.cf: negotiate check and fallback"
LCONF="$LAB_RUN/ldirectord.cf"
cat >"$LCONF" <<EOF
# Global Directives
checktimeout=1
checkinterval=1
autoreload=yes
logfile="$LAB_RUN/ldirectord.log"
quiescent=no

virtual=$VIP4:$NG
        real=$RS1_4:$NG gate
        fallback=$RS2_4:$NG gate
        service=http
        scheduler=rr
        protocol=tcp
        checktype=negotiate
        request="www/ok.html"
        receive="healthy"
EOF
echo "healthy RS 1" >"$LAB_RUN/www-rs1/ok.html"
out="$("$BUILD/bin/sluiced" --check -f "$LCONF" 2>&1)"; rc=$?
WHY="exit $rc: $out"; verdict "sluiced --check accepts the ldirectord.cf" test "$rc" = 0
if ! lab_start_daemon "$BUILD" -f "$LCONF"; then
  echo "FAIL  sluiced starts from the ldirectord.cf"; exit 1
fi
URL80="http://$VIP4:$NG/"
lab_wait 100 state_is 1 UP "$NG"
verdict "RS1 passes the negotiate check and serves" check_all_are "$(lab_ask_n 4 "$URL80")" 4 1
echo "maintenance" >"$LAB_RUN/www-rs1/ok.html"   # 200, but without the receive string
lab_wait 100 state_is 1 DOWN "$NG"
verdict "a page without the receive string fails the check" check_contains "sluiceadm --health" "$(health)" "DOWN"
verdict "the fallback server answers" check_all_are "$(lab_ask_n 4 "$URL80")" 4 2
echo "healthy RS 1" >"$LAB_RUN/www-rs1/ok.html"
lab_wait 100 state_is 1 UP "$NG"
verdict "RS1 back, the fallback steps aside" check_all_are "$(lab_ask_n 4 "$URL80")" 4 1
lab_stop_daemon

echo "health lab: $LAB_PASSES passed, $LAB_FAILS failed ($((SECONDS - T0)) s)"
if [ "$LAB_FAILS" != 0 ]; then
  echo "--- sluiced log (last 60 lines)"; tail -60 "$LAB_RUN/sluiced.log"
fi
[ "$LAB_FAILS" = 0 ]
