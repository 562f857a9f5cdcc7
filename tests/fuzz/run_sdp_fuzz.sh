#!/usr/bin/env bash
# Builds the SDP parser's libFuzzer target straight from the sources (clang,
# -fsanitize=fuzzer,address,undefined; no meson) in a temporary directory and
# runs it on a copy of tests/fuzz/corpus/sdp for N seconds (default 60).
#
#   tests/fuzz/run_sdp_fuzz.sh [seconds] [extra libFuzzer flags...]
#
# Crashes are written to tests/fuzz/regressions/sdp/ (crash-<sha1>): replay
# one with `<binary> <file>`, fix the bug, keep the file (the sdp-fuzz-regress
# gtest replays that directory in CI). New corpus entries stay in the temp
# directory unless FUZZ_KEEP_CORPUS=1 merges them back.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
CXX="${CXX:-clang++}"
work="$(mktemp -d /tmp/sdp-fuzz.XXXXXX)"
echo "sdp-fuzz: building in $work"
sources=()
for f in grammar fields description attributes candidate crypto parser serializer; do
  sources+=("controlplane/sdp/$f.cpp")
done
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Icontrolplane -Itests/fuzz \
  "${sources[@]}" tests/fuzz/sdp_fuzz.cpp -o "$work/sdp_fuzz"
repo="$(pwd)"
mkdir -p "$work/corpus" tests/fuzz/regressions/sdp
cp tests/fuzz/corpus/sdp/* "$work/corpus/"
# FUZZ_JOBS=N runs N processes in parallel (their fuzz-*.log land in $work).
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
set +e
(cd "$work" && ./sdp_fuzz corpus \
  -dict="$repo/tests/fuzz/sdp.dict" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "${parallel[@]}" \
  -artifact_prefix="$repo/tests/fuzz/regressions/sdp/" "$@") 2>&1 | tee "$work/fuzz.log"
status=${PIPESTATUS[0]}
set -e
if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  "$work/sdp_fuzz" -merge=1 tests/fuzz/corpus/sdp "$work/corpus"
fi
echo "sdp-fuzz: exit $status; log, binary and corpus in $work"
exit "$status"
