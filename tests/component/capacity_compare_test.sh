#!/usr/bin/env bash
# Component test (issue 12): bench/capacity/compare.py puts isthmus's and
# rtpengine's runs side by side as it says. Inputs written here in
# capacity-sockets' JSON form (and capacity-rings'): per suite and call
# count both gateways' figures, the CPU ratio per packet (rtpengine's over
# isthmus's), pass or not, the bound of a failing run (gateway CPU, load
# tool, loss), the largest N passing for each, a call count only one ran,
# a suite only one ran, the rings' table; a missing directory or broken
# JSON exits 2 naming it. Needs python3 only; nothing is built.
# Usage: capacity_compare_test.sh SOURCE_ROOT
set -uo pipefail
src=$(cd "${1:?source root}" && pwd) || exit 1
. "$src/tests/component/lib.sh"
cmp=$src/bench/capacity/compare.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/i" "$tmp/r"

# run CALLS LOST P99_NS CPU_US_PER_PACKET GATEWAY_SHARE TOOL_SHARE TOOL_LAG_P99 PASSED
run() {
  printf '{"calls": %s, "offered": %s, "delivered": %s, "lost": %s, "loss_percent": %s,
    "latency_ns": {"p50": 5000, "p99": %s, "p999": 900000},
    "gateway_cpu": {"cpu_s_per_million_packets": %s, "core_fraction": %s},
    "tool": {"core_fraction": %s, "lag_p99_ns": %s}, "passed": %s}' \
    "$1" $(( $1 * 500 )) $(( $1 * 500 - $2 )) "$2" \
    "$(python3 -c "print(100 * $2 / ($1 * 500))")" "$3" "$4" "$5" "$6" "$7" "$8"
}
cat > "$tmp/i/isthmus-aes_cm_80.json" << JSON
{"target": "isthmus", "suite": "aes_cm_80", "runs": [
 $(run 250 0 12000 5.0 0.12 0.5 10000 true),
 $(run 1000 0 26000 4.0 0.42 0.9 20000 true),
 $(run 2000 0 95000 4.0 0.60 0.99 5000000 false)]}
JSON
cat > "$tmp/r/rtpengine-aes_cm_80.json" << JSON
{"target": "rtpengine", "suite": "aes_cm_80", "runs": [
 $(run 250 0 200000 20.0 0.50 0.5 10000 true),
 $(run 1000 0 40000000 10.0 1.0 0.6 20000 false)]}
JSON
cat > "$tmp/r/rtpengine-aead_aes_128_gcm.json" << JSON
{"target": "rtpengine", "suite": "aead_aes_128_gcm", "runs": [$(run 250 0 200000 22.0 0.5 0.5 10000 true)]}
JSON
cat > "$tmp/rings.json" << 'JSON'
{"bench": "capacity-rings", "suite": "AEAD_AES_128_GCM", "codec": "opus", "packet_rtp_octets": 92,
 "largest_passing_calls": 10000, "tool_could_not_offer_calls": 15000, "runs": [
 {"calls": 10000, "seconds": 5.0, "offered": 5000000, "loss_ratio": 0, "latency_ns": {"p50": 500, "p99": 17000, "p999": 800000},
  "worker_busy": 0.44, "pass": true, "bound": "-"}]}
JSON
python3 "$cmp" --isthmus "$tmp/i" --rtpengine "$tmp/r" --rings "$tmp/rings.json" > "$tmp/report.md" 2> "$tmp/err"
rc=$?
row() { grep -E "^\| $1 \|" "$tmp/report.md"; }
check "it writes the report (exit $rc)" test "$rc" -eq 0
check "the 250-call row: both figures, both passed, rtpengine 4.0x isthmus per packet" \
  eval 'row 250 | grep -q "125,000 / 125,000 (0.000 % lost) | 5.0 µs / 12.0 µs / 900.0 µs | 5.00 µs (12 %) | yes | — |" &&
        row 250 | grep -q "20.00 µs (50 %) | yes | — | 4.0x |$"'
check "1,000 calls: rtpengine failed on its CPU (100 % of a core), 2.5x" \
  eval 'row 1,000 | grep -q "| no | gateway CPU | 2.5x |$"'
check "2,000 calls: isthmus only; its failure put on the load tool (lag p99 5 ms)" \
  eval 'row 2,000 | grep -q "| no | load tool | not run |"'
check "the largest N passing of each" grep -q "Largest N passing: isthmus 1,000, rtpengine 250" "$tmp/report.md"
check "a suite one gateway ran is named, not compared" \
  grep -q "(aead_aes_128_gcm: run on one gateway only, not compared.)" "$tmp/report.md"
check "the rings' table and limit" \
  eval 'grep -q "AEAD_AES_128_GCM, opus (92 octets of RTP)" "$tmp/report.md" &&
        grep -q "^| 10,000 | 1,000,000 | 0.000 % | 0.5 µs / 17.0 µs / 800.0 µs | 44 % | yes |" "$tmp/report.md" &&
        grep -q "could not offer 15,000 on time" "$tmp/report.md"'
echo '{"runs": ' > "$tmp/r/rtpengine-aes_cm_80.json"
check "broken JSON exits 2 naming the file" \
  eval 'python3 "$cmp" --isthmus "$tmp/i" --rtpengine "$tmp/r" > /dev/null 2> "$tmp/err2";
        [ $? -eq 2 ] && grep -q "rtpengine-aes_cm_80.json" "$tmp/err2" && ! grep -q Traceback "$tmp/err2"'
echo '{"runs": [{"calls": 250}]}' > "$tmp/r/rtpengine-aes_cm_80.json"
check "a run without its figures exits 2 naming the file and what is missing" \
  eval 'python3 "$cmp" --isthmus "$tmp/i" --rtpengine "$tmp/r" > /dev/null 2> "$tmp/err4";
        [ $? -eq 2 ] && grep -q "rtpengine-aes_cm_80.json: run 0 has no offered" "$tmp/err4" && ! grep -q Traceback "$tmp/err4"'
check "a directory without results exits 2 naming it" \
  eval 'mkdir -p "$tmp/empty"; python3 "$cmp" --isthmus "$tmp/empty" --rtpengine "$tmp/r" > /dev/null 2> "$tmp/err3";
        [ $? -eq 2 ] && grep -q "no isthmus-SUITE.json" "$tmp/err3"'
summary
