#!/usr/bin/env bash
# Issue 12's capacity bench, both gateways in one run and one report:
# isthmus (isthmus.sh: isthmus-dataplane on af_packet over veths) and
# rtpengine (rtpengine.sh: rtpengine-daemon's userspace forwarding) under
# the same capacity-sockets load, one after the other on the same idle
# machine, the same CALLS, RUN_SECONDS and SUITES; then, unless RINGS=0,
# capacity-rings (one worker on ring ports: the gateway's own limit where
# the kernel's packet path is the bound). compare.py writes one report of
# all of it (OUT/report.md, also on stdout), plot.py one SVG
# (OUT/capacity.svg: delivered vs offered, latency percentiles vs calls).
#
# Usage: bench/capacity/compare.sh [BUILD_DIR]     (root: namespaces)
#   CALLS (250,500,1000,2000), RUN_SECONDS (5), SUITES ("aes_cm_80
#   aead_aes_128_gcm"), RINGS (1: capacity-rings for each suite, G.711),
#   RINGS_CALLS (1000,5000,10000,12500),
#   OUT (BUILD_DIR/bench/capacity/compare). rtpengine.sh installs
#   rtpengine-daemon when it is missing. About 2 minutes per suite and
#   gateway at the defaults, 1 for the rings.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || exit 1
export CALLS=${CALLS:-250,500,1000,2000} RUN_SECONDS=${RUN_SECONDS:-5}
export SUITES=${SUITES:-aes_cm_80 aead_aes_128_gcm}
out=${OUT:-$build/bench/capacity/compare}
rings=${RINGS:-1}
[ "$(id -u)" -eq 0 ] || { echo "compare.sh: needs root (network namespaces)" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/isthmus/*.json "$out"/rtpengine/*.json "$out"/rings-*.json
rc=0
OUT=$out/isthmus bash "$root/bench/capacity/isthmus.sh" "$build" > "$out/isthmus.out" 2>&1 ||
  { echo "compare.sh: isthmus.sh failed (exit $?), see $out/isthmus.out" >&2; rc=1; }
OUT=$out/rtpengine bash "$root/bench/capacity/rtpengine.sh" "$build" > "$out/rtpengine.out" 2>&1 ||
  { echo "compare.sh: rtpengine.sh failed (exit $?), see $out/rtpengine.out" >&2; rc=1; }
rings_args=() plots=()
if [ "$rings" != 0 ]; then
  for s in $SUITES; do  # each suite of the socket runs, G.711
    "$build/bench/capacity/capacity-rings" --calls "${RINGS_CALLS:-1000,5000,10000,12500}" \
      --seconds "$RUN_SECONDS" --suite "$s" --json "$out/rings-$s.json" > "$out/rings-$s.out" 2>&1 ||
      { echo "compare.sh: capacity-rings --suite $s failed, see $out/rings-$s.out" >&2; rc=1; }
    [ -s "$out/rings-$s.json" ] && rings_args+=(--rings "$out/rings-$s.json") &&
      plots+=("rings $s=$out/rings-$s.json")
  done
fi
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
title="isthmus and rtpengine, the same load in the same run ($(date -u +%F), $commit, $(nproc) CPUs, $(uname -r))"
python3 "$root/bench/capacity/compare.py" --isthmus "$out/isthmus" --rtpengine "$out/rtpengine" \
  "${rings_args[@]}" --title "$title" > "$out/report.md" || exit 1
for s in $SUITES; do
  for t in isthmus rtpengine; do [ -s "$out/$t/$t-$s.json" ] && plots+=("$out/$t/$t-$s.json"); done
done
python3 "$root/bench/capacity/plot.py" --out "$out/capacity.svg" --title "bench/capacity/compare.sh, $commit" \
  "${plots[@]}" || rc=1
cat "$out/report.md"
echo
echo "compare.sh: report $out/report.md, plot $out/capacity.svg"
exit $rc
