#!/usr/bin/env bash
# Component test (issue 10): log levels set at run time through isthmus-ctl,
# on loopback (no namespaces). Each daemon gets a log control object of its
# own (log_control = "/isthmus-log-test-...-$$"), so runs do not meet.
#   - isthmus-wwsf (plain HTTP, port 0): `isthmus-ctl log-level wwsf --name N`
#     prints its pid and level=info; at debug a request gives one
#     event=http_request line (method, path without its query, status; no
#     body, password or query); at warning SIGUSR1's event=stats no longer
#     appears and the suppressed counter grows; back at info it appears;
#   - isthmus-pcscf (WS and Mw UDP): at debug an OPTIONS over Mw gives
#     event=sip_in method=OPTIONS with its Call-ID and an event=sip_out; at
#     warning its SIGUSR1 statistics line is suppressed and counted;
#   - isthmus-dataplane (net_null ports, no hugepages, its own region): at
#     debug each dpif command of isthmus-ctl (ping, session add, delete)
#     gives one event=dpif_command line with its type, session and result,
#     never the session's SRTP key; at warning none, counted as suppressed;
#   - refusals: a bad level word and an unknown daemon exit 2 (the level
#     unchanged), a missing object, another daemon's and a stale one (its
#     daemon killed) exit 1; a second daemon on a held name runs with a
#     warning; a restarted daemon replaces the stale object; log_level =
#     "warning" in the file starts at warning; without a writable /dev/shm
#     (as root: a read-only tmpfs over it in a mount namespace) the daemon
#     runs with its level fixed;
#   - SIGTERM: the objects are unlinked.
# Usage: log_level_test.sh BUILD_ROOT
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build root}
wwsf=$build/controlplane/wwsf/isthmus-wwsf
pcscf=$build/controlplane/pcscf/isthmus-pcscf
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
for bin in "$wwsf" "$pcscf" "$dp" "$ctl"; do
  [ -x "$bin" ] || { echo "$bin missing: build first"; exit 1; }
done
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool missing"; exit 1; }
done

tmp=$(mktemp -d)
wname=/isthmus-log-test-wwsf-$$
pname=/isthmus-log-test-pcscf-$$
dname=/isthmus-log-test-dataplane-$$
region=/isthmus-log-test-region-$$
prefix=isthmus-log-test-$$
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -f "/dev/shm$wname" "/dev/shm$pname" "/dev/shm$wname-ro" "/dev/shm$dname" "/dev/shm$region"
  rm -rf "/var/run/dpdk/$prefix"
  rm -rf "$tmp"
}
trap cleanup EXIT

freeport() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}
# wait_log FILE PATTERN: until PATTERN appears in FILE (5 s at most).
wait_log() {
  for _ in $(seq 1 50); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# count FILE PATTERN: the lines of FILE matching PATTERN.
count() { grep -c -- "$2" "$1" 2>/dev/null; }
# field LINE KEY: the value of KEY= in a log-level line.
field() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }
# ctl_run ARGS...: isthmus-ctl with its stdout in $out, stderr in $err, exit in $rc.
ctl_run() {
  "$ctl" "$@" > "$tmp/ctl.out" 2> "$tmp/ctl.err"
  rc=$?
  out=$(cat "$tmp/ctl.out")
  err=$(cat "$tmp/ctl.err")
}

# --- isthmus-wwsf ------------------------------------------------------------
mkdir -p "$tmp/web"
printf '<!doctype html><title>t</title>\n' > "$tmp/web/index.html"
wwsf_toml() {  # LOG_CONTROL [EXTRA LINE]
  cat <<TOML
[wwsf]
http = "127.0.0.1:0"
web_root = "$tmp/web"
token_audience = "pcscf.example.net"
ws_uri = "ws://127.0.0.1:5062"
domain = "ims.example.net"
log_control = "$1"
${2:-}
TOML
}
wwsf_toml "$wname" > "$tmp/wwsf.toml"
check "isthmus-wwsf --check-config accepts log_control" \
  sh -c "'$wwsf' --config '$tmp/wwsf.toml' --check-config >/dev/null"
