#!/usr/bin/env bash
# Component test in network namespaces: ICE-lite + DTLS-SRTP on the access
# leg, end to end (issue 5).
#
#   browser 198.18.0.1 --veth-- [access: net_af_packet0 + net_tap0 198.18.0.2]
#                                isthmus-dataplane (namespace gw)
#   ims     198.18.1.1 --veth-- [core:   net_af_packet1 + net_tap1 198.18.1.2]
#
# browser_peer (tests/tools: its own STUN, OpenSSL DTLS, libsrtp2) plays the
# browser: ICE checks with credentials and USE-CANDIDATE, DTLS client or
# server with use_srtp, SRTP + SRTCP (rtcp-mux), consent checks. media_peer
# plays the IMS media node (plain RTP). For each use_srtp profile and both
# gateway roles (a=setup passive / active), a session is added with
# isthmus-ctl (the browser's certificate fingerprint, ICE credentials); the
# browser's N SRTP packets must reach the IMS host as intact RTP and the IMS
# host's N RTP packets must reach the browser as SRTP that decrypts with the
# negotiated keys. Then: replayed SRTP/SRTCP and forged SRTP from the
# browser's own address dropped and counted (two profiles), a second
# handshake on an established leg is refused, a wrong fingerprint is
# refused with the gateway passive and active (no keys, no media, counted),
# and a flood of ClientHellos (20000/s) during a call leaves its media
# untouched while the dataplane counts every flood datagram it saw and keeps
# answering.
# The gateway's fingerprint comes from `isthmus-ctl status`.
# Addresses from 198.18.0.0/15 (RFC 2544); namespaces, links, processes,
# files and the dpif region are removed on exit.
# Usage: dtls_ns_test.sh BUILD_DIR      (root; exit 77 = skipped)
# DTLS_NS_LCORES (default "0,1"): the EAL -l list (with two lcores the
# slow path shares the main lcore; "--lcores" mappings work too).
# DTLS_NS_FLOOD_PPS (default 20000) and DTLS_NS_FLOOD_N (default 500): the
# flood's rate and the packets each way of the call it runs during.
# DTLS_NS_CONSENT=1 adds consent freshness (RFC 7675, ~35 s): the browser
# stops its checks, 30 s later media toward it stops (counted), and its
# next check brings the media back.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ns_test_binaries "${1:?build dir}"
browser_peer=$build/tests/browser_peer
lcores=${DTLS_NS_LCORES:-0,1}
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in ethtool ss openssl; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done

ns_test_init "d" dns

N=100  # RTP packets per direction and run

# counter BLOCK NAME: one value of `isthmus-ctl counters`.
counter() {
  "$ctl" --region "$region" counters | sed -n "s/^[a-z_]*=$1 .* $2=\([0-9]*\).*/\1/p"
}
# wait_line FILE REGEX: until FILE has a line matching (up to 8 s).
wait_line() {
  for _ in $(seq 1 160); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

ip netns add "$gw" || exit 1
host "$browser" "$acc_host" "$acc_gw" 198.18.0.1/24 || exit 1
host "$ims" "$core_host" "$core_gw" 198.18.1.1/24 || exit 1

# The browser's certificate (its a=fingerprint goes to the gateway) and a
# stranger's, for the mismatch case.
for name in browser stranger; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$name" -keyout "$tmp/$name.key" -out "$tmp/$name.crt" >"$tmp/openssl.log" 2>&1 \
    || { cat "$tmp/openssl.log"; exit 1; }
done
fp_of() { openssl x509 -noout -fingerprint -sha256 -in "$tmp/$1.crt" | sed 's/^.*=//'; }
fp_browser=$(fp_of browser) fp_stranger=$(fp_of stranger)

case $lcores in --lcores*) lcore_args="\"--lcores\", \"${lcores#--lcores }\"" ;;
  *) lcore_args="\"-l\", \"$lcores\"" ;; esac
# af_packet rings of 4096 frames (the PMD's default is 512), as deep as a
# NIC's RX ring: on a small host the worker shares its CPU with the browser
# and the kernel, and at the flood's rate 512 frames (~25 ms) overflowed in
# the kernel before the worker could poll (frames it never saw nor counted).
ns_gateway_toml "$lcore_args" net_af_packet0 "iface=$acc_gw,framecnt=4096" \
  net_af_packet1 "iface=$core_gw,framecnt=4096" > "$tmp/ns.toml"
