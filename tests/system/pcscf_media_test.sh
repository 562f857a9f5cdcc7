#!/usr/bin/env bash
# System test of calls WITH MEDIA through the IMS-ALG and the dataplane
# (issue 7), in network namespaces, signalling and media on separate links:
#
#   ue                                   gw                                    ims
#   JsSIP alice 198.18.25.2 --sig--  198.18.25.1 isthmus-pcscf 198.18.24.1 --sig--  Kamailio 198.18.24.2
#                                    (media enabled, dpif client)                    sipp bob 198.18.24.3
#   browser_peer 198.18.0.1 --media-- [access af_packet + TAP 198.18.0.2]
#                                     isthmus-dataplane
#                                     [core af_packet + TAP 198.18.1.2] --media--  bob's RTP 198.18.1.1
#
# alice is tests/system/jssip/w2-call.mjs (JsSIP, a fake RTCPeerConnection
# whose SDP carries browser_peer's ICE credentials, certificate fingerprint
# and candidate); browser_peer (tests/tools) does what the browser's media
# stack would with the answer: ICE checks to the gateway's candidate, DTLS-SRTP
# with the gateway's fingerprint, SRTP both ways. bob is sipp (uas_call.xml /
# uac_call.xml) registered at Kamailio, echoing the RTP he receives
# (-rtp_echo), so every packet the browser sends comes back to it through the
# gateway twice decrypted and re-encrypted. Checked, each case ending with no
# session left in the dataplane (isthmus-ctl counters, worker sessions=0):
#  1. alice calls bob: the IMS gets RTP/AVP at the gateway's core address, she
#     gets ice-lite, the gateway's candidate and fingerprint; ICE, DTLS and
#     every one of her SRTP packets echoed back; her BYE ends it;
#  2. bob calls alice (she answers a=setup:active, so the gateway is the DTLS
#     server): media both ways; bob hangs up;
#  3. hold and resume (two re-INVITEs) while media runs: nothing lost, one
#     dataplane session for the whole call;
#  4. alice cancels before bob answers: no session ever made;
#  5. alice's WebSocket drops mid-call: the session goes, and bob gets a BYE
#     from the P-CSCF (Reason cause=480);
#  6. media stops mid-call ([dataplane] media_timeout_s = 10 here): after
#     10 s the P-CSCF ends the call, BYEs both ways (Reason cause=408);
# and at the end the P-CSCF's counters: no call or session left.
# Addresses from 198.18.0.0/15; namespaces, processes, the dpif region and
# files are removed on exit. Usage: pcscf_media_test.sh BUILD_DIR (root;
# exit 77 = skipped). PCSCF_MEDIA_KEEP=1 keeps the directory of logs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
media_test_init m "${1:?build dir}" PCSCF_MEDIA_KEEP

# --- namespaces: media links (to the dataplane's ports), signalling links --
media_topology || exit 1

# --- the IMS core and bob -----------------------------------------------------
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'

# --- the dataplane and the P-CSCF (one configuration file) -------------------
media_config "$tmp/isthmus.toml"
# Media inactivity (case 6): short enough for a test, longer than any pause
# in the other cases (bob's 8 s in case 2 holds ~5 s without media).
sed -i '/^heartbeat_ms = /a media_timeout_s = 10' "$tmp/isthmus.toml"
grep -q '^media_timeout_s = 10' "$tmp/isthmus.toml" || { echo "no [dataplane] heartbeat_ms line"; exit 1; }
check "isthmus-pcscf accepts the configuration" \
  ip netns exec "$gw" "$pcscf" --config "$tmp/isthmus.toml" --check-config
ns_gateway_start "$tmp/isthmus.toml"
check "the dataplane runs" wait_running "$ctl" "$region"
check "the P-CSCF attached to the dataplane (its DTLS fingerprint)" pcscf_start
fp_gw=$(sed -n 's/.*event=dataplane_attached .* fingerprint=\([0-9A-F:]*\).*/\1/p' "$tmp/pcscf.log")

# --- the browser's certificate and media helpers -------------------------------
browser_cert || exit 1

web=(--ws-uri ws://198.18.25.1:5062 --local-ufrag brws --local-pwd "$br_pwd"
     --local-fingerprint "$fp_browser" --timeout 40)

