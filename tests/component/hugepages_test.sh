#!/usr/bin/env bash
# Component test: isthmus-dataplane on hugepages (the bare-metal mode) as well
# as without them (the other component tests). Reserves 2 MiB hugepages,
# mounts a private hugetlbfs, runs the dataplane on it, and gives everything
# back: the page count, the mount and the files. dpdk-pdump attaches to it as
# a secondary process and captures its port.
# Usage: hugepages_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
[ "$(id -u)" -eq 0 ] || { echo "needs root to reserve hugepages"; exit 77; }

S=$$
tmp=$(mktemp -d)
region=/isthmus-huge-$S
orig=$(cat /proc/sys/vm/nr_hugepages)
pid=""

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  mountpoint -q "$tmp/huge" && umount "$tmp/huge"
  echo "$orig" > /proc/sys/vm/nr_hugepages
  rm -rf "$tmp" "/dev/shm$region"
}
trap cleanup EXIT


want=$((orig + 96))
echo "$want" > /proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
if [ "$got" -lt $((orig + 64)) ]; then
  echo "the kernel reserved only $((got - orig)) hugepages; cannot test hugepage mode here"
  exit 77
fi
mkdir -p "$tmp/huge"
mount -t hugetlbfs -o pagesize=2M nodev "$tmp/huge" || exit 1

cat > "$tmp/huge.toml" <<TOML
[dataplane]
region = "$region"
eal = ["-l", "0", "--no-pci", "-m", "128", "--huge-dir", "$tmp/huge", "--file-prefix", "isthhuge$S",
       "--no-telemetry", "--vdev", "net_null0", "--vdev", "net_tap0,iface=ithuge$S"]
heartbeat_ms = 20
[[dataplane.port]]
name = "access"
device = "net_null0"
exception = "net_tap0"
TOML

"$dp" --config "$tmp/huge.toml" > "$tmp/dp.log" 2>&1 &
pid=$!
check "the dataplane runs on hugepages" wait_running "$ctl" "$region"
used=$(( $(grep HugePages_Total /proc/meminfo | awk '{print $2}') - $(grep HugePages_Free /proc/meminfo | awk '{print $2}') ))
check "it took hugepages ($used in use)" test "$used" -gt 0
sleep 0.1
out=$("$ctl" --region "$region" counters)
check "its port polls null frames into the kernel path ($(cut -c1-60 <<< "$out"))" \
  grep -q '^worker=worker0 .*rx_access=[1-9]' <<< "$out"
check "ping through the rings" bash -c "'$ctl' --region '$region' ping | grep -q pong"
# dpdk-pdump (issue 10): a secondary process on the same hugepages and file
# prefix captures the port's frames through the dataplane's pdump server
# (net_null's 64-octet frames, polled without pause: a second is plenty).
check "the dataplane offers pdump" grep -q 'event=pdump state=available' "$tmp/dp.log"
if command -v dpdk-pdump > /dev/null && command -v tshark > /dev/null; then
  timeout -s INT 2 dpdk-pdump -l 1 --file-prefix "isthhuge$S" --huge-dir "$tmp/huge" -- \
    --pdump "port=0,queue=*,rx-dev=$tmp/rx.pcap" > "$tmp/pdump.log" 2>&1
  frames=$(tshark -r "$tmp/rx.pcap" -c 1000 2> /dev/null | wc -l)
  check "dpdk-pdump wrote the port's frames to a pcap tshark reads ($frames of the first 1000)" \
    test "$frames" -eq 1000
  rm -f "$tmp/rx.pcap"
  check "the dataplane still runs after pdump detached" \
    bash -c "'$ctl' --region '$region' ping | grep -q pong"
else
  check "dpdk-pdump and tshark are installed (tools/lib/deps.sh)" false
fi
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "it stops cleanly (exit $rc)" test "$rc" -eq 0
# DPDK keeps its hugepage files after exit (secondary processes such as
# dpdk-pdump map them); removing the private mount returns the pages.
umount "$tmp/huge"
free_after=$(grep HugePages_Free /proc/meminfo | awk '{print $2}')
total_after=$(grep HugePages_Total /proc/meminfo | awk '{print $2}')
check "every hugepage is free again once the mount is gone" test "$free_after" -eq "$total_after"
echo "$orig" > /proc/sys/vm/nr_hugepages
check "the hugepage reservation is back to $orig" test "$(cat /proc/sys/vm/nr_hugepages)" -eq "$orig"

summary