ns_gateway_start "$tmp/ns.toml"
check "the dataplane runs ($lcores)" wait_running "$ctl" "$region"
grep -E 'event=(started|dtls_ready)' "$tmp/dp.log"
status=$("$ctl" --region "$region" status)
fp_gw=$(sed -n 's/.* dtls_fingerprint=\([0-9A-F:]*\).*/\1/p' <<< "$status")
check "isthmus-ctl status shows the gateway's SHA-256 fingerprint ($fp_gw)" \
  test "${#fp_gw}" -eq 95

gw_pwd=gateway-ice-password-0123
br_pwd=browser-ice-password-4567

# session ID ROLE FINGERPRINT: a DTLS-SRTP access leg (ICE, rtcp-mux) on
# 198.18.0.2:(40000+2*ID), plain RTP core leg 198.18.1.2:(50000+2*ID) <->
# the IMS host's 198.18.1.1:6000/6001.
session() {
  "$ctl" --region "$region" session add --id "$1" \
    --access-local "198.18.0.2:$((40000 + 2 * $1))" --access-rtcp-mux \
    --access-ice-ufrag "gw$1x" --access-ice-pwd "$gw_pwd" --access-remote-ufrag brws \
    --access-dtls "$2" --access-fingerprint "$3" \
    --core-local "198.18.1.2:$((50000 + 2 * $1))" --core-remote 198.18.1.1:6000 2>&1
}

# browser ID DTLS-ROLE PROFILES OPTIONS...: browser_peer against session ID
# in the background; its last line in $tmp/br.ID.out.
browser() {
  local id=$1 role=$2 profiles=$3
  shift 3
  ip netns exec "$browser" "$browser_peer" --bind "198.18.0.1:$((5000 + 2 * id))" \
    --to "198.18.0.2:$((40000 + 2 * id))" --ufrag brws --pwd "$br_pwd" \
    --remote-ufrag "gw${id}x" --remote-pwd "$gw_pwd" \
    --cert "$tmp/browser.crt" --key "$tmp/browser.key" --remote-fingerprint "$fp_gw" \
    --dtls "$role" --profiles "$profiles" --count "$N" --interval-us 2000 \
    --expect "$N" --timeout-ms "${br_timeout:-8000}" --consent-ms 200 "$@" \
    > "$tmp/br.$id.out" 2> "$tmp/br.$id.err" &
  brpid=$!
  bg+=("$brpid")
}

# media ID PROFILE GW-ROLE [BROWSER-OPTIONS...]: one call, media both ways.
media() {
  local id=$1 profile=$2 gw_role=$3 br_role out rc rx
  shift 3
  br_role=$([ "$gw_role" = passive ] && echo client || echo server)
  out=$(session "$id" "$gw_role" "$fp_browser")
  check "[$id $profile gw=$gw_role] session add ($out)" grep -q "^id=$id result=ok " <<< "$out"
  # Browser -> IMS: the IMS host listens first.
  ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --from "198.18.1.2:$((50000 + 2 * id))" \
    --expect "$N" --timeout-ms 8000 > "$tmp/a2c.$id.out" 2>&1 &
  rx=$!; bg+=("$rx")
  wait_udp "$ims" 6000
  browser "$id" "$br_role" "$profile" --linger-ms 300 "$@"
  check "[$id] DTLS comes up with $profile" wait_line "$tmp/br.$id.out" "^dtls=ok profile=$profile$"
  wait "$rx"; rc=$?
  check "[$id] the IMS host got all $N browser packets as intact RTP (exit $rc: $(cat "$tmp/a2c.$id.out"))" \
    test "$rc" -eq 0
  # IMS -> browser.
  out=$(ip netns exec "$ims" "$peer" send --bind 198.18.1.1:6000 \
    --to "198.18.1.2:$((50000 + 2 * id))" --count "$N" --interval-us 1000 --ssrc 0x1a1a1a1a 2>&1)
  check "[$id] the IMS host sent $N RTP ($out)" grep -q "^sent=$N " <<< "$out"
  wait "$brpid"; rc=$?
  out=$(tail -n 1 "$tmp/br.$id.out")
  echo "# browser (exit $rc): $out"
  sed 's/^/#   browser: /' "$tmp/br.$id.err" | tail -n 5
  check "[$id] the browser: ICE, DTLS ($profile), all $N IMS packets as SRTP that decrypts, consent answered" \
    eval "[ $rc -eq 0 ] && [[ '$out' =~ ^ice=ok\ dtls=ok\ profile=$profile\ sent=$N\ received=$N\ ok=$N\ bad=0\ srtp_fail=0\ consent_ok=[1-9] ]]"
  last_out=$out
}