# --- 1. alice calls bob; media both ways; alice hangs up ----------------------
bob_uas c1-bob answer -rtp_echo
mkfifo "$tmp/c1.in" && exec 7<>"$tmp/c1.in"
alice c1 "${web[@]}" --candidate 198.18.0.1:5000 --call sip:bob@ims.example.net
exec 7>&-
check "1: alice's call to bob is confirmed" wait_event c1 '.event == "confirmed"'
alice_media c1
check "1: her answer is WebRTC: ice-lite, UDP/TLS/RTP/SAVPF, the gateway's candidate 198.18.0.2, a=setup:passive, her BUNDLE group kept" \
  event c1 '.event == "remote_sdp" and .kind == "answer" and .ice_lite and .proto == "UDP/TLS/RTP/SAVPF"
            and .candidate_address == "198.18.0.2" and .setup == "passive" and .bundle == ["0"]'
check "1: ... with the dataplane's certificate fingerprint" is "$g_fp" "$fp_gw"
check "1: bob got RTP/AVP at the gateway's core address (c=IN IP4 198.18.1.2), no ICE or DTLS" \
  eval 'sipp_has "$tmp/c1-bob.msg" received "^INVITE " "^m=audio 5[0-9]{4} RTP/AVP " &&
        sipp_has "$tmp/c1-bob.msg" received "^INVITE " "^c=IN IP4 198.18.1.2" &&
        ! sipp_has "$tmp/c1-bob.msg" received "^INVITE " "^a=(ice-|fingerprint|setup|candidate)"'
check "1: the dataplane holds one session during the call" sessions_are 1
media c1 client 200
check "1: browser_peer: ICE, DTLS (the gateway passive), all 200 SRTP packets echoed back by bob" \
  media_ok c1 200
check "1: the worker relayed them both ways" relayed_both_ways 200
echo hangup > "$tmp/c1.in"
check "1: alice hangs up and her client exits 0" exited "$alice_pid" 0
check "1: bob took her BYE (sipp exits 0)" exited "$bob_pid" 0
check "1: no session left" sessions_are 0

# --- 2. bob calls alice; she answers (a=setup:active); bob hangs up -----------
alice c2 "${web[@]}" --candidate 198.18.0.1:5002 --answer
wait_event c2 '.event == "registered"' 10
bob_calls c2-bob alice bob -d 8000 -rtp_echo
check "2: alice is called and the call is confirmed" wait_event c2 '.event == "confirmed"'
alice_media c2
check "2: her offer is WebRTC: ice-lite, the gateway's candidate, a=setup:actpass" \
  event c2 '.event == "remote_sdp" and .kind == "offer" and .ice_lite and .setup == "actpass"
            and .candidate_address == "198.18.0.2"'
check "2: bob's INVITE answered with RTP/AVP at 198.18.1.2" \
  eval 'sipp_has "$tmp/c2-bob.msg" received "^SIP/2.0 200" "^m=audio 5[0-9]{4} RTP/AVP " &&
        sipp_has "$tmp/c2-bob.msg" received "^SIP/2.0 200" "^c=IN IP4 198.18.1.2"'
check "2: one session in the dataplane" sessions_are 1
media c2 client 200
check "2: browser_peer: ICE, DTLS (the gateway as server), all 200 packets back" media_ok c2 200
check "2: bob hangs up (sipp exits 0)" exited "$bob_pid" 0
check "2: alice saw bob's BYE and her client exits 0" \
  eval 'wait_event c2 ".event == \"ended\" and .originator == \"remote\"" && exited "$alice_pid" 0'
check "2: no session left" sessions_are 0

# --- 3. hold and resume while media runs ----------------------------------------
bob_uas c3-bob answer -rtp_echo
mkfifo "$tmp/c3.in" && exec 7<>"$tmp/c3.in"
alice c3 "${web[@]}" --candidate 198.18.0.1:5004 --call sip:bob@ims.example.net
exec 7>&-
check "3: the call is confirmed" wait_event c3 '.event == "confirmed"'
alice_media c3
media c3 client 300 &
media_pid=$!
bg+=("$media_pid")
sleep 0.8
echo hold > "$tmp/c3.in"
check "3: hold (re-INVITE, a=sendonly) answered while media runs" \
  wait_event c3 '.event == "hold_succeeded"' 5
echo unhold > "$tmp/c3.in"
check "3: resume answered" wait_event c3 '.event == "unhold_succeeded"' 5
check "3: the media was still running at the resume" kill -0 "$media_pid"
wait "$media_pid"
check "3: all 300 packets echoed through hold and resume" media_ok c3 300
echo hangup > "$tmp/c3.in"
check "3: alice hangs up (client exits 0), bob took both re-INVITEs and the BYE" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0 &&
        [ "$(sipp_count "$tmp/c3-bob.msg" received "^INVITE ")" -eq 3 ]'
check "3: every re-offer kept the gateway's ports (one SDP port toward bob)" \
  is "$(sipp_msgs "$tmp/c3-bob.msg" received '^INVITE ' | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | sort -u | wc -l)" 1
