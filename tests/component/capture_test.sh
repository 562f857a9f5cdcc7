#!/usr/bin/env bash
# Component test: `isthmus-ctl capture` (issue 10) on a running dataplane.
#
#   browser 198.18.0.1 --veth-- [access: net_af_packet0 + net_tap0 198.18.0.2]
#                                isthmus-dataplane (namespace gw)
#   ims     198.18.1.1 --veth-- [core:   net_af_packet1 + net_tap1 198.18.1.2]
#
# A session (SDES-SRTP access leg, plain RTP core leg) relays N packets
# browser -> IMS while `isthmus-ctl capture --session 1` writes a pcapng;
# tshark must read it and find each packet twice: on "access", inbound, as
# SRTP (10 octets of auth tag longer, payload encrypted), and on "core",
# outbound, as the plain RTP media_peer made (payload pattern of its seq).
# A second capture at the same time is refused. A port capture of "core"
# while the IMS host pings the gateway shows the ICMP echo in and the reply
# (from the kernel, through the exception path) out. A capturer killed
# with SIGKILL is noticed by the dataplane (its beat stops), which frees the
# claim and stops the capture. Usage errors exit 2. One worker: the hand-off
# between workers is not captured here (worker-multi covers the hand-off).
# Usage: capture_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ns_test_binaries "${1:?build dir}"
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for t in ping ethtool ss tshark python3; do
  command -v "$t" >/dev/null || { echo "$t missing: run tools/lib/deps.sh"; exit 1; }
done

ns_test_init "" cap

key_a="AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
key_b="AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
N=50

# Usage errors first (no dataplane needed): exit 2.
"$ctl" --region "$region" capture --port access > /dev/null 2>&1
check "capture without -w is a usage error (exit 2)" test "$?" -eq 2
"$ctl" --region "$region" capture --port sideways -w "$tmp/x" > /dev/null 2>&1
check "capture --port sideways is a usage error (exit 2)" test "$?" -eq 2
"$ctl" --region "$region" capture --snaplen 9999 -w "$tmp/x" > /dev/null 2>&1
check "capture --snaplen 9999 is a usage error (exit 2)" test "$?" -eq 2
"$ctl" --region "$region" capture -w "$tmp/x" > /dev/null 2>&1
check "capture without a dataplane exits 1" test "$?" -eq 1

ip netns add "$gw" || exit 1
host "$browser" "$acc_host" "$acc_gw" 198.18.0.1/24 || exit 1
host "$ims" "$core_host" "$core_gw" 198.18.1.1/24 || exit 1
ns_gateway_toml '"-l", "0,1"' net_af_packet0 "iface=$acc_gw" net_af_packet1 "iface=$core_gw" \
  > "$tmp/ns.toml"
ns_gateway_start "$tmp/ns.toml"
check "the dataplane runs" wait_running "$ctl" "$region"
check "without shared EAL configuration it says dpdk-pdump is unavailable" \
  grep -q 'event=pdump state=unavailable' "$tmp/dp.log"

out=$("$ctl" --region "$region" session add --id 1 \
  --access-local 198.18.0.2:40000 --access-rtcp-mux --access-remote 198.18.0.1:5000 \
  --access-rx-key "$key_a" --access-tx-key "$key_b" \
  --core-local 198.18.1.2:50000 --core-rtcp-local 198.18.1.2:50001 \
  --core-remote 198.18.1.1:6000 --core-rtcp-remote 198.18.1.1:6001 2>&1)
check "isthmus-ctl session add ($out)" grep -q '^id=1 result=ok ' <<< "$out"

# 1. A session's capture: N in as SRTP, N out as RTP.
"$ctl" --region "$region" capture --session 1 --count $((2 * N)) --seconds 30 \
  -w "$tmp/s1.pcapng" > "$tmp/cap1.out" 2> "$tmp/cap1.err" &
cap=$!; bg+=("$cap")
for _ in $(seq 1 100); do grep -q '^capturing' "$tmp/cap1.err" && break; sleep 0.05; done
check "the capture started ($(cat "$tmp/cap1.err"))" grep -q '^capturing on access and core, session 1' "$tmp/cap1.err"
out=$("$ctl" --region "$region" capture -w "$tmp/second.pcapng" 2>&1); rc=$?
check "a second capture meanwhile is refused (exit $rc: $out)" \
  bash -c "[ $rc -eq 1 ] && grep -q 'a capture by pid $cap is running' <<< '$out'"

ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --from 198.18.1.2:50000 \
  --expect "$N" --timeout-ms 5000 --linger-ms 100 > "$tmp/a2c.out" 2>&1 &
rx=$!; bg+=("$rx")
wait_udp "$ims" 6000
ip netns exec "$browser" "$peer" send --bind 198.18.0.1:5000 --to 198.18.0.2:40000 \
  --count "$N" --interval-us 2000 --ssrc 0x0b0b0b0b --srtp "$key_a" > /dev/null 2>&1
wait "$rx"; rc=$?
check "the IMS host received all $N as RTP ($(cat "$tmp/a2c.out"))" test "$rc" -eq 0
wait "$cap"; rc=$?
out=$(cat "$tmp/cap1.out")
check "the capture ended by its count, nothing dropped (exit $rc: $out)" \
  grep -q "^capture=$tmp/s1.pcapng frames=$((2 * N)) dropped=0 stopped_by=count$" <<< "$out"

