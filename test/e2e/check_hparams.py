#!/usr/bin/env python3
"""Reads the HParams records of training runs with TensorBoard's own reader (the PyPI package's
EventAccumulator and its hparams plugin's parser), as TensorBoard's HParams tab would, and checks
that each run is one session with its settings and its final figures:

    check_hparams.py RUN_DIR=PARALLEL,PLACEMENT,PROCESSES ...

Prints the table TensorBoard would show (one row per run).
"""
import glob
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata


def fail(message):
    print("check_hparams: " + message)
    sys.exit(1)


def session(run):
    start, end, scalars = None, None, {}
    for path in sorted(glob.glob(run + "/tensorboard/events.out.tfevents.*")):
        acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.TENSORS: 0})
        acc.Reload()
        for tag, content in acc.PluginTagToContent(metadata.PLUGIN_NAME).items():
            if tag == metadata.SESSION_START_INFO_TAG:
                start = metadata.parse_session_start_info_plugin_data(content)
            elif tag == metadata.SESSION_END_INFO_TAG:
                end = metadata.parse_session_end_info_plugin_data(content)
        for tag in acc.Tags()["scalars"]:
            if tag.startswith("hparams/"):
                scalars[tag] = acc.Scalars(tag)[-1].value
    return start, end, scalars


def value(v):
    kind = v.WhichOneof("kind")
    return getattr(v, kind)


rows = []
for arg in sys.argv[1:]:
    run, want = arg.split("=")
    parallel, placement, processes = want.split(",")
    start, end, scalars = session(run)
    if start is None:
        fail(run + ": no session_start_info")
    h = {k: value(v) for k, v in start.hparams.items()}
    if h.get("parallel") != parallel or h.get("placement") != placement or int(h.get("processes", 0)) != int(processes):
        fail("%s: hparams %s, expected parallel %s, placement %s, %s processes" % (run, h, parallel, placement, processes))
    if end is None or end.status != 1:
        fail(run + ": no session_end_info of a success")
    for tag in ("hparams/val_top1_error", "hparams/val_top5_error", "hparams/images_per_s"):
        if tag not in scalars:
            fail("%s: no %s scalar" % (run, tag))
    rows.append((run.rstrip("/").split("/")[-1], h["parallel"], h["placement"], int(h["processes"]), h["batch"],
                 scalars["hparams/val_top1_error"], scalars["hparams/images_per_s"]))
print("check_hparams: TensorBoard's reader finds %d sessions:" % len(rows))
print("  %-10s %-11s %-9s %9s %6s %14s %10s" % ("run", "parallel", "placement", "processes", "batch", "val top-1 err",
                                               "images/s"))
for r in rows:
    print("  %-10s %-11s %-9s %9d %6g %14.4f %10.1f" % r)
