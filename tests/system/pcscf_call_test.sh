#!/usr/bin/env bash
# System test of calls through the eP-CSCF (signalling only) against the test
# IMS core, with a WebSocket SIP client as the browser, in network namespaces:
#
#   ue  198.18.23.2 --veth-- 198.18.23.1 [isthmus-pcscf] 198.18.22.1 --veth-- ims
#   JsSIP (Node)      W2: ws :5062, wss :7443        Mw: udp :5060    Kamailio 198.18.22.2:5060
#   w2-call.mjs                                                       sipp bob 198.18.22.3:5070/5071
#
# alice is tests/system/jssip/w2-call.mjs (JsSIP with a fake RTCPeerConnection
# that writes Chrome-like WebRTC SDP); bob is sipp with uas_call.xml (he takes
# calls) or uac_call.xml (he calls), registered directly at Kamailio. Checked:
#  - alice (wss) calls bob: 180 and 200 reach her, her ACK reaches bob; her
#    BYE ends the call (bob answers it 200);
#  - alice (ws) calls bob, holds and resumes: both re-INVITEs (a=sendonly,
#    then a=sendrecv) reach bob and are answered 200 with SDP (recvonly, then
#    sendrecv); she hangs up;
#  - alice calls bob with audio and video (bob rejects the video) and bob
#    hangs up (his BYE follows the route set back to her WebSocket);
#  - bob calls alice: she rings, answers, gets his ACK; bob's BYE ends it;
#  - bob calls alice and she hangs up, on a "hangup" written to her stdin;
#  - alice cancels a call that bob lets ring: bob sees the CANCEL, she gets 487;
#  - alice's call to dave, who is not registered, fails with Kamailio's 404.
# The checks hold whether the P-CSCF relays the SDP unchanged or rewrites it
# (IMS-ALG): they look at SIP, at directions and at the presence of media
# lines, never at addresses being equal end to end.
# Addresses from 198.18.22.0/24 and 198.18.23.0/24 (pcscf_ims_test.sh uses
# 198.18.20/21); namespaces, processes and files are removed on exit.
# Usage: pcscf_call_test.sh BUILD_DIR   (root; exit 77 = skipped)
# PCSCF_CALL_KEEP=1 keeps the directory with every log, JSON line and sipp
# trace (its name is printed at the end).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
build=${1:?build dir}
pcscf=$build/controlplane/pcscf/isthmus-pcscf
client=$here/jssip/w2-call.mjs
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in kamailio sipp node openssl jq; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done
[ -d "$here/jssip/node_modules" ] || { echo "JsSIP missing: run tools/lib/deps.sh"; exit 1; }

S=$$
ue=isth-cue-$S pc=isth-cpc-$S ims=isth-cims-$S
tmp=$(mktemp -d)
pcscf_pid=""
bg=()

