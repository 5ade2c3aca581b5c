#!/usr/bin/env python3
"""alexnet info --json parses as JSON and describes the placed net: the paper's parameter count,
its exchange points, per-tower shapes and groups, under split, single and dense.

    check_info_json.py ALEXNET REPO_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile


def info(alexnet, *args):
    out = subprocess.run([alexnet, "info", *args, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def check(cond, what):
    if not cond:
        sys.exit(f"check_info_json: {what}")


def main():
    alexnet, repo = sys.argv[1], sys.argv[2]
    paper = f"{repo}/experiments/alexnet.toml"

    split = info(alexnet, paper, "--placement", "split")
    check(split["parameter_count"] == 60965224, f"split parameter_count {split['parameter_count']}")
    check(split["towers"] == 2 and split["placement"] == "split", "split: 2 towers")
    check(split["input"] == [3, 227, 227] and split["classes"] == 1000, "input and classes")
    nodes = {n["name"]: n for n in split["nodes"]}
    exchanges = [n["name"] for n in split["nodes"] if n["kind"] == "exchange"]
    check(exchanges == ["exchange.conv3", "exchange.fc6", "exchange.fc7", "exchange.fc8"], f"exchanges {exchanges}")
    check(sum(n["parameter_count"] for n in split["nodes"]) == 60965224, "node parameter counts add up")
    check(sum(n["exchange_bytes_per_item"] for n in split["nodes"]) == split["exchange_bytes_per_item"],
          "exchange bytes add up")
    conv2 = nodes["conv2"]
    check(conv2["type"] == "conv" and conv2["kind"] == "layer" and not conv2["reads_all"], "conv2 reads its own")
    check([t["out"] for t in conv2["towers"]] == [[128, 27, 27]] * 2, f"conv2 towers {conv2['towers']}")
    check(conv2["towers"][0]["kernel"] == 5 and conv2["towers"][0]["pad"] == 2, "conv2 kernel/pad")
    check({p["name"]: p["shape"] for p in conv2["params"]} == {"conv2.weight": [256, 48, 5, 5], "conv2.bias": [256]},
          f"conv2 params {conv2['params']}")
    check(nodes["conv3"]["reads_all"], "conv3 reads all maps")
    x3 = nodes["exchange.conv3"]
    check(x3["type"] == "exchange" and x3["consumer"] == "conv3", "exchange.conv3 names its consumer")
    check(x3["exchange_bytes_per_item"] == 2 * 128 * 13 * 13 * 4, f"exchange.conv3 bytes {x3['exchange_bytes_per_item']}")
    check([p["shape"] for p in nodes["fc6"]["params"]] == [[4096, 9216], [4096]], "fc6 logical shapes")
    check(nodes["fc6"]["towers"][0]["out_features"] == 2048, "fc6 per tower")
    lrn = nodes["norm1"]["towers"][0]
    check(lrn["alpha"] == 1e-4 and lrn["k"] == 2 and lrn["size"] == 5 and lrn["groups"] == 1, f"lrn {lrn}")

    single = info(alexnet, paper, "--placement", "single", "--classes", "10", "--input", "1,227,227")
    check(single["towers"] == 1 and single["classes"] == 10 and single["input"] == [1, 227, 227], "single overrides")
    check(not any(n["kind"] == "exchange" for n in single["nodes"]), "single has no exchange")
    s_nodes = {n["name"]: n for n in single["nodes"]}
    check(s_nodes["conv2"]["towers"][0]["groups"] == 2 and s_nodes["conv3"]["towers"][0]["groups"] == 1,
          "single: conv2 grouped, conv3 not")
    check(s_nodes["norm1"]["type"] == "lrn" and s_nodes["norm1"]["towers"][0]["groups"] == 2, "single: LRN grouped")

    dense = info(alexnet, paper, "--placement", "dense")
    check(dense["parameter_count"] == 62378344, f"dense parameter_count {dense['parameter_count']}")

    moved = info(alexnet, paper, "--exchange", "conv4,fc6,fc7,fc8")
    moved_exchanges = [n["name"] for n in moved["nodes"] if n["kind"] == "exchange"]
    check(moved_exchanges == ["exchange.conv4", "exchange.fc6", "exchange.fc7", "exchange.fc8"],
          f"--exchange moves the exchange points: {moved_exchanges}")
    # Strings are escaped: a file name and a net name with quotes, a backslash and a tab.
    with open(f"{repo}/experiments/alexnet-mini.toml") as f:
        text = f.read().replace('name = "alexnet-mini"', 'name = "mini \\"quoted\\" \\\\ \\t"', 1)
    with tempfile.TemporaryDirectory() as tmp:
        odd = os.path.join(tmp, 'a "b" \\ c.toml')
        with open(odd, "w") as f:
            f.write(text)
        escaped = info(alexnet, odd)
    check(escaped["network"] == odd, f"network path {escaped['network']!r}")
    check(escaped["name"] == 'mini "quoted" \\ \t', f"net name {escaped['name']!r}")
    print("info --json: ok")


if __name__ == "__main__":
    main()
