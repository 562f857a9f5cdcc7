#!/usr/bin/env bash
# Builds one libFuzzer target straight from the sources (clang,
# -fsanitize=fuzzer,address,undefined; no meson) and runs it on a copy of
# its seed corpus tests/fuzz/corpus/TARGET for N seconds (default 60).
#
#   tests/fuzz/run_fuzz.sh TARGET [seconds] [extra libFuzzer flags...]
#   tests/fuzz/run_fuzz.sh all [seconds]     # every target in turn
#                                            # (CI: ci_fuzz.sh)
#   tests/fuzz/run_fuzz.sh --list
#
# Targets (tests/fuzz/README.md says what each covers): sip sdp stun pkt
# srtp json token wwsf_config pcscf_config dcep msrp dpif.
#
# Crashes are written to tests/fuzz/regressions/TARGET/ (crash-<sha1>,
# leak-, timeout-, oom-; FUZZ_ARTIFACT_DIR=DIR: to DIR/TARGET/ instead):
# replay one with `<binary> <file>`, fix the bug,
# give the file a name that says what it was and keep it (the TARGET's
# *-fuzz-regress gtest replays that directory in CI). New corpus entries
# stay in the work directory unless FUZZ_KEEP_CORPUS=1 merges them back.
#
# Environment: CXX (clang++), FUZZ_JOBS=N (N fuzzing processes in
# parallel), FUZZ_BUILD_JOBS=N (compilers in parallel, default 2),
# FUZZ_OBJ_DIR=DIR (keep the objects there, shared by the targets, and
# rebuild only what changed: repeated runs skip the slow compiles),
# FUZZ_WORK_DIR=DIR (instead of a new /tmp/TARGET-fuzz.XXXXXX),
# FUZZ_BUILD_ONLY=1 (build the binary, do not run it).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"

targets="sip sdp stun pkt srtp json token wwsf_config pcscf_config dcep msrp dpif"
if [ "${1:-}" = --list ] || [ -z "${1:-}" ]; then
  echo "$targets"
  [ -n "${1:-}" ] || { echo "usage: $0 TARGET [seconds] [libFuzzer flags...]" >&2; exit 2; }
  exit 0
fi
target="$1"
shift
seconds="${1:-60}"
shift || true
if [ "$target" = all ]; then
  failed=""
  for t in $targets; do
    FUZZ_WORK_DIR="" "$0" "$t" "$seconds" "$@" || failed="$failed $t"
  done
  echo "run_fuzz.sh all: ${failed:+failed:$failed}${failed:-every target passed}"
  [ -z "$failed" ]
  exit
fi

