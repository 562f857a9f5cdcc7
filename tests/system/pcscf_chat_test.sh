#!/usr/bin/env bash
# System test of chat sessions through signalling (issue 9, TS 24.371
# clause 8): the WIC in headless Chromium chats with an IMS UE through
# isthmus-pcscf (the IMS-ALG), isthmus-dataplane (the data channel and the
# MSRP relay in its slow path) and Kamailio. The topology of
# pcscf_browser_test.sh, with bob an IMS UE of our own for SIP and MSRP
# (ims_chat_ue.py):
#
#   ue                                  gw                                   ims
#   Chromium alice 198.18.25.2 --sig-- isthmus-pcscf --sig--  Kamailio 198.18.24.2, bob's SIP 198.18.24.3
#   Chromium's channel 198.18.0.1 --UDP (ICE, DTLS, SCTP)-- [access 198.18.0.2]
#                                      isthmus-dataplane
#                                      [core 198.18.1.2] --TCP (MSRP)--  bob's MSRP 198.18.1.1
#
#  1. alice starts a chat session with bob in the WIC ("Start chat
#     session"): JsSIP's INVITE offers a data channel with an MSRP a=dcmap
#     (negotiated in SDP, RFC 8864/8873); the IMS-ALG gives bob `m=message
#     TCP/MSRP` with the gateway's core address in a=path; bob answers
#     a=setup:active and connects; the channel opens in Chromium; a short
#     message and one of 100,000 octets each way (more than one chunk each
#     way: the WIC's in 16 KiB chunks, bob's in two), every one delivered
#     (200s), digests compared; the chat stays up until alice hangs up:
#     bob takes the BYE, the gateway closes his MSRP connection, no session
#     left;
#  2. bob starts a chat with alice (his INVITE offers m=message, actpass):
#     the WIC rings as a chat, alice answers, the gateway listens and bob
#     connects; the same messages each way; bob hangs up; no session left;
#  3. alice starts a chat with audio beside it ("with audio"): her offer
#     bundles audio and the data channel, the IMS-ALG answers both on one
#     transport, one dataplane session (DtlsSrtpSctp) carries the audio
#     (bob echoes it) and the chat (the same messages each way);
#  4. bob calls alice with audio and a chat: the WIC is offered the data
#     channel bundle-only in the audio's group, her answer bundles it, one
#     session carries both; the same messages each way; bob hangs up;
# and the P-CSCF's and the dataplane's counts at the end. Addresses from
# 198.18.0.0/15; namespaces, processes (Chromium too), the dpif region and
# files are removed on exit.
# Usage: pcscf_chat_test.sh BUILD_DIR (root; exit 77 = skipped).
# PCSCF_CHAT_KEEP=1 keeps the directory of logs (with screenshots).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
. "$here/browser/browser_lib.sh"
media_test_init h "${1:?build dir}" PCSCF_CHAT_KEEP
wic_init
wic_events=alice shots=$tmp
ue_chat=$here/ims_chat_ue.py
media_topology || exit 1
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'
media_config "$tmp/isthmus.toml"
ns_gateway_start "$tmp/isthmus.toml"
check "the dataplane runs" wait_running "$ctl" "$region"
check "the P-CSCF attached to the dataplane" pcscf_start
[ "$failures" -eq 0 ] || { summary; exit 1; }

wic_start_alice
check "Chromium opens the WIC" wait_event alice '.event == "ready"' 30
wic register
check "alice registers through the eP-CSCF" \
  wait_event alice '.event == "state" and .registration == "registered"' 15