wwsf_toml "$wname" 'log_level = "loud"' > "$tmp/bad.toml"
"$wwsf" --config "$tmp/bad.toml" --check-config > /dev/null 2> "$tmp/bad.err"
bad_rc=$?
check "isthmus-wwsf refuses log_level = \"loud\" by name (exit 2)" \
  sh -c "[ $bad_rc -eq 2 ] && grep -q 'wwsf.log_level: must be' '$tmp/bad.err'"
wwsf_toml "/bad/name" > "$tmp/bad.toml"
"$wwsf" --config "$tmp/bad.toml" --check-config > /dev/null 2> "$tmp/bad.err"
bad_rc=$?
check "isthmus-wwsf refuses log_control = \"/bad/name\" by name (exit 2)" \
  sh -c "[ $bad_rc -eq 2 ] && grep -q 'wwsf.log_control: must be' '$tmp/bad.err'"

# start_wwsf CONFIG LOG: the daemon in the background, its pid in $wpid and
# its HTTP port in $wport.
start_wwsf() {
  "$wwsf" --config "$1" 2> "$2" &
  wpid=$!
  pids+=("$wpid")
  wport=
  for _ in $(seq 1 50); do
    wport=$(sed -n 's/.*event=listening scheme=http .*port=\([0-9]*\).*/\1/p' "$2")
    [ -n "$wport" ] && break
    sleep 0.1
  done
  [ -n "$wport" ] || { echo "isthmus-wwsf did not start:"; cat "$2"; exit 1; }
}
start_wwsf "$tmp/wwsf.toml" "$tmp/wwsf.log"
first_pid=$wpid
wlog=$tmp/wwsf.log
check "isthmus-wwsf logs its log control (event=log_control name=... level=info)" \
  grep -q "^isthmus-wwsf: level=info event=log_control name=$wname level=info\$" "$wlog"
check "the object exists while it runs" test -e "/dev/shm$wname"

ctl_run log-level wwsf --name "$wname"
check "log-level wwsf: exit 0, daemon=wwsf pid=$wpid level=info" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" daemon)' = wwsf ] && [ '$(field "$out" pid)' = '$wpid' ] && [ '$(field "$out" level)' = info ]"
check "... with every counter (lines_error .. lines_debug, suppressed)" \
  grep -Eq '^daemon=wwsf pid=[0-9]+ level=info lines_error=0 lines_warning=[0-9]+ lines_notice=0 lines_info=[1-9][0-9]* lines_debug=0 suppressed=0$' "$tmp/ctl.out"

# At info (the default): no debug line for a request.
curl -sS -o /dev/null "http://127.0.0.1:$wport/api/config"
sleep 0.2
check "at info a request logs no event=http_request" \
  test "$(count "$wlog" 'event=http_request')" = 0

ctl_run log-level wwsf debug --name "$wname"
check "log-level wwsf debug: exit 0, prints level=debug" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" level)' = debug ]"
curl -sS -o /dev/null "http://127.0.0.1:$wport/api/config?secret=query-$$"
check "at debug: event=http_request method=GET path=/api/config status=200" \
  wait_log "$wlog" '^isthmus-wwsf: level=debug event=http_request method=GET path=/api/config status=200 peer=127\.0\.0\.1$'
check "... one line for one request" test "$(count "$wlog" 'event=http_request')" = 1
check "... without the query" sh -c "! grep -q 'query-$$' '$wlog'"
password="Very secret $$"
curl -sS -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"user\":\"alice\",\"password\":\"$password\"}" "http://127.0.0.1:$wport/api/login"
check "at debug a login's line names its status (401), not its body" \
  wait_log "$wlog" 'event=http_request method=POST path=/api/login status=401'
check "... and the password appears nowhere" sh -c "! grep -qF '$password' '$wlog'"
ctl_run log-level wwsf --name "$wname"
check "the counters: lines_debug=2 (the two requests at debug)" test "$(field "$out" lines_debug)" = 2

ctl_run log-level wwsf warning --name "$wname"
suppressed_before=$(field "$out" suppressed)
check "log-level wwsf warning: exit 0, prints level=warning" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" level)' = warning ]"
kill -USR1 "$wpid"
curl -sS -o /dev/null "http://127.0.0.1:$wport/api/config"
sleep 0.5
check "at warning SIGUSR1 logs no event=stats (info) and a request no debug line" \
  sh -c "[ \$(grep -c 'event=stats' '$wlog') = 0 ] && [ \$(grep -c 'event=http_request' '$wlog') = 2 ]"
