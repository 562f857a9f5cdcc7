#!/usr/bin/env bash
# System test of SDES-SRTP TOWARD THE IMS (RFC 4568; issues 7 and 11): the
# browser's leg is DTLS-SRTP, the core leg SRTP keyed in the SDP, both
# encrypted end to end through the running dataplane, in pcscf-media's
# namespaces. bob is sipp with SDES (ims/uas_sdes_call.xml,
# ims/uac_sdes_call.xml) and his media is `media_peer echo`: it unprotects
# what the gateway sends with the gateway's key (from the SDP bob got) and
# echoes it protected with bob's own key, RTP and RTCP on separate ports.
#  1. alice calls bob, [pcscf.media] core_srtp = true: bob is offered
#     RTP/SAVP with one a=crypto (AES_CM_128_HMAC_SHA1_80) and no ICE or
#     DTLS; every packet alice sends reaches bob authenticated under the
#     gateway's key and comes back to her intact under DTLS-SRTP's; RTCP
#     both ways; then, during the call, packets from bob's own address
#     replayed (his key, seq already seen) and forged (a wrong key) are
#     dropped at the dataplane and counted (srtp_replay, srtp_auth_fail),
#     and none reaches alice; a flood of 3,000 authentic packets from bob
#     is cut to the core leg's policed rate (the burst and the rate reach
#     alice, the rest is drop_policed);
#  2. bob calls alice offering a=crypto:1 AEAD_AES_128_GCM and
#     a=crypto:2 AES_CM_128_HMAC_SHA1_80: the gateway answers the first
#     (tag 1, GCM, its own key) and media flows both ways the same way;
#  3. nothing secret in the logs, with both daemons at log level debug:
#     no SDES key (either side's, base64 or hex), and not the dataplane's
#     DTLS private key (configured from files here; its fingerprint is the
#     one the browser is given).
# Usage: pcscf_sdes_test.sh BUILD_DIR (root; exit 77 = skipped).
# PCSCF_SDES_KEEP=1 keeps the directory of logs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
media_test_init s "${1:?build dir}" PCSCF_SDES_KEEP
media_peer=$build/tests/media_peer
[ -x "$media_peer" ] || { echo "$media_peer missing: build first"; exit 1; }

media_topology || exit 1
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'

# --- configuration: SDES on the core leg, DTLS key from files, debug logs -----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=isthmus-dtls -keyout "$tmp/dtls.key" -out "$tmp/dtls.crt" >/dev/null 2>&1 ||
  { echo "openssl could not make the DTLS certificate"; exit 1; }
fp_file=$(openssl x509 -noout -fingerprint -sha256 -in "$tmp/dtls.crt" | sed 's/^.*=//')
media_config "$tmp/isthmus.toml"
# Four SRTP contexts per session: SDES on both legs (docs/operations.md, "Sizing").
sed -i "/^heartbeat_ms = /a sessions_per_worker = 64\\
srtp_contexts_per_worker = 256\\
dtls_certificate = \"$tmp/dtls.crt\"\\
dtls_private_key = \"$tmp/dtls.key\"\\
log_level = \"debug\"" "$tmp/isthmus.toml"
sed -i '/^orig_ioi = /a log_level = "debug"' "$tmp/isthmus.toml"
sed -i '/^core_port_max = /a core_srtp = true' "$tmp/isthmus.toml"
check "the configuration has core_srtp, the DTLS files and debug logs" \
  eval '[ "$(grep -c -e "^core_srtp = true" -e "^dtls_private_key = " -e "^log_level = \"debug\"" \
          "$tmp/isthmus.toml")" -eq 4 ]'
check "isthmus-pcscf accepts the configuration" \
  ip netns exec "$gw" "$pcscf" --config "$tmp/isthmus.toml" --check-config
media_start 60
fp_gw=$(sed -n 's/.*event=dataplane_attached .* fingerprint=\([0-9A-F:]*\).*/\1/p' "$tmp/pcscf.log" | tail -n 1)
check "the dataplane's DTLS fingerprint is that of the configured certificate" is "$fp_gw" "$fp_file"

