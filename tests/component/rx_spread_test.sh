#!/usr/bin/env bash
# Component test: how the dataplane spreads a port's received frames over
# its workers' RX queues (issue 4, docs/dataplane.md "Ownership and
# steering"). Two workers (three lcores on the machine's CPUs), in a network
# namespace of its own:
#  - net_null ports hash by RSS: the port is configured with mq_mode RSS on
#    IP addresses and UDP ports (rx_spread=rss), two RX queues; rte_flow
#    steering by owner is tried first and refused (no_flow_steering=why);
#  - net_af_packet with qpairs=2 has two queues and no RSS: the kernel's
#    PACKET_FANOUT spreads them (rx_spread=device);
#  - net_pcap with one rx_iface and two tx_iface has one RX queue: worker 0
#    polls it and hands off
#    (rx_spread=one_queue).
# Each run must reach state=running and stop cleanly on SIGTERM.
# Usage: rx_spread_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }

S=$$
ns=isth-rs-$S
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp" "/dev/shm/isthmus-rs-$S"
}
trap cleanup EXIT

ip netns add "$ns" || exit 1
ip -n "$ns" link add "rsa$S" type veth peer name "rsb$S" || exit 1
ip -n "$ns" link set "rsa$S" up
ip -n "$ns" link set "rsb$S" up

# run NAME ACCESS_DEVICE ACCESS_ARGS CORE_DEVICE CORE_ARGS: the dataplane
# with two workers on those devices, its log in $tmp/NAME.log.
region=/isthmus-rs-$S prefix=isthrs$S tap_acc=rst0$S tap_core=rst1$S
run() {
  local name=$1
  ns_gateway_toml "\"--lcores\", \"0@0,1@$((1 % $(nproc))),2@$((2 % $(nproc)))\"" \
    "$2" "$3" "$4" "$5" "workers = 2
sessions_per_worker = 256" > "$tmp/$name.toml"
  ip netns exec "$ns" "$dp" --config "$tmp/$name.toml" > "$tmp/$name.log" 2>&1 &
  pid=$!
  check "$name: the dataplane runs with two workers" wait_running "$ctl" "$region"
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  pid=""
  check "$name: it stops cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
  grep 'event=port_ready' "$tmp/$name.log" | sed "s/^/# $name: /"
}
ready() {  # NAME PORT QUEUES SPREAD
  grep -q "event=port_ready port=$2 rx_queues=$3 rx_spread=$4 " "$tmp/$1.log"
}

run null net_null0 "" net_null1 ""
check "null: access port, two RX queues spread by RSS" ready null access 2 rss
check "null: core port, two RX queues spread by RSS" ready null core 2 rss
# The dataplane tries rte_flow rules per owner first (two workers: a power
# of two); net_null has no rte_flow, and says so.
check "null: no rte_flow on net_null: the reason is logged, RSS kept" \
  grep -q "event=port_ready port=access rx_queues=2 rx_spread=rss no_flow_steering=[A-Za-z_]" "$tmp/null.log"

run af_packet net_af_packet0 "iface=rsa$S,qpairs=2" net_af_packet1 "iface=rsb$S,qpairs=2"
check "af_packet: two RX queues spread by the kernel's fanout, no RSS" ready af_packet access 2 device
check "af_packet: the core port likewise" ready af_packet core 2 device

run pcap net_pcap0 "rx_iface=rsa$S,tx_iface=rsa$S,tx_iface=rsa$S" net_null1 ""
check "pcap: one RX queue on the pcap port (worker 0 hands off)" ready pcap access 1 one_queue
check "pcap: RSS on the other port" ready pcap core 2 rss

summary
