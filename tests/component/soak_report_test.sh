#!/usr/bin/env bash
# Component test (issue 11): bench/soak.py, the soak bench's sampler and
# report, does what it says.
#   sample: against a metrics file served over HTTP on loopback and a live
#     process, each row has the process's VmRSS, fds and threads as /proc
#     has them and the exporter's values (labelled ones summed, only the
#     w2 INVITEs counted as invites); a gone process and a missing metric
#     are empty cells; --while-pid stops it after its process and --tail;
#     nothing to sample at all is exit 1;
#   report: on a run written here whose memory, fds, threads and calls are
#     flat around noise, every series is "flat", the INVITE rate is the one
#     written, the rows after the load are shown as what was left; the same
#     run with the P-CSCF's RSS growing 32 MiB an hour and one fd leaked a
#     minute is "grows" for exactly those two; the settle window skips a
#     warm-up ramp (with --settle 0 the ramp makes memory "grows"); the SVG
#     is well-formed, three panels, one line per series, the same bytes
#     twice; bad input exits 2 naming the file and the fault, no traceback.
# Needs python3 only; nothing is built. Usage: soak_report_test.sh SOURCE_ROOT
set -uo pipefail
src=$(cd "${1:?source root}" && pwd) || exit 1
. "$src/tests/component/lib.sh"
soak=$src/bench/soak.py
command -v python3 > /dev/null || { echo "python3 missing"; exit 1; }
tmp=$(mktemp -d)
server_pid="" sleeper=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null && wait "$sleeper" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- sample ---------------------------------------------------------------------------
mkdir -p "$tmp/www"
cat > "$tmp/www/metrics" << 'PROM'
# HELP isthmus_pcscf_calls calls (dialogs with media) held
# TYPE isthmus_pcscf_calls gauge
isthmus_pcscf_calls 7
isthmus_pcscf_flows 12
isthmus_pcscf_transactions 301
isthmus_dataplane_sessions{worker="0"} 5
isthmus_dataplane_sessions{worker="1"} 9
isthmus_pcscf_requests_received_total{side="w2",method="INVITE"} 1234
isthmus_pcscf_requests_received_total{side="mw",method="INVITE"} 99
isthmus_pcscf_requests_received_total{side="w2",method="BYE"} 1200
isthmus_pcscf_refused_total{reason="admission_rate"} 3
isthmus_pcscf_refused_total{reason="not_registered \"x\""} 4
PROM
# A free port: bound by the server itself (port 0), read back from its output.
python3 -u -c '
import http.server, os, socketserver, sys
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
with socketserver.TCPServer(("127.0.0.1", 0), Quiet) as s:
    print(s.server_address[1], flush=True)
    s.serve_forever()
' "$tmp/www" > "$tmp/port" 2> "$tmp/server.err" &
server_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
url=http://127.0.0.1:$port/metrics
sleep 300 &
sleeper=$!
# A pid that is surely gone: a finished child's.
true & gone=$!; wait "$gone"

check "sample --count 3: exit 0" timeout 20 python3 "$soak" sample --out "$tmp/s.csv" \
  --metrics "$url" --pid "me=$sleeper" --pid "gone=$gone" --interval 0.2 --count 3