# sdes_key B64_OCTETS: a fresh master key||salt, base64.
sdes_key() { head -c "$1" /dev/urandom | base64 -w 0; }
# crypto_of FILE DIR ERE SUITE: the inline key of SUITE's a=crypto line in the
# first message of sipp's FILE (DIR, start line ERE).
crypto_of() {
  sipp_nth "$1" "$2" "$3" 1 | sed -n "s/^a=crypto:[0-9]* $4 inline:\([A-Za-z0-9+/=]*\).*/\1/p" | head -n 1
}
# bob_echo NAME IN OUT N: media_peer echo at bob's media address 198.18.1.1:41010
# (RTCP 41011): IN unprotects, OUT protects; until N echoed or 30 s.
bob_echo() {
  ip netns exec "$ims" "$media_peer" echo --bind 198.18.1.1:41010 --rtcp-bind 198.18.1.1:41011 \
    --srtp-in "$2" --srtp-out "$3" --expect "$4" --timeout-ms 30000 --linger-ms 300 \
    > "$tmp/$1.echo" 2> "$tmp/$1.echo.err" &
  echo_pid=$!
  bg+=("$echo_pid")
  wait_udp "$ims" 41011 || { echo "    (media_peer echo did not bind: $(cat "$tmp/$1.echo.err"))"; return 1; }
}
secrets=()  # base64 keys seen in this test, checked against the logs at the end

# --- 1. alice calls bob; SDES toward him --------------------------------------
bob_key=$(sdes_key 30)
secrets+=("$bob_key")
ip netns exec "$ims" sipp -sf "$here/ims/uas_sdes_call.xml" -i "$bob_addr" -p 5070 -set key "$bob_key" \
  -set rtp_port 41010 -mi "$bob_media" -m 1 -timeout 60 -timeout_error -max_recv_loops 100 -nostdin \
  -trace_msg -message_file "$tmp/s1-bob.msg" -trace_err -error_file "$tmp/s1-bob.sipp-err" \
  > "$tmp/s1-bob.out" 2>&1 &
bob_pid=$!
bg+=("$bob_pid")
wait_udp "$ims" 5070
mkfifo "$tmp/s1.in" && exec 7<>"$tmp/s1.in"
alice s1 "${web[@]}" --candidate 198.18.0.1:5000 --call sip:bob@ims.example.net
exec 7>&-
check "1: alice's call to bob is confirmed" wait_event s1 '.event == "confirmed"'
check "1: bob was offered RTP/SAVP at 198.18.1.2 with one a=crypto AES_CM_128_HMAC_SHA1_80, no ICE or DTLS" \
  eval 'sipp_has "$tmp/s1-bob.msg" received "^INVITE " "^m=audio 5[0-9]{4} RTP/SAVP " &&
        sipp_has "$tmp/s1-bob.msg" received "^INVITE " "^c=IN IP4 198.18.1.2" &&
        is "$(sipp_nth "$tmp/s1-bob.msg" received "^INVITE " 1 | grep -c "^a=crypto:")" 1 &&
        ! sipp_has "$tmp/s1-bob.msg" received "^INVITE " "^a=(ice-|fingerprint|setup|candidate)"'
gw_key1=$(crypto_of "$tmp/s1-bob.msg" received "^INVITE " AES_CM_128_HMAC_SHA1_80)
secrets+=("$gw_key1")
check "1: ... a key of 30 octets (128-bit master key, 112-bit salt)" \
  is "$(printf '%s' "$gw_key1" | base64 -d 2>/dev/null | wc -c)" 30
