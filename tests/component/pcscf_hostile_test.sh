#!/usr/bin/env bash
# Component test: hostile input against a running isthmus-pcscf, on loopback
# (no namespaces, no root). Its own configuration: WS on 127.0.0.1, Mw UDP
# on 127.0.0.1, the next hop a UDP socket of pcscf_hostile.py standing in for
# the IMS (it records what arrives and answers REGISTER with 401).
#   - W2 (a hand-written WebSocket client): truncated SIP, bad Content-Length,
#     headers that fail validation, garbage, random binary messages (fixed
#     seed), over 64 KiB (close 1009), 10,000 header lines and oversized
#     fields (513), reserved opcodes, unmasked frames, RSV bits, bad
#     fragmentation (close 1002), text that is not UTF-8 (1007), a valid
#     fragmented message, upgrades without the sip subprotocol (HTTP 400),
#     a stalled upgrade (closed at handshake_timeout), connections closed
#     mid-frame;
#   - Mw (UDP): empty and random datagrams, a truncated response, responses
#     to nothing, a request with a malformed Via (400) or none, the largest
#     datagram there is (513), none of it answered but what must be.
# Then: the process is alive, a well-formed OPTIONS still gets 403 (an
# unregistered flow), a REGISTER still reaches the IMS and its 401 comes
# back, nothing hostile was forwarded. Then REGISTER floods over 10
# WebSockets (admission, issue 11: 503 + Retry-After beyond each one's
# burst, the flooders closed) while another WebSocket's REGISTER is served.
# SIGUSR1 logs counters, SIGTERM ends it with exit 0 and a final line whose
# counters add up the refusals and drops.
# Under ASan (ASAN_OPTIONS in the environment), no sanitizer report.
# Usage: pcscf_hostile_test.sh PATH/TO/isthmus-pcscf
set -uo pipefail
. "$(dirname "$0")/lib.sh"
bin=${1:?path to isthmus-pcscf}
helper="$(cd "$(dirname "$0")" && pwd)/pcscf_hostile.py"
[ -x "$bin" ] || { echo "$bin missing: build first"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }

tmp=$(mktemp -d)
pid=
ims_pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$ims_pid" ] && kill -KILL "$ims_pid" 2>/dev/null && wait "$ims_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# Each case is bounded on its own (every socket in it has a 5 s timeout too).
hostile() { timeout 20 python3 "$helper" "$@"; }

