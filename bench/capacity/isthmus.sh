#!/usr/bin/env bash
# Issue 12's capacity bench against isthmus over the kernel's packet path:
# the same capacity-sockets load as rtpengine.sh's, through
# isthmus-dataplane on net_af_packet ports over two veths.
#
#   capacity-sockets (CPU 0, namespace peer)
#     A 198.18.0.1 --veth-- [access: net_af_packet0 + net_tap0 198.18.0.2]
#                            isthmus-dataplane (CPU 1, one lcore, namespace gw)
#     B 198.18.1.1 --veth-- [core:   net_af_packet1 + net_tap1 198.18.1.2]
#
# Calls are sessions made through the dataplane's dpif region as the IMS-ALG
# makes them (isthmus_target.hpp): SDES-SRTP toward A, plain RTP toward B.
# The dataplane busy-polls a whole core, so its "gateway CPU" is its
# worker's busy cycles over the run, not its process time. For each N of
# CALLS: set up, 1 s warm-up, RUN_SECONDS of load, teardown; the list stops
# after a run that loses over 1 %; then the same load with no gateway.
# Addresses from 198.18.0.0/15 only; namespaces, links, the dataplane and
# its region are removed on exit.
#
# Usage: bench/capacity/isthmus.sh [BUILD_DIR]          (root)
#   CALLS (250,500,1000,2000,4000), RUN_SECONDS (10), SUITES ("aes_cm_80
#   aead_aes_128_gcm"), TOOL_CPU (0), GATEWAY_CPU (1), OUT
#   (BUILD_DIR/bench/capacity/isthmus)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
. "$root/tests/component/lib.sh"
calls=${CALLS:-250,500,1000,2000,4000}
seconds=${RUN_SECONDS:-10}
suites=${SUITES:-aes_cm_80 aead_aes_128_gcm}
tool_cpu=${TOOL_CPU:-0} gateway_cpu=${GATEWAY_CPU:-1}
out=${OUT:-$build/bench/capacity/isthmus}
tool=$build/bench/capacity/capacity-sockets
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl

fail() { echo "isthmus.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces)"
for f in "$tool" "$dp" "$ctl"; do
  [ -x "$f" ] || fail "$f missing: build first (ninja -C $build)"
done
command -v ethtool > /dev/null || fail "ethtool missing: run tools/lib/deps.sh"

S=$$
gw=isth-capgw-$S peer=isth-cappeer-$S
acc_gw=kag$S acc_host=kab$S core_gw=kcg$S core_host=kci$S tap_acc=kta$S tap_core=ktc$S
region=/isthmus-cap-$S
prefix=isthcap$S
tmp=$(mktemp -d)
pid=""
mkdir -p "$out"
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2> /dev/null && sleep 0.5 && kill -KILL "$pid" 2> /dev/null
  [ -n "$pid" ] && wait "$pid" 2> /dev/null
  ip netns del "$gw" 2> /dev/null
  ip netns del "$peer" 2> /dev/null
  cp "$tmp/dp.log" "$out/dataplane.log" 2> /dev/null
  rm -rf "$tmp" "/dev/shm$region" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

# peer_link HOST_IF GW_IF ADDR: a veth from the peer namespace (HOST_IF,
# ADDR) to the gateway's (GW_IF), as tests/component/lib.sh's host() makes
# one, with both host ends in one namespace so one tool holds A and B.
peer_link() {
  local host_if=$1 gw_if=$2 addr=$3
  ip link add "$gw_if" type veth peer name "$host_if" || return 1
  ip link set "$gw_if" netns "$gw" && ip link set "$host_if" netns "$peer" || return 1
  ip -n "$peer" addr add "$addr" dev "$host_if"
  ip -n "$peer" link set "$host_if" up
  ip netns exec "$peer" ethtool -K "$host_if" tx off > /dev/null || return 1
  ip netns exec "$gw" sh -c "echo 1 > /proc/sys/net/ipv4/conf/$gw_if/arp_ignore &&
    echo 1 > /proc/sys/net/ipv4/conf/$gw_if/rp_filter &&
    echo 1 > /proc/sys/net/ipv6/conf/$gw_if/disable_ipv6" || return 1
  ip -n "$gw" link set "$gw_if" up
}
ip netns add "$gw" || fail "ip netns add"
ip netns add "$peer" || fail "ip netns add"
ip -n "$peer" link set lo up
peer_link "$acc_host" "$acc_gw" 198.18.0.1/24 || fail "access veth"
peer_link "$core_host" "$core_gw" 198.18.1.1/24 || fail "core veth"

ns_gateway_toml "\"-l\", \"$gateway_cpu\"" net_af_packet0 "iface=$acc_gw" \
  net_af_packet1 "iface=$core_gw" | sed 's/^heartbeat_ms = 20$/heartbeat_ms = 100/' > "$tmp/gw.toml"
ns_gateway_start "$tmp/gw.toml"
wait_running "$ctl" "$region" || { cat "$tmp/dp.log" >&2; fail "the dataplane did not start"; }

rc=0
for suite in $suites; do
  echo "isthmus.sh: $suite, calls $calls, $seconds s each" >&2
  ip netns exec "$peer" taskset -c "$tool_cpu" "$tool" --target isthmus --region "$region" \
    --gw-access 198.18.0.2 --gw-core 198.18.1.2 --a-address 198.18.0.1 \
    --b-address 198.18.1.1 --calls "$calls" --seconds "$seconds" --suite "$suite" \
    --json "$out/isthmus-$suite.json" | tee "$out/isthmus-$suite.md" || rc=1
done
"$ctl" --region "$region" counters > "$out/counters.txt" 2>&1
exit $rc
