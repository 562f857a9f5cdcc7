#!/usr/bin/env bash
# Component test in network namespaces: the media relay end to end.
#
#   browser 198.18.0.1 --veth-- [access: net_af_packet0 + net_tap0 198.18.0.2]
#                                isthmus-dataplane (namespace gw)
#   ims     198.18.1.1 --veth-- [core:   net_af_packet1 + net_tap1 198.18.1.2]
#
# Nothing is pinged first: the dataplane resolves the IMS host with its own
# ARP request and learns the browser's MAC from its first packet (the pings
# come after the relay, to show the gateway's addresses still answer with
# the port's one MAC). isthmus-ctl adds a
# session: access leg 198.18.0.2:40000 (rtcp-mux, SDES SRTP) <-> core leg
# 198.18.1.2:50000/50001 (plain RTP/RTCP). media_peer (libsrtp2) sends SRTP +
# SRTCP from the browser, the IMS host must receive every RTP packet intact
# as plain RTP (and the RTCP on its RTCP port); then the reverse direction
# must arrive at the browser as SRTP that decrypts. A packet from a wrong
# source is dropped and counted; after `session delete` the packets go to
# the kernel and nothing reaches the IMS host.
# Addresses from 198.18.0.0/15 (RFC 2544); namespaces, links, processes and
# the dpif region are removed on exit.
# Usage: relay_ns_test.sh BUILD_DIR      (root; exit 77 = skipped)
# RELAY_NS_LCORES (default "0,1"): the EAL -l list; with one lcore the worker
# runs inline on the main lcore.
# RELAY_NS_PMD (default af_packet): the ports' driver, net_af_packet or
# net_pcap (libpcap on the same veths: iface=).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ns_test_binaries "${1:?build dir}"
lcores=${RELAY_NS_LCORES:-0,1}
pmd=${RELAY_NS_PMD:-af_packet}
case $pmd in af_packet|pcap) ;; *) echo "RELAY_NS_PMD: af_packet or pcap"; exit 2 ;; esac
# pmd_args IF: the devargs of a port on veth IF. net_pcap reads only what
# comes in (rx_iface_in: libpcap would also hand back what the port sent).
pmd_args() {
  if [ "$pmd" = pcap ]; then echo "rx_iface_in=$1,tx_iface=$1"; else echo "iface=$1"; fi
}
# Microseconds between a peer's packets. net_pcap's capture ring holds few
# frames (one snaplen-sized slot each): on a loaded 2-CPU host a stalled
# reader loses some at 1 kpps (the port's imissed counts them), so its
# peers send at 200 pps.
gap=1000
[ "$pmd" = pcap ] && gap=5000
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
command -v ping >/dev/null || { echo "ping (iputils-ping) missing: run tools/lib/deps.sh"; exit 1; }
command -v ethtool >/dev/null || { echo "ethtool missing: run tools/lib/deps.sh"; exit 1; }
command -v ss >/dev/null || { echo "ss (iproute2) missing: run tools/lib/deps.sh"; exit 1; }

ns_test_init "" rns

# SDES keys (RFC 4568 example key material): A browser -> gateway, B gateway -> browser.
key_a="AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
key_b="AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
N=200        # RTP packets per direction
K=20         # an RTCP report after every K-th
R=$((N / K)) # RTCP reports per direction

# counter BLOCK NAME: one value of `isthmus-ctl counters` (e.g. worker0 to_kernel).
counter() {
  "$ctl" --region "$region" counters | sed -n "s/^[a-z]*=$1 .* $2=\([0-9]*\).*/\1/p"
}

# udp_noports NS: the kernel's count of UDP datagrams to a port without a socket.
udp_noports() {
  ip netns exec "$1" awk '/^Udp:/ { if (h) { print $3; exit } h = 1 }' /proc/net/snmp
}

ip netns add "$gw" || exit 1
host "$browser" "$acc_host" "$acc_gw" 198.18.0.1/24 || exit 1
host "$ims" "$core_host" "$core_gw" 198.18.1.1/24 || exit 1

ns_gateway_toml "\"-l\", \"$lcores\"" "net_${pmd}0" "$(pmd_args "$acc_gw")" \
  "net_${pmd}1" "$(pmd_args "$core_gw")" > "$tmp/ns.toml"
