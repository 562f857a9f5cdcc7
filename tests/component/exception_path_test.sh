#!/usr/bin/env bash
# Component test in network namespaces: a host pings the gateway's IPv4 and
# IPv6 addresses, which live on the dataplane's exception TAP; ARP, ND and
# ICMP/ICMPv6 cross the dataplane (net_af_packet on a veth <-> net_tap) both
# ways, and a frame with a bad IPv4 checksum is dropped and counted.
# Addresses from 198.18.0.0/15 and its IPv6 twin 2001:2::/48 (RFC 5180);
# namespaces, links and processes are removed on exit.
# Usage: exception_path_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
command -v ping >/dev/null || { echo "ping (iputils-ping) missing: run tools/lib/deps.sh"; exit 1; }

S=$$
gw=isth-gw-$S host=isth-h-$S
veth_gw=ig$S veth_host=ih$S tap=it$S
tmp=$(mktemp -d)
pid=""

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$gw" 2>/dev/null
  ip netns del "$host" 2>/dev/null
  rm -rf "$tmp" "/dev/shm/isthmus-ns-$S"
}
trap cleanup EXIT


ip netns add "$gw" && ip netns add "$host" || exit 1
ip link add "$veth_gw" type veth peer name "$veth_host" || exit 1
ip link set "$veth_gw" netns "$gw"
ip link set "$veth_host" netns "$host"
ip -n "$host" addr add 198.18.0.1/24 dev "$veth_host"
# IPv6 from the benchmarking range 2001:2::/48 (RFC 5180), the IPv6 twin of 198.18.0.0/15.
ip -n "$host" addr add 2001:2::1/64 dev "$veth_host" nodad
ip -n "$host" link set "$veth_host" up
ip -n "$host" link set lo up
# The gateway's address belongs to the TAP; the kernel must not answer for it
# on the veth the dataplane reads (DESIGN.md, net_af_packet note).
# (Written to /proc/sys directly: no dependency on procps.)
ip netns exec "$gw" sh -c "echo 1 > /proc/sys/net/ipv4/conf/$veth_gw/arp_ignore &&
  echo 1 > /proc/sys/net/ipv4/conf/$veth_gw/rp_filter &&
  echo 1 > /proc/sys/net/ipv6/conf/$veth_gw/disable_ipv6" || exit 1
ip -n "$gw" link set "$veth_gw" up

cat > "$tmp/ns.toml" <<TOML
[dataplane]
region = "/isthmus-ns-$S"
eal = ["-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "isthns$S",
       "--vdev", "net_af_packet0,iface=$veth_gw", "--vdev", "net_tap0,iface=$tap"]
heartbeat_ms = 20
[[dataplane.port]]
name = "access"
device = "net_af_packet0"
exception = "net_tap0"
TOML

ip netns exec "$gw" "$dp" --config "$tmp/ns.toml" > "$tmp/dp.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do ip -n "$gw" link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$gw" addr add 198.18.0.2/24 dev "$tap"
ip -n "$gw" addr add 2001:2::2/64 dev "$tap" nodad
ip -n "$gw" link set "$tap" up

out=$(ip netns exec "$host" ping -c 3 -i 0.2 -W 2 198.18.0.2 2>&1)
check "the host pings the gateway's address through the dataplane" grep -q ' 0% packet loss' <<< "$out"
check "no duplicate answers (the kernel does not answer on the veth itself)" bash -c "! grep -q DUP <<< '$out'"
check "the host learned the gateway's MAC by ARP" bash -c "ip -n '$host' neigh show 198.18.0.2 | grep -q lladdr"
out6=$(ip netns exec "$host" ping -6 -c 3 -i 0.2 -W 2 2001:2::2 2>&1)
check "the host pings the gateway's IPv6 address (neighbour discovery through the TAP)" \
  grep -q ' 0% packet loss' <<< "$out6"
check "no duplicate IPv6 answers" bash -c "! grep -q DUP <<< '$out6'"

# A UDP frame whose IPv4 header checksum is wrong, sent raw from the host.
ip netns exec "$host" python3 - "$veth_host" <<'PY'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
eth = bytes.fromhex("020000000002" "020000000001" "0800")
ip = bytes.fromhex("45000020" "00004000" "40110000" "c6120001" "c6120002")  # checksum 0: wrong
udp = bytes.fromhex("9c40c350000c0000") + b"abcd"
s.send(eth + ip + udp)
PY
sleep 0.3
live=$("$ctl" --region "/isthmus-ns-$S" counters 2>&1)
check "isthmus-ctl counters shows the port's frames ($live)" \
  grep -q '^port=access to_kernel=[1-9][0-9]* from_kernel=[1-9][0-9]* .*ipackets=[1-9]' <<< "$live"
check "and the worker's drop by reason" \
  grep -q '^worker=worker0 .*rx_access=[1-9].* malformed_bad_ip_checksum=1' <<< "$live"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "the dataplane stops cleanly (exit $rc)" test "$rc" -eq 0
counters=$(grep 'event=port_counters' "$tmp/dp.log")
worker_counters=$(grep 'event=worker_counters' "$tmp/dp.log")
rx=$(sed -n 's/.* rx_access=\([0-9]*\).*/\1/p' <<< "$worker_counters")
to_kernel=$(sed -n 's/.* to_kernel=\([0-9]*\).*/\1/p' <<< "$counters")
from_kernel=$(sed -n 's/.* from_kernel=\([0-9]*\).*/\1/p' <<< "$counters")
check "frames crossed both ways (rx=$rx to_kernel=$to_kernel from_kernel=$from_kernel)" \
  test "${to_kernel:-0}" -ge 4 -a "${from_kernel:-0}" -ge 4
check "the bad checksum was dropped and counted" grep -q 'malformed_bad_ip_checksum=1' <<< "$worker_counters"

summary
