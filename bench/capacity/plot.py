#!/usr/bin/env python3
"""One SVG of the capacity bench's JSON results (issue 12), two panels side by side:

  1. delivered packets/s against offered packets/s (each run's "offered" and
     "delivered" over its sending time), with delivered = offered drawn for
     reference: a run below that line lost packets;
  2. one-way latency p50, p99 and p99.9 (microseconds, log scale) against
     concurrent calls, with the 1 ms p99 limit as a dashed line.

Each input file is one series (one colour). Runs that did not pass (their
"pass"/"passed" is false: loss 0.01 % or more, p99 1 ms or more, bad packets,
or the load tool could not offer the load) are drawn with hollow markers.
Reads the files `capacity-rings --json FILE` and `capacity-sockets --json
FILE` write (bench/capacity/rtpengine.sh: OUT/rtpengine-SUITE.json,
bench/capacity/isthmus.sh: OUT/isthmus-SUITE.json):

  capacity-rings    "bench", runs[]: calls, seconds, offered, delivered,
                    latency_ns {p50, p99, p999}, pass
  capacity-sockets  "target", "suite", runs[]: calls, window_s, offered,
                    delivered, latency_ns {p50, p99, p999}, passed; and
                    baselines[] (the same load with no gateway)

The output depends on the input only (no clock, no randomness): the same
files give the same bytes. Coordinates are in the SVG for checking: each
panel is a <g class="panel"> with data-area="X0 Y0 X1 Y1" (the plot area in
SVG units, Y0 its top), data-x and data-y = "lin|log LO HI" (the axis's
domain); a value v is drawn at X0 + f(v) * (X1 - X0) and Y1 - f(v) * (Y1 -
Y0), where f(v) = (v - LO) / (HI - LO) on a linear axis and (log10 v - log10
LO) / (log10 HI - log10 LO) on a log one. Every line is a <polyline
class="series" data-series=LABEL data-metric=delivered|p50|p99|p999>, every
point a marker (class="point": a circle, rect or polygon centred on (x, y) as
its bounding box is) with data-series, data-metric, data-calls, data-pass.

Exit status: 0 written; 2 bad arguments or a bad input file (missing, not
JSON, no "runs", a run without a figure), with a message naming the file;
1 the SVG could not be written. Python 3 standard library only.
"""

import argparse
import html
import json
import math
import os
import sys

PROG = "plot.py"
LIMIT_US = 1000.0  # issue 12: p99 one-way latency under 1 ms

# Okabe-Ito: colours told apart with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
HOLLOW = "white"

# metric -> (legend name, stroke-dasharray or None, marker shape)
METRICS = {
    "delivered": ("delivered", None, "circle"),
    "p50": ("p50", None, "circle"),
    "p99": ("p99", "6 3", "square"),
    "p999": ("p99.9", "2 3", "triangle"),
}
LATENCY_METRICS = ["p50", "p99", "p999"]

PANEL_W = 560  # one panel, SVG units
PANEL_H = 420
PANEL_GAP = 20
MARGIN = {"left": 78, "right": 24, "top": 40, "bottom": 56}
HEADING_H = 30  # room for --title above the panels
LEGEND_ROW = 18


class InputError(Exception):
    """A bad input file or argument: the message names it; exit 2."""


# --- reading the bench's JSON -------------------------------------------------------------

def number(run, key, where):
    v = run.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f'{where}: "{key}" missing or not a number')
    if v < 0:
        raise InputError(f'{where}: "{key}" is {v:g}, must not be negative')
    return float(v)


def read_run(run, where):
    """One run as {calls, offered_pps, delivered_pps, p50, p99, p999 (µs), pass}."""
    if not isinstance(run, dict):
        raise InputError(f"{where}: not a JSON object")
    calls = number(run, "calls", where)
    # capacity-rings: "seconds" (its sending time); capacity-sockets: "window_s".
    seconds_key = "seconds" if "seconds" in run else "window_s"
    if seconds_key not in run:
        raise InputError(f'{where}: no "seconds" (capacity-rings) or "window_s" '
                         "(capacity-sockets)")
    seconds = number(run, seconds_key, where)
    if seconds <= 0:
        raise InputError(f'{where}: "{seconds_key}" is {seconds:g}, must be above 0')
    lat = run.get("latency_ns")
    if not isinstance(lat, dict):
        raise InputError(f'{where}: "latency_ns" missing or not an object')
    passed = run.get("pass", run.get("passed"))
    if not isinstance(passed, bool):
        raise InputError(f'{where}: "pass" (or "passed") missing or not true/false')
    out = {
        "calls": calls,
        "offered_pps": number(run, "offered", where) / seconds,
        "delivered_pps": number(run, "delivered", where) / seconds,
        "pass": passed,
    }
    for m in LATENCY_METRICS:
        out[m] = number(lat, m, f"{where}: latency_ns") / 1000.0
    return out