# col CSV NAME -> the column's values, one per line
col() { python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("\n".join(r[sys.argv[2]] for r in rows))' "$1" "$2"; }
check "3 rows and the header" test "$(wc -l < "$tmp/s.csv")" -eq 4
check "t_s increases by about the interval" python3 -c '
import csv, sys
t = [float(r["t_s"]) for r in csv.DictReader(open(sys.argv[1]))]
sys.exit(not (t[0] == 0 and all(0.15 <= b - a <= 1.0 for a, b in zip(t, t[1:]))))' "$tmp/s.csv"
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$sleeper/status")
fds=$(ls "/proc/$sleeper/fd" | wc -l)
check "me_rss_kib is the process's VmRSS ($rss kB)" test "$(col "$tmp/s.csv" me_rss_kib | sort -u)" = "$rss"
check "me_fds is the process's fd count ($fds)" test "$(col "$tmp/s.csv" me_fds | sort -u)" = "$fds"
check "me_threads 1" test "$(col "$tmp/s.csv" me_threads | sort -u)" = 1
check "a gone process: empty cells" test "$(col "$tmp/s.csv" gone_rss_kib | sort -u)" = ""
check "calls 7, flows 12, transactions 301 (gauges as served)" test \
  "$(col "$tmp/s.csv" calls | sort -u) $(col "$tmp/s.csv" flows | sort -u) $(col "$tmp/s.csv" transactions | sort -u)" = "7 12 301"
check "dataplane_sessions summed over the workers: 14" test "$(col "$tmp/s.csv" dataplane_sessions | sort -u)" = 14
check "invites: the w2 INVITEs only (1234, not the mw 99)" test "$(col "$tmp/s.csv" invites | sort -u)" = 1234
check "refused summed over reasons, an escaped quote in a label read: 7" \
  test "$(col "$tmp/s.csv" refused | sort -u)" = 7
check "a metric the exporter lacks (registrations): empty, not 0" \
  test "$(col "$tmp/s.csv" registrations | sort -u)" = ""

# --while-pid: stops once its process is gone and the tail is over.
sleep 0.6 & short=$!
check "--while-pid with --tail 0.5: ends on its own, rows through the tail" sh -c "
  timeout 10 python3 '$soak' sample --out '$tmp/w.csv' --metrics '$url' --pid 'me=$sleeper' \
    --interval 0.2 --while-pid $short --tail 0.5 &&
  n=\$(( \$(wc -l < '$tmp/w.csv') - 1 )) && [ \$n -ge 5 ] && [ \$n -le 9 ]"
wait "$short" 2>/dev/null

check "nothing to sample (no server, gone pid): exit 1, a message" sh -c "
  python3 '$soak' sample --out '$tmp/n.csv' --metrics http://127.0.0.1:1/metrics \
    --pid 'gone=$gone' --count 2 --interval 0.1 2> '$tmp/n.err'
  [ \$? -eq 1 ] && grep -q 'nothing to sample' '$tmp/n.err' && ! grep -q Traceback '$tmp/n.err'"

# --- report ---------------------------------------------------------------------------
# gen OUT MODE: 60 rows 10 s apart; the load (invites +500 each row, 50/s)
# through row 55, then 4 rows with nothing moving and every call gone.
# flat: RSS 40 MiB +- 64 KiB, fds 30 +- 1, threads 6, calls 50 +- 3.
# leak: the P-CSCF's RSS +32 MiB/hour (3.6 MiB over the steady part) over the run, its fds +1 a minute.
# ramp: the RSS climbs 20 MiB over the first 100 s, then flat.
gen() {
  python3 - "$1" "$2" << 'PY'
import csv, sys
out, mode = sys.argv[1], sys.argv[2]
w = csv.writer(open(out, "w", newline=""), lineterminator="\n")
w.writerow(["t_s", "pcscf_rss_kib", "pcscf_fds", "pcscf_threads", "dataplane_rss_kib",
            "calls", "dataplane_sessions", "invites"])
noise = [0, 1, -1, 2, -2, 1, 0, -1, 3, -3, 0, 2]
for i in range(60):
    t = i * 10
    load = 1 <= i <= 55
    n = noise[i % len(noise)]
    rss = 40960 + 32 * n
    fds = 30 + (n > 1) - (n < -1)
    if mode == "leak":
        rss += int(32 * 1024 * t / 3600)
        fds += t // 60
    if mode == "ramp":
        rss += min(t, 100) * 20 * 1024 // 100
    calls = 50 + n if load else 0
    invites = 500 * min(i, 55)
    w.writerow([f"{t:.1f}", rss, fds, 6, 262144 + 16 * n, calls, calls, invites])
PY
}
gen "$tmp/flat.csv" flat
gen "$tmp/leak.csv" leak
gen "$tmp/ramp.csv" ramp
verdict() {  # verdict REPORT SERIES -> its verdict cell
  awk -F' \\| ' -v s="$2" '$1 == "| " s {print $7}' "$1"
}
check "report of the flat run: exit 0" sh -c "python3 '$soak' report '$tmp/flat.csv' --svg '$tmp/flat.svg' > '$tmp/flat.md'"
cat "$tmp/flat.md"
for s in pcscf_rss_kib pcscf_fds pcscf_threads dataplane_rss_kib calls dataplane_sessions; do
  check "flat run: $s flat" test "$(verdict "$tmp/flat.md" "$s")" = flat
done
check "flat run: '6 of 6 series flat.'" grep -qx '6 of 6 series flat.' "$tmp/flat.md"
check "flat run: the INVITE rate 50.0/s" grep -q '^| invites (rate) | .* 50.0/s |' "$tmp/flat.md"
check "flat run: after the load, calls 0 and the sessions 0" sh -c "
  grep -q '^| calls | .* | 0 |\$' '$tmp/flat.md' && grep -q '^| dataplane_sessions | .* | 0 |\$' '$tmp/flat.md'"
check "flat run: the steady part from a quarter of the load (140 s) to the row before its last (540 s)" \
  grep -q 'steady part 140-540 s' "$tmp/flat.md"

python3 "$soak" report "$tmp/leak.csv" > "$tmp/leak.md"
cat "$tmp/leak.md"
check "leak: pcscf_rss_kib grows" test "$(verdict "$tmp/leak.md" pcscf_rss_kib)" = grows
check "leak: pcscf_fds grows" test "$(verdict "$tmp/leak.md" pcscf_fds)" = grows
check "leak: the others flat; the summary names the two" \
  grep -qx '4 of 6 series flat; not flat: pcscf_rss_kib, pcscf_fds.' "$tmp/leak.md"
check "leak: the slope per hour near +32 MiB" sh -c "
  grep '^| pcscf_rss_kib ' '$tmp/leak.md' | grep -qE '\\| \\+(31\\.[89]|32\\.[01])[0-9]* MiB \\|'"

python3 "$soak" report "$tmp/ramp.csv" > "$tmp/ramp.md"
check "ramp: the warm-up skipped, memory flat" test "$(verdict "$tmp/ramp.md" pcscf_rss_kib)" = flat
python3 "$soak" report --settle 0 "$tmp/ramp.csv" > "$tmp/ramp0.md"
check "ramp with --settle 0: memory grows" test "$(verdict "$tmp/ramp0.md" pcscf_rss_kib)" = grows

check "the SVG: well-formed, 3 panels, one line per series" python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
panels = root.findall(f"{ns}g[@class=\"panel\"]")
lines = sorted(p.get("data-series") for p in root.iter(f"{ns}polyline"))
want = sorted(["pcscf_rss_kib", "dataplane_rss_kib", "pcscf_fds", "pcscf_threads", "calls",
               "dataplane_sessions"])
ok = len(panels) == 3 and lines == want
ok = ok and all(len(p.get("points").split()) == 60 for p in root.iter(f"{ns}polyline"))
if not ok: print("  panels", len(panels), "lines", lines)
sys.exit(not ok)' "$tmp/flat.svg"
check "same input -> byte-identical SVG" sh -c "
  python3 '$soak' report '$tmp/flat.csv' --svg '$tmp/again.svg' > /dev/null && cmp '$tmp/flat.svg' '$tmp/again.svg'"

# Bad input: exit 2, the file and the fault named, no traceback.
bad() {  # bad LABEL FILE PATTERN
  python3 "$soak" report "$2" > /dev/null 2> "$tmp/bad.err"
  local rc=$?
  [ "$rc" -eq 2 ] || { echo "  $1: exit $rc"; return 1; }
  grep -qF "$2" "$tmp/bad.err" && grep -qE "$3" "$tmp/bad.err" && ! grep -q Traceback "$tmp/bad.err" ||
    { echo "  $1: $(cat "$tmp/bad.err")"; return 1; }
}
printf 'time,rss\n1,2\n2,3\n' > "$tmp/other.csv"
printf 't_s,a\n0,1\n10,x\n20,3\n' > "$tmp/nan.csv"
printf 't_s,a\n0,1\n10\n20,3\n' > "$tmp/short.csv"
printf 't_s,a\n0,1\n' > "$tmp/one.csv"
printf 't_s,a\n0,1\n10,2\n5,3\n' > "$tmp/back.csv"
check "missing file: exit 2" bad missing "$tmp/absent.csv" "No such file"
check "not a soak CSV: exit 2" bad other "$tmp/other.csv" "not a soak CSV"
check "a value not a number: exit 2, row and column named" bad nan "$tmp/nan.csv" ":3: a 'x' is not a number"
check "a short row: exit 2" bad short "$tmp/short.csv" ":3: 1 fields"
check "one sample: exit 2" bad one "$tmp/one.csv" "1 samples, 2 at least"
check "time going back: exit 2" bad back "$tmp/back.csv" "t_s must be given and increase"
check "no subcommand: usage error, exit 2" sh -c "
  python3 '$soak' 2> '$tmp/usage.err'; [ \$? -eq 2 ] && ! grep -q Traceback '$tmp/usage.err'"

summary