fields() {
  tshark -r "$1" -d udp.port==40000,rtp -d udp.port==6000,rtp -T fields -E separator=' ' \
    -e frame.interface_name -e frame.packet_flags_direction -e frame.comment \
    -e udp.srcport -e udp.dstport -e udp.length -e rtp.seq -e rtp.ssrc -e rtp.payload "${@:2}"
}
fields "$tmp/s1.pcapng" > "$tmp/s1.txt" 2> "$tmp/tshark.err"
check "tshark reads the capture ($(head -c 300 "$tmp/tshark.err"))" \
  test "$(wc -l < "$tmp/s1.txt")" -eq $((2 * N))
head -2 "$tmp/s1.txt" | cut -c1-160
tail -1 "$tmp/s1.txt" | cut -c1-160
# Each seq once in (access, SRTP) and once out (core, RTP): same header,
# 10 octets shorter, payload decrypted into media_peer's pattern.
check "every packet in on access as SRTP and out on core as the plain RTP sent" python3 - "$tmp/s1.txt" "$N" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
ins = {}; outs = {}
for r in rows:
    iface, direction, comment, sport, dport, ulen, seq, ssrc, payload = r[:9]
    pl = bytes.fromhex(payload.replace(':', ''))
    if comment != 'session=1':
        print('unexpected comment', r[:8]); sys.exit(1)
    if iface == 'access' and direction == '0x00000001' and dport == '40000':
        ins[int(seq)] = (int(ulen), pl, ssrc)
    elif iface == 'core' and direction == '0x00000002' and (sport, dport) == ('50000', '6000'):
        outs[int(seq)] = (int(ulen), pl, ssrc)
    else:
        print('unexpected frame', r[:8]); sys.exit(1)
if len(ins) != n or len(outs) != n or set(ins) != set(outs):
    print('in', len(ins), 'out', len(outs)); sys.exit(1)
for seq, (ulen, pl, ssrc) in outs.items():
    want = bytes(((seq * 151) ^ (k * 7 + 0x5a)) & 0xff for k in range(len(pl)))
    iulen, ipl, issrc = ins[seq]
    if pl != want or iulen != ulen + 10 or issrc != ssrc or ipl[:len(pl)] == pl:
        print('seq', seq, 'out', ulen, pl[:4].hex(), 'in', iulen, ipl[:4].hex()); sys.exit(1)
print(f'  {n} SRTP in (access, inbound) and {n} RTP out (core, outbound), payloads decrypted')
PY

# 2. A port capture: the IMS host pings the gateway's core address.
"$ctl" --region "$region" capture --port core --seconds 4 -w "$tmp/core.pcapng" \
  > "$tmp/cap2.out" 2> "$tmp/cap2.err" &
cap=$!; bg+=("$cap")
for _ in $(seq 1 100); do grep -q '^capturing' "$tmp/cap2.err" && break; sleep 0.05; done
ip netns exec "$ims" ping -c 3 -i 0.2 -W 2 198.18.1.2 > /dev/null 2>&1
wait "$cap"
cat "$tmp/cap2.out"
icmp=$(tshark -r "$tmp/core.pcapng" -Y icmp -T fields -e frame.interface_name \
  -e frame.packet_flags_direction -e icmp.type 2> /dev/null | sort | uniq -c)
echo "$icmp"
check "core capture: ICMP echo requests in" grep -Eq '^ +[3-9]\s+core\s+0x00000001\s+8$' <<< "$icmp"
check "core capture: the kernel's echo replies out" grep -Eq '^ +[3-9]\s+core\s+0x00000002\s+0$' <<< "$icmp"
check "core capture: nothing of the access port" \
  test -z "$(tshark -r "$tmp/core.pcapng" -Y 'frame.interface_name == "access"' 2> /dev/null)"

# 3. A capturer killed: once its beat is 2 s old the dataplane frees the
# claim and stops the capture (the lcores stop copying).
"$ctl" --region "$region" capture -w "$tmp/killed.pcapng" > /dev/null 2>&1 &
cap=$!; bg+=("$cap")
for _ in $(seq 1 100); do
  "$ctl" --region "$region" status | grep -q ' capture=on ' && break; sleep 0.05
done
check "status shows the capture on, owned by $cap" \
  bash -c "'$ctl' --region '$region' status | grep -q ' capture=on capture_owner_pid=$cap '"
kill -KILL "$cap"; wait "$cap" 2> /dev/null
for _ in $(seq 1 60); do grep -q 'event=capture_abandoned' "$tmp/dp.log" && break; sleep 0.1; done
check "the dataplane logs capture_abandoned owner_pid=$cap" \
  grep -q "event=capture_abandoned owner_pid=$cap" "$tmp/dp.log"
for _ in $(seq 1 20); do
  "$ctl" --region "$region" status | grep -q ' capture=off ' && break; sleep 0.05
done
out=$("$ctl" --region "$region" status)
check "and stops its capture: capture=off, no owner" grep -q ' capture=off capture_owner_pid=0 ' <<< "$out"
# The next capture, to standard output, while the IMS host pings the gateway.
( sleep 0.5; ip netns exec "$ims" ping -c 3 -i 0.2 -W 2 198.18.1.2 > /dev/null 2>&1 ) &
out=$("$ctl" --region "$region" capture --port core --seconds 2 -w - 2>&1 > "$tmp/stdout.pcapng")
check "the next capture runs, to standard output ($out)" grep -q 'stopped_by=seconds' <<< "$out"
n=$(tshark -r "$tmp/stdout.pcapng" -Y icmp 2> /dev/null | wc -l)
check "its pcapng on stdout holds the pings ($n ICMP frames)" test "$n" -ge 4
check "a capture file is its owner's only (mode 600)" test "$(stat -c %a "$tmp/s1.pcapng")" = 600

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
if [ "$failures" -ne 0 ]; then echo "--- dataplane log"; cat "$tmp/dp.log"; fi
summary