ns_gateway_start "$tmp/ns.toml"
check "the dataplane runs (lcores $lcores, net_$pmd ports)" wait_running "$ctl" "$region"
grep 'event=started' "$tmp/dp.log"

# 1. No ping first: the dataplane resolves the IMS host itself (an ARP
# request from the port's MAC when the session is added) and learns the
# browser's MAC from its first packet.
# 2. The session.
out=$("$ctl" --region "$region" session add --id 1 \
  --access-local 198.18.0.2:40000 --access-rtcp-mux --access-remote 198.18.0.1:5000 \
  --access-rx-key "$key_a" --access-tx-key "$key_b" \
  --core-local 198.18.1.2:50000 --core-rtcp-local 198.18.1.2:50001 \
  --core-remote 198.18.1.1:6000 --core-rtcp-remote 198.18.1.1:6001 2>&1)
echo "$out"
check "isthmus-ctl session add" grep -q '^id=1 result=ok ' <<< "$out"

# 3. Browser -> IMS: SRTP + SRTCP (rtcp-mux) in, plain RTP and RTCP (own port) out.
ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --from 198.18.1.2:50000 \
  --rtcp-bind 198.18.1.1:6001 --rtcp-from 198.18.1.2:50001 \
  --expect "$N" --timeout-ms $((5 * gap)) --linger-ms 200 > "$tmp/a2c.out" 2>&1 &
rx=$!; bg+=("$rx")
wait_udp "$ims" 6000
out=$(ip netns exec "$browser" "$peer" send --bind 198.18.0.1:5000 --to 198.18.0.2:40000 \
  --count "$N" --interval-us "$gap" --ssrc 0x0b0b0b0b --srtp "$key_a" --rtcp-every "$K" 2>&1)
check "the browser sent $N SRTP and $R SRTCP packets ($out)" \
  grep -q "^sent=$N rtcp_sent=$R send_errors=0" <<< "$out"
wait "$rx"; rc=$?
out=$(cat "$tmp/a2c.out")
check "the IMS host received all $N as RTP, intact, from 198.18.1.2:50000 (exit $rc: $out)" \
  test "$rc" -eq 0
check "and the $R RTCP reports on its RTCP port from 198.18.1.2:50001" \
  grep -q " rtcp=$R " <<< "$out"

# 4. IMS -> browser: plain RTP and RTCP in, SRTP + SRTCP (rtcp-mux) out.
ip netns exec "$browser" "$peer" recv --bind 198.18.0.1:5000 --from 198.18.0.2:40000 \
  --srtp "$key_b" --expect "$N" --timeout-ms $((5 * gap)) --linger-ms 200 > "$tmp/c2a.out" 2>&1 &
rx=$!; bg+=("$rx")
wait_udp "$browser" 5000
out=$(ip netns exec "$ims" "$peer" send --bind 198.18.1.1:6000 --to 198.18.1.2:50000 \
  --rtcp-bind 198.18.1.1:6001 --rtcp-to 198.18.1.2:50001 \
  --count "$N" --interval-us "$gap" --ssrc 0x1a1a1a1a --rtcp-every "$K" 2>&1)
check "the IMS host sent $N RTP and $R RTCP packets ($out)" \
  grep -q "^sent=$N rtcp_sent=$R send_errors=0" <<< "$out"
wait "$rx"; rc=$?
out=$(cat "$tmp/c2a.out")
check "the browser received all $N as SRTP that decrypts with key B, from 198.18.0.2:40000 (exit $rc: $out)" \
  test "$rc" -eq 0
check "and the $R SRTCP reports, muxed" grep -q " rtcp=$R " <<< "$out"

# 5. What the dataplane says about it.
out=$("$ctl" --region "$region" session show 1 2>&1)
echo "$out"
check "session show: every packet relayed both ways, none dropped" \
  grep -q "^id=1 .* relayed_a2c=$((N + R)) relayed_c2a=$((N + R)) dropped_access=0 dropped_core=0$" \
  <<< "$out"
sleep 0.1  # a heartbeat: the worker publishes its counters
live=$("$ctl" --region "$region" counters 2>&1)
echo "$live"
check "worker counters: relayed both ways, no SRTP failure, no neighbour miss" \
  grep -Eq "^worker=worker0 .*relayed_access_to_core=$((N + R)) relayed_core_to_access=$((N + R)) .*srtp_auth_fail=0 srtp_replay=0 .*drop_no_neighbour=0 " \
  <<< "$live"

