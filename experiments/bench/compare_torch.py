#!/usr/bin/env python3
"""Our trainer against PyTorch on the same net: training step time, peak memory, and logits.

    compare_torch.py [--net experiments/alexnet.toml] [--batch 32] [--threads 2] [--rounds 5]
                     [--device cpu|cuda] [--math fp32|tf32] [--channels-last] [--json FILE]
                     [--python PY]... [--check-run RUN_DIR --check-data DATA.h5]

The PyTorch model is built from our own placed net, `alexnet info --json --placement single`, so
both sides share one reading of the network file (its defaults, groups, shapes): convolutions with
the groups our `single` placement gives them (2 where a layer reads its own tower), LRN applied to
each group with alpha * n (PyTorch divides alpha by n; our files hold the paper's alpha),
overlapping max pooling, dropout, and SGD with momentum 0.9 and weight decay 5e-4. Each round runs `alexnet time` (its
full step: forward, backward, SGD, measured without per-layer timers) and then a PyTorch worker
process timing the same step, A B A B after each side's warm-up; each side is a fresh process,
so its peak RSS (CPU) or peak device memory (GPU: PyTorch's max_memory_allocated, our buffers'
peak as `alexnet time` prints it) is its own. Prints per-round
figures, the medians, and ours / PyTorch's speed ratio (> 1: we are faster).

--json FILE also writes the settings, every round's figures and the medians there, for logs
that collect several runs (gpu-bundle's run-gpu.sh runs batch 128 and 256, FP32 and TF32).

--math sets both sides alike: ours through `alexnet time --math`, PyTorch's through its TF32
switches for cuBLAS and cuDNN (the fp32_precision settings where PyTorch has them, 2.9 and
later, else allow_tf32; mixing the two is an error in those versions). fp32 is IEEE float32
throughout; tf32 lets convolutions and matrix products round their inputs to TF32.

Each --python PY is one PyTorch column, timed by a worker under that interpreter, in the same
alternating rounds (ours, then each column). Without it the column is PyTorch 2.x from PyPI in
.venv-torch (`tools/setup.sh --bench` makes it: torch, numpy, h5py) where that exists, else the
interpreter running this script; `--python .venv-torch/bin/python --python /usr/bin/python3`
adds Debian's python3-torch (1.13) as a second column. The ratio line is ours against the first.

--check-run loads that run's last checkpoint into the PyTorch model, runs both on the centre
crops of DATA's val split (ours through `alexnet eval --logits`) and prints the largest absolute
difference of the logits.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def placed_net(a, *overrides):
    """Our placed net for the `single` placement, as `alexnet info --json` describes it."""
    cmd = [a.alexnet, "info", a.net, "--placement", "single", "--json", *overrides]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"compare_torch: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout)


def build_model(net):
    """An nn.Sequential named like the placed net's nodes (the `single` placement: one tower)."""
    import torch
    from torch import nn

    class TowerLRN(nn.Module):
        """The paper's LRN within each group of maps (a tower's half when groups = 2)."""

        def __init__(self, size, alpha, beta, k, groups):
            super().__init__()
            self.lrn = nn.LocalResponseNorm(size, alpha=alpha * size, beta=beta, k=k)
            self.groups = groups

        def forward(self, x):
            return torch.cat([self.lrn(h) for h in x.chunk(self.groups, dim=1)], dim=1)

    if net["towers"] != 1:
        sys.exit(f"compare_torch: expected the one-tower `single` placement, got {net['placement']}")
    layers = []
    for node in net["nodes"]:
        kind, name, t = node["type"], node["name"], node["towers"][0]
        if kind == "conv":
            m = nn.Conv2d(t["in_channels"], t["out_channels"], t["kernel"], t["stride"], t["pad"],
                          groups=t["groups"])
        elif kind == "relu":
            m = nn.ReLU()
        elif kind == "lrn":
            m = TowerLRN(t["size"], t["alpha"], t["beta"], t["k"], t["groups"])
        elif kind == "max_pool":
            m = nn.MaxPool2d(t["kernel"], t["stride"], t["pad"])
        elif kind == "fc":
            linear = nn.Linear(t["in_features"], t["out_features"])
            m = nn.Sequential(nn.Flatten(), linear) if len(t["in"]) > 1 else linear
        elif kind == "dropout":
            m = nn.Dropout(t["p"])
        elif kind == "softmax_loss":
            continue
        else:
            sys.exit(f"compare_torch: {net['network']}: node '{name}' of type '{kind}' unknown here")
        layers.append((name, m))
    from collections import OrderedDict
    return nn.Sequential(OrderedDict(layers))