ctl_run log-level wwsf --name "$wname"
check "... the suppressed counter grew ($suppressed_before -> $(field "$out" suppressed))" \
  test "$(field "$out" suppressed)" -gt "$suppressed_before"

ctl_run log-level wwsf info --name "$wname"
kill -USR1 "$wpid"
check "back at info SIGUSR1 logs event=stats" wait_log "$wlog" '^isthmus-wwsf: level=info event=stats '

# Refusals.
ctl_run log-level wwsf verbose --name "$wname"
check "a bad level word: exit 2, named on stderr" \
  sh -c "[ $rc -eq 2 ] && grep -q \"unknown level 'verbose'\" '$tmp/ctl.err' && [ -z '$out' ]"
ctl_run log-level wwsf --name "$wname"
check "... the level unchanged (info)" test "$(field "$out" level)" = info
ctl_run log-level proxy debug
check "an unknown daemon: exit 2" \
  sh -c "[ $rc -eq 2 ] && grep -q \"unknown daemon 'proxy'\" '$tmp/ctl.err'"
ctl_run log-level wwsf --name "/isthmus-log-test-missing-$$"
check "a missing object: exit 1, error: ... does not exist" \
  sh -c "[ $rc -eq 1 ] && grep -q '^error: log control /isthmus-log-test-missing-$$ does not exist' '$tmp/ctl.err'"
ctl_run log-level pcscf debug --name "$wname"
check "another daemon's object: exit 1, error: ... belongs to wwsf" \
  sh -c "[ $rc -eq 1 ] && grep -q '^error: log control $wname belongs to wwsf, not pcscf' '$tmp/ctl.err'"
ctl_run log-level wwsf --name "$wname"
check "... the level unchanged (info)" test "$(field "$out" level)" = info

# A second wwsf on the same name runs on, its level fixed, with a warning.
start_wwsf "$tmp/wwsf.toml" "$tmp/wwsf2.log"
w2pid=$wpid
check "a second daemon on a held name warns (event=log_control_unavailable ... held by a running wwsf)" \
  grep -q "^isthmus-wwsf: level=warning event=log_control_unavailable what=\"log control $wname is held by a running wwsf (pid [0-9]*)\" note=\"log level fixed at info\"\$" "$tmp/wwsf2.log"
check "... and serves" \
  test "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$wport/api/config")" = 200
kill -TERM "$w2pid"; wait "$w2pid"
check "... its exit leaves the first daemon's object alone" test -e "/dev/shm$wname"

# A stale object: its daemon killed without a chance to unlink it.
kill -KILL "$first_pid"; wait "$first_pid" 2>/dev/null
ctl_run log-level wwsf --name "$wname"
check "a stale object (daemon killed): exit 1, error: ... is not running" \
  sh -c "[ $rc -eq 1 ] && grep -q '^error: log control $wname: its daemon (pid $first_pid) is not running' '$tmp/ctl.err'"
wwsf_toml "$wname" 'log_level = "warning"' > "$tmp/wwsf-warning.toml"
start_wwsf "$tmp/wwsf-warning.toml" "$tmp/wwsf3.log"
ctl_run log-level wwsf --name "$wname"
check "a restarted daemon replaces the stale object (its pid, fresh counters)" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" pid)' = '$wpid' ] && [ '$(field "$out" lines_debug)' = 0 ]"
check "log_level = \"warning\" in the file: it starts at warning" test "$(field "$out" level)" = warning
check "... and its info lines are not written (no event=started)" \
  sh -c "! grep -q 'event=started' '$tmp/wwsf3.log' && grep -q 'level=warning event=listening' '$tmp/wwsf3.log'"
kill -TERM "$wpid"; wait "$wpid"; rc=$?
check "SIGTERM: exit 0 and the object is unlinked" \
  sh -c "[ $rc -eq 0 ] && [ ! -e '/dev/shm$wname' ]"

