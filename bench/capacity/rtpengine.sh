#!/usr/bin/env bash
# Issue 12's capacity bench against rtpengine: Debian's rtpengine-daemon in
# userspace forwarding (no kernel module: --table=-1), one media thread,
# set up per call through its ng protocol with SDES-SRTP toward A (the
# browser side) and plain RTP toward B (the IMS side), loaded by
# capacity-sockets (bench/capacity/capacity_sockets.cpp) with the same
# figures as for isthmus: loss, reordering, one-way latency p50/p99/p99.9,
# jitter, and rtpengine's CPU seconds per million packets relayed.
#
#   capacity-sockets (CPU 0) --A 198.18.0.1--> rtpengine (CPU 1) --B 198.19.0.1--> capacity-sockets
#
# Everything runs in a network namespace of its own (isth-rtpe-PID) on its
# loopback, with 198.18.0.1/32 (A's side) and 198.19.0.1/32 (B's side) on
# lo (RFC 2544's benchmarking range, nothing else). rtpengine's logical
# interfaces "a" and "b" are those two addresses; its ports are
# 20000-39999, the tool's 40000 and up. For each N of CALLS: N calls set up,
# 1 s warm-up, RUN_SECONDS of load, teardown; the list stops after a run that
# loses over 1 %. Then the same load with no gateway (A and B direct) at the
# largest N, for the latency the kernel path and the tool add themselves.
#
# The report (markdown) is on stdout and in OUT/rtpengine-SUITE.md, the
# figures in OUT/rtpengine-SUITE.json, rtpengine's log in OUT/rtpengine.log
# (OUT defaults to BUILD_DIR/bench/capacity/rtpengine).
#
# Usage: bench/capacity/rtpengine.sh [BUILD_DIR]        (root: a namespace)
#   CALLS (250,500,1000,2000,4000), RUN_SECONDS (10), SUITES ("aes_cm_80
#   aead_aes_128_gcm"), PORTS (per-call: one tool socket per call side;
#   shared: two), TOOL_CPU (0), GATEWAY_CPU (1), OUT
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
calls=${CALLS:-250,500,1000,2000,4000}
seconds=${RUN_SECONDS:-10}
suites=${SUITES:-aes_cm_80 aead_aes_128_gcm}
ports=${PORTS:-per-call}
tool_cpu=${TOOL_CPU:-0} gateway_cpu=${GATEWAY_CPU:-1}
out=${OUT:-$build/bench/capacity/rtpengine}
tool=$build/bench/capacity/capacity-sockets
a_ip=198.18.0.1 b_ip=198.19.0.1 ng=127.0.0.1:2223