def set_tf32(torch, on):
    """TF32 on or off for PyTorch's matrix products and convolutions, through the newer API when
    this PyTorch has it (the older flags warn there, and mixing the two raises)."""
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        precision = "tf32" if on else "ieee"
        torch.backends.cuda.matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
    else:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on


def torch_worker(a):
    """One timed PyTorch round in this process: prints 'ms=<mean step> peak=<bytes>'."""
    import resource
    import torch

    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if a.device == "cuda":
        torch.backends.cudnn.benchmark = True
        set_tf32(torch, a.math == "tf32")
    net = placed_net(a)
    model = build_model(net).to(device)
    c, h, w = net["input"]
    x = torch.randn(a.batch, c, h, w, device=device)
    if a.channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    y = torch.randint(0, net["classes"], (a.batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    for _ in range(a.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(a.iterations):
        step()
    sync()
    ms = 1000 * (time.perf_counter() - start) / a.iterations
    if a.device == "cuda":
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"ms={ms:.3f} peak={peak} torch={torch.__version__}")


def run_measured(cmd):
    """Runs cmd; returns (stdout, peak RSS bytes of that process)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit(f"compare_torch: {' '.join(cmd)} failed ({p.returncode}):\n{out[-2000:]}")
    return out, usage.ru_maxrss * 1024


def ours_round(a):
    devices = "cpu" if a.device == "cpu" else "cuda:0"
    cmd = [a.alexnet, "time", "--net", a.net, "--placement", a.placement, "--devices", devices,
           "--batch", str(a.batch), "--iterations", str(a.iterations), "--warmup", str(a.warmup),
           "--threads", str(a.threads), "--math", a.math]
    out, rss = run_measured(cmd)
    m = re.search(r"full step.*?: ([0-9.]+) ms", out)
    if not m:
        sys.exit(f"compare_torch: no full-step figure in alexnet time's output:\n{out[-2000:]}")
    if a.device == "cuda":
        dev = re.search(r"peak device memory on cuda:0: ([0-9.]+) MiB", out)
        rss = int(float(dev.group(1)) * 2**20) if dev else 0
    return float(m.group(1)), rss


def torch_round(a, python):
    cmd = [python, os.path.abspath(__file__), "--worker", "--net", a.net, "--batch", str(a.batch),
           "--threads", str(a.threads), "--iterations", str(a.iterations), "--warmup", str(a.warmup),
           "--device", a.device, "--math", a.math, "--alexnet", a.alexnet] + \
        (["--channels-last"] if a.channels_last else [])
    out, rss = run_measured(cmd)
    m = re.search(r"ms=([0-9.]+) peak=([0-9]+) torch=(\S+)", out)
    if not m:
        sys.exit(f"compare_torch: the PyTorch worker ({python}) printed no figure:\n{out[-2000:]}")
    return float(m.group(1)), int(m.group(2)) if a.device == "cuda" else rss, m.group(3)


def cross_check(a):
    """Max |logits ours - logits PyTorch| for the run's last checkpoint on DATA's val split."""
    import h5py
    import numpy as np
    import torch

    ckpts = sorted(f for f in os.listdir(os.path.join(a.check_run, "checkpoints")) if f.endswith(".h5"))
    ckpt = os.path.join(a.check_run, "checkpoints", ckpts[-1])
    with tempfile.TemporaryDirectory() as tmp:
        logits_path = os.path.join(tmp, "logits.npy")
        run_measured([a.alexnet, "eval", "--checkpoint", ckpt, "--data", a.check_data, "--net", a.net,
                      "--placement", "single", "--devices", "cpu", "--logits", logits_path])
        ours = np.load(logits_path)
    with h5py.File(a.check_data) as f:
        images, mean = f["val/images"][:], f["mean"][:].astype(np.float32)
        classes = len(f["classes"]) if "classes" in f else ours.shape[1]
    # The net as eval placed it: the data's channels and classes, the network file's crop.
    _, h, w = placed_net(a)["input"]
    net = placed_net(a, "--classes", str(classes), "--input", f"{images.shape[3]},{h},{w}")
    model = build_model(net)
    with h5py.File(ckpt) as f:
        state = {name: torch.from_numpy(f["params"][name][:].astype(np.float32))
                 for name in f["params"]}
    own = model.state_dict()
    mapped = {}
    for key in own:  # "fc6.1.weight" (after a Flatten) or "conv1.weight" -> "fc6.weight"
        parts = key.split(".")
        mapped[key] = state[f"{parts[0]}.{parts[-1]}"].reshape(own[key].shape)
    model.load_state_dict(mapped)
    model.eval()
    top, left = (images.shape[1] - h) // 2, (images.shape[2] - w) // 2
    crop = images[:, top:top + h, left:left + w, :].astype(np.float32) - mean[top:top + h, left:left + w, :]
    x = torch.from_numpy(np.ascontiguousarray((crop * net["input_scale"]).transpose(0, 3, 1, 2)))
    with torch.no_grad():
        theirs = torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)]).numpy()
    diff = np.abs(ours - theirs)
    print(f"cross-check: {ckpt} on {len(x)} val images: max |logit ours - PyTorch| = {diff.max():.3g} "
          f"(logits up to {np.abs(theirs).max():.3g}); same top-1 class for "
          f"{(ours.argmax(1) == theirs.argmax(1)).mean() * 100:.2f}% of images")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", default=os.path.join(REPO, "experiments", "alexnet.toml"))
    p.add_argument("--placement", default="single", help="our placement (PyTorch's model is `single`)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iterations", type=int, default=3, help="timed steps per round")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first, in every round")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--math", choices=["fp32", "tf32"], default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--alexnet", default=os.path.join(REPO, "build", "alexnet"))
    p.add_argument("--json", help="also write the settings and figures here")
    p.add_argument("--python", action="append", help="a PyTorch column: the interpreter its worker runs under "
                   "(repeatable; default .venv-torch/bin/python where it exists, else this one)")
    p.add_argument("--check-run")
    p.add_argument("--check-data")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return torch_worker(a)
    venv = os.path.join(REPO, ".venv-torch", "bin", "python")
    pythons = a.python or [venv if os.path.exists(venv) else sys.executable]
    device_name = "cpu"
    if a.device == "cuda" or a.check_run:
        import torch
        if a.device == "cuda":
            if not torch.cuda.is_available():
                sys.exit(f"compare_torch: --device cuda, but PyTorch {torch.__version__} sees no CUDA device")
            device_name = torch.cuda.get_device_name(0)
    print(f"{os.path.basename(a.net)}, batch {a.batch}, {a.device} ({device_name}), {a.math}, {a.threads} threads, "
          f"ours as `{a.placement}`; PyTorch under {', '.join(pythons)}")
    ours, theirs = [], [[] for _ in pythons]
    for r in range(a.rounds):
        ours.append(ours_round(a))
        for column, python in zip(theirs, pythons):
            column.append(torch_round(a, python))
        print(f"round {r + 1}: ours {ours[-1][0]:.1f} ms, " +
              ", ".join(f"PyTorch {c[-1][2]} {c[-1][0]:.1f} ms" for c in theirs) + " per step")
    if a.rounds == 0:  # the cross-check alone
        return cross_check(a) if a.check_run else 0
    o = statistics.median(x[0] for x in ours)
    medians = [statistics.median(x[0] for x in c) for c in theirs]
    mem = "peak device memory" if a.device == "cuda" else "peak RSS"
    for c, t in zip(theirs, medians):
        print(f"median step: ours {o:.1f} ms ({1000 * a.batch / o:.0f} images/s), PyTorch {c[0][2]} {t:.1f} ms "
              f"({1000 * a.batch / t:.0f} images/s); ours is {t / o:.2f}x PyTorch's speed")
    print(f"{mem}: ours {max(x[1] for x in ours) / 2**20:.0f} MiB, " +
          ", ".join(f"PyTorch {c[0][2]} {max(x[1] for x in c) / 2**20:.0f} MiB" for c in theirs))
    if a.json:
        t = medians[0]
        with open(a.json, "w") as f:
            json.dump({"net": a.net, "batch": a.batch, "device": a.device, "device_name": device_name,
                       "math": a.math, "threads": a.threads, "placement": a.placement,
                       "iterations": a.iterations, "warmup": a.warmup, "torch": theirs[0][0][2],
                       "rounds": [{"ours_ms": o_, "ours_peak_bytes": op, "torch_ms": t_, "torch_peak_bytes": tp}
                                  for (o_, op), (t_, tp, _) in zip(ours, theirs[0])],
                       "median_ms": {"ours": o, "torch": t}, "ours_speed_vs_torch": t / o,
                       "columns": [{"python": py, "torch": c[0][2], "median_ms": m, "ours_speed_vs_torch": m / o}
                                   for py, c, m in zip(pythons, theirs, medians)]}, f, indent=1)
    if a.check_run:
        cross_check(a)


if __name__ == "__main__":
    sys.exit(main())
