#!/usr/bin/env bash
# System test of OVERLOAD with calls carrying media (issue 11): while alice's
# call to bob has SRTP media both ways through the dataplane, browsers on 30
# other WebSockets flood isthmus-pcscf toward the real IMS core (Kamailio):
#  1. a REGISTER flood: 20 WebSockets, each with 20 REGISTERs always
#     outstanding (ws-register-load, users of the core's load pattern);
#  2. an INVITE flood: 10 WebSockets, each registered, then 8 calls always
#     outstanding to a subscriber who is not registered (the core answers
#     404: every admitted INVITE's offer passes the IMS-ALG, which takes its
#     ports; a call programs the dataplane only at its answer, so these
#     must make no session);
# with admission set tight here ([pcscf.admission] flow_rate 20, burst 20,
# close_after_refusals 40, register_rate 100, initial_rate 60,
# max_invites_in_setup 16). What must hold: the floods are refused early
# (503 with Retry-After, counted as admission refusals; flooding WebSockets
# closed), alice's call goes on untouched (every one of its 1,500 packets
# echoed intact, through both floods), her BYE ends it, no dataplane session
# and no call is left behind by either flood, the P-CSCF's dpif backlog is
# empty and none of its commands was dropped, and after the floods a new
# call is set up with media. Topology and processes: pcscf_media_test.sh's.
# Usage: pcscf_overload_test.sh BUILD_DIR (root; exit 77 = skipped).
# PCSCF_OVERLOAD_KEEP=1 keeps the directory of logs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
media_test_init o "${1:?build dir}" PCSCF_OVERLOAD_KEEP
load=$build/bench/ws-register-load
[ -x "$load" ] || { echo "$load missing: build first"; exit 1; }

media_topology || exit 1
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'
media_config "$tmp/isthmus.toml"
sed -i '/^orig_ioi = /a metrics = "198.18.25.1:9101"' "$tmp/isthmus.toml"
cat >> "$tmp/isthmus.toml" << 'TOML'
[pcscf.admission]
flow_rate = 20
flow_burst = 20
close_after_refusals = 40
register_rate = 100
register_burst = 100
initial_rate = 60
initial_burst = 60
max_invites_in_setup = 16
retry_after_s = 5
TOML
media_start 90
# metric ERE: the sum of the exporter's samples whose name{labels} match ERE.
metric() {
  ip netns exec "$ue" curl -s --max-time 5 http://198.18.25.1:9101/metrics |
    awk -v re="$1" '!/^#/ && $1 ~ re { s += $2 } END { printf "%d\n", s }'
}
# metric_is ERE N: the sum is N within 5 s (the exporter reads the daemon's
# figures about once a second).
metric_is() {
  local v
  for _ in $(seq 1 50); do
    v=$(metric "$1")
    [ "$v" = "$2" ] && return 0
    sleep 0.1
  done
  echo "    ($1: $v, expected $2)"
  return 1
}
# jsonv FILE JQ: a number from the load tool's JSON (0 when absent).
jsonv() { jq -r "$2 // 0" "$1" 2>/dev/null || echo 0; }
call_to_bob() {  # NAME PORT
  bob_uas "$1-bob" answer -rtp_echo -timeout 90
  mkfifo "$tmp/$1.in" && exec 7<>"$tmp/$1.in"
  alice "$1" "${web[@]}" --candidate "198.18.0.1:$2" --call sip:bob@ims.example.net
  exec 7>&-
  wait_event "$1" '.event == "confirmed"'
}
flood() {  # NAME MODE CONNS OUTSTANDING FIRST_USER [ARGS...]: ws-register-load from $ue
  local name=$1 mode=$2 conns=$3 k=$4 first=$5
  shift 5
  ip netns exec "$ue" timeout 60 "$load" --mode "$mode" --target ws://198.18.25.1:5062 \
    --connections "$conns" --outstanding "$k" --first-user "$first" --duration 4 --warmup 0 \
    --setup-timeout 20 --json "$@" > "$tmp/$name.json" 2> "$tmp/$name.log"
  echo "# $name: $(jq -c '{connected, registered, closed_before_end, by_status, invite_by_status, calls}' \
    "$tmp/$name.json" 2>/dev/null || tail -3 "$tmp/$name.log")"
}

check "alice's call to bob is confirmed" call_to_bob o1 5000
alice_media o1
refused0=$(metric '^isthmus_pcscf_refused_total\{reason="admission')
# 15 s of sending: the wait for the echoes must outlast it (10 s by default).
media_timeout_ms=25000 media o1 client 1500 &
media_pid=$!
bg+=("$media_pid")
sleep 1