fail() { echo "rtpengine.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (a network namespace)"
[ -x "$tool" ] || fail "$tool missing: build first (ninja -C $build bench/capacity/capacity-sockets)"

# --- rtpengine-daemon, without its system service -----------------------------
if ! command -v rtpengine > /dev/null; then
  echo "rtpengine.sh: installing rtpengine-daemon" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rtpengine-daemon \
    > /dev/null || fail "apt-get install rtpengine-daemon failed (apt-get update first?)"
fi
# The package enables and may start a system-wide daemon (kernel forwarding,
# ports 30000-40000): this bench runs its own, so that one is stopped and
# disabled (and the recording daemon, if present).
for svc in rtpengine-daemon rtpengine-recording-daemon; do
  [ -e "/etc/init.d/$svc" ] || [ -e "/lib/systemd/system/$svc.service" ] || continue
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" > /dev/null 2>&1
  else
    [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" stop > /dev/null 2>&1
    rm -f "/etc/systemd/system/multi-user.target.wants/$svc.service"
    command -v update-rc.d > /dev/null && update-rc.d "$svc" disable > /dev/null 2>&1
  fi
done
if pgrep -x rtpengine > /dev/null; then
  echo "rtpengine.sh: note: another rtpengine runs already (pids $(pgrep -x rtpengine | tr '\n' ' '))," \
    "not ours: it shares the CPUs" >&2
fi
version=$(rtpengine --version 2>&1 | sed -n 's/^Version: //p')

mkdir -p "$out"
ns=isth-rtpe-$$
rtpe_pid=""
cleanup() {
  if [ -n "$rtpe_pid" ]; then
    kill -TERM "$rtpe_pid" 2> /dev/null
    for _ in $(seq 1 50); do kill -0 "$rtpe_pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$rtpe_pid" 2> /dev/null
    wait "$rtpe_pid" 2> /dev/null
  fi
  ip netns del "$ns" 2> /dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns" || fail "ip netns add $ns failed"
ip -n "$ns" link set lo up &&
  ip -n "$ns" addr add "$a_ip/32" dev lo &&
  ip -n "$ns" addr add "$b_ip/32" dev lo || fail "addresses on lo in $ns failed"

# Every call is two sockets of the tool and four of rtpengine (RTP + RTCP
# per side): as many open files as the hard limit allows.
ulimit -n "$(ulimit -Hn)"

# --- rtpengine: userspace only, one worker, pinned -------------------------------
# --table=-1: no kernel forwarding table (userspace); --num-threads=1: one
# worker (poller) thread for media and control; --media-num-threads=0: no
# media-playback threads; --delete-delay=0: a deleted call frees its ports.
ip netns exec "$ns" taskset -c "$gateway_cpu" rtpengine --config-file=none --foreground \
  --log-stderr --log-level=5 --table=-1 \
  --interface="a/$a_ip" --interface="b/$b_ip" --listen-ng="$ng" \
  --port-min=20000 --port-max=39999 --num-threads=1 --media-num-threads=0 \
  --delete-delay=0 --timeout=60 > "$out/rtpengine.log" 2>&1 < /dev/null &
rtpe_pid=$!
listening() { ip netns exec "$ns" ss -Hlun "sport = :${ng##*:}" | grep -q .; }
for _ in $(seq 1 100); do
  listening && break
  kill -0 "$rtpe_pid" 2> /dev/null || break
  sleep 0.1
done
listening ||
  { tail -5 "$out/rtpengine.log" >&2; fail "rtpengine did not start (log: $out/rtpengine.log)"; }
[ "$(cat "/proc/$rtpe_pid/comm" 2> /dev/null)" = rtpengine ] ||
  fail "pid $rtpe_pid is not rtpengine"
echo "rtpengine.sh: rtpengine $version (pid $rtpe_pid, CPU $gateway_cpu," \
  "threads: $(ls "/proc/$rtpe_pid/task" | wc -l)) in $ns; tool on CPU $tool_cpu" >&2

# --- the load ------------------------------------------------------------------------
n_runs=$(($(echo "$calls" | tr ',' '\n' | wc -l) + 2))
status=0
for suite in $suites; do
  echo "rtpengine.sh: $suite, calls $calls, ${seconds} s each" >&2
  timeout --signal=TERM $((n_runs * (seconds + 60))) \
    ip netns exec "$ns" taskset -c "$tool_cpu" "$tool" --target rtpengine --ng "$ng" \
    --calls "$calls" --seconds "$seconds" --suite "$suite" --ports "$ports" \
    --gateway-pid "$rtpe_pid" --a-address "$a_ip" --b-address "$b_ip" \
    --json "$out/rtpengine-$suite.json" 2> "$out/rtpengine-$suite.log" |
    tee "$out/rtpengine-$suite.md"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "rtpengine.sh: capacity-sockets ($suite) failed ($rc):" >&2
    tail -5 "$out/rtpengine-$suite.log" >&2
    status=1
  fi
  kill -0 "$rtpe_pid" 2> /dev/null || { echo "rtpengine.sh: rtpengine died" >&2; tail -5 "$out/rtpengine.log" >&2; exit 1; }
done
echo "rtpengine.sh: rtpengine $version, userspace (--table=-1), one worker thread;" \
  "reports in $out" >&2
grep -E "ERR|CRIT|kernel" "$out/rtpengine.log" | head -5 >&2
exit "$status"
