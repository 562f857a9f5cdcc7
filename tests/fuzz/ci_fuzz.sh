#!/usr/bin/env bash
# CI's libFuzzer stage (tools/test): builds every target of run_fuzz.sh, then
# runs each for SECONDS on a fresh copy of its seed corpus, FUZZ_TARGET_JOBS at a
# time (default: one per CPU). A target passes when it built, libFuzzer ran
# inputs and exited 0; a crash, leak, timeout (an input over 10 s), running
# out of memory (2 GB) or a broken property fails it.
#
#   tests/fuzz/ci_fuzz.sh SECONDS [RESULTS]
#
# Everything goes under build-fuzz/ (gitignored): objects in obj/ (kept, so
# a second run compiles only what changed), each target's binary, corpus and
# logs in work/TARGET/, inputs libFuzzer saves in artifacts/TARGET/ (not in
# tests/fuzz/regressions/, so a failed CI run leaves the source tree clean;
# copy one there to make it a regression test). For a failed target the end
# of its log is printed, with the saved input and the command that replays it.
#
# RESULTS (default build-fuzz/results) gets a line "targets: NAME..." first,
# then "NAME pass" or "NAME fail" per target; tools/test counts them, and a
# target without a line as failed. Exit status 0 only when every target passed.
#
# Environment: CXX (clang++), FUZZ_TARGET_JOBS (targets run at once; nproc).
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

seconds=${1:?usage: tests/fuzz/ci_fuzz.sh SECONDS [RESULTS]}
out="$repo/build-fuzz"
results=$(realpath -m "${2:-$out/results}")
targets=$(tests/fuzz/run_fuzz.sh --list)
mkdir -p "$out/obj" "$out/work" "$out/artifacts" "$(dirname "$results")"
echo "targets: $targets" > "$results"

# The sanitizers' defaults, as a developer running run_fuzz.sh gets them, so
# that the printed replay command reproduces what failed here.
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# Without clang and its libFuzzer runtime no target builds: say what is
# missing once rather than twelve times.
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
     "${CXX:-clang++}" -x c++ -fsanitize=fuzzer,address,undefined - -o "$out/preflight" \
       > "$out/preflight.log" 2>&1; then
  echo "libFuzzer: ${CXX:-clang++} cannot build a libFuzzer target (Debian: clang, libclang-rt-14-dev):"
  head -n 5 "$out/preflight.log" | sed 's/^/  /'
  for t in $targets; do echo "$t fail" >> "$results"; done
  echo "libFuzzer: 0 targets passed, $(echo $targets | wc -w) failed"
  exit 1
fi

echo "libFuzzer: building $(echo $targets | wc -w) targets (objects in build-fuzz/obj)"
built=()
for t in $targets; do
  mkdir -p "$out/work/$t"
  if FUZZ_BUILD_ONLY=1 FUZZ_OBJ_DIR="$out/obj" FUZZ_WORK_DIR="$out/work/$t" \
       tests/fuzz/run_fuzz.sh "$t" > "$out/work/$t/build.log" 2>&1; then
    built+=("$t")
  else
    echo "FAIL $t: did not build ($out/work/$t/build.log):"
    grep -m 20 -E 'error|undefined reference' "$out/work/$t/build.log" | sed 's/^/  /'
    echo "$t fail" >> "$results"
  fi
done

# The report of a failed run: from the first sanitizer or libFuzzer error
# (or the property's message) on, at most 80 lines, without libFuzzer's
# progress lines (and the saved input, printed after it); the last 40 lines
# when there is none.
excerpt() {  # log
  grep -v -E '^#[0-9]+[[:space:]]|-fuzz: (saved input|replay with)' "$1" |
    awk '/runtime error|ERROR:|property broken|ALARM:/ { on = 1 } on { print; n++ } n == 80 { exit }
         { last[NR % 40] = $0 } END { if (!on) for (i = NR - 39; i <= NR; i++) if (i > 0) print last[i % 40] }' |
    sed 's/^/  /'
}

# One target: its result block is printed at once, so that targets running
# side by side do not interleave their lines.
fuzz_one() {  # target
  local t=$1 work="$out/work/$1" status report
  rm -rf "$work/corpus"
  FUZZ_OBJ_DIR="$out/obj" FUZZ_WORK_DIR="$work" FUZZ_ARTIFACT_DIR="$out/artifacts" \
    tests/fuzz/run_fuzz.sh "$t" "$seconds" > "$work/run.log" 2>&1
  status=$?
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run.log" | tail -n 1)
  if [ "$status" = 0 ] && [ "${runs:-0}" -gt 0 ]; then
    report="ok   $t: ${runs} inputs in ${seconds} s, $(ls "$work/corpus" | wc -l) in its corpus"
    echo "$t pass" >> "$results"
  else
    report="FAIL $t: run_fuzz.sh exit $status, ${runs:-no} inputs run; from $work/run.log:
$(excerpt "$work/run.log")"
    if grep -q 'saved input' "$work/run.log"; then
      report+="
$(grep -E -- '-fuzz: (saved input|replay with)' "$work/run.log" | sed 's/^/  /')
  (the saved input is under build-fuzz/, outside the source tree; to keep it as a
  regression test, copy it to tests/fuzz/regressions/$t/ with a name that says what broke)"
    fi
    echo "$t fail" >> "$results"
  fi
  echo "$report"
}
export -f fuzz_one excerpt
export out seconds results

echo "libFuzzer: running ${#built[@]} targets for $seconds s each, ${FUZZ_TARGET_JOBS:-$(nproc)} at a time"
if [ "${#built[@]}" -gt 0 ]; then
  printf '%s\n' "${built[@]}" | xargs -P "${FUZZ_TARGET_JOBS:-$(nproc)}" -n 1 bash -c 'fuzz_one "$1"' _
fi
failed=$(grep -c ' fail$' "$results")
echo "libFuzzer: $(grep -c ' pass$' "$results") targets passed, $failed failed"
[ "$failed" = 0 ]
