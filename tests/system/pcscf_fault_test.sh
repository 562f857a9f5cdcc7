#!/usr/bin/env bash
# System test of FAULTS under calls with media (issue 11): each process of the
# chain fails or stalls in the middle of a call, and what a carrier needs then
# is checked — the call ends cleanly or goes on, nothing is left half-made,
# and the next call works. The topology, the processes and the media are
# pcscf_media_test.sh's (alice: JsSIP + browser_peer in $ue; the dataplane and
# isthmus-pcscf in $gw; Kamailio and bob, sipp echoing RTP, in $ims):
#  1. the dataplane is killed (SIGKILL) mid-call: the P-CSCF sees its
#     heartbeat stop, refuses new calls with 503 while it is gone, attaches
#     to the restarted one (another process: the call's DTLS keys went with
#     the old one) and ends the call with a BYE to each side (Reason
#     cause=503); the new dataplane holds nothing, and a new call has media;
#  2. the dataplane is frozen (SIGSTOP) longer than the heartbeat window
#     while media runs, then continued: the P-CSCF lets it go, attaches to
#     it again (the same process) and resyncs; the dataplane adopts the call's
#     session, and media flows again through the same DTLS keys;
#  3. the P-CSCF is killed (SIGKILL) mid-call and restarted: its WebSocket
#     goes, the restarted P-CSCF resyncs an empty table and the dataplane
#     releases the old session; bob's BYE later finds no flow (430 Flow
#     Failed, RFC 5626); alice registers again and a new call has media;
#  4. Kamailio (the IMS core) is restarted mid-call: media goes on through
#     the restart with nothing lost, alice's BYE reaches bob through the new
#     Kamailio; a REGISTER sent while the core is down completes once it is
#     back (the P-CSCF retransmits over UDP);
#  5. the browser stalls mid-handshake (its ClientHello, then silence;
#     [dataplane] dtls_handshake_timeout_s = 5 here): the handshake fails at
#     its deadline and the P-CSCF ends the call, BYEs both ways (cause=503);
#  6. strangers inject RTP at a live call's ports while its media runs (RTP
#     bleed and injection): from another address and from the browser's
#     address on another port toward the gateway's access port, from
#     another host and from bob's address on another port toward its core
#     port, each with the browser's SSRC: all dropped and counted
#     (drop_wrong_source), none of it reaches bob or the browser (every one
#     of the call's packets echoed intact, nothing else), nothing is sent to
#     a stranger, and the session does not move to one;
#  7. the browser presents a certificate other than the one its SDP's
#     a=fingerprint names: the handshake is refused (counted, no keys) and
#     the P-CSCF ends the call, BYEs both ways (cause=503).
# Every case ends with no session in the dataplane. Addresses from
# 198.18.0.0/15; namespaces, processes, the dpif region and files are removed
# on exit. Usage: pcscf_fault_test.sh BUILD_DIR (root; exit 77 = skipped).
# PCSCF_FAULT_KEEP=1 keeps the directory of logs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
media_test_init f "${1:?build dir}" PCSCF_FAULT_KEEP

media_topology || exit 1
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
bob_registers() {
  ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1
}
check "bob registers directly at the IMS core" bob_registers
media_config "$tmp/isthmus.toml"
# Case 5: a stalled DTLS handshake fails after 5 s (30 s by default).
sed -i '/^heartbeat_ms = /a dtls_handshake_timeout_s = 5' "$tmp/isthmus.toml"
grep -q '^dtls_handshake_timeout_s = 5' "$tmp/isthmus.toml" || { echo "no [dataplane] heartbeat_ms line"; exit 1; }
# Both daemons at debug (a line per dpif command, per SIP message): the end
# checks that no ICE password reached either log even so.
sed -i -e '/^heartbeat_ms = /a log_level = "debug"' -e '/^orig_ioi = /a log_level = "debug"' \
  "$tmp/isthmus.toml"