# wait_log PATTERN [TENTHS]: until PATTERN appears in the daemon's log.
wait_log() {
  for _ in $(seq 1 "${2:-50}"); do
    grep -q -- "$1" "$tmp/pcscf.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

ws_port=$(python3 "$helper" freeport tcp)
mw_port=$(python3 "$helper" freeport udp)
python3 "$helper" ims "$tmp/ims.port" "$tmp/ims.log" &
ims_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/ims.port" ] && break; sleep 0.1; done
ims_port=$(cat "$tmp/ims.port" 2>/dev/null) || { echo "the IMS stand-in did not start"; exit 1; }

# RANDOM_WS_FRAMES, RANDOM_MW_DATAGRAMS, FLOOD_CONNECTIONS, FLOOD_BURST,
# FLOOD_CLOSE_AFTER, FLOOD_RETRY_AFTER
eval "$(python3 "$helper" counts)"
cat > "$tmp/pcscf.toml" <<TOML
[pcscf]
threads = 2
visited_network_id = "ims.example.net"
orig_ioi = "pcscf.example.net"

[pcscf.w2]
host = "pcscf.example.net"
ws = "127.0.0.1:$ws_port"
handshake_timeout_ms = 1000
idle_timeout_s = 30

[pcscf.mw]
address = "127.0.0.1"
port = $mw_port
transports = ["udp"]
next_hop = "udp:127.0.0.1:$ims_port"

[pcscf.limits]
max_message_bytes = 65535

[pcscf.admission]
flow_rate = 1
flow_burst = $FLOOD_BURST
close_after_refusals = $FLOOD_CLOSE_AFTER
retry_after_s = $FLOOD_RETRY_AFTER

[pcscf.timers]
t1_ms = 500
TOML

check "the configuration is valid (--check-config)" \
  "$bin" --config "$tmp/pcscf.toml" --check-config
"$bin" --config "$tmp/pcscf.toml" 2> "$tmp/pcscf.log" &
pid=$!
if ! wait_log 'event=started'; then
  echo "isthmus-pcscf did not start:"; cat "$tmp/pcscf.log"; exit 1
fi
export PCSCF_WS="127.0.0.1:$ws_port" PCSCF_MW="127.0.0.1:$mw_port"

check "W2: an OPTIONS from an unregistered flow gets 403 Forbidden (not registered)" \
  hostile ws-options
check "W2: truncated SIP (no CRLFCRLF): 400 naming it, the connection goes on" \
  hostile ws-truncated
check "W2: bad Content-Length (not a number, over the body, twice): 400 naming it" \
  hostile ws-bad-content-length
check "W2: duplicate CSeq, CSeq method mismatch, no Max-Forwards, SIP/3.0: 400s and 505" \
  hostile ws-malformed-headers
check "W2: header-only garbage and empty messages: no answer, the connection goes on" \
  hostile ws-garbage
check "W2: $RANDOM_WS_FRAMES random binary messages (fixed seed): dropped, the connection goes on" \
  hostile ws-random-binary
check "W2: a 70 KB message (over 64 KiB): close 1009" hostile ws-too-big
check "W2: a 70 KB message in 16 KiB fragments: close 1009" hostile ws-too-big-fragmented
check "W2: 10,000 header lines: 513 Message Too Large" hostile ws-many-headers
check "W2: a 20 KB header field, a folded 10 KB one: 513; a 10 KB Request-URI: dropped" \
  hostile ws-long-header
check "W2: a reserved opcode: close 1002" hostile ws-bad-opcode
check "W2: an unmasked client frame: close 1002" hostile ws-unmasked
check "W2: RSV1 set without an extension: close 1002" hostile ws-rsv-bits
check "W2: a text message that is not UTF-8: close 1007" hostile ws-bad-utf8
check "W2: a message in four fragments (a ping between): one SIP message, 403" \
  hostile ws-fragmented
check "W2: orphan continuation, nested message, fragmented or long control frame: close 1002" \
  hostile ws-bad-fragments
check "W2: an upgrade without the sip subprotocol (none, chat, sipx) or none at all: HTTP 400" \
  hostile ws-no-sip-subprotocol
check "W2: not HTTP, or a 10 KB upgrade request: closed, never upgraded" hostile ws-bad-http
check "W2: half an upgrade request, then silence: closed at handshake_timeout, others served" \
  hostile ws-stall
check "W2: connections closed (FIN and RST) mid-frame and mid-upgrade: the server goes on" \
  hostile ws-closed-mid-frame

check "Mw: an empty datagram and a keepalive: no answer" hostile mw-empty
check "Mw: $RANDOM_MW_DATAGRAMS random datagrams (fixed seed): no answer" hostile mw-random
check "Mw: a truncated response: dropped" hostile mw-truncated-response
check "Mw: responses to nothing (200, 180): dropped" hostile mw-stray-response
check "Mw: a malformed Via: 400 Malformed Via header; no Via: 400 Missing Via header" \
  hostile mw-malformed-via
check "Mw: 70 KB cannot be sent; 65,507 octets claiming 70,000: 513; without Content-Length: 404" \
  hostile mw-huge

kill -USR1 "$pid"
check "SIGUSR1 logs the counters (event=stats)" wait_log 'event=stats'
check "the process is alive after all of it" kill -0 "$pid"
check "W2: a well-formed OPTIONS still gets 403 Forbidden (not registered)" hostile ws-options
check "Mw: an OPTIONS to us still gets 200 OK" hostile mw-options
call_id=$(hostile ws-register)
check "W2: a REGISTER still reaches the IMS, and its 401 comes back" [ -n "$call_id" ]
check "the IMS saw that REGISTER only (with Path ;ob), nothing hostile" \
  hostile ims-check "$tmp/ims.log" "${call_id:-none}"
check "W2: REGISTER floods on $FLOOD_CONNECTIONS WebSockets: $FLOOD_BURST each go on, then 503 + Retry-After (connection rate limit), a BYE in a dialog is not refused, the ${FLOOD_CLOSE_AFTER}th refusal closes; another WebSocket's REGISTER gets its 401" \
  hostile ws-flood
check "W2: after the flood, a REGISTER still reaches the IMS, and its 401 comes back" \
  bash -c "timeout 20 python3 '$helper' ws-register >/dev/null"

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "still running 10 s after SIGTERM"; kill -KILL "$pid"
fi
wait "$pid"
rc=$?
pid=
check "SIGTERM: exit 0 (got $rc)" [ "$rc" -eq 0 ]
stopped=$(grep 'event=stopped' "$tmp/pcscf.log")
check "SIGTERM: a final event=stopped line" [ -n "$stopped" ]
echo "     $stopped"

# counter NAME: its value in the final line (0 when not written: zero counters are left out).
counter() {
  local v
  v=$(sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$stopped")
  echo "${v:-0}"
}
# at_least NAME N
at_least() { [ "$(counter "$1")" -ge "$2" ]; }
# W2: truncated, 3 Content-Length, 3 invalid headers; Mw: malformed Via, no Via.
check "refused_malformed >= 9 ($(counter refused_malformed))" at_least refused_malformed 9
# W2: 10,000 lines, 2 long fields; Mw: the 65,507-octet datagram.
check "refused_too_large >= 4 ($(counter refused_too_large))" at_least refused_too_large 4
check "refused_bad_version >= 1 ($(counter refused_bad_version))" at_least refused_bad_version 1
# W2: OPTIONS at the start, after garbage, after random, fragmented, at the end, ...
check "refused_not_registered >= 6 ($(counter refused_not_registered))" \
  at_least refused_not_registered 6
# W2: one garbage message, the 10 KB Request-URI and the random ones; Mw: the
# random ones and the 65,507 octets of noise.
unparsable=$((2 + RANDOM_WS_FRAMES + RANDOM_MW_DATAGRAMS + 1))
check "dropped_unparsable >= $unparsable ($(counter dropped_unparsable))" \
  at_least dropped_unparsable "$unparsable"
check "dropped_malformed_response >= 1 ($(counter dropped_malformed_response))" \
  at_least dropped_malformed_response 1
check "dropped_stray_response >= 2 ($(counter dropped_stray_response))" \
  at_least dropped_stray_response 2
check "requests_mw >= 2 ($(counter requests_mw))" at_least requests_mw 2
check "forwarded_w2 = 0: nothing went to a browser but answers" [ "$(counter forwarded_w2)" -eq 0 ]
check "forwarded_mw >= 1: the REGISTER" at_least forwarded_mw 1
flood_refusals=$((FLOOD_CONNECTIONS * FLOOD_CLOSE_AFTER))
check "refused_admission_flow_rate >= $flood_refusals ($(counter refused_admission_flow_rate))" \
  at_least refused_admission_flow_rate "$flood_refusals"
check "admission_flows_closed = $FLOOD_CONNECTIONS ($(counter admission_flows_closed))" \
  [ "$(counter admission_flows_closed)" -eq "$FLOOD_CONNECTIONS" ]
check "no sanitizer report, no crash" \
  bash -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|terminate called|Segmentation' '$tmp/pcscf.log'"
check "the whole test took under 60 s (${SECONDS} s)" [ "$SECONDS" -lt 60 ]
if [ "$failures" -ne 0 ]; then
  echo "--- isthmus-pcscf log"; cat "$tmp/pcscf.log"
fi
summary
