#!/usr/bin/env python3
"""Checks a trace written by `alexnet time --trace` or `alexnet train --trace` against the same
run's timing.csv (the per-layer table):

  - it is the Chrome Trace Event Format as Perfetto documents it: a JSON object whose traceEvents
    each carry the fields their phase requires (X: name, ph, ts, dur, pid, tid; s/f: name, cat,
    id, ts, pid, tid; M: name, ph, pid, args), no negative durations, B/E pairs balanced per lane;
  - every process lane and every thread lane that holds events is named;
  - every flow that starts ends, and the other way round;
  - every (node, tower) row of the table has forward and backward events on that tower, and each
    row's mean equals its events' mean within max(0.002 ms, 0.5%) (the events carry the same
    timers' values, in µs to 3 decimals; the table's means print 6 significant digits);
  - there are WORLD process lanes.

    check_trace.py TRACE.json[.gz] TIMING.csv WORLD [--steps N] [--table-rank R]

`alexnet train` under many processes times rank 0's towers alone in its table: --table-rank 0
compares those rows with rank 0's events only (the others' still need their events).
"""
import argparse
import collections
import csv
import gzip
import json
import sys

REQUIRED = {"X": ("name", "ph", "ts", "dur", "pid", "tid"), "B": ("name", "ph", "ts", "pid", "tid"),
            "E": ("ph", "ts", "pid", "tid"), "s": ("name", "cat", "id", "ts", "pid", "tid"),
            "f": ("name", "cat", "id", "ts", "pid", "tid"), "M": ("name", "ph", "pid", "args")}


def fail(message):
    print("check_trace: " + message)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("timing")
    p.add_argument("world", type=int)
    p.add_argument("--steps", type=int, default=0, help="the profiled steps the trace must hold")
    p.add_argument("--table-rank", type=int, default=-1, help="the table holds this rank's towers only")
    a = p.parse_args()
    opener = gzip.open if a.trace.endswith(".gz") else open
    with opener(a.trace, "rt") as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    lanes_named, procs_named, used = set(), set(), set()
    balance = collections.Counter()
    flows = collections.Counter()
    durations = collections.defaultdict(list)
    steps = set()
    for e in events:
        ph = e.get("ph")
        if ph not in REQUIRED:
            fail("event of unknown phase: %r" % e)
        missing = [k for k in REQUIRED[ph] if k not in e]
        if missing:
            fail("a %s event lacks %s: %r" % (ph, missing, e))
        if ph == "M":
            if e["name"] == "thread_name":
                lanes_named.add((e["pid"], e["tid"]))
            elif e["name"] == "process_name":
                procs_named.add(e["pid"])
            continue
        used.add((e["pid"], e["tid"]))
        if ph == "X":
            if e["dur"] < 0:
                fail("negative duration: %r" % e)
            if e["cat"] in ("forward", "backward") and a.table_rank in (-1, e["pid"]):
                durations[(e["name"], e["args"]["tower"], e["cat"])].append(e["dur"] / 1e3)
                steps.add(e["args"]["step"])
        elif ph in "BE":
            balance[(e["pid"], e["tid"])] += 1 if ph == "B" else -1
        else:
            flows[(e["cat"], e["id"])] += 1 if ph == "s" else -1
    if any(balance.values()):
        fail("begin/end events do not balance on lanes %s" % [k for k, v in balance.items() if v])
    if any(flows.values()):
        fail("flows that start without ending or end without starting: %s" % [k for k, v in flows.items() if v][:5])
    unnamed = used - lanes_named
    if unnamed:
        fail("lanes without a name: %s" % sorted(unnamed))
    if sorted(procs_named) != list(range(a.world)):
        fail("process lanes %s, expected ranks 0..%d" % (sorted(procs_named), a.world - 1))
    if a.steps and len(steps) != a.steps:
        fail("%d steps traced, expected %d" % (len(steps), a.steps))
    rows = 0
    worst = 0.0
    with open(a.timing) as f:
        for r in csv.DictReader(f):
            if not r["tower"] or not r["type"] or r["node"] == "grad all-reduce":
                continue
            if a.table_rank >= 0 and float(r["forward_ms"]) == 0:
                continue  # a tower of another rank
            rows += 1
            for phase in ("forward", "backward"):
                got = durations.get((r["node"], int(r["tower"]), phase))
                if not got:
                    fail("no %s events of node %s on tower %s" % (phase, r["node"], r["tower"]))
                want = float(r[phase + "_ms"])
                mean = sum(got) / len(got)
                if abs(mean - want) > max(0.002, 0.005 * want):
                    fail("%s %s on tower %s: the events' mean %.4f ms, the table's %.4f ms"
                         % (r["node"], phase, r["tower"], mean, want))
                worst = max(worst, abs(mean - want))
    if rows == 0:
        fail(a.timing + " has no rows")
    flows_n = sum(1 for e in events if e["ph"] == "s")
    print("check_trace: %s: %d events on %d lanes of %d process(es), %d flows, %d steps; %d rows of the table "
          "each within %.4f ms of their events' mean" % (a.trace, len(events), len(used), len(procs_named),
                                                          flows_n, len(steps), rows, worst))


if __name__ == "__main__":
    main()
