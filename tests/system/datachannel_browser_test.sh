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
# counts them (the MSRP bridge that will take them is not wired yet).
# Usage: datachannel_browser_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
build=${1:?build dir}
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

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
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
ip netns exec "$browser" env TMPDIR="$tmp/chromium" HOME="$tmp/chromium" node "$driver" \
  --chromium "$chromium" --dir "$tmp" --messages 5 --large 100000 > "$tmp/driver.out" \
  2> "$tmp/driver.err" &
drv=$!
for _ in $(seq 1 300); do [ -s "$tmp/offer.sdp" ] && break; sleep 0.1; done
check "Chromium offers a data channel" grep -q '^m=application .* UDP/DTLS/SCTP webrtc-datachannel' "$tmp/offer.sdp"
ufrag=$(sed -n 's/^a=ice-ufrag:\(.*\)\r\{0,1\}$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
fp_br=$(sed -n 's/^a=fingerprint:sha-256 \(.*\)$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
mid=$(sed -n 's/^a=mid:\(.*\)$/\1/p' "$tmp/offer.sdp" | head -1 | tr -d '\r')
echo "  (browser ufrag $ufrag, mid $mid, fingerprint ${fp_br:0:23}...)"

pwd_gw=dcbrowsericepassword0123
out=$("$ctl" --region "$region" session add --id 21 --access-datachannel \
  --access-local 198.18.0.2:40010 --access-ice-ufrag gwdc --access-ice-pwd "$pwd_gw" \
  --access-remote-ufrag "$ufrag" --access-dtls passive --access-fingerprint "$fp_br" \
  --max-message-size 262144 2>&1)
check "isthmus-ctl session add --access-datachannel ($out)" grep -q '^id=21 result=ok ' <<< "$out"
printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 198.18.0.2" "s=-" "t=0 0" "a=ice-lite" \
  "m=application 40010 UDP/DTLS/SCTP webrtc-datachannel" "c=IN IP4 198.18.0.2" \
  "a=mid:$mid" "a=ice-ufrag:gwdc" "a=ice-pwd:$pwd_gw" "a=fingerprint:sha-256 $fp_gw" \
  "a=setup:passive" "a=sctp-port:5000" "a=max-message-size:262144" \
  "a=candidate:1 1 udp 2130706431 198.18.0.2 40010 typ host" "a=end-of-candidates" \
  > "$tmp/answer.tmp"
mv "$tmp/answer.tmp" "$tmp/answer.sdp"

wait "$drv"; rc=$?
res=$(cat "$tmp/driver.out")
echo "  driver: $res"
[ "$rc" -eq 0 ] || sed -n 1,20p "$tmp/driver.err"
check "the channel opens in Chromium (exit $rc)" grep -q '"open":true' <<< "$res"
check "on an even stream id (Chromium is the DTLS client), protocol msrp" \
  grep -q '"id":0,"protocol":"msrp"' <<< "$res"
check "its SCTP transport is connected, everything sent left its buffer" \
  grep -q '"buffered":0,"sctp":"connected"' <<< "$res"
check "Chromium sees our a=max-message-size" grep -q '"max_message_size":262144' <<< "$res"
check "and the channel stays open" grep -q '"still_open":true' <<< "$res"
sleep 0.3  # a heartbeat: the slow path publishes its counters
cnt=$("$ctl" --region "$region" counters | grep '^slow_path=')
dc() { sed -n "s/.* dtls_$1=\([0-9]*\).*/\1/p" <<< "$cnt"; }
echo "  slow path: dc_legs_up=$(dc dc_legs_up) dc_channels=$(dc dc_channels) dc_messages_in=$(dc dc_messages_in) dc_failed=$(dc dc_failed) dc_no_leg=$(dc dc_no_leg)"
check "the gateway's slow path made the SCTP endpoint" test "$(dc dc_legs_up)" = 1
check "and took Chromium's DCEP OPEN" test "$(dc dc_channels)" = 1
check "and all 6 messages, the 100,000-octet one too" test "$(dc dc_messages_in)" = 6

out=$("$ctl" --region "$region" session delete 21 2>&1)
check "session delete 21 ($out)" grep -q '^id=21 result=ok' <<< "$out"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
if [ "$failures" -ne 0 ]; then echo "--- dataplane log"; tail -30 "$tmp/dp.log"; fi
summary