core_port=$(sipp_nth "$tmp/s1-bob.msg" received "^INVITE " 1 | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
alice_media s1
check "1: alice's answer is WebRTC with the gateway's DTLS fingerprint" \
  eval 'event s1 ".event == \"remote_sdp\" and .proto == \"UDP/TLS/RTP/SAVPF\"" && is "$g_fp" "$fp_gw"'
check "1: the dataplane holds one session" sessions_are 1
check "1: bob's media (media_peer echo) listens" \
  bob_echo s1 "AES_CM_128_HMAC_SHA1_80 inline:$gw_key1" "AES_CM_128_HMAC_SHA1_80 inline:$bob_key" 300
media s1 client 300
check "1: browser_peer: ICE, DTLS, all 300 packets back intact (SRTP both legs, both ways)" \
  media_ok s1 300
check "1: ... and SRTCP back from bob (RTCP relayed both ways)" \
  eval 'rtcp=$(sed -n "s/.* rtcp=\([0-9]*\).*/\1/p" "$tmp/s1.media"); [ "${rtcp:-0}" -gt 0 ]'
wait "$echo_pid"; echo_rc=$?
echo "# bob's echo (exit $echo_rc): $(cat "$tmp/s1.echo")"
check "1: bob authenticated every packet under the gateway's SDES key (none failed) and echoed 300" \
  eval '[ "$echo_rc" -eq 0 ] && grep -Eq "^received=300 echoed=300 rtcp=[1-9][0-9]* srtp_fail=0 errors=0$" "$tmp/s1.echo"'
check "1: the worker relayed them both ways" relayed_both_ways 300

# Replays and forgeries from bob's own addresses, during the call, SRTP and
# SRTCP: a receiver report after every 5th packet, from and to the RTCP
# ports (the core leg is not muxed: an SRTCP packet at the RTP port would
# be taken for SRTP and fail its authentication), SSRC 0x11223344 as the
# RTCP bob's echo sent (60 of them, SRTCP index 1..60 under his key), so
# that the replayed ones' indices 1..10 were seen too.
c2a0=$(counter worker0 relayed_core_to_access) replay0=$(counter worker0 srtp_replay)
auth0=$(counter worker0 srtp_auth_fail)
ip netns exec "$ims" "$media_peer" send --bind 198.18.1.1:41010 --to "198.18.1.2:$core_port" \
  --count 50 --interval-us 1000 --ssrc 0x11223344 --srtp "AES_CM_128_HMAC_SHA1_80 inline:$bob_key" \
  --rtcp-every 5 --rtcp-bind 198.18.1.1:41011 --rtcp-to "198.18.1.2:$((core_port + 1))" \
  > "$tmp/s1.replay" 2>&1
ip netns exec "$ims" "$media_peer" send --bind 198.18.1.1:41010 --to "198.18.1.2:$core_port" \
  --count 40 --interval-us 1000 --ssrc 0x55667788 --rtcp-every 5 \
  --rtcp-bind 198.18.1.1:41011 --rtcp-to "198.18.1.2:$((core_port + 1))" \
  --srtp "AES_CM_128_HMAC_SHA1_80 inline:$(sdes_key 30)" > "$tmp/s1.forged" 2>&1
echo "# 1: replay sender: $(cat "$tmp/s1.replay"); forger: $(cat "$tmp/s1.forged")"
replayed=0 forged=0 c2a=0
for _ in $(seq 1 60); do
  replayed=$(( $(counter worker0 srtp_replay) - replay0 )) forged=$(( $(counter worker0 srtp_auth_fail) - auth0 ))
  [ "$replayed" -ge 60 ] && [ "$forged" -ge 48 ] && break
  sleep 0.05
done
c2a=$(( $(counter worker0 relayed_core_to_access) - c2a0 ))
echo "# 1: srtp_replay +$replayed, srtp_auth_fail +$forged, relayed to alice +$c2a"
check "1: 50 SRTP + 10 SRTCP replayed from bob's address with his key (seen): dropped, srtp_replay +60" \
  is "$replayed" 60
check "1: 40 SRTP + 8 SRTCP forged with another key: dropped, srtp_auth_fail +48" is "$forged" 48
check "1: none of them relayed toward alice" is "$c2a" 0

# A flood of media that authenticates, from bob's own address under his key
# (a stream of its own): the core leg is policed at what alice declared she
# receives, here nothing, so the audio floor, 200 kb/s (25,000 octets/s;
# these 210-octet IP packets take 8.4 ms each, the 500 ms burst is 60 of
# them): the burst and the rate pass toward alice, the rest is dropped as
# `policed` before any work is spent on it (docs/pcscf.md "Media policing").
# 5,000 packets/s, 42 times the rate: as fast as they went, the gateway's
# 512-frame af_packet ring here (one lcore for everything) lost a third of
# them in the kernel, uncounted (docs/operations.md "RX rings"), so the sum
# is checked to 1 %.
n_flood=3000
c2a0=$(counter worker0 relayed_core_to_access) pol0=$(counter worker0 drop_policed)
t0=$(date +%s%N)
ip netns exec "$ims" "$media_peer" send --bind 198.18.1.1:41010 --to "198.18.1.2:$core_port" \
  --count "$n_flood" --interval-us 200 --ssrc 0x66778899 --srtp "AES_CM_128_HMAC_SHA1_80 inline:$bob_key" \
  > "$tmp/s1.flood" 2>&1
t1=$(date +%s%N)
for _ in $(seq 1 40); do  # (2 s: the counters are published every 100 ms)
  c2a=$(( $(counter worker0 relayed_core_to_access) - c2a0 )) policed=$(( $(counter worker0 drop_policed) - pol0 ))
  [ $((c2a + policed)) -ge "$n_flood" ] && break
  sleep 0.05
done
pass_max=$(( 60 + (t1 - t0) * 10 / 84000000 + 2 ))
echo "# 1: flood of $n_flood from bob in $(( (t1 - t0) / 1000000 )) ms ($(cat "$tmp/s1.flood")):" \
  "relayed to alice +$c2a (at most $pass_max), drop_policed +$policed"
check "1: bob's flood of $n_flood authentic packets: its burst and rate relayed (60..$pass_max), the rest policed" \
  eval '[ "$c2a" -ge 60 ] && [ "$c2a" -le "$pass_max" ] && [ $((c2a + policed)) -le "$n_flood" ] &&
        [ $((c2a + policed)) -ge $((n_flood * 99 / 100)) ]'
echo hangup > "$tmp/s1.in"
check "1: alice hangs up; bob takes the BYE (both exit 0)" \
  eval 'exited "$bob_pid" 0 && exited "$alice_pid" 0'
check "1: no session left" sessions_are 0

# --- 2. bob calls alice: GCM first, AES-CM second -------------------------------
bob_gcm=$(sdes_key 28) bob_cm=$(sdes_key 30)
secrets+=("$bob_gcm" "$bob_cm")
alice s2 "${web[@]}" --candidate 198.18.0.1:5002 --answer
check "2: alice registers to take bob's call" wait_event s2 '.event == "registered"' 10
ims_sipp "$ims" "$bob_addr" uac_sdes_call.xml -p 5071 -s alice -key from bob \
  -set key_gcm "$bob_gcm" -set key_cm "$bob_cm" -set rtp_port 41010 -mi "$bob_media" -d 9000 -timeout 60 \
  -trace_msg -message_file "$tmp/s2-bob.msg" -trace_err -error_file "$tmp/s2-bob.sipp-err" \
  > "$tmp/s2-bob.out" 2>&1 &
bob_pid=$!
bg+=("$bob_pid")
check "2: bob's call to alice is confirmed" wait_event s2 '.event == "confirmed"'
check "2: the gateway answered RTP/SAVP with one a=crypto: tag 1, AEAD_AES_128_GCM (bob's first)" \
  eval 'sipp_has "$tmp/s2-bob.msg" received "^SIP/2.0 200" "^m=audio 5[0-9]{4} RTP/SAVP " &&
        is "$(sipp_nth "$tmp/s2-bob.msg" received "^SIP/2.0 200" 1 | grep "^a=crypto:" |
              sed "s/ inline:.*//")" "a=crypto:1 AEAD_AES_128_GCM"'