# What every chat must show. LABEL UE BASE: the UE's events in
# $tmp/UE.jsonl; BASE: how many messages the WIC sent in earlier chats
# (as many as it received).
# The large messages of both sides are 'A' + i mod 26, 100,000 octets.
large_sha=$(python3 -c 'import hashlib; print(hashlib.sha256(bytes(65 + i % 26 for i in range(100000))).hexdigest())')
chat_checks() {
  local l=$1 ue=$2 base=$3
  # The WIC's messages: each sent (every chunk got its 200).
  check "$l: the WIC's two messages were delivered (every chunk answered 200)" \
    wait_count alice ".event == \"message\" and .via == \"msrp\" and .direction == \"outgoing\" and .status == \"sent\"" $((base + 2)) 20
  check "$l: the WIC got bob's short message" \
    wait_count alice '.event == "message" and .via == "msrp" and .direction == "incoming" and .text == "hello browser"' $((base / 2 + 1)) 20
  check "$l: the WIC got bob's 100,000 octets, digest equal" \
    wait_count alice ".event == \"message\" and .via == \"msrp\" and .direction == \"incoming\" and .chars == 100000 and .sha == \"$large_sha\"" $((base / 2 + 1)) 20
  check "$l: bob got the WIC's short message" \
    wait_event "$ue" '.event == "chat" and any(.got[]; .text == "hello IMS")' 30
  check "$l: bob got the WIC's 100,000 octets in more than one chunk, digest equal" \
    eval "event $ue '.event == \"chat\" and any(.got[]; .bytes == 100000 and .sha == \"$large_sha\") and .chunks_in >= 3'"
  check "$l: bob's three SENDs got their 200s" event "$ue" '.event == "chat" and .oks >= 3 and (.error | not)'
}

# --- 1. alice chats with bob ---------------------------------------------------
ip netns exec "$ims" python3 "$ue_chat" answer --sip "$bob_addr:5070" --msrp-addr "$bob_media" \
  --msrp-port 2856 --large 100000 --expect 2 --timeout 60 --linger 30 \
  > "$tmp/c1-bob.jsonl" 2> "$tmp/c1-bob.err" &
bob_pid=$!
bg+=("$bob_pid")
wait_udp "$ims" 5070
wic chat-start sip:bob@ims.example.net
check "1: the chat session is confirmed in the WIC" \
  wait_event alice '.event == "state" and .call == "confirmed" and .chat == true' 20
check "1: bob was offered m=message TCP/MSRP with the gateway's core address in a=path" \
  event c1-bob '.event == "invite" and (.sdp.m | test("^message [0-9]+ TCP/MSRP")) and
                (.sdp.path | test("^msrp://198[.]18[.]1[.]2:5[0-9]{4}/[^/]+;tcp$")) and .sdp.setup == "actpass"'
check "1: the dataplane holds one session (the data channel's)" sessions_are 1
check "1: the WIC's channel opened (ICE, DTLS, SCTP with the gateway)" \
  wait_event alice '.event == "state" and .chatChannel == "open"' 20
check "1: bob connected to the gateway (active)" wait_event c1-bob '.event == "msrp" and .role == "active"' 20
wic chat - hello IMS
wic chat-large 100000
chat_checks 1 c1-bob 0
wic text call-state
shot chat
check "1: the page shows the chat open" \
  eval 'wait_event alice ".event == \"text\" and .id == \"call-state\" and .text == \"confirmed (chat open)\"" 5'
wic hangup
check "1: alice hangs up: the WIC shows the chat ended" \
  wait_event alice '.event == "state" and .call == "ended" and .chatChannel == "closed"' 10
check "1: bob took her BYE and finished (exit 0)" exited "$bob_pid" 0
check "1: bob saw the BYE from the far end" event c1-bob '.event == "bye" and .by == "remote" and .status == 200'
check "1: the chat's end closed bob's MSRP connection (the gateway's side)" \
  event c1-bob '.event == "msrp_closed" and .eof == true'
check "1: no session left" sessions_are 0

# --- 2. bob chats with alice ---------------------------------------------------
ip netns exec "$ims" python3 "$ue_chat" call --sip "$bob_addr:5071" --proxy 198.18.24.2:5060 \
  --target sip:alice@ims.example.net --from sip:bob@ims.example.net --msrp-addr "$bob_media" \
  --msrp-port 2857 --large 100000 --expect 2 --timeout 60 --hangup-after 1 \
  > "$tmp/c2-bob.jsonl" 2> "$tmp/c2-bob.err" &