id=1
for profile in SRTP_AES128_CM_SHA1_80 SRTP_AES128_CM_SHA1_32 SRTP_AEAD_AES_128_GCM SRTP_AEAD_AES_256_GCM; do
  for role in passive active; do
    media "$id" "$profile" "$role"
    out=$("$ctl" --region "$region" session show "$id" 2>&1)
    check "[$id] session show: $N RTP + $((N / 5)) SRTCP relayed in, $N out, nothing dropped ($out)" \
      grep -Eq "relayed_a2c=$((N + N / 5)) relayed_c2a=$N dropped_access=0 dropped_core=0" <<< "$out"
    "$ctl" --region "$region" session delete "$id" > /dev/null
    id=$((id + 1))
  done
done
sleep 0.2
up=$(counter slow_path dtls_handshakes_up)
check "the slow path counts 8 handshakes up ($up)" test "$up" = 8
keys=$(counter worker0 dtls_keys_installed)
check "the worker installed 8 key sets ($keys)" test "$keys" = 8

# Replays and forgeries on the DTLS-keyed access leg (issue 11): after its
# media the browser sends its first 30 datagrams again (25 SRTP, 5 SRTCP, byte
# for byte) and 20 SRTP packets with a flipped tag octet. The worker drops and
# counts each; none reaches the IMS host (the session relays no more than the
# call's own packets).
for profile in SRTP_AES128_CM_SHA1_80 SRTP_AEAD_AES_256_GCM; do
  replay_before=$(counter worker0 srtp_replay) auth_before=$(counter worker0 srtp_auth_fail)
  media "$id" "$profile" passive --replay 30 --forge 20
  check "[$id] the browser replayed 30 and forged 20 ($last_out)" \
    grep -q ' replayed=30 forged=20$' <<< "$last_out"
  sleep 0.2
  replay_after=$(counter worker0 srtp_replay) auth_after=$(counter worker0 srtp_auth_fail)
  check "[$id] worker0 srtp_replay +30 ($replay_before -> $replay_after)" \
    test "$((replay_after - replay_before))" -eq 30
  check "[$id] worker0 srtp_auth_fail +20 ($auth_before -> $auth_after)" \
    test "$((auth_after - auth_before))" -eq 20
  out=$("$ctl" --region "$region" session show "$id" 2>&1)
  check "[$id] session show: only the call's $N RTP + $((N / 5)) SRTCP relayed in, 50 dropped at the access ($out)" \
    grep -Eq "relayed_a2c=$((N + N / 5)) relayed_c2a=$N dropped_access=50 dropped_core=0" <<< "$out"
  "$ctl" --region "$region" session delete "$id" > /dev/null
  id=$((id + 1))
done

# A second handshake on an established leg is refused; media goes on.
media "$id" SRTP_AEAD_AES_128_GCM passive --second-handshake
check "[$id] the browser's second handshake was refused" \
  grep -q ' second_handshake=refused' <<< "$last_out"
sleep 0.2
second=$(counter slow_path dtls_second_handshakes)
check "the slow path counts the refused ClientHello(s) ($second)" test "${second:-0}" -ge 1
"$ctl" --region "$region" session delete "$id" > /dev/null
id=$((id + 1))