[ "$(grep -c '^log_level = "debug"' "$tmp/isthmus.toml")" -eq 2 ] || { echo "no log_level lines added"; exit 1; }
media_start 60
log_has() { grep -q "$1" "$tmp/pcscf.log"; }
log_count() { grep -c "$1" "$tmp/pcscf.log"; }
# wait_log ERE N [S]: the P-CSCF's log holds N lines matching ERE within S (10) s.
wait_log() {
  for _ in $(seq 1 $((${3:-10} * 10))); do
    [ "$(grep -cE "$1" "$tmp/pcscf.log")" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "    ($(grep -cE "$1" "$tmp/pcscf.log") lines matching $1, expected $2)"
  return 1
}
# call_to_bob NAME PORT: alice calls bob (bob echoes RTP), confirmed; her
# stdin is $tmp/NAME.in (fd 7 closed again after the start).
call_to_bob() {
  bob_uas "$1-bob" answer -rtp_echo -timeout 60
  mkfifo "$tmp/$1.in" && exec 7<>"$tmp/$1.in"
  alice "$1" "${web[@]}" --candidate "198.18.0.1:$2" --call sip:bob@ims.example.net
  exec 7>&-
  wait_event "$1" '.event == "confirmed"'
}

# --- 1. the dataplane is killed mid-call and restarted -------------------------
check "1: alice's call to bob is confirmed" call_to_bob f1 5000
alice_media f1
media f1 client 100
check "1: media flows both ways (100 packets echoed)" media_ok f1 100
check "1: one session" sessions_are 1
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=""
check "1: the P-CSCF sees the dataplane gone (its heartbeat stopped: within 3 s)" \
  wait_log 'event=dataplane_gone' 1 6
alice f1b "${web[@]}" --candidate 198.18.0.1:5002 --call sip:bob@ims.example.net \
  --expect-failure 503
check "1: while no dataplane runs, a new call is refused with 503 (the client exits 0)" \
  exited "$alice_pid" 0
check "1: the P-CSCF never attached to the dead dataplane's region again" \
  is "$(log_count event=dataplane_attached)" 1
mv "$tmp/dp.log" "$tmp/dp-killed.log"
ns_gateway_start "$tmp/isthmus.toml"
check "1: the restarted dataplane runs" wait_running "$ctl" "$region"
check "1: the P-CSCF attaches to it and knows it is another process" \
  eval 'wait_log "event=dataplane_attached" 2 && wait_log "event=dataplane_restarted" 1'
check "1: the call is ended: bob gets a BYE (Reason cause=503) and answers it (sipp exits 0)" \
  eval 'exited "$bob_pid" 0 && sipp_has "$tmp/f1-bob.msg" received "^BYE " "^Reason: SIP;cause=503"'
check "1: ... and alice gets one too" wait_event f1 '.event == "ended" and .originator == "remote"'
check "1: the restarted dataplane holds no session" sessions_are 0
fp_new=$(sed -n 's/.*event=dataplane_attached .* fingerprint=\([0-9A-F:]*\).*/\1/p' "$tmp/pcscf.log" | tail -n 1)
check "1: a new call is confirmed" call_to_bob f1c 5004
alice_media f1c
check "1: ... offering the new dataplane's certificate fingerprint" is "$g_fp" "$fp_new"
media f1c client 100
check "1: ... and has media both ways (100 packets echoed)" media_ok f1c 100
echo hangup > "$tmp/f1c.in"
check "1: alice hangs up (client exits 0), bob takes the BYE (sipp exits 0)" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0'
check "1: no session left" sessions_are 0

# --- 2. the dataplane freezes longer than the heartbeat window -----------------
check "2: the call is confirmed" call_to_bob f2 5006
alice_media f2
# 1,000 packets (10 s): some before the freeze, the rest after it.
media_timeout_ms=12000 media f2 client 1000 &
media_pid=$!
bg+=("$media_pid")
sleep 1.5
attached_before=$(log_count 'event=dataplane_attached')
gone_before=$(log_count 'event=dataplane_gone')
kill -STOP "$pid"
check "2: the P-CSCF lets the frozen dataplane go (no heartbeat for 3 s)" \
  wait_log 'event=dataplane_gone' $((gone_before + 1)) 8
kill -CONT "$pid"
check "2: ... and attaches to it again when it runs on: the same process, not a restart" \
  eval 'wait_log "event=dataplane_attached" $((attached_before + 1)) &&
        [ "$(log_count event=dataplane_restarted)" -eq 1 ]'
a2c0=$(counter worker0 relayed_access_to_core) c2a0=$(counter worker0 relayed_core_to_access)
wait "$media_pid"
f2_ok=$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' "$tmp/f2.media")
check "2: the dataplane adopted the resynced session: still one" sessions_are 1
check "2: media flowed again after the resync, with the same DTLS keys (no SRTP failure)" \
  eval 'grep -Eq "^ice=ok dtls=ok .* bad=0 srtp_fail=0" "$tmp/f2.media" && relayed_both_ways $((a2c0 + 200)) &&
        [ "$(counter worker0 relayed_core_to_access)" -ge $((c2a0 + 200)) ]'
echo "# 2: $f2_ok of 1000 packets came back through the freeze"
echo hangup > "$tmp/f2.in"
check "2: alice hangs up (client exits 0), bob takes the BYE (sipp exits 0)" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0'
check "2: no session left" sessions_are 0

# --- 3. the P-CSCF is killed mid-call and restarted ----------------------------
mkfifo "$tmp/f3.in" && exec 7<>"$tmp/f3.in"
alice f3 "${web[@]}" --candidate 198.18.0.1:5008 --answer
exec 7>&-
wait_event f3 '.event == "ready"' 10
bob_calls f3-bob alice bob -d 9000 -rtp_echo
check "3: bob calls alice, the call is confirmed" wait_event f3 '.event == "confirmed"'
alice_media f3
media f3 client 100
check "3: media flows both ways" media_ok f3 100
check "3: one session" sessions_are 1
kill -KILL "$pcscf_pid"; wait "$pcscf_pid" 2>/dev/null; pcscf_pid=""
check "3: alice's WebSocket is closed" wait_event f3 '.event == "disconnected"' 5
check "3: the restarted P-CSCF attaches to the dataplane" pcscf_start
check "3: its resync (no call known) makes the dataplane release the old session" sessions_are 0
check "3: bob's BYE (9 s after the answer) finds alice's flow gone: 430 Flow Failed" \
  eval 'wait "$bob_pid"; sipp_has "$tmp/f3-bob.msg" received "^SIP/2.0 430 " "^CSeq: [0-9]+ BYE"'
check "3: alice's client ends on the closed WebSocket (its call went with it)" exited "$alice_pid" 1
check "3: a new call through the restarted P-CSCF is confirmed" call_to_bob f3b 5010
alice_media f3b
media f3b client 100
check "3: ... and has media both ways" media_ok f3b 100
echo hangup > "$tmp/f3b.in"
check "3: alice hangs up (client exits 0), bob takes the BYE (sipp exits 0)" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0'
check "3: no session left" sessions_are 0

# --- 4. Kamailio is restarted mid-call ----------------------------------------
check "4: the call is confirmed" call_to_bob f4 5012
alice_media f4
media f4 client 600 &
media_pid=$!
bg+=("$media_pid")
sleep 1
ims_stop
ims_start "$ims" 198.18.24.2 "$tmp/kamailio2.log" || echo "    (Kamailio did not start again)"
wait "$media_pid"
check "4: media went on through the IMS core's restart: all 600 packets echoed" media_ok f4 600
echo hangup > "$tmp/f4.in"
check "4: alice's BYE reaches bob through the restarted core (both exit 0)" \
  eval 'exited "$bob_pid" 0 && exited "$alice_pid" 0'
check "4: no session left" sessions_are 0
ims_stop
mkfifo "$tmp/f4b.in" && exec 7<>"$tmp/f4b.in"
alice f4b "${web[@]}" --candidate 198.18.0.1:5014 --answer
exec 7>&-
check "4: alice sends a REGISTER while the core is down" \
  wait_event f4b '.event == "sent" and (.start_line | startswith("REGISTER "))' 10
sleep 1
ims_start "$ims" 198.18.24.2 "$tmp/kamailio3.log" || echo "    (Kamailio did not start again)"
check "4: ... which completes once the core is back (the P-CSCF retransmits it)" \
  wait_event f4b '.event == "ready"' 40
echo quit > "$tmp/f4b.in"
check "4: ... and she de-registers" wait_event f4b '.event == "unregistered" and .status == 200' 10
kill "$alice_pid" 2>/dev/null; wait "$alice_pid" 2>/dev/null
check "4: bob registers again at the restarted core (it keeps bindings in memory only)" bob_registers

# --- 5. the browser stalls mid-handshake ---------------------------------------
check "5: the call is confirmed" call_to_bob f5 5016
alice_media f5
stalled() {
  [ "$(counter slow_path dtls_handshake_timeouts)" = "$((timeouts0 + 1))" ]
}
timeouts0=$(counter slow_path dtls_handshake_timeouts)
t0=$(date +%s%N)
media_timeout_ms=9000 media f5 client 100 --dtls-stall --expect-dtls-fail &
media_pid=$!
bg+=("$media_pid")
check "5: the call is ended: bob gets a BYE (Reason cause=503) and answers it (sipp exits 0)" \
  eval 'exited "$bob_pid" 0 && sipp_has "$tmp/f5-bob.msg" received "^BYE " "^Reason: SIP;cause=503"'
t1=$(date +%s%N)
echo "# 5: bob's BYE came $(((t1 - t0) / 1000000)) ms after browser_peer started (ICE, then its ClientHello)"
check "5: ... after the handshake deadline, not before (5 s)" \
  eval '[ $(((t1 - t0) / 1000000)) -ge 5000 ] && [ $(((t1 - t0) / 1000000)) -le 9000 ]'
wait "$media_pid"
check "5: the browser sent its ClientHello and stalled (ICE ok, DTLS never up)" \
  grep -Eq '^ice=ok dtls=timeout ' "$tmp/f5.media"
check "5: ... and alice gets one too" wait_event f5 '.event == "ended" and .originator == "remote"'
check "5: the slow path counted one handshake timeout (dtls_handshake_timeout_s = 5)" stalled
check "5: no session left" sessions_are 0

# --- 6. strangers inject RTP at a live call's ports -----------------------------
# inject NS SRC_ADDR SRC_PORT DST_ADDR DST_PORT: 100 RTP packets (PT 0, the
# browser's SSRC 0x11223344, 160 zero octets) 5 ms apart, then 1 s of
# listening; prints how many datagrams came back to the stranger.
inject() {
  ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" <<'PY'
import socket, struct, sys, time
src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sport))
for i in range(1, 101):
    s.sendto(struct.pack("!BBHII", 0x80, 0, i, i * 160, 0x11223344) + bytes(160), (dst, dport))
    time.sleep(0.005)