bob_pid=$!
bg+=("$bob_pid")
check "2: bob's chat rings in the WIC as a chat" \
  wait_event alice '.event == "state" and .call == "ringing" and .chat == true and (.peer | startswith("sip:bob@"))' 20
shot chat-ringing
n_open=$(count alice '.event == "state" and .chatChannel == "open"')
wic answer
check "2: alice answers: the chat session is confirmed" \
  wait_event alice '.event == "state" and .call == "confirmed" and .chat == true and .calls == 2' 20
check "2: bob's answer: m=message with the gateway's core address, the gateway passive" \
  wait_event c2-bob '.event == "answered" and .status == 200 and
                     (.sdp.path | test("^msrp://198[.]18[.]1[.]2:5[0-9]{4}/[^/]+;tcp$")) and .sdp.setup == "passive"' 10
check "2: the dataplane holds one session" sessions_are 1
check "2: the WIC's channel opened" \
  wait_count alice '.event == "state" and .chatChannel == "open"' $((n_open + 1)) 20
wic chat - hello IMS
wic chat-large 100000
chat_checks 2 c2-bob 2
check "2: bob hangs up (exit 0, his BYE answered 200)" exited "$bob_pid" 0
check "2: the BYE was bob's" event c2-bob '.event == "bye" and .by == "local" and .status == 200'
check "2: the WIC shows the chat ended by bob" \
  wait_event alice '.event == "state" and .call == "ended" and .calls == 2' 10
check "2: no session left" sessions_are 0

# --- 3. alice chats with bob beside audio, on one transport -------------------------
ip netns exec "$ims" python3 "$ue_chat" answer --sip "$bob_addr:5070" --msrp-addr "$bob_media" \
  --msrp-port 2858 --audio-port 6002 --large 100000 --expect 2 --timeout 60 --linger 30 \
  > "$tmp/c3-bob.jsonl" 2> "$tmp/c3-bob.err" &
bob_pid=$!
bg+=("$bob_pid")
wait_udp "$ims" 5070
n_open=$(count alice '.event == "state" and .chatChannel == "open"')
wic chat-start sip:bob@ims.example.net audio
check "3: the call with audio and a chat is confirmed in the WIC" \
  wait_event alice '.event == "state" and .call == "confirmed" and .chat == true and .chatOnly == false and .calls == 3' 20
check "3: bob was offered m=audio and m=message (the gateway's core address in a=path)" \
  event c3-bob '.event == "invite" and (.sdp.media | length) == 2 and (.sdp.media[0] | test("^audio [0-9]+ RTP/AVP")) and
                (.sdp.media[1] | test("^message [0-9]+ TCP/MSRP")) and
                (.sdp.path | test("^msrp://198[.]18[.]1[.]2:5[0-9]{4}/[^/]+;tcp$"))'
check "3: the dataplane holds one session for both (the BUNDLE transport carries the chat)" sessions_are 1
check "3: the WIC's channel opened" \
  wait_count alice '.event == "state" and .chatChannel == "open"' $((n_open + 1)) 20
check "3: bob connected to the gateway (active)" wait_event c3-bob '.event == "msrp" and .role == "active"' 20
wic wait-media 20
check "3: audio flows both ways (bob echoes it)" wait_event alice '.event == "media_up"' 25
wic stats
check "3: over one transport, audio and the channel alike" \
  wait_event alice '.event == "stats" and (.transports | length) == 1 and .transports[0].dtlsState == "connected"' 10
wic chat - hello IMS
wic chat-large 100000
chat_checks 3 c3-bob 4
wic hangup
check "3: alice hangs up: the call and its chat end" \
  wait_event alice '.event == "state" and .call == "ended" and .calls == 3 and .chatChannel == "closed"' 10
check "3: bob took her BYE and finished (exit 0)" exited "$bob_pid" 0
check "3: bob echoed her audio (RTP from the gateway's core leg)" \
  event c3-bob '.event == "audio" and .packets > 5'
check "3: the chat's end closed bob's MSRP connection" \
  event c3-bob '.event == "msrp_closed" and .eof == true'
check "3: no session left" sessions_are 0

