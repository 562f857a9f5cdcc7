#!/usr/bin/env bash
# System test (issue 9): a data channel from headless Chromium to
# isthmus-dataplane, set up by hand (isthmus-ctl session add
# --access-datachannel) — no signalling, the test writes the gateway's SDP
# answer (ICE-lite, its DTLS fingerprint, a=setup:passive, a=sctp-port).
#
#   browser 198.18.0.1 --veth-- [access: net_af_packet0 + net_tap0 198.18.0.2]
#                                isthmus-dataplane (namespace gw)
#   ims     198.18.1.1 --veth-- [core:   net_af_packet1 + net_tap1 198.18.1.2]
#
# Chromium's ICE checks are answered by the worker, its DTLS handshake (it
# is the client) by the slow path, its SCTP association and DCEP OPEN by the
# slow path's data-channel endpoint: the channel opens in Chromium, and its
# messages (small ones and one of 100,000 octets) reach the gateway, which
# counts them (no chat: nothing takes them).
#
# With "msrp" as second argument the session also has an MSRP chat (issue
# 9, isthmus-ctl --msrp-*, the gateway passive on 198.18.1.2:2855): an IMS
# UE (msrp_ue.py, in namespace ims) connects to the gateway's core address
# — a kernel socket of the dataplane behind the core port's exception TAP —
# and Chromium chats with it over the channel: a short message and one of
# 100,000 octets each way, in two chunks from each sender (the gateway
# re-chunks the UE's toward the channel); both sides answer every SEND with
# 200, reassemble by Byte-Range and compare SHA-256 digests.
# "msrp-dcmap" does the same with the channel negotiated in SDP (RFC 8864
# a=dcmap, stream 2; no DCEP: Chromium's negotiated channel, the gateway's
# --msrp-channel 2).
# "bundle" (issues 7 and 9): Chromium offers Opus audio (mid 0) and the
# channel (mid 1) on one transport (max-bundle); the session is a BUNDLE
# transport carrying both (isthmus-ctl --access-datachannel with a core
# leg: LegSecurity::DtlsSrtpSctp): one ICE pair, one DTLS handshake, whose
# SRTP keys the worker uses for the audio (relayed as RTP to a UDP echo in
# the IMS namespace and back) while the slow path runs the channel's SCTP.
# Usage: datachannel_browser_test.sh BUILD_DIR [msrp|msrp-dcmap|bundle]  (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
build=${1:?build dir}
mode=${2:-plain}
chat_channel=()
if [ "$mode" = msrp-dcmap ]; then mode=msrp; chat_channel=(--msrp-channel 2); fi
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
driver=$here/browser/dc-driver.mjs
chromium=${CHROMIUM:-/usr/bin/chromium}
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for t in node ethtool ss "$chromium"; do
  command -v "$t" >/dev/null || { echo "$t missing: run tools/lib/deps.sh"; exit 1; }
done
[ -d "$here/browser/node_modules/playwright-core" ] ||
  { echo "playwright-core missing: run tools/lib/deps.sh"; exit 1; }

S=$$
gw=isth-gw-$S browser=isth-br-$S ims=isth-ims-$S
acc_gw=ag$S acc_host=ab$S core_gw=cg$S core_host=ci$S tap_acc=ta$S tap_core=tc$S
region=/isthmus-dcb-$S
prefix=isthdcb$S
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=""
ue_pid=""

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$ue_pid" ] && kill -KILL "$ue_pid" 2>/dev/null && wait "$ue_pid" 2>/dev/null
  [ -n "${echo_pid:-}" ] && kill -KILL "$echo_pid" 2>/dev/null && wait "$echo_pid" 2>/dev/null
  ip netns del "$gw" 2>/dev/null
  ip netns del "$browser" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  rm -rf "$tmp" "/dev/shm$region" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

ip netns add "$gw" || exit 1
host "$browser" "$acc_host" "$acc_gw" 198.18.0.1/24 || exit 1
host "$ims" "$core_host" "$core_gw" 198.18.1.1/24 || exit 1
ns_gateway_toml '"-l", "0,1"' net_af_packet0 "iface=$acc_gw" net_af_packet1 "iface=$core_gw" \
  > "$tmp/ns.toml"
