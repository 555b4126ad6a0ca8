#!/usr/bin/env python3
"""The DP study's table and plots from its runs' metrics.jsonl: per run the epsilon spent, the
noise multiplier and clip norm, and the final and best test accuracy. Writes OUT/summary.csv and,
when matplotlib is there, OUT/accuracy.png and OUT/accuracy_vs_epsilon.png.
Usage: summarize.py --out OUT RUN_DIR..."""
import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from plot_metrics import load_run  # noqa: E402  (metrics.jsonl rows and config.json of a run)


def accuracy(r):
    a = r.get("test_accuracy")
    return a if isinstance(a, (int, float)) and not math.isnan(a) else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    rows, curves = [], []
    for run in args.runs:
        rounds, config = load_run(run)
        accs = [a for a in (accuracy(r) for r in rounds) if a is not None]
        last = rounds[-1] if rounds else {}
        policy = last.get("policy", {})
        dp = config.get("dp", "off")
        options = config.get("dp_options", {})
        rows.append({
            "run": os.path.basename(run.rstrip("/")),
            "dp": dp,
            "epsilon": policy.get("epsilon", float("inf")) if dp != "off" else float("inf"),
            "delta": policy.get("dp_delta", ""),
            "noise_multiplier": options.get("noise_multiplier", "") if dp != "off" else "",
            "clip_norm": options.get("clip_norm", "") if dp != "off" else "",
            "rounds": len(rounds),
            "final_acc": accs[-1] if accs else float("nan"),
            "best_acc": max(accs) if accs else float("nan"),
        })
        curves.append((rows[-1]["run"], [r["round"] for r in rounds if accuracy(r) is not None], accs))
    header = ["run", "dp", "epsilon", "delta", "noise_multiplier", "clip_norm", "rounds", "final_acc", "best_acc"]
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    print(f"{'run':<14} {'epsilon':>8} {'delta':>8} {'z':>8} {'C':>5} {'rounds':>6} {'final acc':>9} {'best acc':>9}")
    for r in rows:
        eps = "inf" if math.isinf(r["epsilon"]) else f"{r['epsilon']:.3f}"
        z = f"{float(r['noise_multiplier']):.3f}" if r["noise_multiplier"] != "" else "-"
        c = r["clip_norm"] if r["clip_norm"] != "" else "-"
        delta = f"{r['delta']:g}" if r["delta"] != "" else "-"
        print(f"{r['run']:<14} {eps:>8} {delta:>8} {z:>8} {c:>5} {r['rounds']:>6} {r['final_acc']:>9.4f} {r['best_acc']:>9.4f}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, xs, ys in curves:
        ax.plot(xs, ys, label=name)
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy")
    ax.set_title("DP-FedAvg: accuracy per round")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "accuracy.png"), dpi=120)
    private = [r for r in rows if not math.isinf(r["epsilon"])]
    if private:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([r["epsilon"] for r in private], [r["final_acc"] for r in private], "o-", label="DP-FedAvg")
        plain = [r for r in rows if math.isinf(r["epsilon"])]
        if plain:
            ax.axhline(plain[0]["final_acc"], color="gray", linestyle="--", label="no DP")
        ax.set_xscale("log")
        ax.set_xlabel("epsilon spent (log scale)")
        ax.set_ylabel("final test accuracy")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "accuracy_vs_epsilon.png"), dpi=120)


if __name__ == "__main__":
    main()
