#!/usr/bin/env python3
"""The soak bench's sampler and report (issue 11): memory, file descriptors,
threads, sessions and calls over a long run at a steady call rate, and
whether each of them stays flat.

  soak.py sample --out CSV --metrics URL [--pid NAME=PID]... [--interval S]
                 [--while-pid PID] [--tail S] [--count N]
      One row every S seconds (10) until PID (the load tool) has exited, then
      every S seconds for the --tail seconds after (15: what is left once
      the load has gone), or N rows when --count is given. Each row: t_s (since
      the first row), for each NAME the process's rss_kib (VmRSS), fds
      (entries of /proc/PID/fd) and threads, and from the Prometheus text at
      URL (isthmus-pcscf's exporter, which also reads the dataplane's stats
      region) the gauges and counters in METRICS below, summed over their
      labels where a row has several. A process gone or a metric missing is
      an empty cell, never a guess. The CSV is written and flushed row by
      row: a run cut short keeps what it measured.

  soak.py report CSV [--settle S] [--svg FILE] [--title T]
      A markdown table on stdout, one line per column of the CSV: its value
      at the start of the steady part, its minimum, maximum and last value
      there, its least-squares slope per hour over the steady part, and a
      verdict: "flat" when the median of the steady part's last third is
      within its tolerance of the median of its first third (memory: 2 % of
      its mean or 1 MiB, whichever is more; counts: 2 % of the mean or 2;
      medians, so that a few samples taken while the machine stalled do not
      decide), "grows" or "falls" otherwise.
      The steady part is the load's rows from --settle seconds (default: a
      quarter of the load's span, 60 s at least) after its first one:
      pools, caches and the transactions lingering 32 s after each call
      fill up before. Then the
      rows after the load (the "tail": those whose invites did not move from
      the row before, after the last that did): what was left. With --svg,
      one SVG with three panels over time: memory (MiB), file descriptors and
      threads, calls and sessions. The output depends on the input only.

Exit status: 0; 2 bad arguments or a bad input (a message naming the file
or the fault, no traceback); 1 an output could not be written, or a sample
run whose first row could not be taken. Python 3 standard library only.
"""

import argparse
import csv
import html
import math
import os
import sys
import time
import urllib.error
import urllib.request

PROG = "soak.py"

# CSV column -> (metric name, label filter): the sum of the samples of that
# name whose labels include every pair of the filter.
METRICS = {
    "connections": ("isthmus_pcscf_connections", {}),
    "flows": ("isthmus_pcscf_flows", {}),
    "registrations": ("isthmus_pcscf_registrations", {}),
    "calls": ("isthmus_pcscf_calls", {}),
    "media_sessions": ("isthmus_pcscf_media_sessions", {}),
    "transactions": ("isthmus_pcscf_transactions", {}),
    "dataplane_sessions": ("isthmus_dataplane_sessions", {}),
    "invites": ("isthmus_pcscf_requests_received_total", {"side": "w2", "method": "INVITE"}),
    "byes": ("isthmus_pcscf_requests_received_total", {"side": "w2", "method": "BYE"}),
    "refused": ("isthmus_pcscf_refused_total", {}),
}
PROC_FIELDS = ["rss_kib", "fds", "threads"]
# Counters: their rate is reported, not their level.
COUNTERS = {"invites", "byes", "refused"}


class Bad(Exception):
    """A fault in the input or the arguments: exit 2 with its message."""


# --- sampling -------------------------------------------------------------------------


def parse_labels(text, where):
    """'a="x",b="y"' -> {a: x, b: y}; the exporter's escapes (\\\\, \\", \\n) undone."""
    labels, i = {}, 0
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0 or eq + 1 >= len(text) or text[eq + 1] != '"':
            raise Bad(f"{where}: bad labels {{{text}}}")
        name = text[i:eq].strip().lstrip(",").strip()
        j, value = eq + 2, []
        while j < len(text) and text[j] != '"':
            if text[j] == "\\" and j + 1 < len(text):
                j += 1
                value.append("\n" if text[j] == "n" else text[j])
            else:
                value.append(text[j])
            j += 1
        if j >= len(text):
            raise Bad(f"{where}: unterminated label value in {{{text}}}")
        labels[name] = "".join(value)
        i = j + 1
        while i < len(text) and text[i] in ", ":
            i += 1
    return labels


