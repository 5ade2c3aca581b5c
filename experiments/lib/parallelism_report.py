#!/usr/bin/env python3
"""The report of experiments/parallelism.sh: one row per scheme and process count.

    parallelism_report.py OUT [--title TITLE]

Reads OUT/<scheme>-<n>/{scheme, time/timing.json, train/metrics/epochs.csv} and writes
OUT/report/report.md and OUT/report/parallelism.png. From `alexnet time`'s timing.json:
images/s (the global batch over the full step: the slowest rank's median with many processes),
and the step split into
  compute     the layer rows' forward + backward: in one process the towers' rows summed (on the
              CPU they run one after another), with many the slowest tower's;
  exchanges   the exchange rows (one collective, timed from tower 0's side);
  all-reduce  the gradient all-reduce, timed alone after the backward (the slowest tower's);
and the bytes: an exchange row's bytes are what one tower receives forward (it sends as many,
and as many again backward); an all-reduce row's are its tower's gradient buffer (under hybrid:
the conv layers' gradients, summed over the K workers), of which a ring all-reduce over N ranks
sends 2(N-1)/N per rank. The val error is the training run's
last epoch's (centre crop).
"""
import argparse
import csv
import json
import os
import sys


def read(out, name):
    d = os.path.join(out, name)
    with open(os.path.join(d, "scheme")) as f:
        scheme, n, placement = f.read().split()[:3]
    with open(os.path.join(d, "time", "timing.json")) as f:
        t = json.load(f)
    epochs = []
    path = os.path.join(d, "train", "metrics", "epochs.csv")
    if os.path.exists(path):
        with open(path) as f:
            epochs = list(csv.DictReader(f))
    n = int(n)
    many = "processes" in t
    replicas = t["processes"]["replicas"] if many else 1
    global_batch = t["processes"]["global_batch"] if many else t["batch"]
    # hybrid's rank grid is 1 x K: its K "towers" are workers, each on its own B items
    step = t["full_step_ms"]
    towers = sorted({r["tower"] for r in t["rows"]})
    layer = {k: 0.0 for k in towers}
    exchange_ms = exchange_bytes = 0.0
    for r in t["rows"]:
        if r["type"] == "exchange":
            if r["tower"] == 0:
                exchange_ms += r["forward_ms"] + r["backward_ms"]
                exchange_bytes += 2 * r["bytes_per_step"]
        else:
            layer[r["tower"]] += r["forward_ms"] + r["backward_ms"]
    compute = max(layer.values()) if many else sum(layer.values())
    reduce_rows = t.get("all_reduce", [])
    all_reduce_ms = max((r["ms"] for r in reduce_rows), default=0.0)
    buffer = max((r["bytes_per_step"] for r in reduce_rows), default=0)
    ring = n if scheme == "hybrid" else replicas  # hybrid sums the conv gradients over its workers
    sent = 2 * (ring - 1) * buffer / ring if ring > 1 else 0
    val = float(epochs[-1]["val_top1_error"]) if epochs else None
    return {
        "name": name, "scheme": scheme, "n": n, "placement": placement,
        "grid": f"{replicas} x {len(towers)}",
        "global_batch": global_batch, "images_per_s": global_batch / (step / 1000.0), "step": step,
        "compute": compute, "exchanges": exchange_ms, "all_reduce": all_reduce_ms,
        "exchange_mb": exchange_bytes / 1e6, "all_reduce_mb": sent / 1e6, "val": val,
        "efficiency": t.get("processes", {}).get("scaling_efficiency"),
    }


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--title", default="Parallelism schemes")
    a = p.parse_args()
    names = sorted(n for n in os.listdir(a.out) if os.path.exists(os.path.join(a.out, n, "done")))
    if not names:
        sys.exit(f"parallelism_report: {a.out}: no finished configuration")
    rows = sorted((read(a.out, n) for n in names), key=lambda r: (r["n"], r["scheme"]))
    header = ["scheme", "processes", "replicas x towers", "global batch", "images/s", "step ms",
              "compute ms", "exchanges ms", "all-reduce ms", "exchanges MB/step/tower",
              "all-reduce MB sent/rank", "scaling efficiency", "val top-1 error %"]
    lines = [f"# {a.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["scheme"], r["n"], r["grid"], r["global_batch"], fmt(r["images_per_s"], ".0f"),
                 fmt(r["step"], ".1f"), fmt(r["compute"], ".1f"), fmt(r["exchanges"], ".2f"),
                 fmt(r["all_reduce"], ".2f"), fmt(r["exchange_mb"], ".2f"), fmt(r["all_reduce_mb"], ".2f"),
                 fmt(r["efficiency"], ".3f"), fmt(None if r["val"] is None else 100 * r["val"], ".2f")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "Compute, exchanges and all-reduce are per-layer timers' figures from the profiled steps "
              "(each waited for); the step is the full step without timers, so the parts need not add up "
              "to it. Scaling efficiency: the step without the gradient all-reduce over the step with it.",
              "", "![images/s per scheme](parallelism.png)", ""]
    report = os.path.join(a.out, "report")
    os.makedirs(report, exist_ok=True)
    with open(os.path.join(report, "report.md"), "w") as f:
        f.write("\n".join(lines))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for scheme in sorted({r["scheme"] for r in rows}):
        pts = [(r["n"], r["images_per_s"]) for r in rows if r["scheme"] == scheme]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=scheme)
    ax.set_xlabel("processes")
    ax.set_ylabel("images/s (global batch / full step)")
    ax.set_xticks(sorted({r["n"] for r in rows}))
    ax.set_title(a.title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(report, "parallelism.png"), dpi=100)
    print("\n".join(lines[2:3 + len(rows) + 1]))


if __name__ == "__main__":
    main()