# --- 1. the REGISTER flood ------------------------------------------------------
reg0=$(metric '^isthmus_pcscf_refused_total\{reason="admission_register_rate"')
flood reg register 20 20 100
# The tool counts answers in its window, which opens once every WebSocket
# registered; each floods as soon as it has, so on a slow machine the first
# ones were refused and closed before the window opened (seen once in CI:
# 0 in the window). What the flood got is therefore read from the P-CSCF's
# counter and the tool's setup: the window's figures are printed.
n503=$(jsonv "$tmp/reg.json" '.by_status."503"')
n200=$(jsonv "$tmp/reg.json" '.by_status."200"')
reg503=$(( $(metric '^isthmus_pcscf_refused_total\{reason="admission_register_rate"') - reg0 ))
echo "# 1: REGISTERs refused for the REGISTER rate: $reg503; in the tool's window: $n503 x 503, $n200 x 200"
check "1: REGISTERs beyond the rates are refused with 503 ($reg503 for the REGISTER rate)" \
  test "$reg503" -gt 0
check "1: ... and those within them registered at the core ($(jsonv "$tmp/reg.json" .registered) of 20 WebSockets, $n200 x 200 more in the window)" \
  test "$(jsonv "$tmp/reg.json" .registered)" -gt 0
check "1: flooding WebSockets closed for not waiting" \
  test "$(jsonv "$tmp/reg.json" .closed_before_end)" -gt 0
check "1: the first refusal the flood saw: 503 naming the limit, Retry-After: 5" \
  eval 'grep -q "^SIP/2.0 503 Service Unavailable (.*rate limit)" "$tmp/reg.log" &&
        grep -q "^Retry-After: 5" "$tmp/reg.log"'

# --- 2. the INVITE flood ----------------------------------------------------------
flood inv call 10 8 300 --callee sip:user9999@ims.example.net
inv_fail=$(jq -r '[.invite_by_status | to_entries[] | select((.key | tonumber) >= 400) | .value] | add // 0' \
  "$tmp/inv.json" 2>/dev/null || echo 0)
inv503=$(jsonv "$tmp/inv.json" '.invite_by_status."503"')
check "2: the flood's INVITEs got final answers ($inv_fail), none a 2xx" \
  eval '[ "$inv_fail" -gt 0 ] && [ "$(jsonv "$tmp/inv.json" .calls)" -eq 0 ]'
check "2: some refused by admission with 503 ($inv503)" test "$inv503" -gt 0
offers=$(metric '^isthmus_pcscf_media_events_total\{event="offers_from_browser"')
created=$(metric '^isthmus_pcscf_media_events_total\{event="sessions_created"')
check "2: the admitted INVITEs' offers went through the IMS-ALG ($offers offers rewritten)" \
  test "$offers" -gt 10
check "2: ... but a call that fails programs nothing: alice's is the one session made" \
  is "$created" 1

wait "$media_pid"
echo "# the worker: relayed $(counter worker0 relayed_access_to_core) to the core," \
  "$(counter worker0 relayed_core_to_access) to the browser; drops: $("$ctl" --region "$region" counters |
  grep -o 'drop_[a-z_]*=[1-9][0-9]*' | sort -u | tr '\n' ' ')"
check "alice's media went on through both floods: all 1,500 packets echoed intact" media_ok o1 1500
refused=$(( $(metric '^isthmus_pcscf_refused_total\{reason="admission') - refused0 ))
echo "# admission refusals during the floods: $refused ($(metric '^isthmus_pcscf_admission_flows_closed_total') WebSockets closed)"
check "the P-CSCF counts them as admission refusals (at least the 503s the tools saw)" \
  test "$refused" -ge $((n503 + inv503))
check "one call held (alice's), the floods' all ended" metric_is '^isthmus_pcscf_calls$' 1
check "the dataplane holds alice's session only" sessions_are 1
check "no dpif command waiting, none dropped" \
  eval 'is "$(metric "^isthmus_pcscf_dataplane_command_backlog")" 0 &&
        is "$(metric "^isthmus_pcscf_dataplane_commands_dropped_total")" 0'
echo hangup > "$tmp/o1.in"
check "alice hangs up: bob takes the BYE (both exit 0)" \
  eval 'exited "$bob_pid" 0 && exited "$alice_pid" 0'
check "no session left" sessions_are 0

# --- after the floods ----------------------------------------------------------------
check "a new call is confirmed" call_to_bob o2 5004
alice_media o2
media o2 client 200
check "... and has media both ways (200 packets echoed)" media_ok o2 200
echo hangup > "$tmp/o2.in"
check "... and ends (both exit 0)" eval 'exited "$bob_pid" 0 && exited "$alice_pid" 0'
check "no session, no call left" eval 'sessions_are 0 && metric_is "^isthmus_pcscf_calls$" 0'
kill -TERM "$pcscf_pid"; wait "$pcscf_pid"
echo "# $(grep 'event=stopped' "$tmp/pcscf.log" | tail -n 1)"
summary