gw_key2=$(crypto_of "$tmp/s2-bob.msg" received "^SIP/2.0 200" AEAD_AES_128_GCM)
secrets+=("$gw_key2")
check "2: ... with a key of its own (28 octets, not bob's)" \
  eval 'is "$(printf "%s" "$gw_key2" | base64 -d 2>/dev/null | wc -c)" 28 && [ "$gw_key2" != "$bob_gcm" ]'
alice_media s2
check "2: bob's media (media_peer echo) listens" \
  bob_echo s2 "AEAD_AES_128_GCM inline:$gw_key2" "AEAD_AES_128_GCM inline:$bob_gcm" 300
check "2: one session in the dataplane" sessions_are 1
media s2 client 300
check "2: browser_peer: ICE, DTLS (the gateway as server), all 300 packets back intact" \
  media_ok s2 300
wait "$echo_pid"; echo_rc=$?
echo "# bob's echo (exit $echo_rc): $(cat "$tmp/s2.echo")"
check "2: bob authenticated all 300 under the gateway's GCM key and echoed them, RTCP too" \
  eval '[ "$echo_rc" -eq 0 ] && grep -Eq "^received=300 echoed=300 rtcp=[1-9][0-9]* srtp_fail=0 errors=0$" "$tmp/s2.echo"'