def parse_exposition(text, where):
    """Prometheus text format -> [(name, labels, value)]; comments skipped."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        brace = line.find("{")
        if brace >= 0:
            close = line.rfind("}")
            if close < brace:
                raise Bad(f"{where}:{n}: unbalanced braces")
            name, labels, rest = line[:brace], parse_labels(line[brace + 1:close], f"{where}:{n}"), line[close + 1:]
        else:
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise Bad(f"{where}:{n}: no value")
            name, labels, rest = parts[0], {}, parts[1]
        fields = rest.split()
        if not fields:
            raise Bad(f"{where}:{n}: no value")
        try:
            value = float(fields[0])
        except ValueError:
            raise Bad(f"{where}:{n}: value {fields[0]!r} is not a number") from None
        out.append((name, labels, value))
    return out


def pick(samples, name, want):
    """The sum of the samples called `name` whose labels hold every pair of
    `want`; None when there is none."""
    total, seen = 0.0, False
    for n, labels, value in samples:
        if n == name and all(labels.get(k) == v for k, v in want.items()):
            total += value
            seen = True
    return total if seen else None


def proc_stats(pid):
    """(rss_kib, fds, threads) of a live process, or None when it is gone."""
    try:
        rss = threads = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError, IndexError):
        return None
    if rss is None or threads is None:
        return None  # a zombie: no memory left to speak of
    return rss, fds, threads


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child is not running: its state says so.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def fmt(v):
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def sample(args):
    pids = []
    for spec in args.pid:
        name, _, pid = spec.partition("=")
        if not name or not pid.isdigit() or not name.replace("_", "").isalnum():
            raise Bad(f"--pid {spec!r}: NAME=PID, NAME letters, digits and _")
        pids.append((name, int(pid)))
    header = ["t_s"] + [f"{n}_{f}" for n, _ in pids for f in PROC_FIELDS] + list(METRICS)
    try:
        out = open(args.out, "w", newline="")
    except OSError as e:
        print(f"{PROG}: {args.out}: {e.strerror}", file=sys.stderr)
        return 1
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    out.flush()
    t0, rows, tail_end, errors = time.monotonic(), 0, None, 0
    while True:
        start = time.monotonic()
        row = [f"{start - t0:.1f}"]
        for _, pid in pids:
            s = proc_stats(pid)
            row += [fmt(x) for x in s] if s else ["", "", ""]
        try:
            with urllib.request.urlopen(args.metrics, timeout=max(1.0, args.interval / 2)) as r:
                samples = parse_exposition(r.read().decode("utf-8", "replace"), args.metrics)
        except (urllib.error.URLError, OSError, Bad) as e:
            errors += 1
            if errors <= 3:
                print(f"{PROG}: {args.metrics}: {e}", file=sys.stderr)
            samples = []
        row += [fmt(pick(samples, name, want)) for name, want in METRICS.values()]
        if rows == 0 and not samples and not any(row[1:]):
            print(f"{PROG}: nothing to sample (no process, no metrics)", file=sys.stderr)
            out.close()
            return 1
        w.writerow(row)
        out.flush()
        rows += 1
        if args.count is not None:
            if rows >= args.count:
                break
        elif tail_end is None:
            if args.while_pid is None or not alive(args.while_pid):
                tail_end = time.monotonic() + args.tail
        elif time.monotonic() >= tail_end:
            break
        time.sleep(max(0.0, args.interval - (time.monotonic() - start)))
    out.close()
    return 0


# --- the report -----------------------------------------------------------------------


def read_csv(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise Bad(f"{path}: {e.strerror}") from None
    except csv.Error as e:
        raise Bad(f"{path}: {e}") from None
    if not rows or not rows[0] or rows[0][0] != "t_s":
        raise Bad(f"{path}: not a soak CSV (no header starting t_s)")
    head = rows[0]
    if len(rows) < 3:
        raise Bad(f"{path}: {len(rows) - 1} samples, 2 at least")
    cols = {h: [] for h in head}
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(head):
            raise Bad(f"{path}:{n}: {len(row)} fields, the header has {len(head)}")
        for h, v in zip(head, row):
            if v == "":
                cols[h].append(None)
                continue
            try:
                cols[h].append(float(v))
            except ValueError:
                raise Bad(f"{path}:{n}: {h} {v!r} is not a number") from None
    if any(t is None for t in cols["t_s"]) or any(b <= a for a, b in zip(cols["t_s"], cols["t_s"][1:])):
        raise Bad(f"{path}: t_s must be given and increase")
    return head, cols


def phases(cols, settle):
    """(first steady row, one past the last steady row, first tail row,
    settle used). The load's rows run from the one before the invites first
    move to the last where they move; that last row may already have been
    taken after the load stopped (its connections closing), so the steady
    part ends the row before it, and the tail is what follows it. Without
    invites, every row is steady and there is no tail."""
    t, inv = cols["t_s"], cols.get("invites")
    first_load, last_load, end, tail = 0, len(t) - 1, len(t), len(t)
    if inv is not None and any(v is not None for v in inv):
        moved = [i for i in range(1, len(t)) if inv[i] is not None and inv[i - 1] is not None
                 and inv[i] > inv[i - 1]]
        if moved:
            first_load, last_load = moved[0] - 1, moved[-1]
            tail = last_load + 1
            # Two steady rows at least, else the last load row counts too.
            end = last_load if last_load - first_load >= 3 else last_load + 1
    span = t[last_load] - t[first_load]
    if settle is None:
        settle = max(span / 4, min(60.0, span / 2))
    steady = first_load
    while steady < end - 2 and t[steady] - t[first_load] < settle:
        steady += 1
    return steady, end, tail, settle


def slope(ts, vs):
    pts = [(t, v) for t, v in zip(ts, vs) if v is not None]
    if len(pts) < 2:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 0.0 if den == 0 else sum((t - mt) * (v - mv) for t, v in pts) / den


def median(vs):
    v = sorted(vs)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def tolerance(col, mean):
    floor = 1024.0 if col.endswith("_rss_kib") else 2.0
    return max(0.02 * abs(mean), floor)


def analyse(head, cols, settle):
    """One dict per column but t_s: the steady part's figures and verdict."""
    s0, s1, tail0, settle = phases(cols, settle)
    t = cols["t_s"]
    out = []
    for h in head[1:]:
        vs = cols[h][s0:s1]
        ts = t[s0:s1]
        known = [v for v in vs if v is not None]
        r = {"column": h, "counter": h in COUNTERS, "n": len(known)}
        tail = [v for v in cols[h][tail0:] if v is not None]
        r["after"] = tail[-1] if tail else None
        if not known:
            out.append(r)
            continue
        if h in COUNTERS:
            pts = [(a, b) for a, b in zip(ts, vs) if b is not None]
            dt = pts[-1][0] - pts[0][0]
            r["rate"] = (pts[-1][1] - pts[0][1]) / dt if dt > 0 else None
            out.append(r)
            continue
        mean = sum(known) / len(known)
        k = slope(ts, vs)
        # The verdict: the median of the steady part's last third against
        # its first third's (robust to a few samples taken while the
        # machine stalled); the slope is reported, not judged.
        third = max(1, len(known) // 3)
        drift = median(known[-third:]) - median(known[:third])
        tol = tolerance(h, mean)
        r.update(first=known[0], low=min(known), high=max(known), last=known[-1], mean=mean,
                 per_hour=k * 3600, drift=drift, tol=tol,
                 verdict="flat" if abs(drift) <= tol else ("grows" if drift > 0 else "falls"))
        out.append(r)
    return out, (t[s0], t[s1 - 1], settle, len(t) - tail0)


def num(v, col=""):
    if v is None:
        return "-"
    if col.endswith("_rss_kib"):
        return f"{v / 1024:,.1f} MiB"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


def report_text(path, head, cols, settle):
    rows, (a, b, settle, after) = analyse(head, cols, settle)
    t = cols["t_s"]
    lines = [f"Soak: {len(t)} samples over {t[-1] - t[0]:,.0f} s; steady part {a:,.0f}-{b:,.0f} s "
             f"(after {settle:,.0f} s of settling), then {after} samples after the load.", "",
             "| series | start | min | max | last | per hour | verdict | after the load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["column"]
        if r["counter"]:
            rate = r.get("rate")
            lines.append(f"| {c} (rate) | | | | | | {'-' if rate is None else f'{rate:,.1f}/s'} "
                         f"| {num(r['after'])} total |")
        elif "verdict" not in r:
            lines.append(f"| {c} | - | - | - | - | - | no data | {num(r['after'], c)} |")
        else:
            ph = r["per_hour"] / 1024 if c.endswith("_rss_kib") else r["per_hour"]
            unit = " MiB" if c.endswith("_rss_kib") else ""
            lines.append(f"| {c} | {num(r['first'], c)} | {num(r['low'], c)} | {num(r['high'], c)} "
                         f"| {num(r['last'], c)} | {ph:+,.2f}{unit} | {r['verdict']} "
                         f"| {num(r['after'], c)} |")
    flat = [r for r in rows if "verdict" in r]
    bad = [r["column"] for r in flat if r["verdict"] != "flat"]
    lines.append("")
    lines.append(f"{len(flat) - len(bad)} of {len(flat)} series flat"
                 + (f"; not flat: {', '.join(bad)}" if bad else "") + ".")
    return "\n".join(lines) + "\n", rows


# --- the SVG --------------------------------------------------------------------------

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
PANELS = [
    ("memory (MiB)", lambda h: h.endswith("_rss_kib"), 1 / 1024),
    ("file descriptors, threads", lambda h: h.endswith("_fds") or h.endswith("_threads"), 1),
    ("calls, sessions, flows", lambda h: h in ("calls", "media_sessions", "dataplane_sessions",
                                               "flows", "registrations"), 1),
]


def nice_top(v):
    if v <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * p:
            return m * p
    return 10 * p


def svg_text(head, cols, title):
    t = cols["t_s"]
    w, ph, left, right, top = 720, 200, 70, 200, 40
    height = top + len(PANELS) * (ph + 50)
    x0, x1 = left, w - right
    tmax = t[-1] if t[-1] > t[0] else t[0] + 1
    def fx(v):
        return x0 + (v - t[0]) / (tmax - t[0]) * (x1 - x0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" '
             f'viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{w}" height="{height}" fill="white"/>',
             f'<text x="{w / 2:.0f}" y="20" text-anchor="middle" font-size="14">{html.escape(title)}</text>']
    for p, (name, want, scale) in enumerate(PANELS):
        y0 = top + p * (ph + 50)
        y1 = y0 + ph
        series = [h for h in head[1:] if want(h) and any(v is not None for v in cols[h])]
        vmax = nice_top(max([v * scale for h in series for v in cols[h] if v is not None] or [1]))
        def fy(v):
            return y1 - v / vmax * (y1 - y0)
        parts.append(f'<g class="panel" data-area="{x0} {y0} {x1} {y1}" '
                     f'data-x="lin {t[0]:g} {tmax:g}" data-y="lin 0 {vmax:g}">')
        parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{ph}" fill="none" stroke="#888"/>')
        parts.append(f'<text x="{x0}" y="{y0 - 6}">{html.escape(name)}</text>')
        for k in range(5):
            v = vmax * k / 4
            parts.append(f'<text x="{x0 - 6}" y="{fy(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
            tv = t[0] + (tmax - t[0]) * k / 4
            parts.append(f'<text x="{fx(tv):.1f}" y="{y1 + 14}" text-anchor="middle">{tv:,.0f} s</text>')
        for i, h in enumerate(series):
            colour = PALETTE[i % len(PALETTE)]
            pts = " ".join(f"{fx(a):.1f},{fy(v * scale):.1f}" for a, v in zip(t, cols[h]) if v is not None)
            parts.append(f'<polyline class="series" data-series="{html.escape(h)}" fill="none" '
                         f'stroke="{colour}" stroke-width="1.5" points="{pts}"/>')
            ly = y0 + 12 + i * 14
            parts.append(f'<line x1="{x1 + 10}" y1="{ly - 4}" x2="{x1 + 30}" y2="{ly - 4}" '
                         f'stroke="{colour}" stroke-width="2"/>')
            parts.append(f'<text x="{x1 + 34}" y="{ly}">{html.escape(h)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def report(args):
    head, cols = read_csv(args.csv)
    if args.settle is not None and args.settle < 0:
        raise Bad("--settle must be 0 or more")
    text, _ = report_text(args.csv, head, cols, args.settle)
    if args.svg:
        try:
            with open(args.svg, "w") as f:
                f.write(svg_text(head, cols, args.title or os.path.basename(args.csv)))
        except OSError as e:
            print(f"{PROG}: {args.svg}: {e.strerror}", file=sys.stderr)
            return 1
    sys.stdout.write(text)
    return 0


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Bad(message)


def main(argv):
    p = Parser(prog=PROG, description="the soak bench's sampler and report")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    s = sub.add_parser("sample")
    s.add_argument("--out", required=True)
    s.add_argument("--metrics", required=True)
    s.add_argument("--pid", action="append", default=[])
    s.add_argument("--interval", type=float, default=10.0)
    s.add_argument("--while-pid", type=int)
    s.add_argument("--tail", type=float, default=15.0)
    s.add_argument("--count", type=int)
    r = sub.add_parser("report")
    r.add_argument("csv")
    r.add_argument("--settle", type=float)
    r.add_argument("--svg")
    r.add_argument("--title")
    try:
        a = p.parse_args(argv)
        if a.cmd == "sample":
            if a.interval <= 0 or a.tail < 0 or (a.count is not None and a.count < 1):
                raise Bad("--interval over 0, --tail 0 or more, --count 1 or more")
            return sample(a)
        return report(a)
    except Bad as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