# Per target: the entry point, the library sources it links, include
# directories, system libraries, the longest input worth trying.
sip_sources() {
  # The message layer only (the transaction layer shares the directory).
  for f in grammar host params uri header_names headers message parser validate serializer; do
    echo "controlplane/sip/$f.cpp"
  done
}
sdp_sources() {
  for f in grammar fields description attributes candidate crypto parser serializer; do
    echo "controlplane/sdp/$f.cpp"
  done
}
token_sources() { echo controlplane/token/token.cpp; }
wwsf_config_sources() {
  sip_sources
  token_sources
  for f in config core core_api guest_pool json password sessions static_files users; do
    echo "controlplane/wwsf/$f.cpp"
  done
}
pcscf_config_sources() {
  # The loader and what it checks with (the core's configuration, the lease
  # releaser); the archive leaves out whatever they do not call.
  ls controlplane/sip/*.cpp controlplane/sdp/*.cpp
  token_sources
  for f in admission daemon_config lease_release core core_config core_flow_token core_mw \
           core_proxy core_w2 media_alg p_headers registrar; do
    echo "controlplane/pcscf/$f.cpp"
  done
}

msrp_sources() {
  for f in grammar uri message fields scanner parser serializer reply relay; do
    echo "controlplane/msrp/$f.cpp"
  done
}
dpif_sources() {
  # The main lcore's command service and what the workers run for commands.
  for f in control/command_service control/command_log session/session_table session/session_bundle flow/flow_table \
           ice/integrity srtp/suite srtp/kdf srtp/engine srtp/context srtp/transform; do
    echo "dataplane/$f.cpp"
  done
  # The command service checks a chat's MSRP spec (issue 9).
  for f in grammar uri fields spec; do
    echo "controlplane/msrp/$f.cpp"
  done
}

# One set of flags for every target (the build's -march=x86-64-v2: the flow
# table hashes with SSE4.2's CRC32), so that FUZZ_OBJ_DIR's objects are
# shared: the SIP, SDP and token sources compile once for all their targets.
# toml++'s flags say to use Debian's shared library (see the configuration
# targets below); they change nothing in the sources that do not include it.
includes=(-Icontrolplane -Idataplane -Iinclude -Itests/fuzz $(pkg-config --cflags tomlplusplus))
libs=()
max_len=4096
dict_name="$target"
case "$target" in
  sip) entry=sip_parser_fuzz; mapfile -t sources < <(sip_sources) ;;
  sdp) entry=sdp_fuzz; mapfile -t sources < <(sdp_sources); max_len=16384 ;;
  stun)
    entry=stun_fuzz
    sources=(dataplane/ice/stun.cpp dataplane/ice/writer.cpp dataplane/ice/integrity.cpp
             dataplane/ice/fingerprint.cpp dataplane/ice/binding.cpp)
    libs=(-lcrypto); max_len=1500 ;;
  pkt)
    entry=pkt_fuzz
    sources=(dataplane/pkt/parse.cpp dataplane/pkt/build.cpp)
    max_len=2048 ;;
  srtp)
    entry=srtp_fuzz
    sources=(dataplane/srtp/suite.cpp dataplane/srtp/kdf.cpp dataplane/srtp/engine.cpp
             dataplane/srtp/context.cpp dataplane/srtp/transform.cpp)
    libs=(-lIPSec_MB -lcrypto); max_len=1500 ;;
  dcep)
    entry=dcep_fuzz
    sources=(dataplane/datachannel/dcep.cpp)
    max_len=1024 ;;
  msrp) entry=msrp_fuzz; mapfile -t sources < <(msrp_sources) ;;
  dpif)
    entry=dpif_fuzz; mapfile -t sources < <(dpif_sources)
    libs=(-lIPSec_MB -lcrypto); max_len=4096 ;;
  json) entry=json_fuzz; sources=(controlplane/wwsf/json.cpp) ;;
  token) entry=token_fuzz; mapfile -t sources < <(token_sources); libs=(-lcrypto) ;;
  # toml++ as the daemons link it (Debian's shared library, built with
  # NDEBUG): header-only and without NDEBUG, toml++ 3.3.0 asserts on "[="
  # (upstream tomlplusplus PR #301), which is not what ships.
  wwsf_config)
    entry=wwsf_config_fuzz; mapfile -t sources < <(wwsf_config_sources)
    libs=($(pkg-config --libs tomlplusplus) -lssl -lcrypto -lpthread); max_len=8192
    dict_name=config ;;
  pcscf_config)
    entry=pcscf_config_fuzz; mapfile -t sources < <(pcscf_config_sources)
    libs=($(pkg-config --libs tomlplusplus) -lssl -lcrypto -lpthread); max_len=8192
    dict_name=config ;;
  *) echo "run_fuzz.sh: unknown target '$target' (targets: $targets)" >&2; exit 2 ;;
esac

CXX="${CXX:-clang++}"
work="${FUZZ_WORK_DIR:-$(mktemp -d "/tmp/$target-fuzz.XXXXXX")}"
mkdir -p "$work"
echo "$target-fuzz: building in $work"
flags=(-std=c++20 -gline-tables-only -O1 -march=x86-64-v2 -fno-sanitize-recover=undefined
       "-DISTHMUS_FUZZ_DIR=\"$repo/tests/fuzz\"" "${includes[@]}")
# Kept objects are only reused with the same compiler and flags (every
# target has the same: they share the directory).
objdir="$work/obj"
if [ -n "${FUZZ_OBJ_DIR:-}" ]; then
  objdir="$FUZZ_OBJ_DIR/$(echo "$CXX ${flags[*]}" | sha1sum | cut -c1-12)"
fi
mkdir -p "$objdir"

# An object is up to date when it is newer than every file its .d lists.
up_to_date() {  # object
  local obj=$1 dep
  [ -f "$obj" ] && [ -f "$obj.d" ] || return 1
  for dep in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$obj.d"); do
    [ "$dep" -nt "$obj" ] && return 1
  done
  return 0
}
export -f up_to_date
export CXX objdir
# Arrays do not cross into xargs' shells: pass the flags through a file.
# The entry point compiles with the sources (it is kept too). An object is
# written under a temporary name and renamed: two runs sharing FUZZ_OBJ_DIR
# never see half an object.
printf '%s\n' "${flags[@]}" > "$work/cxxflags"
printf '%s\n' "tests/fuzz/$entry.cpp" "${sources[@]}" | xargs -P "${FUZZ_BUILD_JOBS:-2}" -n 1 bash -c '
  mapfile -t flags < "$0"; src=$1; obj="$objdir/$(echo "$src" | tr / _).o"
  up_to_date "$obj" && exit 0
  echo "  $src"
  "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -MMD -MF "$obj.d.$$" \
    -MT "$obj" -c "$src" -o "$obj.$$" || { rm -f "$obj.$$" "$obj.d.$$"; exit 1; }
  mv -f "$obj.d.$$" "$obj.d" && mv -f "$obj.$$" "$obj"' "$work/cxxflags"
rm -f "$work/lib$target.a"
objects=()
for src in "${sources[@]}"; do objects+=("$objdir/$(echo "$src" | tr / _).o"); done
# An archive: the linker takes only the objects the target needs.
ar rcs "$work/lib$target.a" "${objects[@]}"
"$CXX" -fsanitize=fuzzer,address,undefined "$objdir/tests_fuzz_$entry.cpp.o" \
  "$work/lib$target.a" "${libs[@]}" -o "$work/$entry"
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
  echo "$target-fuzz: built $work/$entry"
  exit 0
fi

artifacts="$repo/tests/fuzz/regressions/$target"
if [ -n "${FUZZ_ARTIFACT_DIR:-}" ]; then artifacts="$(realpath -m "$FUZZ_ARTIFACT_DIR")/$target"; fi
mkdir -p "$work/corpus" "$artifacts"
cp "tests/fuzz/corpus/$target/"* "$work/corpus/"
dict=()
if [ -f "tests/fuzz/$dict_name.dict" ]; then dict=(-dict="$repo/tests/fuzz/$dict_name.dict"); fi
# FUZZ_JOBS=N runs N processes in parallel (their fuzz-*.log land in $work).
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
rm -f "$work"/fuzz-*.log
set +e
(cd "$work" && "./$entry" corpus "${dict[@]}" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${parallel[@]}" \
  -artifact_prefix="$artifacts/" "$@") 2>&1 | tee "$work/fuzz.log"
status=${PIPESTATUS[0]}
set -e
if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  "$work/$entry" -merge=1 "tests/fuzz/corpus/$target" "$work/corpus"
fi
echo "$target-fuzz: exit $status; log, binary and corpus in $work"
# What libFuzzer saved (a crash, leak, timeout or broken property), and how
# to replay it.
for saved in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work"/fuzz*.log | sort -u); do
  echo "$target-fuzz: saved input $saved"
  echo "$target-fuzz: replay with $work/$entry $saved"
done
exit "$status"
