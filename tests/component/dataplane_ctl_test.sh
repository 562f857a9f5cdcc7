#!/usr/bin/env bash
# Component test: isthmus-dataplane on two net_null ports without hugepages,
# driven by isthmus-ctl through the dpif region; configuration errors.
# Usage: dataplane_ctl_test.sh BUILD_DIR
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
tmp=$(mktemp -d)
region=/isthmus-ctest-$$
pid=""

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp" "/var/run/dpdk/isthmus-ctest-$$"
  rm -f "/dev/shm${region}"
}
trap cleanup EXIT


cat > "$tmp/good.toml" <<TOML
[dataplane]
region = "$region"
eal = ["-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "isthmus-ctest-$$", "--vdev", "net_null0", "--vdev", "net_null1"]
heartbeat_ms = 20
TOML
printf '[dataplane]\nregion = "/x"\nheartbeats_ms = 5\n' > "$tmp/typo.toml"
printf '[dataplane]\nregion = 5\n' > "$tmp/type.toml"
printf '[dataplane\n' > "$tmp/syntax.toml"

check "--help exits 0" bash -c "'$dp' --help > /dev/null"
check "a valid configuration checks" bash -c "'$dp' --check-config --config '$tmp/good.toml' > /dev/null"
out=$("$dp" --check-config --config "$tmp/typo.toml" 2>&1); rc=$?
check "an unknown key is refused with its name" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'dataplane.heartbeats_ms: unknown key')"
out=$("$dp" --check-config --config "$tmp/type.toml" 2>&1); rc=$?
check "a wrong type is refused with the key" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'dataplane.region')"
out=$("$dp" --check-config --config "$tmp/syntax.toml" 2>&1); rc=$?
check "a TOML syntax error names file and line" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'syntax.toml:')"
out=$("$ctl" --region "$region" status 2>&1); rc=$?
check "ctl says when no dataplane runs" test "$rc" -eq 1 -a -n "$(echo "$out" | grep -F 'is isthmus-dataplane running?')"

"$dp" --config "$tmp/good.toml" > "$tmp/dp.log" 2>&1 &
pid=$!
check "the dataplane starts and serves its region" wait_running "$ctl" "$region"
check "it reports both null ports" grep -q 'ports=2' "$tmp/dp.log"
status=$("$ctl" --region "$region" status)
check "status shows generation 1" grep -q 'generation=1' <<< "$status"
sleep 0.1
age=$("$ctl" --region "$region" status | sed -n 's/.*heartbeat_age_ms=\([0-9]*\).*/\1/p')
check "the heartbeat is fresh (${age} ms)" test "${age:-9999}" -lt 1000
check "ping gets a pong through the rings" bash -c "'$ctl' --region '$region' ping | grep -q '^pong from generation 1'"
check "counters says when no port publishes any" bash -c "'$ctl' --region '$region' counters | grep -q 'no counters published'"
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
check "SIGTERM stops it cleanly (exit $rc)" test "$rc" -eq 0
check "it logged its stop with the commands served" grep -q 'event=stopping commands=1' "$tmp/dp.log"
check "the region is gone after the stop" test ! -e "/dev/shm${region}"

summary
