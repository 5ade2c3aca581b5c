"""What Holistic Trace Analysis (HTA, PyPI HolisticTraceAnalysis) makes of an `alexnet time --trace` file.

Run:  .venv-hta/bin/python experiments/trace/hta_check.py TRACE.json[.gz] [as-is|split|adapted ...]

It builds, in a temporary folder, the trace folder that HTA's TraceAnalysis(trace_dir=...) reads
(every *.json / *.json.gz file in it; each file's rank is the first `"rank": N` in its text, from a
top-level "distributedInfo": {"rank": N}; a file without one is taken as rank 0), runs TraceAnalysis
and each analysis below, and prints, one line each, what it returned or the exception it raised.
Three forms of the folder (all by default):

  as-is    the merged file, copied unchanged (HTA sees one rank, rank 0)
  split    one file per "pid" (our rank), rank_R.json, with "distributedInfo": {"rank": R} added and
           that rank's events unchanged
  adapted  split, and our events recast as a PyTorch-profiler trace. ASSUMPTIONS (HTA's model is a
           CPU thread launching GPU kernels; our trace has no such thing, so all of this is made up):
           - every "X" event (forward/backward/sgd/copy/all-reduce) becomes a GPU kernel: cat "kernel",
             args.stream = its thread lane id (tid), args.correlation = a fresh id (from 100001: HTA 0.5.0 fails under
             pandas 3 when the ids fit int8), args.device = 0;
             HTA takes an event as a GPU kernel when stream >= 0 and correlation >= 0
           - HTA classes kernels by name: exchanges (args.type "exchange") and the gradient all-reduce
             are renamed "ncclKernel <name>" (communication), the input copy "Memcpy HtoD <name>"
             (memory); every other name is kept (computation)
           - each kernel gets a launch: cat "cuda_runtime", name "cudaLaunchKernel" (or "cudaMemcpyAsync"
             for the copy), on the "trainer" lane (tid 1), ts = the kernel's ts, dur 1 us, same
             correlation; so launch delays and queue lengths are artefacts, not measurements
           - each step (args.step) gets a cpu_op "ProfilerStep#<step>" on tid 1 spanning that step's
             events (HTA's iterations); TraceAnalysis is built with include_last_profiler_step=True
           - ts/dur stay in microseconds (what HTA expects); HTA itself rounds float times to whole us
           - flow ("s"/"f") and metadata ("M") events are dropped (HTA drops events without "dur")
"""
import gzip, json, logging, os, sys, tempfile, traceback
from collections import defaultdict

from hta.trace_analysis import TraceAnalysis


def load(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rt") as f:
        return json.load(f)


def by_rank(trace):
    ranks = defaultdict(list)
    for e in trace["traceEvents"]:
        ranks[e["pid"]].append(e)
    return ranks


def adapt(events):
    # correlation ids start high, as PyTorch's do: HTA downcasts the column (int8 for ids < 128)
    # and then stores event indices in a copy of it, which pandas 3 refuses when they overflow
    out, steps, corr = [], defaultdict(lambda: [float("inf"), 0.0]), 100_000
    for e in events:
        if e["ph"] != "X":
            continue
        corr += 1
        args, name = dict(e.get("args", {})), e["name"]
        comm = e["cat"] == "all-reduce" or args.get("type") == "exchange"
        if comm:
            name = "ncclKernel " + name
        elif e["cat"] == "copy":
            name = "Memcpy HtoD " + name
        args.update(stream=e["tid"], correlation=corr, device=0)
        out.append(dict(e, name=name, cat="kernel", args=args))
        launch = "cudaMemcpyAsync" if e["cat"] == "copy" else "cudaLaunchKernel"
        out.append({"ph": "X", "cat": "cuda_runtime", "name": launch, "pid": e["pid"], "tid": 1,
                    "ts": e["ts"], "dur": 1, "args": {"correlation": corr}})
        if "step" in args:
            span = steps[args["step"]]
            span[0], span[1] = min(span[0], e["ts"]), max(span[1], e["ts"] + e["dur"])
    for step, (start, end) in sorted(steps.items()):
        out.append({"ph": "X", "cat": "cpu_op", "name": f"ProfilerStep#{step}", "pid": events[0]["pid"],
                    "tid": 1, "ts": start, "dur": end - start, "args": {}})
    return out


def write_folder(folder, trace, form):
    if form == "as-is":
        json.dump(trace, open(os.path.join(folder, "merged.json"), "w"))
        return
    for rank, events in by_rank(trace).items():
        events = adapt(events) if form == "adapted" else events
        doc = {"distributedInfo": {"rank": rank}, "displayTimeUnit": trace.get("displayTimeUnit", "ms"),
               "traceEvents": events}
        json.dump(doc, open(os.path.join(folder, f"rank_{rank}.json"), "w"))


ANALYSES = {
    "get_profiler_steps": lambda a: a.get_profiler_steps(),
    "get_temporal_breakdown": lambda a: a.get_temporal_breakdown(visualize=False),
    "get_idle_time_breakdown": lambda a: a.get_idle_time_breakdown(visualize=False),
    "get_gpu_kernel_breakdown": lambda a: a.get_gpu_kernel_breakdown(visualize=False),
    "get_comm_comp_overlap": lambda a: a.get_comm_comp_overlap(visualize=False),
    "get_cuda_kernel_launch_stats": lambda a: a.get_cuda_kernel_launch_stats(visualize=False),
    "get_queue_length_summary": lambda a: a.get_queue_length_summary(),
    "get_memory_bw_summary": lambda a: a.get_memory_bw_summary(),
    "get_potential_stragglers": lambda a: a.get_potential_stragglers(),
}


def one_line(x):
    text = x.to_string(max_rows=8, max_cols=10) if hasattr(x, "to_string") else repr(x)
    return " | ".join(line.strip() for line in text.splitlines())[:600]


def check(path, form):
    trace = load(path)
    with tempfile.TemporaryDirectory() as folder:
        write_folder(folder, trace, form)
        print(f"== {os.path.basename(path)} [{form}]: {sorted(os.listdir(folder))}")
        try:
            analysis = TraceAnalysis(trace_dir=folder, include_last_profiler_step=(form == "adapted"))
        except Exception as e:  # noqa: BLE001 - reporting what HTA raised is the point
            print(f"  TraceAnalysis: {type(e).__name__}: {e}")
            return
        print(f"  TraceAnalysis: ranks {analysis.t.get_ranks()}, events per rank "
              f"{ {r: len(df) for r, df in analysis.t.get_all_traces().items()} }")
        for name, run in ANALYSES.items():
            try:
                result = run(analysis)
                if isinstance(result, tuple):
                    result = " || ".join(one_line(r) for r in result)
                print(f"  {name}: {one_line(result) if not isinstance(result, str) else result}")
            except Exception as e:  # noqa: BLE001
                where = traceback.extract_tb(e.__traceback__)[-1]
                print(f"  {name}: {type(e).__name__}: {e} (at {os.path.basename(where.filename)}:{where.lineno})")


if __name__ == "__main__":
    logging.disable(logging.WARNING)  # HTA logs warnings per call; the results are printed instead
    path, forms = sys.argv[1], sys.argv[2:] or ["as-is", "split", "adapted"]
    for form in forms:
        check(path, form)