def default_label(doc, path):
    """capacity-sockets: "TARGET (SUITE)"; capacity-rings: its "bench"; else the file's name."""
    target = doc.get("target")
    if not isinstance(target, str) and doc.get("runs"):
        first = doc["runs"][0]
        target = first.get("gateway") if isinstance(first, dict) else None
    if isinstance(target, str) and target:
        suite = doc.get("suite")
        return f"{target} ({suite})" if isinstance(suite, str) and suite else target
    bench = doc.get("bench")
    if isinstance(bench, str) and bench:
        return bench
    return os.path.basename(path)


def load_series(spec, baselines):
    """[(label, runs)] of one command-line argument, [NAME=]FILE."""
    label, path = None, spec
    if "=" in spec and not os.path.exists(spec):
        label, path = spec.split("=", 1)
        if not label:
            raise InputError(f"{spec}: empty series name before '='")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text: {e}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a JSON object (capacity-rings / capacity-sockets --json)")
    if not isinstance(doc.get("runs"), list):
        raise InputError(f'{path}: no "runs" list (not a capacity-rings / capacity-sockets '
                         "--json file?)")
    if not doc["runs"]:
        why = f' (the bench said: {doc["error"]})' if isinstance(doc.get("error"), str) else ""
        raise InputError(f'{path}: "runs" is empty, nothing to plot{why}')
    label = label or default_label(doc, path)
    runs = [read_run(r, f"{path}: runs[{i}]") for i, r in enumerate(doc["runs"])]
    series = [(label, runs)]
    base = doc.get("baselines")
    if baselines and isinstance(base, list) and base:
        series.append((f"{label}: no gateway",
                       [read_run(r, f"{path}: baselines[{i}]") for i, r in enumerate(base)]))
    return series


# --- axes ---------------------------------------------------------------------------------

def nice_step(span, ticks=5):
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw * (1 - 1e-9):
            return m * mag
    return 10 * mag


class Axis:
    """A value range mapped onto [0, 1] of a panel's side, with its ticks."""

    def __init__(self, kind, lo, hi, ticks, minor=()):
        self.kind, self.lo, self.hi = kind, lo, hi
        self.ticks = ticks  # [(value, label)]
        self.minor = list(minor)

    @staticmethod
    def linear(vmax):
        """0 .. a round number at or above vmax."""
        if vmax <= 0:
            vmax = 1.0
        step = nice_step(vmax)
        n = math.ceil(vmax / step - 1e-9)
        ticks = [(i * step, si(i * step)) for i in range(n + 1)]
        return Axis("lin", 0.0, n * step, ticks)

    @staticmethod
    def log(vmin, vmax):
        """Whole decades around [vmin, vmax] (both > 0), microseconds."""
        lo_e = math.floor(math.log10(vmin) + 1e-9)
        hi_e = math.ceil(math.log10(vmax) - 1e-9)
        if hi_e <= lo_e:
            hi_e = lo_e + 1
        ticks = [(10.0 ** e, duration_us(10.0 ** e)) for e in range(lo_e, hi_e + 1)]
        minor = [m * 10.0 ** e for e in range(lo_e, hi_e) for m in range(2, 10)]
        return Axis("log", 10.0 ** lo_e, 10.0 ** hi_e, ticks, minor)

    def frac(self, v):
        if self.kind == "log":
            return (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) -
                                                            math.log10(self.lo))
        return (v - self.lo) / (self.hi - self.lo)

    def attr(self):
        return f"{self.kind} {self.lo:.12g} {self.hi:.12g}"


