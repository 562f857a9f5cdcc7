#!/usr/bin/env bash
# Dataplane faults under call load (issue 11), at system level: the call
# bench's chain (bench/call_bench.sh: ws-register-load's 100 WebSockets
# calling back to back through isthmus-pcscf's IMS-ALG and the test IMS core
# to bob, each call one dataplane session made and deleted; the dataplane
# on net_null ports) with a fault in the middle (FAULT in call_bench.sh).
#
# freeze: the dataplane stopped (SIGSTOP) for 6 s inside the P-CSCF's
# heartbeat window. Calls go on meanwhile, so the 4096-slot command ring
# fills and the rest waits in the P-CSCF's backlog; once the dataplane runs
# again every command must reach it, in order, and nothing may be left:
#   - the ring was full and the backlog held more at the end of the freeze,
#     and drained to 0;
#   - no call failed or timed out, every answer a WebRTC one;
#   - isthmus-pcscf: no call or session left, backlog 0, no command dropped,
#     never "gone", nothing refused by the dataplane, sessions created =
#     deleted = bob's calls;
#   - isthmus-dataplane: every command received (2 per call + the resync's
#     2), no event dropped, no session left.
#
# restart: the dataplane killed (SIGKILL) with many calls up (held 6 s,
# started spread over the hold) and a new one started 4 s later:
#   - the P-CSCF gave the old one up (its heartbeat window, 3 s), then
#     attached to the new one;
#   - new calls meanwhile got 503 (each one counted no_dataplane, its
#     Retry-After waited out by the tool), no other failure, no timeout;
#     answers only WebRTC ones, but for those that came in the moment the
#     P-CSCF had given the old dataplane up (stripped of their SDP, counted);
#   - every call the old dataplane carried (and those programmed into its
#     dead ring) ended with BYEs both ways: each a BYE the tool answered (or
#     one that crossed the tool's own, whose answer, 481 or another final,
#     ended it), bob's side answered;
#   - calls go on through the new dataplane; nothing left in the P-CSCF or
#     the new dataplane, which dropped no event.
# Usage: pcscf_load_fault_test.sh BUILD_DIR freeze|restart
# Needs root (a network namespace), Kamailio, sipp and curl (exit 77 =
# skipped without them); alone (both cores). PCSCF_LOAD_FAULT_KEEP=1 keeps
# the bench's logs and report (the directory is printed).
set -uo pipefail
build=${1:?usage: pcscf_load_fault_test.sh BUILD_DIR freeze|restart}
mode=${2:?usage: pcscf_load_fault_test.sh BUILD_DIR freeze|restart}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "pcscf_load_fault_test: needs root: skipped"; exit 77; }
for tool in kamailio sipp curl python3; do
  command -v "$tool" > /dev/null || { echo "pcscf_load_fault_test: no $tool: skipped"; exit 77; }
done
out=$(mktemp -d)
if [ "${PCSCF_LOAD_FAULT_KEEP:-0}" = 1 ]; then
  echo "# logs kept in $out"
else
  trap 'rm -rf "$out"' EXIT
fi
pass=0 fail=0
lacks() { ! grep -q -- "$1" <<< "$2"; }  # PATTERN TEXT
check() {  # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    echo "ok - $name"
    pass=$((pass + 1))
  else
    echo "not ok - $name"
    fail=$((fail + 1))
  fi
}

case $mode in
  freeze) OUT=$out FAULT=freeze FAULT_AT=3 FAULT_S=6 CONNS=100 DURATION=12 WARMUP=2 \
    bash "$root/bench/call_bench.sh" "$build" > "$out/report.md" 2> "$out/bench.err" ;;
  restart) OUT=$out FAULT=restart FAULT_AT=3 FAULT_S=4 CONNS=100 HOLD_MS=6000 DURATION=14 \
    WARMUP=2 bash "$root/bench/call_bench.sh" "$build" > "$out/report.md" 2> "$out/bench.err" ;;
  *) echo "pcscf_load_fault_test: freeze or restart, not $mode" >&2; exit 2 ;;
esac
rc=$?
cat "$out/report.md" "$out/bench.err"
check "the bench ran (exit $rc)" test "$rc" -eq 0

fault=$(cat "$out/fault.log" 2>/dev/null)
echo "fault: $fault"
field() { grep -o "\b$1=[^ ]*" <<< "$2" | head -1 | cut -d= -f2; }
# The load tool's report.
read -r calls invites_ok invites_503 invites_other byes_ok byes_481 byes_other timeouts bad_sdp \
  retry_waits byes_received refused < <(python3 - "$out/isthmus-ws-1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
inv, bye = r["invite_by_status"], r["bye_by_status"]
final = lambda d, pred: sum(v for c, v in d.items() if int(c) >= 200 and pred(int(c)))
print(r["calls"], final(inv, lambda c: c < 300), final(inv, lambda c: c == 503),
      final(inv, lambda c: c >= 300 and c != 503), final(bye, lambda c: c < 300),
      final(bye, lambda c: c == 481), final(bye, lambda c: c >= 300 and c != 481),
      r["invite_timeouts"] + r["bye_timeouts"], r["bad_sdp"], r["retry_waits"],
      r["byes_received"], r["requests_refused"])
PY
)
echo "load: calls=$calls invites 2xx=$invites_ok 503=$invites_503 other=$invites_other" \
  "byes 2xx=$byes_ok 481=$byes_481 other=$byes_other timeouts=$timeouts bad_sdp=$bad_sdp" \
  "retry_waits=$retry_waits byes_received=$byes_received requests_refused=$refused"