# A browser whose certificate is not the one signalled: refused, no keys, no
# media. With the gateway passive (the browser the DTLS client), then active
# (a=setup:active: the gateway checks the browser's certificate in its
# client role).
mismatches=0
for roles in passive:client active:server; do
  gw_role=${roles%:*} br_role=${roles#*:}
  [ "$gw_role" = active ] && id=$((id + 1))
  out=$(session "$id" "$gw_role" "$fp_stranger")
  check "[$id gw=$gw_role] session add with another certificate's fingerprint ($out)" \
    grep -q "^id=$id result=ok " <<< "$out"
  browser "$id" "$br_role" SRTP_AEAD_AES_128_GCM --expect-dtls-fail
  wait "$brpid"; rc=$?
  out=$(tail -n 1 "$tmp/br.$id.out")
  echo "# browser (exit $rc): $out"
  check "[$id] the handshake fails at the browser (the gateway aborts it)" \
    eval "[ $rc -eq 0 ] && [[ '$out' =~ ^ice=ok\ dtls=(fail|timeout) ]]"
  mismatches=$((mismatches + 1))
  sleep 0.2
  mismatch=$(counter slow_path dtls_fingerprint_mismatch)
  check "the slow path counts dtls_fingerprint_mismatch=$mismatches ($mismatch)" \
    test "$mismatch" = "$mismatches"
  keys=$(counter worker0 dtls_keys_installed)
  check "no keys were installed for it (still $keys)" test "$keys" = 11
  # The IMS host sends toward the browser: with no keys the leg carries
  # nothing (each packet dropped and counted at the core side).
  out=$(ip netns exec "$ims" "$peer" send --bind 198.18.1.1:6000 \
    --to "198.18.1.2:$((50000 + 2 * id))" --count 20 --interval-us 1000 --ssrc 0x1a1a1a1a 2>&1)
  check "[$id] the IMS host sent 20 RTP toward the unkeyed leg ($out)" grep -q "^sent=20 " <<< "$out"
  sleep 0.2
  out=$("$ctl" --region "$region" session show "$id" 2>&1)
  check "[$id] none relayed, all 20 dropped at the core side ($out)" \
    grep -Eq "relayed_a2c=0 relayed_c2a=0 dropped_access=[0-9]+ dropped_core=20$" <<< "$out"
  "$ctl" --region "$region" session delete "$id" > /dev/null
done

# A DTLS handshake flood during a call (issue 5: a flood of DTLS traffic
# cannot starve the workers; a handshake flood leaves established media
# untouched). The browser sends ClientHellos (a real one, its record
# sequence number and random new each time) at FLOOD_PPS (20000/s) from its
# media socket, i.e. from the leg's nominated remote, for the whole media
# phase (FLOOD_N packets each way at 2 ms and 1 ms: ~1.5 s, ~30000 datagrams).
# The worker hands each to the slow path (which refuses it: the leg is up,
# dtls_second_handshakes) or, with the ring full, drops it
# (drop_slow_path_full). Media must not notice: every packet both ways,
# intact. Those flood drops are not the session's: the worker counts them
# per reason only (the relay hands a DTLS datagram off before it could be a
# session drop: with DTLS_NS_FLOOD_PPS=400000, ~130000/s sent, slow_path_full
# +19 left dropped_access=0), so the session must show exactly the media
# relayed and dropped_access=0; a media packet lost to the flood would show
# there or in the relayed counts.
# af_packet may still lose frames under the load before the worker sees
# them, so at least 90% of the datagrams sent must be counted one way or the
# other.
# Meanwhile `isthmus-ctl status` and `ping` are sampled: the dataplane must
# stay running with a fresh heartbeat (20 ms) and serve its command ring
# (the slow path shares the main lcore with two lcores).
id=$((id + 1))
FLOOD_N=${DTLS_NS_FLOOD_N:-500} FLOOD_PPS=${DTLS_NS_FLOOD_PPS:-20000}
second0=$(counter slow_path dtls_second_handshakes)
full0=$(counter worker0 drop_slow_path_full)
# The poller starts once DTLS is up (after `session add`: one command
# client at a time) and stops before `session show`.
rm -f "$tmp/flood.done"
(
  until grep -q '^dtls=ok ' "$tmp/br.$id.out" 2>/dev/null || [ -e "$tmp/flood.done" ]; do
    sleep 0.01
  done
  while [ ! -e "$tmp/flood.done" ]; do
    "$ctl" --region "$region" status 2>&1 |
      sed -n 's/.* state=\([a-z]*\) .* heartbeat_age_ms=\([0-9]*\) .*/\1 \2/p;t;s/^/error /p'
    "$ctl" --region "$region" ping 2>&1 |
      sed -n 's/^pong from generation [0-9]* in \([0-9]*\) us$/pong \1/p;t;s/^/error /p'
    sleep 0.05
  done
) > "$tmp/flood.status" &
poller=$!; bg+=("$poller")
N_saved=$N N=$FLOOD_N
media "$id" SRTP_AEAD_AES_128_GCM passive --dtls-flood-pps "$FLOOD_PPS"
N=$N_saved
touch "$tmp/flood.done"; wait "$poller"
flood_sent=$(sed -n 's/.* flood_sent=\([0-9]*\).*/\1/p' <<< "$last_out")
check "[$id] the browser flooded ($flood_sent ClientHellos sent)" test "${flood_sent:-0}" -gt 0
out=$("$ctl" --region "$region" session show "$id" 2>&1)
check "[$id] session show: $FLOOD_N RTP + $((FLOOD_N / 5)) SRTCP relayed in, $FLOOD_N out, nothing dropped ($out)" \
  grep -Eq "relayed_a2c=$((FLOOD_N + FLOOD_N / 5)) relayed_c2a=$FLOOD_N dropped_access=0 dropped_core=0" <<< "$out"
sleep 0.2
second=$(( $(counter slow_path dtls_second_handshakes) - second0 ))
full=$(( $(counter worker0 drop_slow_path_full) - full0 ))
echo "# flood: sent=$flood_sent refused_by_slow_path=$second dropped_slow_path_full=$full" \
  "counted=$((second + full)) ($(( (second + full) * 100 / (flood_sent > 0 ? flood_sent : 1) ))%)"
check "[$id] the dataplane saw the flood: second_handshakes +$second, slow_path_full +$full >= 90% of $flood_sent" \
  test "$(( (second + full) * 10 ))" -ge "$(( ${flood_sent:-1} * 9 ))"
check "[$id] and no more than was sent ($((second + full)) <= $flood_sent)" \
  test "$((second + full))" -le "${flood_sent:-0}"
samples=$(grep -c '^running ' "$tmp/flood.status") pongs=$(grep -c '^pong ' "$tmp/flood.status")
worst=$(awk '$1 == "running" { if ($2 > m) m = $2 } END { print m + 0 }' "$tmp/flood.status")
slowest=$(awk '$1 == "pong" { if ($2 > m) m = $2 } END { print m + 0 }' "$tmp/flood.status")
echo "# during the flood: $samples status samples, heartbeat_age_ms at most $worst;" \
  "$pongs pings, the slowest answered in $slowest us"
grep '^error ' "$tmp/flood.status" | head -n 3 | sed 's/^/#   /'
check "[$id] isthmus-ctl status and ping during the flood: running, every ping answered" \
  eval "[ $samples -ge 10 ] && [ $pongs -ge 10 ] && ! grep -q '^error ' '$tmp/flood.status'"
check "[$id] and the heartbeat stayed fresh (at most ${worst} ms old)" test "$worst" -le 250
out=$("$ctl" --region "$region" ping 2>&1)
check "[$id] after the flood the dataplane answers a ping ($out)" grep -q '^pong ' <<< "$out"
status=$("$ctl" --region "$region" status 2>&1)
check "[$id] and isthmus-ctl status says running" grep -q ' state=running ' <<< "$status"
"$ctl" --region "$region" session delete "$id" > /dev/null

if [ "${DTLS_NS_CONSENT:-0}" = 1 ]; then
  id=$((id + 1))
  out=$(session "$id" passive "$fp_browser")
  check "[$id] consent: session add" grep -q "^id=$id result=ok " <<< "$out"
  ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --from "198.18.1.2:$((50000 + 2 * id))" \
    --expect "$N" --timeout-ms 8000 > "$tmp/a2c.$id.out" 2>&1 &
  rx=$!; bg+=("$rx")
  wait_udp "$ims" 6000
  # No consent checks from 0 to 32.5 s after DTLS is up (the last one was
  # just before); the timeout covers the whole run.
  br_timeout=40000 browser "$id" client SRTP_AEAD_AES_128_GCM --pause-consent-ms 0:32500
  check "[$id] DTLS comes up" wait_line "$tmp/br.$id.out" "^dtls=ok "
  t0=$(date +%s%N)
  wait "$rx"
  at() { local t=$(( t0 + $1 * 1000000 - $(date +%s%N) )); [ "$t" -gt 0 ] && sleep "$(printf '%d.%03d' $((t / 1000000000)) $(( (t / 1000000) % 1000 )))"; }
  at 31500
  before=$(counter worker0 drop_no_consent)
  ip netns exec "$ims" "$peer" send --bind 198.18.1.1:6000 --to "198.18.1.2:$((50000 + 2 * id))" \
    --count 50 --interval-us 1000 --ssrc 0x2b2b2b2b > /dev/null 2>&1
  sleep 0.1
  after=$(counter worker0 drop_no_consent)
  check "[$id] 31.5 s without a check: media toward the browser stopped (drop_no_consent $before -> $after)" \
    test "$((after - before))" -eq 50
  at 34000
  out=$(ip netns exec "$ims" "$peer" send --bind 198.18.1.1:6000 \
    --to "198.18.1.2:$((50000 + 2 * id))" --count "$N" --interval-us 1000 --ssrc 0x1a1a1a1a 2>&1)
  wait "$brpid"; rc=$?
  out=$(tail -n 1 "$tmp/br.$id.out")
  echo "# browser (exit $rc): $out"
  check "[$id] its checks resumed: consent restored, all $N later packets reached it" \
    eval "[ $rc -eq 0 ] && [[ '$out' =~ ^ice=ok\ dtls=ok\ .*\ received=$N\ ok=$N\ bad=0\ srtp_fail=0 ]]"
  "$ctl" --region "$region" session delete "$id" > /dev/null
fi

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
grep -E 'event=(stopping|slow_path_counters|worker_counters)' "$tmp/dp.log"
if [ "$failures" -ne 0 ]; then echo "--- dataplane log"; cat "$tmp/dp.log"; fi
summary
