#!/usr/bin/env python3
"""Each elementwise and normalisation row of `alexnet time` against its memory-bandwidth time.

    bandwidth_rows.py [--net experiments/alexnet-mini.toml] [--batch 64] [--threads 1]
                      [--iterations 10] [--alexnet build/alexnet]

A row's bandwidth time is the bytes it must move at least (every tensor it reads once, every
tensor it writes once, float32) at the copy rate this machine reaches on one core (numpy's copy
of 256 MB arrays, the median of 5; a copy reads and writes, so its rate counts both). Rows for
relu, lrn, max_pool, dropout and tanh:

    forward   reads x, writes y            backward  relu, tanh: reads y, dy, writes dx
                                                     lrn: reads x, y, dy, writes dx
                                                     max_pool, dropout: reads dy, writes dx

(lrn's minimum leaves out its saved scale; pooling's its argmax; dropout's its mask, which it
draws again from Philox.) Prints each row's time, its bandwidth time and their ratio; the issue's
bar is 3x. The net is placed `single` and timed with `alexnet time`, per-layer timers on.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What each type's backward reads besides dy, as (x's, y's): relu and tanh y, lrn x and y.
BACKWARD_READS = {"relu": (0, 1), "tanh": (0, 1), "lrn": (1, 1), "max_pool": (0, 0), "dropout": (0, 0)}


def copy_rate():
    """Bytes per second (read + write) of a one-core copy of 256 MB."""
    src = np.ones(64 << 20, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        rates.append(2 * src.nbytes / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", default=os.path.join(REPO, "experiments", "alexnet-mini.toml"))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--alexnet", default=os.path.join(REPO, "build", "alexnet"))
    a = p.parse_args()
    info = subprocess.run([a.alexnet, "info", a.net, "--placement", "single", "--json"], capture_output=True,
                          text=True)
    if info.returncode:
        sys.exit(f"bandwidth_rows: alexnet info failed:\n{info.stderr}")
    shapes = {n["name"]: n["towers"][0] for n in json.loads(info.stdout)["nodes"] if n["towers"]}
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([a.alexnet, "time", "--net", a.net, "--placement", "single", "--devices", "cpu",
                              "--batch", str(a.batch), "--threads", str(a.threads), "--iterations",
                              str(a.iterations), "--write", tmp], capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"bandwidth_rows: alexnet time failed:\n{run.stderr[-2000:]}")
        rows = json.load(open(os.path.join(tmp, "timing.json")))["rows"]
    rate = copy_rate()
    print(f"{os.path.basename(a.net)}, batch {a.batch}, {a.threads} thread(s); one-core copy rate "
          f"{rate / 1e9:.1f} GB/s (read + write)")
    print(f"{'node':<8} {'pass':<9} {'ms':>8} {'bandwidth ms':>13} {'ratio':>6}")
    worst = 0.0
    for r in rows:
        kind = r["type"]
        if kind not in BACKWARD_READS:
            continue
        size = lambda s: 4 * a.batch * int(np.prod(s))  # noqa: E731
        x, y = size(shapes[r["node"]]["in"]), size(shapes[r["node"]]["out"])
        reads_x, reads_y = BACKWARD_READS[kind]
        moved = {"forward": x + y, "backward": reads_x * x + reads_y * y + y + x}  # + dy read, dx written
        for phase in ("forward", "backward"):
            ms, floor = r[f"{phase}_ms"], 1000 * moved[phase] / rate
            worst = max(worst, ms / floor)
            print(f"{r['node']:<8} {phase:<9} {ms:8.3f} {floor:13.3f} {ms / floor:6.2f}")
    print(f"largest ratio: {worst:.2f}x its bandwidth time")


if __name__ == "__main__":
    sys.exit(main())
