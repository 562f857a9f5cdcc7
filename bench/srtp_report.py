#!/usr/bin/env python3
"""Markdown tables from srtp_bench's Google Benchmark JSON.

Runs build/bench/srtp_bench (or reads a JSON it wrote with
--benchmark_out=FILE --benchmark_out_format=json) and prints:

  1. per op/suite/size: ns/packet and Mpps (per core) of isthmus, floor and
     libsrtp2, the ratios isthmus/floor and libsrtp2/isthmus, and whether
     isthmus meets the goal of issue 3 (within 1.25x the floor at 172 bytes);
  2. ns/packet of every IPsec-MB manager and burst variant of isthmus and the
     floor, to see which manager wins for bursts and for lone packets.

Examples:
  bench/srtp_report.py                                  # run everything, default min time
  bench/srtp_report.py --filter /172/ --min-time 0.05   # quick: 172-byte packets only
  bench/srtp_report.py --json results.json              # tables from an earlier run
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

GOAL_RATIO = 1.25  # issue 3: isthmus within 1.25x the floor's ns/packet ...
GOAL_SIZE = 172  # ... for 172-byte RTP packets, every suite, one core

OPS = ["protect_rtp", "unprotect_rtp", "protect_rtcp", "unprotect_rtcp"]
SUITES = [
    "AES_CM_128_HMAC_SHA1_80",
    "AES_CM_128_HMAC_SHA1_32",
    "AES_256_CM_HMAC_SHA1_80",
    "AES_256_CM_HMAC_SHA1_32",
    "AEAD_AES_128_GCM",
    "AEAD_AES_256_GCM",
]
VARIANTS = ["", "_sse", "_avx2", "_burst1", "_burst1_sse", "_nocheck"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_bench(args):
    """Runs the bench, returns its parsed JSON. Progress goes to stderr."""
    if not os.access(args.bench, os.X_OK):
        sys.exit(f"srtp_report: {args.bench} not found or not executable; build it with "
                 "'meson compile -C build bench/srtp_bench'")
    out = args.out
    if out is None:
        fd, out = tempfile.mkstemp(prefix="srtp_bench.", suffix=".json")
        os.close(fd)
    cmd = [args.bench, f"--benchmark_out={out}", "--benchmark_out_format=json"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    if args.min_time is not None:
        cmd.append(f"--benchmark_min_time={args.min_time}")
    if args.repetitions > 1:
        # Interleaved, so that a burst of noise on a shared machine hits one
        # repetition of many benches rather than every repetition of one.
        cmd += [f"--benchmark_repetitions={args.repetitions}",
                "--benchmark_enable_random_interleaving=true",
                "--benchmark_report_aggregates_only=true"]
    cmd += args.bench_args
    print("srtp_report: running " + " ".join(cmd), file=sys.stderr)
    sys.stderr.flush()
    # The console table goes to stderr so that stdout carries only markdown.
    rc = subprocess.call(cmd, stdout=sys.stderr)
    if rc != 0:
        sys.exit(f"srtp_report: srtp_bench exited with status {rc}")
    with open(out) as f:
        data = json.load(f)
    if args.out is None:
        os.unlink(out)
    return data


def collect(data):
    """name -> {'ns': ns/packet or None, 'cv': spread or None, 'error': message or None}.

    Prefers the median aggregate when the run had repetitions, otherwise the
    median over the iteration runs of a name; 'cv' is Google Benchmark's
    coefficient of variation over the repetitions (0.05 = 5%).
    """
    runs, medians, cvs = {}, {}, {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            runs.setdefault(name, []).append(("error", b.get("error_message", "error")))
            continue
        ns = b.get("ns_per_pkt")
        if ns is None and b.get("items_per_second"):
            ns = 1e9 / b["items_per_second"]
        if ns is None:
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = ns
            elif b.get("aggregate_name") == "cv":
                cvs[name] = b.get("ns_per_pkt")
            continue
        runs.setdefault(name, []).append(("ns", ns))
    results = {}
    for name, rs in runs.items():
        errors = [v for k, v in rs if k == "error"]
        values = [v for k, v in rs if k == "ns"]
        if name in medians:
            results[name] = {"ns": medians[name], "error": None}
        elif values:
            results[name] = {"ns": statistics.median(values), "error": None}
        else:
            results[name] = {"ns": None, "error": errors[0] if errors else "no result"}
    for name, ns in medians.items():
        results.setdefault(name, {"ns": ns, "error": None})
    for name, r in results.items():
        r["cv"] = cvs.get(name)
    return results


def rows_present(results):
    """(op, suite, size) triples that have at least one result, in a stable order."""
    seen = set()
    for name in results:
        parts = name.split("/")
        if len(parts) == 4:
            seen.add((parts[0], parts[1], int(parts[2])))
    order = lambda r: (OPS.index(r[0]) if r[0] in OPS else 99,
                       SUITES.index(r[1]) if r[1] in SUITES else 99, r[2])
    return sorted(seen, key=order)


def ns_of(results, op, suite, size, impl):
    r = results.get(f"{op}/{suite}/{size}/{impl}")
    return None if r is None else r["ns"]


def fmt_ns(ns):
    if ns is None:
        return "—"
    return f"{ns:,.0f}" if ns >= 100 else f"{ns:.1f}"


def fmt_mpps(ns):
    return "—" if not ns else f"{1e3 / ns:.2f}"


def cv_of(results, op, suite, size, impls):
    """Largest coefficient of variation among impls, as text, or ''."""
    cvs = [results.get(f"{op}/{suite}/{size}/{i}", {}).get("cv") for i in impls]
    cvs = [c for c in cvs if c is not None]
    return f"{100 * max(cvs):.0f}%" if cvs else ""


def fmt_ratio(a, b):
    return "—" if not a or not b else f"{a / b:.2f}x"


def main_table(results, rows):
    out = []
    out.append("| op | suite | size | isthmus ns/pkt | isthmus Mpps | floor ns/pkt | floor Mpps "
               "| libsrtp2 ns/pkt | libsrtp2 Mpps | isthmus/floor | libsrtp2/isthmus "
               "| copy ns/pkt | cv | goal |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    goal_rows, goal_met, missed = 0, 0, []
    for op, suite, size in rows:
        ist = ns_of(results, op, suite, size, "isthmus")
        flo = ns_of(results, op, suite, size, "floor")
        lib = ns_of(results, op, suite, size, "libsrtp2")
        cpy = ns_of(results, op, suite, size, "memcpy")
        goal = ""
        if size == GOAL_SIZE and ist and flo:
            goal_rows += 1
            if ist / flo <= GOAL_RATIO:
                goal_met += 1
                goal = "ok"
            else:
                goal = f"**MISS** (> {GOAL_RATIO}x)"
                missed.append(f"{op}/{suite} ({ist / flo:.2f}x)")
        out.append(f"| {op} | {suite} | {size} | {fmt_ns(ist)} | {fmt_mpps(ist)} | {fmt_ns(flo)} "
                   f"| {fmt_mpps(flo)} | {fmt_ns(lib)} | {fmt_mpps(lib)} | {fmt_ratio(ist, flo)} "
                   f"| {fmt_ratio(lib, ist)} | {fmt_ns(cpy) if cpy else ''} "
                   f"| {cv_of(results, op, suite, size, ['isthmus', 'floor'])} | {goal} |")
    summary = []
    if goal_rows:
        summary.append(f"Goal (isthmus within {GOAL_RATIO}x the floor at {GOAL_SIZE} bytes): "
                       f"met in {goal_met} of {goal_rows} rows.")
        if missed:
            summary.append("Missed: " + ", ".join(missed) + ".")
    speedups = [lib / ist for op, suite, size in rows
                for ist, lib in [(ns_of(results, op, suite, size, "isthmus"),
                                  ns_of(results, op, suite, size, "libsrtp2"))] if ist and lib]
    if speedups:
        summary.append(f"isthmus vs libsrtp2: {min(speedups):.1f}x to {max(speedups):.1f}x "
                       f"faster (median {statistics.median(speedups):.1f}x).")
    return out, summary


def variants_table(results, rows):
    impls = [f"isthmus{v}" for v in VARIANTS] + [f"floor{v}" for v in VARIANTS]
    out = ["| op | suite | size | " + " | ".join(impls) + " | best burst-32 | best burst-1 |",
           "|---|---|---:|" + "---:|" * len(impls) + "---|---|"]
    for op, suite, size in rows:
        cells = [ns_of(results, op, suite, size, i) for i in impls]
        if not any(cells):
            continue

        def best(names):
            got = [(ns_of(results, op, suite, size, n), n) for n in names]
            got = [(ns, n) for ns, n in got if ns]
            if not got:
                return "—"
            ns, n = min(got)
            return n.replace("isthmus_burst1", "isthmus").replace("isthmus_", "") \
                .replace("isthmus", "auto")

        out.append(f"| {op} | {suite} | {size} | " + " | ".join(fmt_ns(c) for c in cells)
                   + f" | {best(['isthmus', 'isthmus_sse', 'isthmus_avx2'])}"
                   + f" | {best(['isthmus_burst1', 'isthmus_burst1_sse'])} |")
    return out


def errors_list(results):
    return [f"- `{n}`: {r['error']}" for n, r in sorted(results.items()) if r["error"]]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def context_lines(data, local):
    c = data.get("context", {})
    parts = []
    if local:
        parts.append(f"CPU {cpu_model()}")
    parts.append(f"{c.get('num_cpus', '?')} CPUs at {c.get('mhz_per_cpu', '?')} MHz")
    parts.append(f"IPsec-MB {c.get('imb_version', '?')} (auto manager: "
                 f"{c.get('isthmus_auto_arch', c.get('imb_auto_arch', '?'))})")
    parts.append(c.get("libsrtp2_version", "libsrtp2 ?"))
    parts.append(f"run {c.get('date', '?')}")
    return ["Machine: " + "; ".join(parts) + "."]


def write_summary(path, data, results):
    """One line per bench, {name: [ns_per_pkt, cv]}: small and diffable."""
    rounded = lambda x, nd: None if x is None else round(x, nd)
    lines = [f"{json.dumps(name)}: {json.dumps([rounded(r['ns'], 3), rounded(r['cv'], 4)])}"
             for name, r in sorted(results.items())]
    errors = {name: r["error"] for name, r in results.items() if r["error"]}
    with open(path, "w") as f:
        f.write('{\n"context": ' + json.dumps(data.get("context", {}), sort_keys=True) + ",\n")
        f.write('"columns": ["ns_per_pkt", "cv"],\n"results": {\n')
        f.write(",\n".join(lines))
        f.write('\n},\n"errors": ' + json.dumps(errors, sort_keys=True) + "\n}\n")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", help="read this srtp_bench JSON (or a --summary-json file, "
                                  "e.g. docs/srtp_bench.json) instead of running the bench")
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "srtp_bench"),
                   help="srtp_bench executable (default: build/bench/srtp_bench)")
    p.add_argument("--out", help="when running: also keep the JSON in this file")
    p.add_argument("--filter", help="regex passed as --benchmark_filter, e.g. /172/")
    p.add_argument("--min-time", type=float, help="--benchmark_min_time in seconds")
    p.add_argument("--repetitions", type=int, default=1,
                   help="--benchmark_repetitions (tables use the median)")
    p.add_argument("--variants-size", default=str(GOAL_SIZE),
                   help="packet size of the manager/burst table, or 'all' (default 172)")
    p.add_argument("--summary-json",
                   help="also write {context, results: {name: [ns_per_pkt, cv]}, errors} "
                        "to this file, small enough to keep next to docs/performance.md")
    p.add_argument("bench_args", nargs="*",
                   help="after --: more arguments for srtp_bench")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.json:
        with open(args.json) as f:
            data = json.load(f)
    else:
        data = run_bench(args)
    if "benchmarks" not in data and "results" in data:  # a --summary-json file
        results = {name: {"ns": v[0], "cv": v[1], "error": data.get("errors", {}).get(name)}
                   for name, v in data["results"].items()}
    else:
        results = collect(data)
    if args.summary_json:
        write_summary(args.summary_json, data, results)
    rows = rows_present(results)
    if not rows:
        sys.exit("srtp_report: no benchmark results (check the filter)")

    lines = context_lines(data, local=not args.json)
    lines.append("")
    lines.append("ns/pkt: time per packet on one core (lower is better); Mpps = 1000 / ns/pkt. "
                 "isthmus and floor: bursts of 32, IPsec-MB manager chosen automatically; "
                 "libsrtp2: one packet per call. Unprotect rows include copying each packet "
                 "into its working buffer (the copy column). cv: the larger coefficient of "
                 "variation of isthmus and floor over the repetitions, when there were any.")
    lines.append("")
    table, summary = main_table(results, rows)
    lines += table
    lines.append("")
    lines += summary

    vrows = rows if args.variants_size == "all" else [
        r for r in rows if str(r[2]) == args.variants_size]
    vtable = variants_table(results, vrows)
    if len(vtable) > 2:
        lines.append("")
        lines.append(f"IPsec-MB managers and burst sizes, ns/pkt"
                     f"{'' if args.variants_size == 'all' else f' at {args.variants_size} bytes'}"
                     " (no suffix: manager chosen by IPsec-MB, bursts of 32, jobs validated;"
                     " burst1: one packet per call; nocheck: IMB_SUBMIT_JOB_NOCHECK):")
        lines.append("")
        lines += vtable
    errs = errors_list(results)
    if errs:
        lines.append("")
        lines.append("Benches that reported an error:")
        lines += errs
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