check "3: no session left" sessions_are 0

# --- 4. alice cancels before bob answers --------------------------------------------
bob_uas c4-bob cancel
alice c4 "${web[@]}" --candidate 198.18.0.1:5006 --call sip:bob@ims.example.net \
  --cancel-after-ms 700
check "4: alice's CANCEL ends the call (client exits 0), bob saw it (sipp exits 0)" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0'
check "4: no session was made" sessions_are 0

# --- 5. alice's WebSocket drops mid-call --------------------------------------------
bob_uas c5-bob answer -rtp_echo
mkfifo "$tmp/c5.in" && exec 7<>"$tmp/c5.in"
alice c5 "${web[@]}" --candidate 198.18.0.1:5008 --call sip:bob@ims.example.net
exec 7>&-
check "5: the call is confirmed" wait_event c5 '.event == "confirmed"'
alice_media c5
media c5 client 100
check "5: media flows" media_ok c5 100
check "5: one session" sessions_are 1
echo drop-ws > "$tmp/c5.in"
check "5: the session goes with the WebSocket" sessions_are 0
check "5: bob gets a BYE from the P-CSCF and answers it (sipp exits 0)" exited "$bob_pid" 0
check "5: ... with Reason: SIP;cause=480" \
  sipp_has "$tmp/c5-bob.msg" received '^BYE ' '^Reason: SIP;cause=480'
kill "$alice_pid" 2>/dev/null; wait "$alice_pid" 2>/dev/null

# --- 6. media stops: the call ends after [dataplane] media_timeout_s -----------------
bob_uas c6-bob answer -rtp_echo -timeout 60
mkfifo "$tmp/c6.in" && exec 7<>"$tmp/c6.in"
alice c6 "${web[@]}" --candidate 198.18.0.1:5010 --call sip:bob@ims.example.net
exec 7>&-
check "6: the call is confirmed" wait_event c6 '.event == "confirmed"'
alice_media c6
media c6 client 50
check "6: media flows (50 packets echoed), then stops: browser_peer is gone" media_ok c6 50
t0=$(date +%s%N)
check "6: nothing relayed for media_timeout_s (10 s): the P-CSCF ends the call, bob takes its BYE (sipp exits 0)" \
  exited "$bob_pid" 0
t1=$(date +%s%N)
echo "# 6: the BYE came $(((t1 - t0) / 1000000)) ms after the last packet"
check "6: ... after the timeout, not before (10 s, plus up to a scan of the table)" \
  eval '[ $(((t1 - t0) / 1000000)) -ge 9500 ] && [ $(((t1 - t0) / 1000000)) -le 14000 ]'
check "6: ... with Reason: SIP;cause=408 (media timeout)" \
  sipp_has "$tmp/c6-bob.msg" received '^BYE ' '^Reason: SIP;cause=408;text="Media timeout"'
check "6: alice got a BYE too: her call ended by the far side" \
  wait_event c6 '.event == "ended" and .originator == "remote"' 10
check "6: no session left" sessions_are 0
kill "$alice_pid" 2>/dev/null; wait "$alice_pid" 2>/dev/null

# --- answer to forwarding: the worker timed each create from the SIP answer --
p100=$(counter worker0 program_lt_100us) p1ms=$(counter worker0 program_lt_1ms)
pslow=$(counter worker0 program_ge_1ms) pmax=$(counter worker0 program_max_us)
echo "# answer-to-forwarding (SIP answer at the P-CSCF -> session installed in the worker):" \
  "<100us: $p100, <1ms: $p1ms, >=1ms: $pslow, max ${pmax}us (a figure, not a check: bench/)"
check "the worker timed each of the 5 creates from its SIP answer (stamped commands)" \
  is "$((${p100:-0} + ${p1ms:-0} + ${pslow:-0}))" 5

# --- the P-CSCF's own count ---------------------------------------------------------
pcscf_stop
check "the P-CSCF stops cleanly (exit $rc) with no call and no session left" \
  eval '[ "$rc" -eq 0 ] && grep -q " calls=0 sessions=0 " <<< "$final"'
check "it started 6 calls and ended 6, created 5 sessions (bob's with his offer, completed by her answer) and deleted 5; one media timeout" \
  eval 'grep -q "media_calls_started=6 media_calls_ended=6 " <<< "$final" &&
        grep -q "media_sessions_created=5 media_sessions_updated=1 media_sessions_deleted=5" <<< "$final" &&
        grep -q " media_sessions_idle=1 media_media_timeouts=1" <<< "$final"'
summary
