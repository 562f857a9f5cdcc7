#!/usr/bin/env bash
# Builds the SIP parser's libFuzzer target straight from the sources (clang,
# -fsanitize=fuzzer,address,undefined; no meson) in a temporary directory and
# runs it on a copy of tests/fuzz/corpus/sip for N seconds (default 60).
#
#   tests/fuzz/run_sip_fuzz.sh [seconds] [extra libFuzzer flags...]
#
# Crashes are written to tests/fuzz/regressions/sip/ (crash-<sha1>): replay
# one with `<binary> <file>`, fix the bug, keep the file (the sip-fuzz-regress
# gtest replays that directory in CI). New corpus entries stay in the temp
# directory unless FUZZ_KEEP_CORPUS=1 merges them back.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
CXX="${CXX:-clang++}"
work="$(mktemp -d /tmp/sip-fuzz.XXXXXX)"
echo "sip-fuzz: building in $work"
# The message layer only (the transaction layer shares the directory).
sources=()
for f in grammar host params uri header_names headers message parser validate serializer; do
  sources+=("controlplane/sip/$f.cpp")
done
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Icontrolplane -Itests/fuzz \
  "${sources[@]}" tests/fuzz/sip_parser_fuzz.cpp -o "$work/sip_parser_fuzz"
repo="$(pwd)"
mkdir -p "$work/corpus" tests/fuzz/regressions/sip
cp tests/fuzz/corpus/sip/* "$work/corpus/"
# FUZZ_JOBS=N runs N processes in parallel (their fuzz-*.log land in $work).
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
set +e
(cd "$work" && ./sip_parser_fuzz corpus \
  -dict="$repo/tests/fuzz/sip.dict" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "${parallel[@]}" \
  -artifact_prefix="$repo/tests/fuzz/regressions/sip/" "$@") 2>&1 | tee "$work/fuzz.log"
status=${PIPESTATUS[0]}
set -e
if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  "$work/sip_parser_fuzz" -merge=1 tests/fuzz/corpus/sip "$work/corpus"
fi
echo "sip-fuzz: exit $status; log, binary and corpus in $work"
exit "$status"
