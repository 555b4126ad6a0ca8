#!/usr/bin/python3
"""Plots one or several Flotilla runs on shared axes.

    scripts/plot_metrics.py RUN_DIR [RUN_DIR ...] [--out DIR]

Reads each run's metrics.jsonl and config.json and writes, into --out (default: the first run
directory, or the current folder for several runs):
  accuracy.png        global test accuracy and loss per round
  bytes.png           bytes sent and received per round
  divergence.png      mean and max client divergence ||w_k - w_prev|| / ||w_prev|| per round
  class_accuracy.png  per-class test accuracy per round (one panel per run)
Needs Debian's python3-matplotlib (no PyPI).
"""
import argparse
import json
import os
import sys


def load_run(path):
    rows = []
    with open(os.path.join(path, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    config = {}
    config_path = os.path.join(path, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            config = json.load(f)
    return rows, config


def compact(value):
    """'0.500000' -> '0.5'; anything that is not a number stays as it is."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def label_of(path, config):
    """A legend entry that tells runs apart: what differs in practice."""
    if not config:
        return os.path.basename(os.path.normpath(path))
    parts = [config.get("aggregator", "?"), config.get("partitioner", "?")]
    # The options that shape the skew; sizes and retry limits would only clutter the legend.
    options = config.get("partitioner_options", {})
    shown = [compact(options[k]) for k in ("alpha", "shards_per_client", "labels_per_client") if k in options]
    if shown:
        parts[-1] += "(" + ",".join(shown) + ")"
    if config.get("prox_mu"):
        parts.append(f"mu={config['prox_mu']:g}")
    parts.append(f"{config.get('clients', '?')} clients")
    return f"{os.path.basename(os.path.normpath(path))}: " + ", ".join(parts)


def series(rows, key):
    xs = [r["round"] for r in rows if r.get(key) is not None and r.get("status") == "ok"]
    ys = [r[key] for r in rows if r.get(key) is not None and r.get("status") == "ok"]
    return xs, ys


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--out", help="folder for the PNGs")
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_metrics: matplotlib is missing; install Debian's python3-matplotlib", file=sys.stderr)
        return 3

    runs = []
    for path in args.runs:
        try:
            rows, config = load_run(path)
        except (OSError, json.JSONDecodeError) as e:
            print(f"plot_metrics: cannot read run {path}: {e}", file=sys.stderr)
            return 2
        if not rows:
            print(f"plot_metrics: {path} has no rounds yet", file=sys.stderr)
            return 2
        runs.append((path, rows, config, label_of(path, config)))
    out = args.out or (args.runs[0] if len(args.runs) == 1 else ".")
    os.makedirs(out, exist_ok=True)
    written = []

    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
    for _, rows, _, label in runs:
        ax_acc.plot(*series(rows, "test_accuracy"), marker="o", ms=3, label=label)
        ax_loss.plot(*series(rows, "test_loss"), marker="o", ms=3, label=label)
    ax_acc.set(title="Global test accuracy", xlabel="round", ylabel="accuracy")
    ax_loss.set(title="Global test loss", xlabel="round", ylabel="cross-entropy")
    for ax in (ax_acc, ax_loss):
        style_round_axis(ax)
    ax_acc.legend(fontsize=8, framealpha=0.7)
    written.append(save(fig, out, "accuracy.png"))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for _, rows, _, label in runs:
        xs, sent = series(rows, "bytes_sent")
        _, received = series(rows, "bytes_received")
        ax.plot(xs, [b / 1e6 for b in sent], marker="o", ms=3, label=f"{label} (to clients)")
        ax.plot(xs, [b / 1e6 for b in received], marker="x", ms=3, ls="--", label=f"{label} (from clients)")
    ax.set(title="Traffic per round", xlabel="round", ylabel="MB")
    style_round_axis(ax)
    ax.legend(fontsize=8, framealpha=0.7)
    written.append(save(fig, out, "bytes.png"))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for _, rows, _, label in runs:
        line, = ax.plot(*series(rows, "mean_divergence"), marker="o", ms=3, label=f"{label} mean")
        ax.plot(*series(rows, "max_divergence"), ls="--", color=line.get_color(), label=f"{label} max")
    ax.set(title="Client drift ||w_k - w_prev|| / ||w_prev||", xlabel="round", ylabel="relative divergence")
    style_round_axis(ax)
    ax.legend(fontsize=8, framealpha=0.7)
    written.append(save(fig, out, "divergence.png"))

    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4.5), squeeze=False)
    for ax, (_, rows, _, label) in zip(axes[0], runs):
        ok = [r for r in rows if r.get("status") == "ok" and r.get("class_accuracy")]
        if ok:
            for c in range(len(ok[0]["class_accuracy"])):
                ys = [r["class_accuracy"][c] for r in ok]
                ax.plot([r["round"] for r in ok], [y if y is not None else float("nan") for y in ys], label=f"class {c}")
        ax.set(title=f"Per-class accuracy\n{label}", xlabel="round", ylabel="accuracy", ylim=(0, 1))
        style_round_axis(ax)
        ax.legend(fontsize=7, ncol=2, framealpha=0.7)
    written.append(save(fig, out, "class_accuracy.png"))

    for path in written:
        print(path)
    return 0


def style_round_axis(ax):
    """Rounds are whole numbers: no 2.5 on the x axis."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def save(fig, out, name):
    import matplotlib.pyplot as plt
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())