s.settimeout(0.2)
got, end = 0, time.time() + 1.0
while time.time() < end:
    try:
        s.recv(2048)
        got += 1
    except socket.timeout:
        pass
print(got)
PY
}
check "6: the call is confirmed" call_to_bob f6 5018
alice_media f6
core_port=$(sipp_msgs "$tmp/f6-bob.msg" received '^INVITE ' | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | head -n 1)
ip -n "$ue" addr add 198.18.0.3/24 dev "$acc_host"
ip -n "$ims" addr add 198.18.1.3/24 dev "$core_host"
wrong0=$(counter worker0 drop_wrong_source)
# 900 packets (9 s): the four injections (~6 s) start after 1 s and end
# before the media does.
media_timeout_ms=14000 media f6 client 900 &
media_pid=$!
bg+=("$media_pid")
sleep 1
back=$(inject "$ue" 198.18.0.3 "$g_port" "$g_addr" "$g_port")
back="$back $(inject "$ue" 198.18.0.1 6000 "$g_addr" "$g_port")"
back="$back $(inject "$ims" 198.18.1.3 41000 198.18.1.2 "$core_port")"
back="$back $(inject "$ims" "$bob_media" 7000 198.18.1.2 "$core_port")"
wait "$media_pid"
echo "# 6: datagrams back to the four strangers: $back; drop_wrong_source: $wrong0 -> $(counter worker0 drop_wrong_source)"
check "6: the call's 900 packets, before, during and after, all came back intact and nothing else did (no injected packet reached bob or the browser)" \
  media_ok f6 900