def si(v):
    """Tick label: 250000 -> 250k, 1500000 -> 1.5M."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def duration_us(us):
    """Tick label of a latency in microseconds: 0.1 -> 100 ns, 1000 -> 1 ms."""
    for scale, unit in ((1e6, "s"), (1e3, "ms"), (1.0, "µs"), (1e-3, "ns")):
        if us >= scale * (1 - 1e-9):
            return f"{us / scale:g} {unit}"
    return f"{us * 1e3:g} ns"


def num(v):
    """A coordinate as text: fixed, so output is byte-stable."""
    s = f"{v:.2f}"
    return "0.00" if s == "-0.00" else s


def esc(s):
    return html.escape(str(s), quote=True)


# --- drawing ------------------------------------------------------------------------------

class Panel:
    def __init__(self, pid, title, x0, y0, xaxis, yaxis, xtitle, ytitle):
        self.pid, self.title = pid, title
        self.left = x0 + MARGIN["left"]
        self.top = y0 + MARGIN["top"]
        self.right = x0 + PANEL_W - MARGIN["right"]
        self.bottom = y0 + PANEL_H - MARGIN["bottom"]
        self.x, self.y = xaxis, yaxis
        self.xtitle, self.ytitle = xtitle, ytitle
        self.out = []

    def px(self, v):
        return self.left + self.x.frac(v) * (self.right - self.left)

    def py(self, v):
        return self.bottom - self.y.frac(v) * (self.bottom - self.top)

    def frame(self):
        o = self.out
        o.append(f'<g class="panel" id="{self.pid}" data-area="{num(self.left)} {num(self.top)} '
                 f'{num(self.right)} {num(self.bottom)}" data-x="{self.x.attr()}" '
                 f'data-y="{self.y.attr()}">')
        cx = (self.left + self.right) / 2
        o.append(f'<text class="title" x="{num(cx)}" y="{num(self.top - 16)}" '
                 f'text-anchor="middle" font-size="14" font-weight="bold">{esc(self.title)}</text>')
        # Grid and ticks.
        for v, label in self.x.ticks:
            x = num(self.px(v))
            o.append(f'<line x1="{x}" y1="{num(self.top)}" x2="{x}" y2="{num(self.bottom)}" '
                     'stroke="#e6e6e6"/>')
            o.append(f'<line x1="{x}" y1="{num(self.bottom)}" x2="{x}" '
                     f'y2="{num(self.bottom + 5)}" stroke="black"/>')
            o.append(f'<text class="tick" x="{x}" y="{num(self.bottom + 18)}" '
                     f'text-anchor="middle">{esc(label)}</text>')
        for v, label in self.y.ticks:
            y = num(self.py(v))
            o.append(f'<line x1="{num(self.left)}" y1="{y}" x2="{num(self.right)}" y2="{y}" '
                     'stroke="#e6e6e6"/>')
            o.append(f'<line x1="{num(self.left - 5)}" y1="{y}" x2="{num(self.left)}" y2="{y}" '
                     'stroke="black"/>')
            o.append(f'<text class="tick" x="{num(self.left - 8)}" y="{num(self.py(v) + 4)}" '
                     f'text-anchor="end">{esc(label)}</text>')
        for v in self.y.minor:
            y = num(self.py(v))
            o.append(f'<line x1="{num(self.left - 3)}" y1="{y}" x2="{num(self.left)}" y2="{y}" '
                     'stroke="black"/>')
        o.append(f'<rect x="{num(self.left)}" y="{num(self.top)}" '
                 f'width="{num(self.right - self.left)}" height="{num(self.bottom - self.top)}" '
                 'fill="none" stroke="black"/>')
        o.append(f'<text class="axis-title" x="{num(cx)}" y="{num(self.bottom + 40)}" '
                 f'text-anchor="middle">{esc(self.xtitle)}</text>')
        cy = (self.top + self.bottom) / 2
        lx = self.left - MARGIN["left"] + 16
        o.append(f'<text class="axis-title" x="{num(lx)}" y="{num(cy)}" text-anchor="middle" '
                 f'transform="rotate(-90 {num(lx)} {num(cy)})">{esc(self.ytitle)}</text>')

    def line(self, label, metric, colour, points):
        """points: [(x value, y value, run)], drawn in the order given."""
        dash = METRICS[metric][1]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{num(self.px(x))},{num(self.py(y))}" for x, y, _ in points)
        self.out.append(f'<polyline class="series" data-series="{esc(label)}" '
                        f'data-metric="{metric}" points="{coords}" fill="none" '
                        f'stroke="{colour}" stroke-width="1.6"{dash_attr}/>')
        for x, y, run in points:
            tip = (f"{label}: {run['calls']:g} calls, offered {run['offered_pps']:,.0f}/s, "
                   f"delivered {run['delivered_pps']:,.0f}/s, p50 {run['p50']:g} µs, "
                   f"p99 {run['p99']:g} µs, p99.9 {run['p999']:g} µs, "
                   + ("pass" if run["pass"] else "did not pass"))
            attrs = (f'class="point" data-series="{esc(label)}" data-metric="{metric}" '
                     f'data-calls="{run["calls"]:g}" '
                     f'data-pass="{"true" if run["pass"] else "false"}"')
            self.out.append(marker(METRICS[metric][2], self.px(x), self.py(y), colour,
                                   run["pass"], attrs, tip))

    def end(self):
        self.out.append("</g>")
        return self.out


def marker(shape, x, y, colour, filled, attrs="", tip=None):
    fill = colour if filled else HOLLOW
    style = f'fill="{fill}" stroke="{colour}" stroke-width="1.5"'
    body = f"<title>{esc(tip)}</title>" if tip else ""
    if shape == "square":
        head = (f'<rect {attrs} x="{num(x - 3.5)}" y="{num(y - 3.5)}" width="7.00" '
                f'height="7.00" {style}')
    elif shape == "triangle":
        head = (f'<polygon {attrs} points="{num(x)},{num(y - 4)} {num(x + 4.5)},{num(y + 4)} '
                f'{num(x - 4.5)},{num(y + 4)}" {style}')
    else:
        head = f'<circle {attrs} cx="{num(x)}" cy="{num(y)}" r="3.50" {style}'
    return f"{head}>{body}</{head.split()[0][1:]}>" if body else f"{head}/>"


def plot(series, title):
    """The SVG document (text) of [(label, runs)]."""
    rates = [r[k] for _, runs in series for r in runs for k in ("offered_pps", "delivered_pps")]
    rate_axis = Axis.linear(max(rates))
    calls_axis = Axis.linear(max(r["calls"] for _, runs in series for r in runs))
    lats = [r[m] for _, runs in series for r in runs for m in LATENCY_METRICS if r[m] > 0]
    lat_axis = Axis.log(min(lats + [LIMIT_US]), max(lats + [LIMIT_US]))

    top = HEADING_H if title else 0
    width = 2 * PANEL_W + PANEL_GAP
    legend_top = top + PANEL_H + 4
    height = legend_top + LEGEND_ROW * (len(series) + 2) + 8

    load = Panel("delivered-vs-offered", "Delivered vs. offered load", 0, top, rate_axis,
                 rate_axis, "offered (packets/s)", "delivered (packets/s)")
    lat = Panel("latency-vs-calls", "One-way latency vs. concurrent calls", PANEL_W + PANEL_GAP,
                top, calls_axis, lat_axis, "concurrent calls", "one-way latency (log scale)")
    load.frame()
    lat.frame()
    # delivered = offered, corner to corner (both axes have the same domain).
    load.out.append(f'<line class="reference" x1="{num(load.px(0))}" y1="{num(load.py(0))}" '
                    f'x2="{num(load.px(rate_axis.hi))}" y2="{num(load.py(rate_axis.hi))}" '
                    'stroke="#999999" stroke-dasharray="4 4"/>')
    mx, my = load.px(rate_axis.hi * 0.75), load.py(rate_axis.hi * 0.75)
    angle = -math.degrees(math.atan2(load.bottom - load.top, load.right - load.left))
    load.out.append(f'<text x="{num(mx)}" y="{num(my - 6)}" text-anchor="middle" '
                    f'fill="#666666" transform="rotate({num(angle)} {num(mx)} {num(my)})">'
                    "delivered = offered</text>")
    ly = num(lat.py(LIMIT_US))
    lat.out.append(f'<line class="limit" x1="{num(lat.left)}" y1="{ly}" x2="{num(lat.right)}" '
                   f'y2="{ly}" stroke="#cc0000" stroke-width="1.2" stroke-dasharray="8 4"/>')
    lat.out.append(f'<text x="{num(lat.right - 6)}" y="{num(lat.py(LIMIT_US) - 5)}" '
                   'text-anchor="end" fill="#cc0000">p99 limit 1 ms</text>')

    for i, (label, runs) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        by_load = sorted(runs, key=lambda r: (r["offered_pps"], r["calls"]))
        load.line(label, "delivered", colour,
                  [(r["offered_pps"], r["delivered_pps"], r) for r in by_load])
        by_calls = sorted(runs, key=lambda r: (r["calls"], r["offered_pps"]))
        for m in LATENCY_METRICS:
            # A zero percentile (nothing delivered) has no place on a log axis.
            lat.line(label, m, colour, [(r["calls"], r[m], r) for r in by_calls if r[m] > 0])

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{esc(title or 'Isthmus capacity bench')}: "
        f"{esc('; '.join(label for label, _ in series))}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{num(width / 2)}" y="20" text-anchor="middle" font-size="16" '
                   f'font-weight="bold">{esc(title)}</text>')
    out += load.end()
    out += lat.end()
    out += legend(series, MARGIN["left"], legend_top)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def legend(series, x, y):
    o = ['<g class="legend">']
    row = y + LEGEND_ROW / 2
    for i, (label, _) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        o.append(f'<line x1="{num(x)}" y1="{num(row)}" x2="{num(x + 28)}" y2="{num(row)}" '
                 f'stroke="{colour}" stroke-width="1.6"/>')
        o.append(marker("circle", x + 14, row, colour, True))
        o.append(f'<text class="legend-series" x="{num(x + 36)}" y="{num(row + 4)}">'
                 f"{esc(label)}</text>")
        row += LEGEND_ROW
    # The key of the latency panel's line styles and of hollow markers.
    kx = x
    for m in LATENCY_METRICS:
        name, dash, shape = METRICS[m]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        o.append(f'<line x1="{num(kx)}" y1="{num(row)}" x2="{num(kx + 28)}" y2="{num(row)}" '
                 f'stroke="#444444" stroke-width="1.6"{dash_attr}/>')
        o.append(marker(shape, kx + 14, row, "#444444", True))
        o.append(f'<text x="{num(kx + 36)}" y="{num(row + 4)}">{name}</text>')
        kx += 90
    o.append(marker("circle", kx + 14, row, "#444444", False))
    o.append(f'<text x="{num(kx + 24)}" y="{num(row + 4)}">hollow: the run did not pass '
             "(loss &#8805; 0.01 %, p99 &#8805; 1 ms, bad packets, or the load not offered)"
             "</text>")
    row += LEGEND_ROW
    o.append(f'<line x1="{num(x)}" y1="{num(row)}" x2="{num(x + 28)}" y2="{num(row)}" '
             'stroke="#cc0000" stroke-width="1.2" stroke-dasharray="8 4"/>')
    o.append(f'<text x="{num(x + 36)}" y="{num(row + 4)}">p99 limit (1 ms)</text>')
    o.append(f'<line x1="{num(x + 180)}" y1="{num(row)}" x2="{num(x + 208)}" y2="{num(row)}" '
             'stroke="#999999" stroke-dasharray="4 4"/>')
    o.append(f'<text x="{num(x + 216)}" y="{num(row + 4)}">delivered = offered</text>')
    o.append("</g>")
    return o


# --- command line -------------------------------------------------------------------------

def main(argv):
    p = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="One SVG (two panels: delivered vs. offered packets/s; latency "
                    "p50/p99/p99.9 vs. concurrent calls) of capacity-rings / "
                    "capacity-sockets --json files, one series per file.",
        epilog="Each SERIES is FILE or NAME=FILE (an argument that names an existing "
               "file is a file,\neven with '=' in it). Without NAME a series is labelled "
               "\"TARGET (SUITE)\" for\ncapacity-sockets (its \"target\" and \"suite\", e.g. "
               "\"rtpengine (aes_cm_80)\"), the\n\"bench\" field for capacity-rings "
               "(\"capacity-rings\"), else the file's name.\nSeries are drawn in the order "
               "given. Hollow markers: runs with \"pass\"/\"passed\" false.\n\n"
               "Example:\n  bench/capacity/plot.py --out build/bench/capacity.svg "
               "build/bench/capacity-rings.json \\\n"
               "      build/bench/capacity/rtpengine/rtpengine-aes_cm_80.json\n\n"
               "Exit 0: written; 2: bad arguments or input file; 1: cannot write the SVG.")
    p.add_argument("series", nargs="+", metavar="SERIES", help="[NAME=]FILE, a --json output")
    p.add_argument("--out", required=True, metavar="FILE.svg", help="the SVG to write")
    p.add_argument("--title", default="", help="a heading above both panels")
    p.add_argument("--baselines", action="store_true",
                   help='also draw a capacity-sockets file\'s "baselines" (the same load with '
                        'no gateway) as a series "NAME: no gateway"')
    args = p.parse_args(argv)  # argparse exits 2 on bad usage

    try:
        series = []
        for spec in args.series:
            series += load_series(spec, args.baselines)
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    seen = {}
    for i, (label, runs) in enumerate(series):  # two series with one name: number them
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            series[i] = (f"{label} #{seen[label]}", runs)

    svg = plot(series, args.title)
    try:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(svg)
    except OSError as e:
        print(f"{PROG}: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