# The gateway's addresses still answer as a host's after the dataplane's own
# ARP requests: one MAC per port (the TAP takes the port's), so the hosts'
# neighbour entries stay right.
# answered NS ADDR: at least 3 of 5 pings answered (one lost to a loaded
# machine is not the exception path failing; none answered is).
answered() {
  local n
  n=$(ip netns exec "$1" ping -c 5 -i 0.2 -W 2 "$2" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
  echo "  ($2: ${n:-0} of 5 pings answered)"
  [ "${n:-0}" -ge 3 ]
}
check "the browser host pings the gateway's access address" answered "$browser" 198.18.0.2
check "the IMS host pings the gateway's core address" answered "$ims" 198.18.1.2

# 6. A packet from a wrong source (the browser's address, another port): dropped, counted.
ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --expect 10 --timeout-ms 1000 \
  > "$tmp/wrong.out" 2>&1 &
rx=$!; bg+=("$rx")
wait_udp "$ims" 6000
ip netns exec "$browser" "$peer" send --bind 198.18.0.1:5001 --to 198.18.0.2:40000 \
  --count 10 --interval-us "$gap" --srtp "$key_a" > /dev/null
wait "$rx"
out=$(cat "$tmp/wrong.out")
check "nothing from a wrong source reaches the IMS host ($out)" grep -q '^received=0 ' <<< "$out"
sleep 0.1
check "the worker counts drop_wrong_source=10" \
  bash -c "[ \"\$('$ctl' --region '$region' counters | grep -o ' drop_wrong_source=[0-9]*')\" = ' drop_wrong_source=10' ]"
out=$("$ctl" --region "$region" session show 1 2>&1)
check "session show: dropped_access=10 ($out)" grep -q ' dropped_access=10 dropped_core=0$' <<< "$out"

# 7. After session delete the gateway's port 40000 is the kernel's again.
out=$("$ctl" --region "$region" session delete 1 2>&1)
check "isthmus-ctl session delete 1 ($out)" grep -q '^id=1 result=ok' <<< "$out"
out=$("$ctl" --region "$region" session list 2>&1)
check "session list is empty" test -z "$out"
to_kernel0=$(counter worker0 to_kernel)
noports0=$(udp_noports "$gw")
ip netns exec "$ims" "$peer" recv --bind 198.18.1.1:6000 --expect 20 --timeout-ms 1000 \
  > "$tmp/deleted.out" 2>&1 &
rx=$!; bg+=("$rx")
wait_udp "$ims" 6000
ip netns exec "$browser" "$peer" send --bind 198.18.0.1:5000 --to 198.18.0.2:40000 \
  --count 20 --interval-us "$gap" --srtp "$key_a" > /dev/null
wait "$rx"
out=$(cat "$tmp/deleted.out")
check "after the delete nothing reaches the IMS host ($out)" grep -q '^received=0 ' <<< "$out"
sleep 0.1
to_kernel1=$(counter worker0 to_kernel)
noports1=$(udp_noports "$gw")
check "the 20 packets went to the kernel (worker to_kernel $to_kernel0 -> $to_kernel1)" \
  test "$((to_kernel1 - to_kernel0))" -ge 20
check "which found no socket on 198.18.0.2:40000 (Udp NoPorts $noports0 -> $noports1)" \
  test "$((noports1 - noports0))" -eq 20

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
grep -E 'event=(stopping|port_counters|worker_counters)' "$tmp/dp.log"
if [ "$failures" -ne 0 ]; then echo "--- dataplane log"; cat "$tmp/dp.log"; fi

# net_pcap: frames the kernel dropped from the capture ring before the
# dataplane could read them are counted as the ports' imissed (the stop log's
# port counters do not have it; the last live read does). Such a run says
# nothing about the dataplane: it is run once more, and only once.
missed=$(grep -o 'imissed=[0-9]*' <<< "${live:-}" | awk -F= '{ s += $2 } END { print s + 0 }')
if [ "$failures" -ne 0 ] && [ "$pmd" = pcap ] && [ "${missed:-0}" -gt 0 ] &&
   [ -z "${RELAY_NS_RETRIED:-}" ]; then
  echo "# the capture ring dropped $missed frames (imissed): running once more"
  ns_cleanup
  trap - EXIT
  RELAY_NS_RETRIED=1 exec bash "$0" "$@"
fi
summary