# Without a writable /dev/shm (root only: a read-only tmpfs over it).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
   unshare -m sh -c 'mount -t tmpfs -o ro tmpfs /dev/shm' 2>/dev/null; then
  wwsf_toml "$wname-ro" > "$tmp/wwsf-ro.toml"
  unshare -m sh -c "mount -t tmpfs -o ro tmpfs /dev/shm && exec '$wwsf' --config '$tmp/wwsf-ro.toml'" \
    2> "$tmp/wwsf-ro.log" &
  ropid=$!
  pids+=("$ropid")
  check "without a writable /dev/shm: a warning, the level fixed at info" \
    wait_log "$tmp/wwsf-ro.log" "^isthmus-wwsf: level=warning event=log_control_unavailable what=\"log control $wname-ro: cannot create: Read-only file system\" note=\"log level fixed at info\"\$"
  check "... and it runs (event=started)" wait_log "$tmp/wwsf-ro.log" 'level=info event=started '
  kill -TERM "$ropid"; wait "$ropid"; rc=$?
  check "... and exits 0 on SIGTERM" test "$rc" = 0
else
  echo "skip - without a writable /dev/shm (needs root and unshare -m)"
fi
check "every wwsf line is isthmus-wwsf: level=... event=..." \
  sh -c "! cat '$tmp'/wwsf*.log | grep -v '^isthmus-wwsf: level=[a-z]* event='"

# --- isthmus-pcscf -------------------------------------------------------------
ws_port=$(freeport tcp)
mw_port=$(freeport udp)
ims_port=$(freeport udp)
cat > "$tmp/pcscf.toml" <<TOML
[pcscf]
visited_network_id = "ims.example.net"
orig_ioi = "pcscf.example.net"
log_control = "$pname"

[pcscf.w2]
host = "pcscf.example.net"
ws = "127.0.0.1:$ws_port"

[pcscf.mw]
address = "127.0.0.1"
port = $mw_port
next_hop = "udp:127.0.0.1:$ims_port"
TOML
plog=$tmp/pcscf.log
"$pcscf" --config "$tmp/pcscf.toml" 2> "$plog" &
ppid=$!
pids+=("$ppid")
wait_log "$plog" 'event=started' || { echo "isthmus-pcscf did not start:"; cat "$plog"; exit 1; }
ctl_run log-level pcscf --name "$pname"
check "log-level pcscf: exit 0, daemon=pcscf pid=$ppid level=info" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" daemon)' = pcscf ] && [ '$(field "$out" pid)' = '$ppid' ] && [ '$(field "$out" level)' = info ]"
ctl_run log-level pcscf debug --name "$pname"
check "log-level pcscf debug: exit 0" test "$rc" = 0
call_id="log-level-test-$$@127.0.0.1"
python3 - "$mw_port" "$call_id" <<'PY'
import socket, sys
port, call_id = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
msg = ("OPTIONS sip:bob@ims.example.net SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-log-level-1\r\n"
       "Max-Forwards: 70\r\n"
       "From: <sip:alice@ims.example.net>;tag=1\r\n"
       "To: <sip:bob@ims.example.net>\r\n"
       "Call-ID: %s\r\n"
       "CSeq: 1 OPTIONS\r\n"
       "Content-Length: 0\r\n\r\n") % (me, call_id)
s.sendto(msg.encode(), ("127.0.0.1", port))
s.settimeout(2)
try:
    s.recvfrom(65535)
except socket.timeout:
    pass
PY
check "at debug: event=sip_in method=OPTIONS call_id=... transport=udp" \
  wait_log "$plog" "^isthmus-pcscf: level=debug event=sip_in method=OPTIONS call_id=$call_id transport=udp peer=127\.0\.0\.1:[0-9]* flow=0\$"
check "... and what it sent for it (event=sip_out)" \
  wait_log "$plog" "^isthmus-pcscf: level=debug event=sip_out .*call_id=$call_id "
ctl_run log-level pcscf warning --name "$pname"
suppressed_before=$(field "$out" suppressed)
kill -USR1 "$ppid"
sleep 0.5
check "at warning SIGUSR1's event=stats (info) is not written" \
  sh -c "! grep -q 'event=stats' '$plog'"