ns_gateway_start "$tmp/ns.toml"
check "the dataplane runs" wait_running "$ctl" "$region"
fp_gw=$("$ctl" --region "$region" status | sed -n 's/.* dtls_fingerprint=\([0-9A-F:]*\).*/\1/p')
check "it has a DTLS fingerprint" test -n "$fp_gw"

mkdir -p "$tmp/chromium"
# The chat's URIs: ours toward the browser (the access address, RFC 8873's
# ";dc"), ours toward the UE (the core address), the browser's, the UE's.
gw_dc_uri="msrp://198.18.0.2:40010/gwchat21;dc"
gw_tcp_uri="msrp://198.18.1.2:2855/gwchat21;tcp"
browser_uri="msrp://brws21.invalid:9/brws21;dc"
ue_uri="msrp://198.18.1.1:2855/ue21;tcp"
driver_args=(--messages 5 --large 100000)
[ "$mode" = msrp ] && driver_args=(--large 100000 --msrp-to "$gw_dc_uri" --msrp-from "$browser_uri")
[ ${#chat_channel[@]} -gt 0 ] && driver_args+=(--negotiated 2)
[ "$mode" = bundle ] && driver_args+=(--audio)
echo_pid=""
if [ "$mode" = bundle ]; then
  # The IMS side of the audio: echoes every datagram to where it came from,
  # counts the RTP ones (version 2, Opus's payload type 111) it saw.
  cat > "$tmp/echo.py" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.1.1", 6000))
s.settimeout(0.5)
seen = {"datagrams": 0, "rtp_opus": 0}
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        continue
    seen["datagrams"] += 1
    if len(data) >= 12 and data[0] >> 6 == 2 and data[1] & 0x7F == 111:
        seen["rtp_opus"] += 1
    s.sendto(data, peer)
    with open(sys.argv[1], "w") as f:
        json.dump(seen, f)
PY
  ip netns exec "$ims" python3 "$tmp/echo.py" "$tmp/echo.json" 60 &
  echo_pid=$!
fi
ip netns exec "$browser" env TMPDIR="$tmp/chromium" HOME="$tmp/chromium" node "$driver" \
  --chromium "$chromium" --dir "$tmp" "${driver_args[@]}" > "$tmp/driver.out" \
  2> "$tmp/driver.err" &
drv=$!
for _ in $(seq 1 300); do [ -s "$tmp/offer.sdp" ] && break; sleep 0.1; done
check "Chromium offers a data channel" grep -q '^m=application .* UDP/DTLS/SCTP webrtc-datachannel' "$tmp/offer.sdp"
ufrag=$(sed -n 's/^a=ice-ufrag:\(.*\)\r\{0,1\}$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
fp_br=$(sed -n 's/^a=fingerprint:sha-256 \(.*\)$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
mid=$(sed -n 's/^a=mid:\(.*\)$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
echo "  (browser ufrag $ufrag, mid $mid, fingerprint ${fp_br:0:23}...)"

pwd_gw=dcbrowsericepassword0123
chat_args=()
[ "$mode" = msrp ] && chat_args=(--msrp-setup passive --msrp-local 198.18.1.2:2855
  --msrp-session-id gwchat21 --msrp-browser-path "$browser_uri" --msrp-ue-path "$ue_uri"
  "${chat_channel[@]}")
[ "$mode" = bundle ] && chat_args=(--core-local 198.18.1.2:30000 --core-remote 198.18.1.1:6000
  --core-rtcp-mux)
out=$("$ctl" --region "$region" session add --id 21 --access-datachannel \
  --access-local 198.18.0.2:40010 --access-ice-ufrag gwdc --access-ice-pwd "$pwd_gw" \
  --access-remote-ufrag "$ufrag" --access-dtls passive --access-fingerprint "$fp_br" \
  --max-message-size 262144 "${chat_args[@]}" 2>&1)
what=""
[ "$mode" = msrp ] && what="(with a chat) "
[ "$mode" = bundle ] && what="(with a core leg: DtlsSrtpSctp) "
check "isthmus-ctl session add --access-datachannel $what($out)" \
  grep -q '^id=21 result=ok ' <<< "$out"
if [ "$mode" = msrp ]; then
  # The UE connects once the channel opened the chat (it retries until then).
  ip netns exec "$ims" python3 "$here/msrp_ue.py" --connect 198.18.1.2:2855 --to "$gw_tcp_uri" \
    --from "$ue_uri" --large 100000 --timeout 40 --linger 30 > "$tmp/ue.out" 2> "$tmp/ue.err" &
  ue_pid=$!
fi
transport=("a=ice-ufrag:gwdc" "a=ice-pwd:$pwd_gw" "a=fingerprint:sha-256 $fp_gw" "a=setup:passive")
if [ "$mode" = bundle ]; then
  mids=$(sed -n 's/^a=mid:\(.*\)$/\1/p' "$tmp/offer.sdp" | tr -d '\r' | tr '\n' ' ')
  check "Chromium offers audio then the channel, one BUNDLE group (mids $mids)" \
    grep -q "^a=group:BUNDLE 0 1" "$tmp/offer.sdp"
  printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 198.18.0.2" "s=-" "t=0 0" "a=ice-lite" \
    "a=group:BUNDLE 0 1" \
    "m=audio 40010 UDP/TLS/RTP/SAVPF 111" "c=IN IP4 198.18.0.2" "a=mid:0" "${transport[@]}" \
    "a=rtcp-mux" "a=sendrecv" "a=rtpmap:111 opus/48000/2" \
    "a=candidate:1 1 udp 2130706431 198.18.0.2 40010 typ host" "a=end-of-candidates" \
    "m=application 40010 UDP/DTLS/SCTP webrtc-datachannel" "c=IN IP4 198.18.0.2" "a=mid:1" \
    "${transport[@]}" "a=sctp-port:5000" "a=max-message-size:262144" > "$tmp/answer.tmp"
else
  printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 198.18.0.2" "s=-" "t=0 0" "a=ice-lite" \
    "m=application 40010 UDP/DTLS/SCTP webrtc-datachannel" "c=IN IP4 198.18.0.2" \
    "a=mid:$mid" "${transport[@]}" "a=sctp-port:5000" "a=max-message-size:262144" \
    "a=candidate:1 1 udp 2130706431 198.18.0.2 40010 typ host" "a=end-of-candidates" \
    > "$tmp/answer.tmp"
fi
mv "$tmp/answer.tmp" "$tmp/answer.sdp"

jq_field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$1" "$2" 2>/dev/null; }
wait "$drv"; rc=$?
res=$(cat "$tmp/driver.out")
echo "  driver: ${res:0:600}"
[ "$rc" -eq 0 ] || sed -n 1,20p "$tmp/driver.err"
check "the channel opens in Chromium (exit $rc)" grep -q '"open":true' <<< "$res"
if [ "$mode" = msrp ]; then
  for _ in $(seq 1 400); do [ -s "$tmp/ue.out" ] && break; sleep 0.1; done
  ue=$(head -1 "$tmp/ue.out")
  echo "  UE: ${ue:0:600}"
  [ -n "$ue" ] || sed -n 1,20p "$tmp/ue.err"
  check "the UE connected to the gateway's core address and finished" \
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit("error" in d)' "$ue"
  msg() {  # JSON, message id, field
    jq_field "$1" "next((g.get('$3') for g in d$4['got'] if g['id']=='$2'), None)"
  }
  check "Chromium got the UE's short message" test "$(msg "$res" uemsg1 text "['msrp']")" = "hello browser"
  check "Chromium got the UE's 100,000 octets (re-chunked), digest equal" \
    test "$(msg "$res" uemsg2 sha "['msrp']")" = "$(jq_field "$ue" "d['sent_sha']")"
  check "more chunks reached Chromium than the UE sent (re-chunked to 16 KiB)" \
    test "$(jq_field "$res" "d['msrp']['chunks_in']")" -gt 3
  check "Chromium's 3 SENDs got their 200s" test "$(jq_field "$res" "d['msrp']['oks']")" -ge 3
  check "the UE got Chromium's short message" test "$(msg "$ue" brmsg1 text "")" = "hello IMS"
  check "the UE got Chromium's 100,000 octets in its 2 chunks, digest equal" \
    test "$(msg "$ue" brmsg2 sha "")" = "$(jq_field "$res" "d['sent_sha']")"
  check "the UE's 3 SENDs got their 200s" test "$(jq_field "$ue" "d['oks']")" -ge 3
  check "nothing Chromium got was not MSRP" test "$(jq_field "$res" "d['msrp']['bad']")" = 0
else
check "on an even stream id (Chromium is the DTLS client), protocol msrp" \
  grep -q '"id":0,"protocol":"msrp"' <<< "$res"
check "its SCTP transport is connected, everything sent left its buffer" \
  grep -q '"buffered":0,"sctp":"connected"' <<< "$res"
check "Chromium sees our a=max-message-size" grep -q '"max_message_size":262144' <<< "$res"
fi
if [ "$mode" = bundle ]; then
  echo "  IMS echo: $(cat "$tmp/echo.json" 2>/dev/null)"
  check "Chromium sent audio on the bundle" test "$(jq_field "$res" "d['audio']['sent']")" -gt 20
  check "the IMS side got it as plain RTP (Opus, PT 111), decrypted under the DTLS keys" \
    test "$(jq_field "$(cat "$tmp/echo.json")" "d['rtp_opus']")" -gt 20
  check "and Chromium received the echo, encrypted under the same keys" \
    test "$(jq_field "$res" "d['audio']['received']")" -gt 20
  check "one transport for the audio and the channel" \
    test "$(jq_field "$res" "d['audio']['transports']")" = 1
fi
check "and the channel stays open" grep -q '"still_open":true' <<< "$res"
sleep 0.3  # a heartbeat: the slow path publishes its counters
cnt=$("$ctl" --region "$region" counters | grep '^slow_path=')
dc() { sed -n "s/.* dtls_$1=\([0-9]*\).*/\1/p" <<< "$cnt"; }
ms() { sed -n "s/.* msrp_$1=\([0-9]*\).*/\1/p" <<< "$cnt"; }
echo "  slow path: dc_legs_up=$(dc dc_legs_up) dc_channels=$(dc dc_channels) dc_messages_in=$(dc dc_messages_in) dc_unrouted=$(dc dc_unrouted) dc_failed=$(dc dc_failed) dc_no_leg=$(dc dc_no_leg)"
check "the gateway's slow path made the SCTP endpoint" test "$(dc dc_legs_up)" = 1
[ "$mode" = bundle ] && check "on the one DTLS association both use (handshakes_up=$(dc handshakes_up))" \
  test "$(dc handshakes_up)/$(dc handshakes_started)" = 1/1
if [ ${#chat_channel[@]} -gt 0 ]; then
  check "no DCEP OPEN: the channel was negotiated in SDP (stream 2)" \
    test "$(dc dc_channels)/$(jq_field "$res" "d['id']")" = 0/2
else
  check "and took Chromium's DCEP OPEN" test "$(dc dc_channels)" = 1
fi
if [ "$mode" = msrp ]; then
  echo "  chats: started=$(ms started) tcp_up=$(ms tcp_up) relayed_to_tcp=$(ms relayed_to_tcp) relayed_to_channel=$(ms relayed_to_channel) unmatched=$(ms unmatched) chats=$(ms chats)"
  check "one chat, its TCP connection matched" test "$(ms started)/$(ms tcp_up)" = 1/1
  check "3 chunks relayed each way" test "$(ms relayed_to_tcp)/$(ms relayed_to_channel)" = 3/3
  check "every channel message went to the chat" test "$(dc dc_unrouted)" = 0
else
  check "and all 6 messages, the 100,000-octet one too" test "$(dc dc_messages_in)" = 6
fi

out=$("$ctl" --region "$region" session delete 21 2>&1)
check "session delete 21 ($out)" grep -q '^id=21 result=ok' <<< "$out"
if [ "$mode" = msrp ]; then
  sleep 0.3
  cnt=$("$ctl" --region "$region" counters | grep '^slow_path=')
  check "the delete ended the chat and freed it" test "$(ms chats)/$(ms ended)" = 0/1
  wait "$ue_pid"; urc=$?; ue_pid=""
  check "the UE saw the gateway close its connection (exit $urc)" \
    grep -q '"eof": true' "$tmp/ue.out"
  check "no listener is left on the core address" \
    test -z "$(ip netns exec "$gw" ss -Htln 'sport = :2855')"
fi
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
if [ "$failures" -ne 0 ]; then echo "--- dataplane log"; tail -30 "$tmp/dp.log"; fi
summary