cleanup() {
  local p
  exec 7>&-
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$pcscf_pid" ] && kill -KILL "$pcscf_pid" 2>/dev/null
  ims_stop
  ip netns del "$ue" 2>/dev/null
  ip netns del "$pc" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  if [ -n "${PCSCF_CALL_KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# --- the three namespaces --------------------------------------------------
ip netns add "$ue" && ip netns add "$pc" && ip netns add "$ims" || exit 1
ip link add "cw$S" netns "$pc" type veth peer name "cu$S" netns "$ue" || exit 1
ip link add "cm$S" netns "$pc" type veth peer name "ci$S" netns "$ims" || exit 1
ip -n "$ue" addr add 198.18.23.2/24 dev "cu$S"
ip -n "$pc" addr add 198.18.23.1/24 dev "cw$S"
ip -n "$pc" addr add 198.18.22.1/24 dev "cm$S"
ip -n "$ims" addr add 198.18.22.2/24 dev "ci$S"
ip -n "$ims" addr add 198.18.22.3/24 dev "ci$S"
for l in "$ue cu$S" "$pc cw$S" "$pc cm$S" "$ims ci$S"; do
  set -- $l
  ip -n "$1" link set "$2" up
  ip -n "$1" link set lo up
done

# --- the IMS core ------------------------------------------------------------
ims_start "$ims" 198.18.22.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }

# --- the P-CSCF --------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=pcscf.example.net -keyout "$tmp/pcscf.key" -out "$tmp/pcscf.crt" 2>/dev/null || exit 1
head -c 32 /dev/urandom > "$tmp/flow.key"
cat > "$tmp/isthmus.toml" <<TOML
[pcscf]
visited_network_id = "visited.example.net"
orig_ioi = "pcscf.example.net"
flow_token_key_file = "$tmp/flow.key"
[pcscf.w2]
host = "pcscf.example.net"
ws = "198.18.23.1:5062"
wss = "198.18.23.1:7443"
certificate = "$tmp/pcscf.crt"
private_key = "$tmp/pcscf.key"
[pcscf.mw]
address = "198.18.22.1"
port = 5060
transports = ["udp"]
next_hop = "udp:198.18.22.2:5060"
TOML
check "isthmus-pcscf accepts the configuration" \
  ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" --check-config
ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" 2>"$tmp/pcscf.log" &
pcscf_pid=$!
for _ in $(seq 1 100); do
  ip netns exec "$pc" ss -Hln "sport = :5060" 2>/dev/null | grep -q . && break
  sleep 0.05
done
ip netns exec "$pc" ss -Hln "sport = :5060" 2>/dev/null | grep -q . ||
  { echo "isthmus-pcscf did not start"; cat "$tmp/pcscf.log"; exit 1; }

# --- helpers -------------------------------------------------------------------
ws=ws://198.18.23.1:5062 wss=wss://198.18.23.1:7443
# alice, bob_uas, bob_calls, event, sipp_* ...: call_lib.sh.
bob_addr=198.18.22.3 bob_media=198.18.22.3
alice_extra=(--candidate 198.18.23.2:40000)
not() { ! "$@"; }

# --- bob, a UE in the IMS -----------------------------------------------------
bob_registers() { ims_register "$ims" 198.18.22.3 bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1; }
check "bob registers directly at the IMS core" bob_registers

# --- 1. alice (wss) calls bob, alice hangs up -------------------------------
bob_uas c1-bob answer
alice c1 --ws-uri "$wss" --insecure --call sip:bob@ims.example.net --hangup-after-ms 500 --timeout 30
check "1: alice's call to bob is set up, hung up by her and her client exits 0" exited "$alice_pid" 0
check "1: bob (sipp) took the INVITE, sent 180 and 200, got the ACK, answered her BYE 200" exited "$bob_pid" 0
check "1: bob's 180 reaches alice" event c1 '.event == "recv" and .status == 180 and .method == "INVITE"'
check "1: bob's 200 reaches alice with one Via (hers)" \
  event c1 '.event == "recv" and .status == 200 and .method == "INVITE" and (.headers.Via | length) == 1'
check "1: the 200 carries an SDP answer with a live audio m-line" \
  event c1 '.event == "remote_sdp" and .kind == "answer" and .port > 0 and .connection_address != null
            and any(.media[]; .type == "audio" and .port > 0)'
check "1: alice's offer left as WebRTC SDP (UDP/TLS/RTP/SAVPF, ICE, DTLS actpass, her candidate)" \
  event c1 '.event == "local_sdp" and .kind == "offer" and .proto == "UDP/TLS/RTP/SAVPF" and .ice_ufrag != null
            and .setup == "actpass" and .candidate_address == "198.18.23.2" and .candidate_port == 40000'
check "1: bob's INVITE carries an audio offer with PCMU" \
  sipp_has "$tmp/c1-bob.msg" received '^INVITE ' '^a=rtpmap:0 PCMU/8000'
check "1: alice confirmed the call and sent the ACK" \
  eval 'event c1 ".event == \"confirmed\"" && event c1 ".event == \"sent\" and .method == \"ACK\""'
check "1: bob received the ACK and alice's BYE" \
  eval '[ "$(sipp_count "$tmp/c1-bob.msg" received "^ACK ")" -ge 1 ] &&
        [ "$(sipp_count "$tmp/c1-bob.msg" received "^BYE ")" -eq 1 ]'
check "1: her BYE got bob's 200" event c1 '.event == "bye_answered" and .status == 200'
check "1: the call ended on her side (originator local)" \
  event c1 '.event == "ended" and .originator == "local"'
# Informational, not a check: what the P-CSCF does with SDP today.
if sipp_has "$tmp/c1-bob.msg" received '^INVITE ' '^m=audio [0-9]+ UDP/TLS/RTP/SAVPF'; then
  echo "# the P-CSCF relays the SDP unchanged (WebRTC SDP reached bob)"
else
  echo "# the P-CSCF rewrote the SDP (no WebRTC SDP reached bob)"
fi

# --- 2. alice (ws) calls bob, holds, resumes, hangs up ------------------------
bob_uas c2-bob answer
alice c2 --ws-uri "$ws" --call sip:bob@ims.example.net \
  --hold-after-ms 300 --unhold-after-ms 300 --hangup-after-ms 300 --timeout 30
check "2: alice's call with hold and resume ends well (client exits 0)" exited "$alice_pid" 0
check "2: bob took the call, both re-INVITEs and her BYE (sipp exits 0)" exited "$bob_pid" 0
check "2: the hold re-INVITE got 200 with SDP at alice" event c2 '.event == "hold_succeeded"'
check "2: the resume re-INVITE got 200 with SDP at alice" event c2 '.event == "unhold_succeeded"'
check "2: alice's offers: sendrecv, sendonly (hold), sendrecv (resume)" \
  is "$(jq -s -c '[.[] | select(.event == "local_sdp" and .kind == "offer") | .direction]' "$tmp/c2.jsonl")" \
     '["sendrecv","sendonly","sendrecv"]'
check "2: bob's answers as alice saw them: sendrecv, recvonly, sendrecv" \
  is "$(jq -s -c '[.[] | select(.event == "remote_sdp" and .kind == "answer") | .direction]' "$tmp/c2.jsonl")" \
     '["sendrecv","recvonly","sendrecv"]'
check "2: bob received three INVITEs, the second with a=sendonly, the third with a=sendrecv" \
  eval '[ "$(sipp_count "$tmp/c2-bob.msg" received "^INVITE ")" -eq 3 ] &&
        sipp_nth "$tmp/c2-bob.msg" received "^INVITE " 2 | grep -q "^a=sendonly" &&
        sipp_nth "$tmp/c2-bob.msg" received "^INVITE " 3 | grep -q "^a=sendrecv" &&
        ! sipp_nth "$tmp/c2-bob.msg" received "^INVITE " 3 | grep -Eq "^a=(sendonly|recvonly|inactive)"'
check "2: the re-INVITEs are in the dialog (bob's To tag, CSeq +1 and +2)" \
  all_events c2 '[.[] | select(.event == "sent" and .method == "INVITE")]
            | (map(.cseq | split(" ")[0] | tonumber)) as $c
            | length == 3 and $c[1] == $c[0] + 1 and $c[2] == $c[0] + 2
              and (.[1:] | all(.to | test(";tag=")))'
check "2: three 200s to INVITE reached alice, and she ACKed each" \
  eval '[ "$(count c2 ".event == \"recv\" and .status == 200 and .method == \"INVITE\"")" -ge 3 ] &&
        [ "$(count c2 ".event == \"sent\" and .method == \"ACK\"")" -ge 3 ]'

# --- 3. alice calls bob with audio and video, bob hangs up ----------------------
bob_uas c3-bob hangup -d 500
alice c3 --ws-uri "$ws" --call sip:bob@ims.example.net --video --timeout 30
check "3: alice's call ends by bob's BYE and her client exits 0" exited "$alice_pid" 0
check "3: bob's BYE (along the route set) got alice's 200 (sipp exits 0)" exited "$bob_pid" 0
check "3: alice received bob's BYE and answered 200" \
  eval 'event c3 ".event == \"recv\" and .method == \"BYE\"" &&
        event c3 ".event == \"sent\" and .status == 200 and .method == \"BYE\""'
check "3: the call ended by the remote side" event c3 '.event == "ended" and .originator == "remote"'
check "3: alice offered audio and video (VP8, H264), bundled" \
  event c3 '.event == "local_sdp" and .kind == "offer" and ([.media[].type] == ["audio", "video"])
            and (.media[1].codecs | any(test("VP8/90000")) and any(test("H264/90000"))) and .bundle == ["0", "1"]'
check "3: bob's answer, as alice saw it, keeps audio and rejects video (port 0)" \
  event c3 '.event == "remote_sdp" and .kind == "answer" and ([.media[].type] == ["audio", "video"])
            and .media[0].port > 0 and .media[1].port == 0'

# --- 4. bob calls alice, bob hangs up ---------------------------------------------
alice c4 --ws-uri "$ws" --answer --answer-delay-ms 300 --timeout 30
c4_pid=$alice_pid
check "4: alice is registered and waits for a call" wait_event c4 '.event == "ready"'
bob_calls c4-bob alice bob -d 500
check "4: bob's call is answered and his BYE gets 200 (sipp exits 0)" exited "$bob_pid" 0
check "4: alice answered, the call ended by bob, her client exits 0" exited "$c4_pid" 0
check "4: bob's INVITE reached alice" \
  event c4 '.event == "incoming" and (.from | test("^sip:bob@"))'
check "4: alice sent 180 and then 200 with her SDP answer" \
  eval 'event c4 ".event == \"sent\" and .status == 180 and .method == \"INVITE\"" &&
        event c4 ".event == \"local_sdp\" and .kind == \"answer\" and (.start_line | startswith(\"SIP/2.0 200\"))"'
check "4: her answer is WebRTC SDP (DTLS active, her candidate)" \
  event c4 '.event == "local_sdp" and .kind == "answer" and .setup == "active" and .candidate_port == 40000'
check "4: the offer alice got has a live audio m-line" \
  event c4 '.event == "remote_sdp" and .kind == "offer" and any(.media[]; .type == "audio" and .port > 0)'
check "4: bob's ACK and BYE reached alice" \
  eval 'event c4 ".event == \"recv\" and .method == \"ACK\"" && event c4 ".event == \"recv\" and .method == \"BYE\""'
check "4: the call was confirmed by bob's ACK and ended by him" \
  eval 'event c4 ".event == \"confirmed\" and .originator == \"remote\"" &&
        event c4 ".event == \"ended\" and .originator == \"remote\""'
check "4: bob got 180 and a 200 with an audio answer" \
  eval '[ "$(sipp_count "$tmp/c4-bob.msg" received "^SIP/2.0 180")" -ge 1 ] &&
        sipp_has "$tmp/c4-bob.msg" received "^SIP/2.0 200 .*" "^m=audio [1-9]"'

# --- 5. bob calls alice, alice hangs up (a command on her stdin) -------------------
mkfifo "$tmp/c5.in"
exec 7<>"$tmp/c5.in"
alice c5 --ws-uri "$wss" --insecure --answer --timeout 30
c5_pid=$alice_pid
check "5: alice is registered and waits for a call" wait_event c5 '.event == "ready"'
bob_calls c5-bob alice callee
check "5: alice's call with bob is confirmed" wait_event c5 '.event == "confirmed"'
echo hangup >&7
check "5: on 'hangup' alice sends the BYE and bob answers it 200 (sipp exits 0)" exited "$bob_pid" 0
check "5: her client reports the BYE answered 200 and exits 0" \
  eval 'exited "$c5_pid" 0 && event c5 ".event == \"bye_answered\" and .status == 200"'
exec 7>&-

# --- 6. alice cancels ----------------------------------------------------------------
bob_uas c6-bob cancel
alice c6 --ws-uri "$ws" --call sip:bob@ims.example.net --cancel-after-ms 1000 --timeout 30
check "6: alice cancels the ringing call: CANCEL sent, 487 received, client exits 0" exited "$alice_pid" 0
check "6: bob saw the CANCEL, answered 200 and 487, got the ACK (sipp exits 0)" exited "$bob_pid" 0
check "6: 180 reached alice before she cancelled" \
  event c6 '.event == "recv" and .status == 180'
check "6: alice sent a CANCEL and got 487 for her INVITE" \
  eval 'event c6 ".event == \"sent\" and .method == \"CANCEL\"" &&
        event c6 ".event == \"recv\" and .status == 487 and .method == \"INVITE\""'
check "6: the call failed on her side as Canceled, never confirmed" \
  eval 'event c6 ".event == \"failed\" and .cause == \"Canceled\"" && not event c6 ".event == \"confirmed\""'
check "6: bob received exactly one CANCEL" \
  is "$(sipp_count "$tmp/c6-bob.msg" received '^CANCEL ')" 1

# --- 7. a call to a user who is not registered -------------------------------------
alice c7 --ws-uri "$ws" --call sip:dave@ims.example.net --expect-failure 404 --timeout 30
check "7: alice's call to unregistered dave fails with Kamailio's 404 (client exits 0)" exited "$alice_pid" 0
check "7: the 404 reached her and the call failed with status 404" \
  eval 'event c7 ".event == \"recv\" and .status == 404 and .method == \"INVITE\"" &&
        event c7 ".event == \"failed\" and .status == 404"'

# --- the daemon stops cleanly ---------------------------------------------------------
kill -TERM "$pcscf_pid"
wait "$pcscf_pid"; pcscf_status=$?
pcscf_pid=""
check "isthmus-pcscf exits 0 on SIGTERM" [ "$pcscf_status" -eq 0 ]
check "it ends with no flow and no registration left" \
  grep -q "event=stopped flows=0 registrations=0 " "$tmp/pcscf.log"

if [ "$failures" -ne 0 ]; then
  for f in "$tmp"/*.err "$tmp"/*.sipp-err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -n 8 "$f"; }
  done
  echo "--- pcscf.log (tail)"; tail -n 20 "$tmp/pcscf.log"
  echo "--- kamailio.log (tail)"; tail -n 30 "$tmp/kamailio.log"
fi
summary