check "2: bob hangs up (sipp exits 0), alice's client exits 0" \
  eval 'exited "$bob_pid" 0 && exited "$alice_pid" 0'
check "2: no session left" sessions_are 0

# --- 3. nothing secret in the logs ------------------------------------------------
kill -TERM "$pcscf_pid"; wait "$pcscf_pid"; pcscf_pid=""
kill -TERM "$pid"; wait "$pid"; pid=""
logs=("$tmp/pcscf.log" "$tmp/dp.log")
# Each log also without ':', ' ' and '-', so hex written as ab:cd or "ab cd" is found too.
for f in "${logs[@]}"; do tr -d ': -' < "$f" > "$f.packed"; done
check "3: the logs are at debug level: every SIP message (the INVITEs too), each session_create (the keys' command)" \
  eval 'grep -q "level=debug event=sip_in method=INVITE " "$tmp/pcscf.log" &&
        is "$(grep -c "level=debug event=dpif_command type=session_create " "$tmp/dp.log")" 2'
leaks=0
for k in "${secrets[@]}"; do
  hex=$(printf '%s' "$k" | base64 -d | od -An -tx1 -v | tr -d ' \n')
  for f in "${logs[@]}"; do
    grep -qF -- "$k" "$f" && { echo "    (SDES key $k in $f)"; leaks=$((leaks + 1)); }
    grep -qiF -- "${hex:0:32}" "$f.packed" && { echo "    (SDES key $k as hex in $f)"; leaks=$((leaks + 1)); }
  done
done
check "3: no SDES key of either side (${#secrets[@]} keys, base64 or hex) in the P-CSCF's or the dataplane's log" \
  is "$leaks" 0
priv_hex=$(openssl ec -in "$tmp/dtls.key" -noout -text 2>/dev/null |
  awk '/^priv:/ { on = 1; next } /^[A-Za-z]/ { on = 0 } on' | tr -d ' :\n')
pem_lines=$(grep -v '^-----' "$tmp/dtls.key")
dleaks=0
for f in "${logs[@]}"; do
  [ -n "$priv_hex" ] && grep -qiF -- "${priv_hex:2:32}" "$f.packed" && dleaks=$((dleaks + 1))
  while read -r line; do
    [ -n "$line" ] && grep -qF -- "$line" "$f" && dleaks=$((dleaks + 1))
  done <<< "$pem_lines"
done
check "3: the dataplane's DTLS private key (PEM lines, scalar in hex: ${#priv_hex} digits) in neither log" \
  eval '[ "${#priv_hex}" -ge 64 ] && is "$dleaks" 0'
summary
