#!/usr/bin/python3
"""Prints a comparison table of Flotilla runs.

    scripts/summarize_runs.py RUN_DIR [RUN_DIR ...] [--target 0.95] [--csv FILE]

For each run: rounds, final and best test accuracy, the first round reaching --target, mean client
divergence, total traffic and mean round time, read from metrics.jsonl.
"""
import argparse
import csv
import json
import os
import sys


def summarize(path, target):
    rows = []
    with open(os.path.join(path, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        raise ValueError("no completed rounds")
    accs = [r["test_accuracy"] for r in ok]
    reached = next((r["round"] for r in ok if r["test_accuracy"] >= target), None)
    divs = [r["mean_divergence"] for r in ok if r.get("mean_divergence") is not None]
    return {
        "run": os.path.basename(os.path.normpath(path)),
        "rounds": len(ok),
        "final_acc": accs[-1],
        "best_acc": max(accs),
        f"round_to_{target:g}": reached if reached is not None else "-",
        "mean_divergence": sum(divs) / len(divs) if divs else float("nan"),
        "MB_per_round": sum(r["bytes_sent"] + r["bytes_received"] for r in ok) / len(ok) / 1e6,
        "s_per_round": sum(r["round_seconds"] for r in ok) / len(ok),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--csv", help="also write the table as CSV")
    args = parser.parse_args()
    table = []
    for path in args.runs:
        try:
            table.append(summarize(path, args.target))
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
            print(f"summarize_runs: cannot read {path}: {e}", file=sys.stderr)
            return 2
    keys = list(table[0].keys())
    fmt = {float: lambda v: f"{v:.4f}"}
    cells = [[fmt.get(type(row[k]), str)(row[k]) for k in keys] for row in table]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