check "6: nothing was sent to any stranger" is "$back" "0 0 0 0"
check "6: the worker dropped and counted the 400 injected packets, no more, no fewer (drop_wrong_source)" \
  eval '[ "$(counter worker0 drop_wrong_source)" -eq $((wrong0 + 400)) ]'
echo hangup > "$tmp/f6.in"
check "6: alice hangs up (client exits 0), bob takes the BYE (sipp exits 0)" \
  eval 'exited "$alice_pid" 0 && exited "$bob_pid" 0'
check "6: no session left" sessions_are 0

# --- 7. the browser presents a certificate other than its a=fingerprint ---------
# Her SDP signalled browser.crt's fingerprint; browser_peer presents another
# one (an attacker on the media path with its own key): the gateway refuses
# the handshake, the P-CSCF ends the call.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=mallory -keyout "$tmp/mallory.key" -out "$tmp/mallory.crt" >/dev/null 2>&1 ||
  { echo "openssl req (mallory) failed"; exit 1; }
check "7: the call is confirmed" call_to_bob f7 5020
alice_media f7
mismatch0=$(counter slow_path dtls_fingerprint_mismatch)
keys0=$(counter worker0 dtls_keys_installed)
media_cert=mallory media_timeout_ms=5000 media f7 client 100 --expect-dtls-fail
check "7: the handshake fails at the browser (ICE ok, no DTLS)" \
  grep -Eq '^ice=ok dtls=(fail|timeout) ' "$tmp/f7.media"
