#!/usr/bin/env bash
# Component test (issue 12): bench/capacity/plot.py draws the capacity
# bench's JSON as it says. Two inputs written here, one in each format the
# bench writes (capacity-rings --json; capacity-sockets --json as
# rtpengine.sh runs it, with a baseline), the second with a run that did not
# pass. Checks that the SVG
#   - is well-formed XML, one <svg>, two panels;
#   - has one polyline per series per metric (delivered; p50, p99, p99.9),
#     each through as many points as its series has runs;
#   - names each series in its legend (default labels, NAME=FILE, and
#     --baselines' extra series);
#   - puts points where the numbers say: the panels' own mapping (data-area,
#     data-x, data-y) pinned to the domains these inputs give, one known run's
#     delivered and p99 markers and polyline vertices at the computed place,
#     higher latency drawn higher, a lossy run below delivered = offered, the
#     1 ms limit line at 1 ms;
#   - draws every marker of a run that did not pass hollow, and no other;
#   - comes out byte-identical from two runs;
# and that a missing file, broken JSON, a JSON without "runs" and a run
# without its latency exit 2 with a message naming the file and the fault,
# no traceback and no SVG.
# Needs python3 only; nothing is built. Usage: capacity_plot_test.sh SOURCE_ROOT
set -uo pipefail
src=$(cd "${1:?source root}" && pwd) || exit 1
. "$src/tests/component/lib.sh"
plot=$src/bench/capacity/plot.py
command -v python3 > /dev/null || { echo "python3 missing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# capacity-rings: 1000 calls pass, 20000 calls lose 20 % and do not pass.
cat > "$tmp/rings.json" << 'JSON'
{
  "bench": "capacity-rings",
  "seconds": 5.0,
  "ring": 4096,
  "suite": "AES_CM_128_HMAC_SHA1_80",
  "packet_rtp_octets": 172,
  "largest_passing_calls": 10000,
  "tool_could_not_offer_calls": 0,
  "runs": [
    {"calls": 1000, "seconds": 5.000, "offered": 500000, "delivered": 500000, "lost": 0, "loss_ratio": 0, "latency_ns": {"p50": 12000, "p99": 250000, "p999": 400000, "max": 900000, "mean": 15000}, "worker_busy": 0.1000, "pass": true, "bound": "?"},
    {"calls": 10000, "seconds": 5.000, "offered": 5000000, "delivered": 4999900, "lost": 100, "loss_ratio": 2e-05, "latency_ns": {"p50": 30000, "p99": 600000, "p999": 900000, "max": 2000000, "mean": 40000}, "worker_busy": 0.5000, "pass": true, "bound": "?"},
    {"calls": 20000, "seconds": 5.000, "offered": 10000000, "delivered": 8000000, "lost": 2000000, "loss_ratio": 0.2, "latency_ns": {"p50": 800000, "p99": 3000000, "p999": 5000000, "max": 9000000, "mean": 900000}, "worker_busy": 0.9900, "pass": false, "bound": "worker"}
  ]
}
JSON
# capacity-sockets (rtpengine.sh's rtpengine-aes_cm_80.json): 500 calls fail.
cat > "$tmp/rtpengine-aes_cm_80.json" << 'JSON'
{"target": "rtpengine", "suite": "aes_cm_80", "seconds": 10.000, "warmup": 1.000, "packets_per_second_per_direction": 50, "gateway_pid": 4242, "ports": "per-call",
 "runs": [
  {"gateway": "rtpengine", "calls": 250, "setup_s": 0.500, "window_s": 10.000, "offered": 250000, "delivered": 250000, "lost": 0, "loss_percent": 0.000000, "latency_ns": {"p50": 40000, "p99": 120000, "p999": 300000, "max": 500000, "mean": 45000, "samples": 250000}, "passed": true},
  {"gateway": "rtpengine", "calls": 500, "setup_s": 0.500, "window_s": 10.000, "offered": 500000, "delivered": 450000, "lost": 50000, "loss_percent": 10.000000, "latency_ns": {"p50": 90000, "p99": 2500000, "p999": 8000000, "max": 9000000, "mean": 95000, "samples": 450000}, "passed": false}],
 "baselines": [
  {"gateway": "none (A and B direct)", "calls": 500, "setup_s": 0.000, "window_s": 10.000, "offered": 500000, "delivered": 500000, "lost": 0, "loss_percent": 0.000000, "latency_ns": {"p50": 20000, "p99": 60000, "p999": 90000, "max": 100000, "mean": 21000, "samples": 500000}, "passed": true}],
 "largest_passing_calls": 250, "bound": "loss", "error": null}
JSON

# The checks on an SVG, in Python (the standard library's XML parser).
cat > "$tmp/svg.py" << 'PY'
"""svg.py CHECK SVG ARGS...: exit 0 when the SVG passes CHECK, else 1 with why."""
import math
import sys
import xml.dom.minidom


def fail(why):
    sys.exit(why)


def load(path):
    try:
        return xml.dom.minidom.parse(path)
    except Exception as e:  # expat's error, or no file
        fail(f"{path}: not well-formed XML: {e}")


def els(doc, *tags):
    return [e for t in tags for e in doc.getElementsByTagName(t)]


def of_class(doc, cls, *tags):
    return [e for e in els(doc, *tags) if e.getAttribute("class") == cls]


def points(doc):
    return of_class(doc, "point", "circle", "rect", "polygon")


def key(e, *attrs):
    return tuple(e.getAttribute("data-" + a) for a in attrs)


def centre(e):
    """The centre of a marker's bounding box."""
    if e.tagName == "circle":
        return float(e.getAttribute("cx")), float(e.getAttribute("cy"))
    if e.tagName == "rect":
        return (float(e.getAttribute("x")) + float(e.getAttribute("width")) / 2,
                float(e.getAttribute("y")) + float(e.getAttribute("height")) / 2)
    xs, ys = zip(*vertices(e))
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def vertices(e):
    return [tuple(map(float, p.split(","))) for p in e.getAttribute("points").split()]


def panel(doc, pid):
    found = [g for g in of_class(doc, "panel", "g") if g.getAttribute("id") == pid]
    if len(found) != 1:
        fail(f"{len(found)} panels {pid}")
    return found[0]


def mapping(g):
    """(x of a value, y of a value), as the panel's data-area, data-x, data-y say."""
    x0, y0, x1, y1 = map(float, g.getAttribute("data-area").split())

    def axis(spec, a, b):
        kind, lo, hi = spec.split()
        f = math.log10 if kind == "log" else (lambda v: v)
        lo, hi = f(float(lo)), f(float(hi))
        return lambda v: a + (f(v) - lo) / (hi - lo) * (b - a)
    return axis(g.getAttribute("data-x"), x0, x1), axis(g.getAttribute("data-y"), y1, y0)


def marker(doc, series, metric, calls):
    found = [e for e in points(doc)
             if key(e, "series", "metric", "calls") == (series, metric, calls)]
    if len(found) != 1:
        fail(f"{len(found)} markers for {series} {metric} {calls}")
    return found[0]


def line(doc, series, metric):
    found = [e for e in of_class(doc, "series", "polyline")
             if key(e, "series", "metric") == (series, metric)]
    if len(found) != 1:
        fail(f"{len(found)} polylines for {series} {metric}")
    return found[0]


def near(a, b):
    return abs(a[0] - b[0]) <= 0.01 and abs(a[1] - b[1]) <= 0.01


def check(cmd, doc, args):
    if cmd == "wellformed":
        root = doc.documentElement
        if root.tagName != "svg" or root.getAttribute("xmlns") != "http://www.w3.org/2000/svg":
            fail(f"root <{root.tagName}>, not an SVG")
        if len(of_class(doc, "panel", "g")) != 2:
            fail("not two panels")
    elif cmd == "lines":  # LABEL:RUNS...: exactly these polylines, RUNS vertices each
        want = {(label, m): int(n) for label, n in (a.rsplit(":", 1) for a in args)
                for m in ("delivered", "p50", "p99", "p999")}
        got = {}
        for e in of_class(doc, "series", "polyline"):
            if key(e, "series", "metric") in got:
                fail(f"two polylines for {key(e, 'series', 'metric')}")
            got[key(e, "series", "metric")] = len(vertices(e))
        if got != want:
            fail(f"polylines {sorted(got.items())}, expected {sorted(want.items())}")
    elif cmd == "legend":  # LABEL...: the legend's series names, in order
        got = [t.firstChild.data for t in of_class(doc, "legend-series", "text")]
        if got != list(args):
            fail(f"legend {got}, expected {list(args)}")
    elif cmd == "domains":  # PANEL DATA_X DATA_Y
        g = panel(doc, args[0])
        got = (g.getAttribute("data-x"), g.getAttribute("data-y"))
        if got != tuple(args[1:]):
            fail(f"{args[0]}: domains {got}, expected {args[1:]}")
    elif cmd == "at":  # PANEL SERIES METRIC CALLS X Y: marker and a vertex at value (X, Y)
        pid, series, metric, calls, xv, yv = args
        fx, fy = mapping(panel(doc, pid))
        want = (fx(float(xv)), fy(float(yv)))
        got = centre(marker(doc, series, metric, calls))
        if not near(got, want):
            fail(f"{series} {metric} {calls}: marker at {got}, expected {want}")
        if not any(near(v, want) for v in vertices(line(doc, series, metric))):
            fail(f"{series} {metric}: no polyline vertex at {want}")
    elif cmd == "higher":  # SERIES METRIC CALLS METRIC CALLS...: each drawn above the one before
        series, pairs = args[0], list(zip(args[1::2], args[2::2]))
        ys = [centre(marker(doc, series, m, c))[1] for m, c in pairs]
        if not all(a > b for a, b in zip(ys, ys[1:])):  # SVG's y grows downwards
            fail(f"{series}: y of {pairs} = {ys}, expected falling")
    elif cmd == "below-diagonal":  # SERIES CALLS: delivered under delivered = offered
        series, calls = args
        g = panel(doc, "delivered-vs-offered")
        fx, fy = mapping(g)
        hi = float(g.getAttribute("data-x").split()[2])
        diag = of_class(doc, "reference", "line")
        if len(diag) != 1:
            fail(f"{len(diag)} reference lines")
        x1, y1, x2, y2 = (float(diag[0].getAttribute(a)) for a in ("x1", "y1", "x2", "y2"))
        if not near((x1, y1), (fx(0), fy(0))) or not near((x2, y2), (fx(hi), fy(hi))):
            fail(f"delivered = offered drawn from {(x1, y1)} to {(x2, y2)}")
        x, y = centre(marker(doc, series, "delivered", calls))
        on_line = y1 + (x - x1) / (x2 - x1) * (y2 - y1)
        if not y > on_line + 1:
            fail(f"{series} {calls}: y {y}, the diagonal's {on_line}")
    elif cmd == "limit":  # one dashed line at 1000 µs across the latency panel
        fx, fy = mapping(panel(doc, "latency-vs-calls"))
        limit = of_class(doc, "limit", "line")
        if len(limit) != 1 or not limit[0].getAttribute("stroke-dasharray"):
            fail(f"{len(limit)} limit lines, or not dashed")
        ys = [float(limit[0].getAttribute(a)) for a in ("y1", "y2")]
        if any(abs(y - fy(1000.0)) > 0.01 for y in ys):
            fail(f"limit line at y {ys}, 1 ms is at {fy(1000.0)}")
    elif cmd == "hollow":  # SERIES CALLS: that run's 4 markers fail; hollow = failed, all
        run = [e for e in points(doc) if key(e, "series", "calls") == tuple(args)]
        if len(run) != 4 or any(e.getAttribute("data-pass") != "false" for e in run):
            fail(f"{args}: {len(run)} markers, expected 4 of a failing run")
        for e in points(doc):
            fill = e.getAttribute("fill")
            if (fill == "white") != (e.getAttribute("data-pass") == "false"):
                fail(f"{key(e, 'series', 'metric', 'calls', 'pass')}: fill {fill}")
            if fill != "white" and fill != e.getAttribute("stroke"):
                fail(f"{key(e, 'series', 'metric', 'calls')}: filled, not in its colour")
    else:
        fail(f"unknown check {cmd}")


check(sys.argv[1], load(sys.argv[2]), sys.argv[3:])
PY
svgcheck() { python3 "$tmp/svg.py" "$@"; }

svg=$tmp/capacity.svg
check "plot.py --help exits 0 and documents NAME=FILE" \
  sh -c "python3 '$plot' --help | grep -q 'NAME=FILE'"
check "plot.py is executable" test -x "$plot"
check "two series (rings, sockets) -> SVG, exit 0" \
  python3 "$plot" --out "$svg" "$tmp/rings.json" "$tmp/rtpengine-aes_cm_80.json"
check "the SVG is well-formed XML (minidom), <svg> with two panels" svgcheck wellformed "$svg"
check "one polyline per series per metric, one vertex per run" \
  svgcheck lines "$svg" capacity-rings:3 "rtpengine (aes_cm_80):2"
check "the legend names each series (bench / target (suite))" \
  svgcheck legend "$svg" capacity-rings "rtpengine (aes_cm_80)"
# Rates top out at 2M packets/s (20000 calls: 10M offered over 5 s);
# latency spans 12 µs .. 8 ms: decades 10 µs .. 10 ms; calls up to 20000.
check "axis domains: rates 0..2M, calls 0..20000, latency log 10 µs..10 ms" sh -c "
  python3 '$tmp/svg.py' domains '$svg' delivered-vs-offered 'lin 0 2000000' 'lin 0 2000000' &&
  python3 '$tmp/svg.py' domains '$svg' latency-vs-calls 'lin 0 20000' 'log 10 10000'"
check "rings, 1000 calls: delivered drawn at (100000/s, 100000/s)" \
  svgcheck at "$svg" delivered-vs-offered capacity-rings delivered 1000 100000 100000
check "rings, 20000 calls: delivered drawn at (2M/s, 1.6M/s)" \
  svgcheck at "$svg" delivered-vs-offered capacity-rings delivered 20000 2000000 1600000
check "rtpengine, 500 calls: delivered drawn at (50000/s, 45000/s): counts over window_s" \
  svgcheck at "$svg" delivered-vs-offered "rtpengine (aes_cm_80)" delivered 500 50000 45000
check "rings, 1000 calls: p99 drawn at (1000 calls, 250 µs)" \
  svgcheck at "$svg" latency-vs-calls capacity-rings p99 1000 1000 250
check "rtpengine, 500 calls: p99.9 drawn at (500 calls, 8000 µs)" \
  svgcheck at "$svg" latency-vs-calls "rtpengine (aes_cm_80)" p999 500 500 8000
check "higher latency is drawn higher: p50 < p99 < p99.9 (rings, 10000 calls)" \
  svgcheck higher "$svg" capacity-rings p50 10000 p99 10000 p999 10000
check "higher latency is drawn higher: p99 of 1000 < 10000 < 20000 calls (rings)" \
  svgcheck higher "$svg" capacity-rings p99 1000 p99 10000 p99 20000
check "a run that lost packets is drawn below delivered = offered (corner to corner)" \
  svgcheck below-diagonal "$svg" capacity-rings 20000
check "the 1 ms p99 limit: one dashed line at 1000 µs" svgcheck limit "$svg"
check "failing runs hollow (rings 20000 calls, all 4 markers), passing runs filled" \
  svgcheck hollow "$svg" capacity-rings 20000
check "... and rtpengine's 500 calls too" svgcheck hollow "$svg" "rtpengine (aes_cm_80)" 500

check "same input -> byte-identical SVG" sh -c "
  python3 '$plot' --out '$tmp/again.svg' '$tmp/rings.json' '$tmp/rtpengine-aes_cm_80.json' &&
  cmp '$svg' '$tmp/again.svg'"
check "no date or temporary path in the SVG" \
  sh -c "! grep -qE '20[0-9]{2}-[0-9]{2}-[0-9]{2}|$tmp' '$svg'"

check "NAME=FILE and --baselines: series named, baseline added" sh -c "
  python3 '$plot' --baselines --out '$tmp/named.svg' 'isthmus rings=$tmp/rings.json' \
    '$tmp/rtpengine-aes_cm_80.json' &&
  python3 '$tmp/svg.py' legend '$tmp/named.svg' 'isthmus rings' 'rtpengine (aes_cm_80)' \
    'rtpengine (aes_cm_80): no gateway' &&
  python3 '$tmp/svg.py' lines '$tmp/named.svg' 'isthmus rings:3' 'rtpengine (aes_cm_80):2' \
    'rtpengine (aes_cm_80): no gateway:1'"

# Bad input: exit 2, a message naming the file and the fault, no traceback,
# no SVG. bad LABEL FILE PATTERN
bad() {
  local out=$tmp/bad.svg rc
  rm -f "$out"
  python3 "$plot" --out "$out" "$tmp/rings.json" "$2" > "$tmp/bad.out" 2> "$tmp/bad.err"
  rc=$?
  [ "$rc" -eq 2 ] || { echo "  $1: exit $rc"; return 1; }
  if ! grep -qF "$2" "$tmp/bad.err" || ! grep -qE "$3" "$tmp/bad.err"; then
    echo "  $1: stderr: $(cat "$tmp/bad.err")"
    return 1
  fi
  ! grep -q Traceback "$tmp/bad.err" && [ ! -e "$out" ]
}
printf '{"bench": "capacity-rings", "runs": [\n  {"calls": 1000,' > "$tmp/broken.json"
printf '{"bench": "capacity-rings", "seconds": 5.0}\n' > "$tmp/noruns.json"
sed 's/"latency_ns": {[^}]*}, //' "$tmp/rings.json" > "$tmp/nolatency.json"
check "missing file: exit 2, names it" bad missing "$tmp/absent.json" "no such file"
check "broken JSON: exit 2, names it" bad broken "$tmp/broken.json" "not valid JSON"
check "JSON without \"runs\": exit 2, names it" bad noruns "$tmp/noruns.json" '"runs"'
check "a run without latency_ns: exit 2, names the run" bad nolatency "$tmp/nolatency.json" \
  'runs\[0\].*latency_ns'
check "no --out: usage error, exit 2" sh -c "
  python3 '$plot' '$tmp/rings.json' 2> '$tmp/usage.err'
  [ \$? -eq 2 ] && grep -q -- --out '$tmp/usage.err'"

summary
