#!/usr/bin/env python3
"""McMahan et al. 2017, Table 2 (MNIST CNN): rounds to the target accuracy, measured beside the paper's.

    table.py RUN_DIR... [--target 0.99] [--csv PATH] [--markdown PATH]
    table.py --paper-rounds SPLIT ROW [--times K]     the paper's rounds for a row (times K, rounded)

A run directory is named <split>-<row>-lr<LR> (examples/mcmahan/run.sh); of several rates for one
(split, row), the one that reached the target in the fewest rounds is the row's (the paper's grid
search). Standard library only.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from plot_metrics import load_run  # noqa: E402  (metrics.jsonl rows and config.json of a run)

ROWS = ["fedsgd", "e5-ball", "e1-b50", "e20-ball", "e1-b10", "e5-b50", "e20-b50", "e5-b10", "e20-b10"]
LABELS = {
    "fedsgd": "FedSGD (E=1, B=all)",
    "e5-ball": "FedAvg E=5, B=all",
    "e1-b50": "FedAvg E=1, B=50",
    "e20-ball": "FedAvg E=20, B=all",
    "e1-b10": "FedAvg E=1, B=10",
    "e5-b50": "FedAvg E=5, B=50",
    "e20-b50": "FedAvg E=20, B=50",
    "e5-b10": "FedAvg E=5, B=10",
    "e20-b10": "FedAvg E=20, B=10",
}
# Table 2 of the paper, CNN, rounds to 99% test accuracy (C = 0.1).
PAPER = {
    "iid": dict(zip(ROWS, [626, 179, 65, 234, 34, 29, 32, 20, 18])),
    "noniid": dict(zip(ROWS, [483, 1000, 600, 672, 350, 334, 426, 229, 173])),
}


def rounds_to(rows, target):
    for r in rows:
        accuracy = r.get("test_accuracy")
        if r.get("status") == "ok" and accuracy is not None and accuracy >= target:
            return r["round"]
    return None


def parse_name(path):
    name = os.path.basename(os.path.normpath(path))
    split, rest = name.split("-", 1)
    row, lr = rest.rsplit("-lr", 1)
    return split, row, float(lr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*")
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--csv")
    parser.add_argument("--markdown")
    parser.add_argument("--paper-rounds", nargs=2, metavar=("SPLIT", "ROW"))
    parser.add_argument("--times", type=float, default=1.0)
    args = parser.parse_args()
    if args.paper_rounds:
        split, row = args.paper_rounds
        print(int(round(PAPER[split][row] * args.times)))
        return 0

    best = {}  # (split, row) -> measured
    for path in args.runs:
        split, row, lr = parse_name(path)
        rows, _ = load_run(path)
        reached = rounds_to(rows, args.target)
        wall = None
        wall_file = os.path.join(path, "wall_seconds")
        if os.path.exists(wall_file):
            wall = float(open(wall_file).read().strip())
        measured = {
            "split": split, "row": row, "lr": lr, "rounds": reached, "ran": len(rows),
            "best_accuracy": max((r["test_accuracy"] for r in rows if r.get("test_accuracy") is not None), default=0.0),
            "minutes": wall / 60 if wall is not None else None,
        }
        key = (split, row)
        if key not in best or (reached is not None and (best[key]["rounds"] is None or reached < best[key]["rounds"])):
            best[key] = measured

    header = "| split | row | lr | rounds to {:.0%} | paper | measured / paper | best accuracy | minutes |".format(args.target)
    lines = [header, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    out_rows = []
    for split in ("iid", "noniid"):
        for row in ROWS:
            m = best.get((split, row))
            if not m:
                continue
            paper = PAPER[split][row]
            rounds = m["rounds"]
            ratio = "{:.2f}".format(rounds / paper) if rounds else "-"
            shown = str(rounds) if rounds else "not in {}".format(m["ran"])
            minutes = "{:.1f}".format(m["minutes"]) if m["minutes"] is not None else "-"
            lines.append("| {} | {} | {:g} | {} | {} | {} | {:.4f} | {} |".format(
                "IID" if split == "iid" else "non-IID", LABELS[row], m["lr"], shown, paper, ratio,
                m["best_accuracy"], minutes))
            out_rows.append(dict(m, paper=paper))
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["split", "row", "lr", "rounds", "paper", "ran", "best_accuracy",
                                                   "minutes"], lineterminator="\n")
            writer.writeheader()
            for m in out_rows:
                writer.writerow({k: m[k] for k in writer.fieldnames})
    return 0


if __name__ == "__main__":
    sys.exit(main())
