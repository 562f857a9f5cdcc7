# Shared helpers of the component test scripts (source it).
# check DESCRIPTION COMMAND...   runs COMMAND, prints ok/FAIL, counts
# wait_running CTL REGION        waits up to 10 s for state=running
# summary                        prints "N passed, N failed", returns non-zero on failure
# host NS HOST_IF GW_IF ADDR     a namespace NS with a veth to the gateway namespace $gw
# wait_udp NS PORT               waits up to 5 s for a UDP socket on PORT in NS
# ns_test_binaries BUILD         $build, and $dp, $ctl, $peer (media_peer) in it
# ns_test_init L TAG             the names of a two-veth namespace test (below) and
#                                its EXIT trap (ns_cleanup)
checks=0
failures=0

check() {
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

wait_running() {
  local ctl=$1 region=$2
  for _ in $(seq 1 100); do
    "$ctl" --region "$region" status 2>/dev/null | grep -q 'state=running' && return 0
    sleep 0.1
  done
  return 1
}

summary() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# host NS HOST_IF GW_IF ADDR: a veth pair between NS and the gateway namespace.
host() {
  local ns=$1 host_if=$2 gw_if=$3 addr=$4
  ip netns add "$ns" || return 1
  ip link add "$gw_if" type veth peer name "$host_if" || return 1
  ip link set "$gw_if" netns "$gw" && ip link set "$host_if" netns "$ns" || return 1
  ip -n "$ns" addr add "$addr" dev "$host_if"
  ip -n "$ns" link set "$host_if" up
  ip -n "$ns" link set lo up
  # The host's UDP checksums are left to "hardware" on a veth (CHECKSUM_PARTIAL):
  # the dataplane would read a frame whose UDP checksum holds only the
  # pseudo-header sum. Real hosts behind a real NIC send complete checksums.
  ip netns exec "$ns" ethtool -K "$host_if" tx off >/dev/null || return 1
  # The gateway's addresses belong to the TAPs; the kernel must not answer
  # for them on the veths the dataplane reads (DESIGN.md, net_af_packet note).
  ip netns exec "$gw" sh -c "echo 1 > /proc/sys/net/ipv4/conf/$gw_if/arp_ignore &&
    echo 1 > /proc/sys/net/ipv4/conf/$gw_if/rp_filter &&
    echo 1 > /proc/sys/net/ipv6/conf/$gw_if/disable_ipv6" || return 1
  ip -n "$gw" link set "$gw_if" up
}

# wait_udp NS PORT: until a socket is bound to udp PORT in NS (up to 5 s).
wait_udp() {
  for _ in $(seq 1 100); do
    ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
    sleep 0.05
  done
  return 1
}

# ns_gateway_toml LCORE_ARGS ACC_DEVICE ACC_DEVARGS CORE_DEVICE CORE_DEVARGS [KEYS]:
# the dataplane's configuration for the two-veth topology on stdout (LCORE_ARGS
# as TOML list items, e.g. "\"-l\", \"0,1\""; empty DEVARGS: none; KEYS: more
# [dataplane] lines, e.g. "workers = 2"; uses $region, $prefix, $tap_acc, $tap_core).
ns_gateway_toml() {
  cat <<TOML
[dataplane]
region = "$region"
eal = [$1, "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "$prefix",
       "--vdev", "$2${3:+,$3}", "--vdev", "net_tap0,iface=$tap_acc",
       "--vdev", "$4${5:+,$5}", "--vdev", "net_tap1,iface=$tap_core"]
heartbeat_ms = 20
${6:-}
[[dataplane.port]]
name = "access"
device = "$2"
exception = "net_tap0"
[[dataplane.port]]
name = "core"
device = "$4"
exception = "net_tap1"
TOML
}

# ns_gateway_start CONFIG: isthmus-dataplane ($dp) in namespace $gw with CONFIG
# (its pid in $pid, its log in $tmp/dp.log), and its TAPs up with the
# gateway's addresses 198.18.0.2/24 (access) and 198.18.1.2/24 (core).
ns_gateway_start() {
  ip netns exec "$gw" "$dp" --config "$1" > "$tmp/dp.log" 2>&1 &
  pid=$!
  local t
  for t in "$tap_acc" "$tap_core"; do
    for _ in $(seq 1 100); do ip -n "$gw" link show "$t" >/dev/null 2>&1 && break; sleep 0.1; done
  done
  ip -n "$gw" addr add 198.18.0.2/24 dev "$tap_acc"
  ip -n "$gw" addr add 198.18.1.2/24 dev "$tap_core"
  ip -n "$gw" link set "$tap_acc" up
  ip -n "$gw" link set "$tap_core" up
}

# ns_test_binaries BUILD: the binaries a namespace test runs, from BUILD.
ns_test_binaries() {
  build=$1
  dp=$build/dataplane/isthmus-dataplane
  ctl=$build/tools/isthmus-ctl
  peer=$build/tests/media_peer
}

# ns_test_init L TAG: the names of a test in the two-veth topology, made
# unique by the letter L (may be empty) and the pid: namespaces $gw, $browser,
# $ims; veths $acc_gw/$acc_host, $core_gw/$core_host; TAPs $tap_acc,
# $tap_core; the dpif region /isthmus-TAG-PID ($region) and EAL file prefix
# ($prefix); a directory $tmp; $pid (the dataplane, ns_gateway_start) and
# $bg (background pids) empty; and an EXIT trap, ns_cleanup, that kills them
# and removes all of it.
ns_test_init() {
  local l=$1
  S=$$
  gw=isth-${l}gw-$S browser=isth-${l}br-$S ims=isth-${l}ims-$S
  acc_gw=${l}ag$S acc_host=${l}ab$S core_gw=${l}cg$S core_host=${l}ci$S
  tap_acc=${l}ta$S tap_core=${l}tc$S
  region=/isthmus-$2-$S
  prefix=isth$2$S
  tmp=$(mktemp -d)
  pid=""
  bg=()
  trap ns_cleanup EXIT
}
ns_cleanup() {
  local p
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$gw" 2>/dev/null
  ip netns del "$browser" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  rm -rf "$tmp" "/dev/shm$region" "/var/run/dpdk/$prefix"
}