# --- 4. bob calls alice with audio and a chat: one transport -----------------------
ip netns exec "$ims" python3 "$ue_chat" call --sip "$bob_addr:5071" --proxy 198.18.24.2:5060 \
  --target sip:alice@ims.example.net --from sip:bob@ims.example.net --msrp-addr "$bob_media" \
  --msrp-port 2859 --audio-port 6004 --large 100000 --expect 2 --timeout 60 --hangup-after 2 \
  > "$tmp/c4-bob.jsonl" 2> "$tmp/c4-bob.err" &
bob_pid=$!
bg+=("$bob_pid")
check "4: bob's audio + chat rings in the WIC as a chat beside audio" \
  wait_event alice '.event == "state" and .call == "ringing" and .chat == true and .chatOnly == false and .calls == 4' 20
n_open=$(count alice '.event == "state" and .chatChannel == "open"')
wic answer
check "4: alice answers: confirmed" \
  wait_event alice '.event == "state" and .call == "confirmed" and .chat == true and .calls == 4' 20
check "4: bob's answer: audio and m=message with the gateway's core address" \
  wait_event c4-bob '.event == "answered" and .status == 200 and (.sdp.media | length) == 2 and
                     (.sdp.media[0] | test("^audio [1-9][0-9]* RTP/AVP")) and
                     (.sdp.path | test("^msrp://198[.]18[.]1[.]2:5[0-9]{4}/[^/]+;tcp$"))' 10
check "4: the dataplane holds one session for both (her answer bundled the chat)" sessions_are 1
check "4: the WIC's channel opened" \
  wait_count alice '.event == "state" and .chatChannel == "open"' $((n_open + 1)) 20
wic wait-media 20
check "4: audio flows both ways (bob echoes it)" wait_count alice '.event == "media_up"' 2 25
wic stats
check "4: over one transport" \
  wait_count alice '.event == "stats" and (.transports | length) == 1 and .transports[0].dtlsState == "connected"' 2 10
wic chat - hello IMS
wic chat-large 100000
chat_checks 4 c4-bob 6
check "4: bob hangs up (exit 0, his BYE answered 200)" exited "$bob_pid" 0
check "4: the BYE was bob's" event c4-bob '.event == "bye" and .by == "local" and .status == 200'
check "4: bob echoed her audio" event c4-bob '.event == "audio" and .packets > 5'
check "4: the WIC shows the call ended by bob" \
  wait_event alice '.event == "state" and .call == "ended" and .calls == 4' 10
check "4: no session left" sessions_are 0

# --- the end -----------------------------------------------------------------------
wic unregister
check "alice unregisters" wait_event alice '.event == "state" and .registration == "unregistered"' 10
wic quit
check "the driver ends cleanly (no page error, no failed command)" exited "$wic_pid" 0
if grep -q '"event":"error"' "$tmp/alice.jsonl"; then grep '"event":"error"' "$tmp/alice.jsonl" | head -n 5; fi

cnt=$("$ctl" --region "$region" counters 2>&1)
echo "# dataplane: $(tr ' ' '\n' <<< "$cnt" | grep -E '^(msrp|dtls_dc)_[a-z_]*=[1-9]' | tr '\n' ' ')"
ms() { sed -n "s/.* msrp_$1=\([0-9]*\).*/\1/p" <<< "$cnt" | head -n 1; }
check "the slow path started 4 chats, matched 4 TCP connections, ended 4, holds none" \
  eval '[ "$(ms started)/$(ms tcp_up)/$(ms ended)/$(ms chats)" = 4/4/4/0 ]'
pcscf_stop
check "the P-CSCF stops cleanly (exit $rc) with no call and no session left" \
  eval '[ "$rc" -eq 0 ] && grep -q " calls=0 sessions=0 " <<< "$final"'
check "it started 4 calls and ended 4, created 4 sessions (case 4's audio with bob's offer, completed by her answer) and deleted 4" \
  eval 'grep -q "media_calls_started=4 media_calls_ended=4 " <<< "$final" &&
        grep -q "media_sessions_created=4 media_sessions_updated=1 media_sessions_deleted=4" <<< "$final"'
summary