echo "load: BYE answers by status $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bye_by_status"])' "$out/isthmus-ws-1.json")"
check "no call timed out" test "${timeouts:-1}" = 0
stopped=$(grep "event=stopped" "$out/pcscf.log" | tail -1)
if [ "$mode" = freeze ]; then
  check "every answer a WebRTC one" test "${bad_sdp:-1}" = 0
else
  # A 200 that arrives in the moment the P-CSCF has given the dataplane up
  # (its INVITE forwarded just before) loses its SDP, by design (no
  # dataplane to program, and the next one has another certificate): the
  # browser ends that call itself. Those, and only those, are not WebRTC.
  # A moment's worth (the answers of INVITEs forwarded just before the
  # P-CSCF gave up): a systematic failure strips far more. (Such an answer
  # counts as a rewrite failure too: no certificate to offer the browser.)
  stripped=$(field media_body_stripped "$stopped"); stripped=${stripped:-0}
  check "every answer a WebRTC one, but the few the P-CSCF stripped while detached ($bad_sdp = $stripped <= 3)" \
    test "${bad_sdp:-1}" = "$stripped" -a "$stripped" -le 3
fi
check "no request from the network refused" test "${refused:-1}" = 0

check "isthmus-pcscf: no call, no session left, backlog 0" \
  test "$(field calls "$stopped"),$(field sessions "$stopped"),$(field command_backlog "$stopped")" \
  = "0,0,0"
check "isthmus-pcscf: nothing refused by the dataplane" lacks media_dataplane_refused= "$stopped"
created=$(field media_sessions_created "$stopped")
deleted=$(field media_sessions_deleted "$stopped")
resyncs=$(field media_resyncs "$stopped")
started=$(field media_calls_started "$stopped")
bob=$(grep -o 'TotalCallCreated=[0-9]*' "$out/bench.err" | cut -d= -f2)
bob_ok=$(grep -o 'SuccessfulCall(C)=[0-9]*' "$out/bench.err" | cut -d= -f2)
bob_failed=$(grep -o 'FailedCall(C)=[0-9]*' "$out/bench.err" | cut -d= -f2)
echo "pcscf: calls_started=$started sessions created=$created deleted=$deleted resyncs=$resyncs;" \
  "bob's calls: $bob, successful $bob_ok, failed $bob_failed"
# sipp's UAS counts a call successful when its BYE came and was answered.
check "every call reached bob and ended there with a BYE" \
  test "${bob:-x},${bob_ok:-x},${bob_failed:-x}" = "${started:-y},${started:-y},0"

if [ "$mode" = freeze ]; then
  check "the command ring was full at the end of the freeze" \
    test "$(field commands_queued "$fault")" = 4096
  backlog=$(field backlog_at_end "$fault")
  check "the P-CSCF's backlog held more ($backlog)" test "${backlog:-0}" -gt 0
  drained=$(field drained_within_ms "$fault")
  check "the backlog drained once the dataplane ran (seen empty ${drained} ms after)" \
    test "${drained:--1}" -ge 0
  check "calls went on through the freeze" test "${calls:-0}" -gt 1000
  check "no call failed" test "$invites_503,$invites_other,$byes_481,$byes_other" = "0,0,0,0"
  check "isthmus-pcscf: no command dropped" test "$(field commands_dropped "$stopped")" = 0
  check "isthmus-pcscf: the dataplane never given up" lacks event=dataplane_gone "$(cat "$out/pcscf.log")"
  check "sessions created = deleted = bob's calls" \
    test "${created:-x}" = "${deleted:-y}" -a "${created:-x}" = "${bob:-z}"
  stopping=$(grep "event=stopping" "$out/dataplane.log" | tail -1)
  echo "dataplane: $stopping"
  check "isthmus-dataplane: every command received (2 a call, 2 a resync)" \
    test "$(field commands "$stopping")" = "$((2 * ${created:-0} + 2 * ${resyncs:-0}))"
else
  before=$(field calls_before "$fault")
  check "many calls up at the kill ($before)" test "${before:-0}" -ge 50
  check "the P-CSCF gave the killed dataplane up before the new one ran" \
    test "$(field gone_logged "$fault")" = 1
  check "then attached to the new one ($(field attached_ms "$fault") ms after the kill)" \
    test "$(field attached_ms "$fault")" -ge 0
  check "isthmus-pcscf logged the restart" grep -q "event=dataplane_restarted" "$out/pcscf.log"
  no_dp=$(field media_no_dataplane "$stopped")
  check "new calls meanwhile got 503 ($invites_503), each one no_dataplane ($no_dp)" \
    test "${invites_503:-0}" -gt 0 -a "$invites_503" = "${no_dp:-x}"
  check "each 503's Retry-After waited out" test "${retry_waits:-x}" = "$invites_503"
  check "no other failure" test "$invites_other" = 0
  failed_calls=$(field media_media_failed_calls "$stopped")
  # Each ended by the P-CSCF's BYE to the browser, or, where the browser's
  # own BYE (its hold over) crossed it, at that BYE's answer — whatever the
  # far end says to a BYE for a dialog it has just ended (481, or another
  # final): those BYEs and only those are not 2xx.
  check "the old dataplane's calls ($failed_calls) each ended by a BYE to the browser or crossing one" \
    test "${byes_received:-0}" -gt 0 -a "$((byes_received + byes_481 + byes_other))" = "${failed_calls:-x}"
  stopping=$(grep "event=stopping" "$out/dataplane2.log" | tail -1)
  echo "new dataplane: $stopping"
  check "calls went on through the new dataplane" test "$(field commands "$stopping")" -ge 102
fi
check "isthmus-dataplane: no event dropped" test "$(field events_dropped "$stopping")" = 0
check "isthmus-dataplane: no session left" grep -q "^worker=worker0 sessions=0 " \
  "$out/dataplane-counters.log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
