#!/usr/bin/env bash
# A full command ring under call load (issue 11), at system level: the call
# bench's chain (bench/call_bench.sh: ws-register-load's 100 WebSockets
# calling back to back through isthmus-pcscf's IMS-ALG and the test IMS core
# to bob, each call one dataplane session made and deleted) with the
# dataplane frozen (SIGSTOP) for 6 s inside the P-CSCF's heartbeat window.
# Calls go on meanwhile, so the 4096-slot command ring fills and the rest
# waits in the P-CSCF's backlog; once the dataplane runs again every command
# must reach it, in order, and nothing may be left:
#   - the ring was full and the backlog held more at the end of the freeze,
#     and drained to 0;
#   - no call failed or timed out, every answer a WebRTC one;
#   - isthmus-pcscf: no call or session left, backlog 0, no command dropped,
#     never "gone", nothing refused by the dataplane, sessions created =
#     deleted = bob's calls;
#   - isthmus-dataplane: every command received (2 per call + the resync's
#     2), no event dropped, no session left.
# Needs root (a network namespace), Kamailio and sipp; alone (both cores).
set -uo pipefail
build=${1:?usage: pcscf_ring_test.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
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

OUT=$out FAULT=freeze FAULT_AT=3 FAULT_S=6 CONNS=100 DURATION=12 WARMUP=2 \
  bash "$root/bench/call_bench.sh" "$build" > "$out/report.md" 2> "$out/bench.err"
rc=$?
cat "$out/report.md" "$out/bench.err"
check "the bench ran (exit $rc)" test "$rc" -eq 0

fault=$(cat "$out/fault.log" 2>/dev/null)
echo "fault: $fault"
field() { grep -o "\b$1=[^ ]*" <<< "$2" | head -1 | cut -d= -f2; }
check "the command ring was full at the end of the freeze" \
  test "$(field commands_queued "$fault")" = 4096
backlog=$(field backlog_at_end "$fault")
check "the P-CSCF's backlog held more ($backlog)" test "${backlog:-0}" -gt 0
drained=$(field drained_ms "$fault")
check "the backlog drained once the dataplane ran (${drained} ms)" test "${drained:--1}" -ge 0

# The load tool's report: every call through, none failed or timed out.
read -r calls failed timeouts bad_sdp < <(python3 - "$out/isthmus-ws-1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
failed = sum(v for c, v in r["invite_by_status"].items() if int(c) >= 300)
failed += sum(v for c, v in r["bye_by_status"].items() if int(c) >= 300)
print(r["calls"], failed, r["invite_timeouts"] + r["bye_timeouts"], r["bad_sdp"])
PY
)
echo "load: calls=$calls failed=$failed timeouts=$timeouts bad_sdp=$bad_sdp"
check "calls went on through the freeze" test "${calls:-0}" -gt 1000
check "no call failed" test "${failed:-1}" = 0
check "no call timed out" test "${timeouts:-1}" = 0
check "every answer a WebRTC one" test "${bad_sdp:-1}" = 0

stopped=$(grep "event=stopped" "$out/pcscf.log" | tail -1)
check "isthmus-pcscf: no call, no session left" \
  test "$(field calls "$stopped"),$(field sessions "$stopped")" = "0,0"
check "isthmus-pcscf: backlog 0, no command dropped" \
  test "$(field command_backlog "$stopped"),$(field commands_dropped "$stopped")" = "0,0"
check "isthmus-pcscf: the dataplane never given up" \
  bash -c "! grep -q event=dataplane_gone '$out/pcscf.log'"
check "isthmus-pcscf: nothing refused by the dataplane" \
  bash -c "! grep -q media_dataplane_refused= <<< '$stopped'"
created=$(field media_sessions_created "$stopped")
deleted=$(field media_sessions_deleted "$stopped")
resyncs=$(field media_resyncs "$stopped")
bob=$(grep -o 'TotalCallCreated=[0-9]*' "$out/bench.err" | cut -d= -f2)
echo "pcscf: created=$created deleted=$deleted resyncs=$resyncs; bob's calls: $bob"
check "sessions created = deleted = bob's calls" \
  test "${created:-x}" = "${deleted:-y}" -a "${created:-x}" = "${bob:-z}"

stopping=$(grep "event=stopping" "$out/dataplane.log" | tail -1)
echo "dataplane: $stopping"
check "isthmus-dataplane: every command received (2 a call, 2 a resync)" \
  test "$(field commands "$stopping")" = "$((2 * ${created:-0} + 2 * ${resyncs:-0}))"
check "isthmus-dataplane: no event dropped" test "$(field events_dropped "$stopping")" = 0
check "isthmus-dataplane: no session left" grep -q "^worker=worker0 sessions=0 " \
  "$out/dataplane-counters.log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
