#!/usr/bin/python3
"""Plots the NIID-Bench runs' test accuracy per round: one panel per (dataset, partition), one line
per algorithm, and NIID-Bench's published number as a dotted line in the algorithm's colour.

    examples/niid_bench/plot_curves.py RUN_DIR [RUN_DIR ...] [--out accuracy.png]

Needs Debian's python3-matplotlib (no PyPI).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_table import ALGORITHM_TITLES, PAPER, PARTITION_TITLES, build_table, load_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--out", default="accuracy.png", help="the PNG to write")
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        print("plot_curves: matplotlib is missing; install Debian's python3-matplotlib", file=sys.stderr)
        return 3
    runs = []
    for path in args.runs:
        try:
            runs.append(load_run(path))
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
            print(f"plot_curves: cannot read {path}: {e}", file=sys.stderr)
            return 2
    rows, algorithms, cells = build_table(runs)
    colours = {a: f"C{i}" for i, a in enumerate(algorithms)}
    columns = min(2, len(rows))
    lines = (len(rows) + columns - 1) // columns
    fig, axes = plt.subplots(lines, columns, figsize=(6 * columns, 4.2 * lines), squeeze=False)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    for ax, (d, p) in zip(axes.flat, rows):
        for a in algorithms:
            run = cells.get((d, p, a))
            if run is None:
                continue
            xs, ys = zip(*run["curve"])
            ax.plot(xs, ys, marker="o", ms=3, color=colours[a], label=ALGORITHM_TITLES.get(a, a))
            published = PAPER.get((d, p), {}).get(a)
            if published is not None:
                ax.axhline(published, ls=":", lw=1, color=colours[a])
        ax.set(title=f"{d} {PARTITION_TITLES.get(p, p)}", xlabel="round", ylabel="test accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, framealpha=0.7, title="dotted: NIID-Bench", title_fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    plt.close(fig)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
