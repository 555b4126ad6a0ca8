#!/usr/bin/python3
"""Draws a partition as a stacked bar chart: samples of each class held by each client.

    scripts/plot_partition.py PARTITION_CSV_OR_RUN_DIR [--out FILE.png] [--max-clients N]

Reads partition.csv (client_id, class_0 .. class_{C-1}, total, then classes and emd, which are
not drawn), as written into every run directory and by flotilla-partition. Needs Debian's python3-matplotlib (no PyPI).
"""
import argparse
import csv
import os
import sys


def read_partition(path):
    if os.path.isdir(path):
        path = os.path.join(path, "partition.csv")
    with open(path) as f:
        reader = csv.DictReader(f)
        classes = [c for c in reader.fieldnames if c.startswith("class_")]
        rows = [(int(r["client_id"]), [int(r[c]) for c in classes]) for r in reader]
    if not rows:
        raise ValueError(f"{path} lists no clients")
    return path, classes, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("partition", help="partition.csv or a run directory holding one")
    parser.add_argument("--out", help="PNG to write (default: partition.png beside the CSV)")
    parser.add_argument("--max-clients", type=int, default=100, help="draw at most this many clients")
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_partition: matplotlib is missing; install Debian's python3-matplotlib", file=sys.stderr)
        return 3
    try:
        path, classes, rows = read_partition(args.partition)
    except (OSError, ValueError, KeyError) as e:
        print(f"plot_partition: cannot read {args.partition}: {e}", file=sys.stderr)
        return 2
    rows = rows[: args.max_clients]
    out = args.out or os.path.join(os.path.dirname(path) or ".", "partition.png")

    fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(rows) + 3), 4.5))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    bottom = [0] * len(rows)
    xs = [client for client, _ in rows]
    for c, name in enumerate(classes):
        heights = [counts[c] for _, counts in rows]
        ax.bar(xs, heights, bottom=bottom, color=cmap(c % cmap.N), label=name.replace("class_", "class "), width=0.85)
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set(title=f"Samples per class per client ({len(rows)} clients)", xlabel="client", ylabel="samples")
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