ctl_run log-level pcscf --name "$pname"
check "... the suppressed counter grew ($suppressed_before -> $(field "$out" suppressed))" \
  test "$(field "$out" suppressed)" -gt "$suppressed_before"
ctl_run log-level pcscf info --name "$pname"
kill -USR1 "$ppid"
check "back at info it is (event=stats)" wait_log "$plog" '^isthmus-pcscf: level=info event=stats '
kill -TERM "$ppid"; wait "$ppid"; rc=$?
check "pcscf SIGTERM: exit 0 and the object is unlinked" \
  sh -c "[ $rc -eq 0 ] && [ ! -e '/dev/shm$pname' ]"
check "every pcscf line is isthmus-pcscf: level=... event=..." \
  sh -c "! grep -v '^isthmus-pcscf: level=[a-z]* event=' '$plog'"

# --- isthmus-dataplane ----------------------------------------------------------
cat > "$tmp/dp.toml" <<TOML
[dataplane]
region = "$region"
eal = ["-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "$prefix", "--vdev", "net_null0", "--vdev", "net_null1"]
heartbeat_ms = 20
log_control = "$dname"
TOML
dlog=$tmp/dp.log
"$dp" --config "$tmp/dp.toml" > "$dlog" 2>&1 &
dpid=$!
pids+=("$dpid")
wait_running "$ctl" "$region" || { echo "isthmus-dataplane did not start:"; cat "$dlog"; exit 1; }
ctl_run log-level dataplane --name "$dname"
check "log-level dataplane: exit 0, daemon=dataplane pid=$dpid level=info" \
  sh -c "[ $rc -eq 0 ] && [ '$(field "$out" daemon)' = dataplane ] && [ '$(field "$out" pid)' = '$dpid' ] && [ '$(field "$out" level)' = info ]"
check "its lines keep their form (level=info event=started ..., no prefix)" \
  grep -q "^level=info event=started region=$region " "$dlog"
"$ctl" --region "$region" ping > /dev/null
check "at info a command logs no event=dpif_command" \
  sh -c "! grep -q 'event=dpif_command' '$dlog'"
ctl_run log-level dataplane debug --name "$dname"
"$ctl" --region "$region" ping > /dev/null
check "at debug: event=dpif_command type=ping session=0 ... result=ok" \
  wait_log "$dlog" '^level=debug event=dpif_command type=ping session=0 seq=[0-9]* generation=[0-9]* worker=0 result=ok$'
key_b64=PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
"$ctl" --region "$region" session add --id 7 --access-local 198.18.0.2:40000 \
  --access-rx-key "AES_CM_128_HMAC_SHA1_80 inline:$key_b64" \
  --access-tx-key "AES_CM_128_HMAC_SHA1_80 inline:$key_b64" \
  --core-local 198.18.1.2:30000 --core-remote 198.18.1.9:5000 > /dev/null
check "... a session add answered by its worker: type=session_create session=7 worker=0 result=ok" \
  wait_log "$dlog" '^level=debug event=dpif_command type=session_create session=7 .* worker=0 result=ok$'
"$ctl" --region "$region" session delete 99 > /dev/null 2>&1
check "... a refusal with its reason: type=session_delete session=99 ... result=not_found detail=..." \
  wait_log "$dlog" '^level=debug event=dpif_command type=session_delete session=99 .* result=not_found detail=no%20session%2099$'
check "... and never the SRTP key" sh -c "! grep -q '$key_b64' '$dlog'"
ctl_run log-level dataplane warning --name "$dname"
suppressed_before=$(field "$out" suppressed)
"$ctl" --region "$region" session delete 7 > /dev/null
sleep 0.3
ctl_run log-level dataplane --name "$dname"
check "at warning a command logs nothing, counted as suppressed ($suppressed_before -> $(field "$out" suppressed))" \
  sh -c "! grep -q 'type=session_delete session=7 ' '$dlog' && [ '$(field "$out" suppressed)' -gt '$suppressed_before' ]"
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "dataplane SIGTERM: exit 0 and the object is unlinked" \
  sh -c "[ $rc -eq 0 ] && [ ! -e '/dev/shm$dname' ]"

summary