refused_no_keys() {  # the counters are published every 100 ms or so: wait up to 2 s
  local m k
  for _ in $(seq 1 40); do
    m=$(counter slow_path dtls_fingerprint_mismatch) k=$(counter worker0 dtls_keys_installed)
    [ "$m" -eq $((mismatch0 + 1)) ] && [ "$k" -eq "$keys0" ] && return 0
    sleep 0.05
  done
  echo "    (dtls_fingerprint_mismatch $mismatch0 -> $m, dtls_keys_installed $keys0 -> $k)"
  return 1
}
check "7: the slow path counts one fingerprint mismatch, the worker installs no keys" refused_no_keys
check "7: the call is ended: bob gets a BYE (Reason cause=503) and answers it (sipp exits 0)" \
  eval 'exited "$bob_pid" 0 && sipp_has "$tmp/f7-bob.msg" received "^BYE " "^Reason: SIP;cause=503"'
check "7: ... and alice gets one too" wait_event f7 '.event == "ended" and .originator == "remote"'
check "7: the P-CSCF logged why the call ended (warning: the leg's DTLS failed, the reason)" \
  grep -q 'level=warning event=dtls_failed session=[0-9]* detail="access fingerprint mismatch"' "$tmp/pcscf.log"
check "7: no session left" sessions_are 0

# --- secrets: no ICE password in the logs -------------------------------------
# Every ICE password of the session (the browser's, each one the gateway
# gave) was in SDP the P-CSCF handled and in a command to the dataplane.
pwds=$(cat "$tmp"/f*.jsonl | jq -r 'select(.event == "remote_sdp" or .event == "local_media") | .ice_pwd // empty' | sort -u)
leaked() {
  local p n=0
  for p in $pwds; do
    if grep -qF -- "$p" "$tmp/pcscf.log" "$tmp"/dp*.log; then echo "    (found: $p)"; n=$((n + 1)); fi
  done
  [ "$n" -eq 0 ]
}
echo "# $(wc -w <<< "$pwds") ICE passwords looked for; logs: pcscf $(wc -l < "$tmp/pcscf.log") lines, dataplane $(cat "$tmp"/dp*.log | wc -l) lines"
check "no ICE password in the P-CSCF's or the dataplane's log, both at debug" \
  eval '[ "$(wc -w <<< "$pwds")" -ge 7 ] && [ "$(grep -c "level=debug" "$tmp/pcscf.log")" -gt 0 ] && leaked'

# --- the P-CSCF's own count ---------------------------------------------------------
kill -TERM "$pcscf_pid"
wait "$pcscf_pid"; rc=$?
pcscf_pid=""
final=$(grep 'event=stopped' "$tmp/pcscf.log" | tail -n 1)
echo "# $final"
check "the restarted P-CSCF stops cleanly (exit $rc) with no call and no session left" \
  eval '[ "$rc" -eq 0 ] && grep -q " calls=0 sessions=0 " <<< "$final"'
summary
