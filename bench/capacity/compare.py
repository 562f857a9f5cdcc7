#!/usr/bin/env python3
"""One report for both gateways (issue 12): isthmus and rtpengine under the
same capacity-sockets load in the same run, side by side, with what bound
each run, and (when given) the gateway's own limit on ring ports.

    compare.py --isthmus DIR --rtpengine DIR [--rings FILE]... [--title TEXT] > report.md

DIR holds isthmus.sh's / rtpengine.sh's JSON (<target>-<suite>.json, one per
suite); FILE is capacity-rings --json. For every suite both ran and every
call count either ran: delivered / offered, loss, one-way latency
p50/p99/p99.9, the gateway's CPU per packet relayed (isthmus: its worker's
busy time, rtpengine: its process time; both in microseconds, from
cpu_s_per_million_packets), rtpengine's per packet over isthmus's, whether
the run passed (loss < 0.01 %, p99 < 1 ms), and its bound: "gateway CPU"
(the gateway used 95 % of its core or more), "load tool" (the tool used
95 % of its core, or sent 1 ms late at p99: the load was not offered on
time), "loss" or "latency" otherwise. Exits 2 naming the file when one is
missing or not the bench's JSON (a run without the figures above too).
"""
import argparse
import glob
import json
import os
import sys

SATURATED = 0.95
P99_LIMIT_NS = 1_000_000


def fail(text):
    print(f"compare.py: {text}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if not isinstance(d, dict) or not isinstance(d.get("runs"), list):
        fail(f"{path}: no \"runs\" (not a capacity bench's JSON)")
    return d


SOCKET_KEYS = ("calls", "offered", "delivered", "lost", "loss_percent", "latency_ns", "gateway_cpu",
               "tool", "passed")
RINGS_KEYS = ("calls", "seconds", "offered", "loss_ratio", "latency_ns", "worker_busy", "pass")


def check_runs(path, d, keys):
    for n, r in enumerate(d["runs"]):
        missing = [k for k in keys if not isinstance(r, dict) or k not in r]
        if not missing and not all(k in r["latency_ns"] for k in ("p50", "p99", "p999")):
            missing = ["latency_ns.p50/p99/p999"]
        if missing:
            fail(f"{path}: run {n} has no {', '.join(missing)}")


def by_suite(directory, target):
    files = sorted(glob.glob(os.path.join(directory, f"{target}-*.json")))
    if not files:
        fail(f"{directory}: no {target}-SUITE.json (did {target}.sh run?)")
    out = {}
    for path in files:
        d = load(path)
        check_runs(path, d, SOCKET_KEYS)
        out[d.get("suite", os.path.basename(path))] = {r["calls"]: r for r in d["runs"]}
    return out


def us(ns):
    return "—" if ns is None else f"{ns / 1000:.1f} µs" if ns < 1_000_000 else f"{ns / 1e6:.2f} ms"


def bound(r):
    if r.get("passed"):
        return "—"
    why = []
    if (r["gateway_cpu"].get("core_fraction") or 0) >= SATURATED:
        why.append("gateway CPU")
    tool = r.get("tool", {})
    if (tool.get("core_fraction") or 0) >= SATURATED or (tool.get("lag_p99_ns") or 0) >= P99_LIMIT_NS:
        why.append("load tool")
    if not why:
        why.append("loss" if r["lost"] else "latency")
    return ", ".join(why)


def cell(r):
    if r is None:
        return ["not run"] + [""] * 5
    lat = r["latency_ns"]
    cpu = r["gateway_cpu"].get("cpu_s_per_million_packets")
    share = r["gateway_cpu"].get("core_fraction") or 0
    return [f"{r['delivered']:,} / {r['offered']:,} ({r['loss_percent']:.3f} % lost)",
            f"{us(lat['p50'])} / {us(lat['p99'])} / {us(lat['p999'])}",
            "—" if cpu is None else f"{cpu:.2f} µs ({100 * share:.0f} %)",
            "yes" if r.get("passed") else "no", bound(r)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isthmus", required=True)
    ap.add_argument("--rtpengine", required=True)
    ap.add_argument("--rings", action="append", default=[])
    ap.add_argument("--title", default="isthmus and rtpengine, the same load in the same run")
    a = ap.parse_args()
    isth, rtpe = by_suite(a.isthmus, "isthmus"), by_suite(a.rtpengine, "rtpengine")
    print(f"# {a.title}\n")
    print("Loss, reordering and latency as capacity-sockets measures them (bench/capacity/"
          "README.md); CPU per packet relayed: isthmus's worker busy time, rtpengine's process "
          "time, each with its share of one core. Pass: loss < 0.01 % and p99 < 1 ms.\n")
    for suite in sorted(set(isth) & set(rtpe)):
        print(f"## {suite}\n")
        print("| calls | isthmus delivered | isthmus p50 / p99 / p99.9 | isthmus CPU per packet "
              "| pass | bound | rtpengine delivered | rtpengine p50 / p99 / p99.9 "
              "| rtpengine CPU per packet | pass | bound | rtpengine / isthmus per packet |")
        print("|---:|---|---|---:|---|---|---|---|---:|---|---|---:|")
        largest = {"isthmus": 0, "rtpengine": 0}
        for calls in sorted(set(isth[suite]) | set(rtpe[suite])):
            i, r = isth[suite].get(calls), rtpe[suite].get(calls)
            ratio = ""
            if i and r:
                ci = i["gateway_cpu"].get("cpu_s_per_million_packets")
                cr = r["gateway_cpu"].get("cpu_s_per_million_packets")
                if ci and cr:
                    ratio = f"{cr / ci:.1f}x"
            for name, run in (("isthmus", i), ("rtpengine", r)):
                if run and run.get("passed"):
                    largest[name] = max(largest[name], calls)
            print(f"| {calls:,} | " + " | ".join(cell(i) + cell(r)) + f" | {ratio} |")
        print(f"\nLargest N passing: isthmus {largest['isthmus']:,}, rtpengine "
              f"{largest['rtpengine']:,} (of the N tried; a failing run's bound says whether "
              "the gateway or the load tool stopped it).\n")
    for suite in sorted(set(isth) ^ set(rtpe)):
        print(f"({suite}: run on one gateway only, not compared.)\n")
    for path in a.rings:
        d = load(path)
        check_runs(path, d, RINGS_KEYS)
        print("## The gateway's own limit: one worker on ring ports (capacity-rings)\n")
        print(f"{d.get('suite', '?')}, {d.get('codec', 'g711')} ({d.get('packet_rtp_octets', '?')}"
              " octets of RTP): no kernel packet path, the load tool in the same process.\n")
        print("| calls | offered pps | loss | p50 / p99 / p99.9 | worker busy | pass | bound |")
        print("|---:|---:|---:|---|---:|---|---|")
        for r in d["runs"]:
            lat = r["latency_ns"]
            print(f"| {r['calls']:,} | {r['offered'] / r['seconds']:,.0f} | "
                  f"{100 * r['loss_ratio']:.3f} % | {us(lat['p50'])} / {us(lat['p99'])} / "
                  f"{us(lat['p999'])} | {100 * r['worker_busy']:.0f} % | "
                  f"{'yes' if r['pass'] else 'no'} | {r.get('bound') or '—'} |")
        print(f"\nLargest N passing on ring ports: {d.get('largest_passing_calls', 0):,}"
              + (f"; the load tool could not offer {d['tool_could_not_offer_calls']:,} on time"
                 if d.get("tool_could_not_offer_calls") else "") + ".\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
