#!/usr/bin/env python3
"""Tables and plots of the async_delays study (run_study.sh): one run directory per setting.

    analyse.py OUT [--targets 0.3,0.8] [--no-plots]

Prints Markdown tables on stdout and writes accuracy_<split>.png, sync_vs_async_<split>.png and
staleness_hist.png into OUT.

Time is virtual seconds (clock=virtual, step_cost=1 s a local batch):
  * async runs: policy.virtual_time of the version, as the coordinator's virtual clock recorded it;
  * sync runs (FedAvg has no delay model): each round is charged what it would take under the
    delay model the row names, i.e. max over the round's clients c of
        slowdown(c) * (local_steps(c) * step_cost + sum of local_steps(c) per-batch delay draws),
    the draws being N(mean, std^2) truncated at 0 by redrawing, as async/delay_model.h does,
    but from numpy (seed 0), not the coordinator's hash stream: the same distribution, not the
    same numbers. The round's wall of the slowest client is what a synchronous round waits for.
Time (or updates) to a target is that of the first evaluated version at or above the target,
so it is only as fine as the evaluation interval (every 10 updates in run_study.sh).
"""
import argparse
import json
import os
import re
import sys

import numpy as np

# The delay models of run_study.sh: (mean, std) per batch, slow clients and their factor.
DELAYS = {
    "none": (0.0, 0.0, (), 1.0),
    "small": (0.1, 0.05, (), 1.0),
    "large": (2.0, 2.0, (), 1.0),
    "slow": (0.1, 0.05, (3,), 5.0),
}
STEP_COST = 1.0
NAME = re.compile(r"^(?P<kind>fa|fb|sync)-(?P<split>iid|label)-m(?P<mom>[0-9.]+)(?:-(?P<delay>[a-z]+))?(?P<variant>-.+)?$")


def load(run_dir):
    rows = []
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def truncated_normal(rng, mean, std, n):
    if std == 0:
        return np.full(n, mean)
    out = rng.normal(mean, std, n)
    bad = out < 0
    while bad.any():
        out[bad] = rng.normal(mean, std, bad.sum())
        bad = out < 0
    return out


def sync_round_times(rows, delay):
    mean, std, slow, factor = DELAYS[delay]
    rng = np.random.default_rng(0)
    times = []
    for r in rows:
        worst = 0.0
        for c in r["clients"]:
            if c.get("status") != "ok":
                continue
            steps = int(c["local_steps"])
            f = factor if c["client_id"] in slow else 1.0
            worst = max(worst, f * (steps * STEP_COST + truncated_normal(rng, mean, std, steps).sum()))
        times.append(worst)
    return np.cumsum(times)


def curve(rows, delay=None, sync=False):
    """(updates, virtual_time, accuracy) at every evaluated version."""
    updates = np.cumsum([r.get("answered", 0) for r in rows])
    if sync:
        vt = sync_round_times(rows, delay)
    else:
        vt = np.array([r["policy"].get("virtual_time", np.nan) for r in rows])
    pts = [(int(u), float(t), r["test_accuracy"]) for u, t, r in zip(updates, vt, rows) if r.get("test_accuracy") is not None]
    return pts


def first_at(pts, target):
    for u, t, a in pts:
        if a >= target:
            return u, t
    return None, None


def staleness(rows):
    return [c["policy"]["staleness"] for r in rows for c in r["clients"] if c.get("status") == "ok" and "staleness" in c.get("policy", {})]


def fmt(x, nd=0):
    if x is None:
        return "-"
    return f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--targets", default="0.3,0.8")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    targets = [float(t) for t in args.targets.split(",")]

    runs = {}
    for name in sorted(os.listdir(args.out)):
        d = os.path.join(args.out, name)
        m = NAME.match(name)
        if m and os.path.isfile(os.path.join(d, "metrics.jsonl")):
            runs[name] = (m.groupdict(), load(d))
    if not runs:
        sys.exit(f"analyse: no run directories in {args.out}")

    tgt_cols = " | ".join(f"updates to {t:.2f} | vtime to {t:.2f}" for t in targets)
    tgt_sep = " | ".join("---: | ---:" for _ in targets)

    def row_cells(pts):
        cells = []
        for t in targets:
            u, vt = first_at(pts, t)
            cells += [fmt(u), fmt(vt)]
        return " | ".join(cells)

    # Table 1: the FedAsync grid.
    print("### FedAsync (polynomial staleness a=0.5, C=10): delay x split x momentum\n")
    print(f"| split | momentum | delay | final acc | best acc | {tgt_cols} | mean staleness | max staleness | vtime at end |")
    print(f"| --- | ---: | --- | ---: | ---: | {tgt_sep} | ---: | ---: | ---: |")
    for split in ("iid", "label"):
        for mom in ("0", "0.9"):
            for delay in DELAYS:
                name = f"fa-{split}-m{mom}-{delay}"
                if name not in runs:
                    continue
                rows = runs[name][1]
                pts = curve(rows)
                st = staleness(rows)
                print(f"| {split} | {mom} | {delay} | {pts[-1][2]:.4f} | {max(a for _, _, a in pts):.4f} | {row_cells(pts)} "
                      f"| {np.mean(st):.2f} | {max(st):.0f} | {pts[-1][1]:.0f} |")

    # Table 2: sync vs async under the same delays.
    print("\n### Sync FedAvg vs FedAsync vs FedBuff, momentum 0.9, same delays\n")
    print(f"| split | delay | rule | final acc | {tgt_cols} | vtime at end | mean / max staleness |")
    print(f"| --- | --- | --- | ---: | {tgt_sep} | ---: | --- |")
    for split in ("iid", "label"):
        for delay in DELAYS:
            for label, name, sync in ((f"sync FedAvg (10/round)", f"sync-{split}-m0.9", True),
                                      ("FedAsync poly", f"fa-{split}-m0.9-{delay}", False),
                                      ("FedBuff K=5", f"fb-{split}-m0.9-{delay}", False)):
                if name not in runs or (sync and f"fa-{split}-m0.9-{delay}" not in runs):
                    continue
                rows = runs[name][1]
                pts = curve(rows, delay, sync)
                st = staleness(rows)
                stal = f"{np.mean(st):.2f} / {max(st):.0f}" if st else "0 / 0"
                print(f"| {split} | {delay} | {label} | {pts[-1][2]:.4f} | {row_cells(pts)} | {pts[-1][1]:.0f} | {stal} |")

    # Table 3: staleness weighting and DC-ASGD.
    print("\n### Staleness weighting and DC-ASGD under large delays (label split, momentum 0.9)\n")
    print(f"| run | final acc | best acc | {tgt_cols} | mean / max staleness |")
    print(f"| --- | ---: | ---: | {tgt_sep} | --- |")
    for label, name in (("FedAsync, constant s(tau)=1", "fa-label-m0.9-large-const"),
                        ("FedAsync, polynomial a=0.5", "fa-label-m0.9-large"),
                        ("FedAsync, polynomial a=0.5 + DC-ASGD lambda=0.5", "fa-label-m0.9-large-dc")):
        if name not in runs:
            continue
        rows = runs[name][1]
        pts = curve(rows)
        st = staleness(rows)
        print(f"| {label} | {pts[-1][2]:.4f} | {max(a for _, _, a in pts):.4f} | {row_cells(pts)} | {np.mean(st):.2f} / {max(st):.0f} |")

    if args.no_plots:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(no matplotlib: plots skipped)", file=sys.stderr)
        return

    colours = {"none": "tab:blue", "small": "tab:green", "large": "tab:red", "slow": "tab:purple"}
    for split in ("iid", "label"):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
        drawn = False
        for ax, mom in zip(axes, ("0", "0.9")):
            for delay in DELAYS:
                name = f"fa-{split}-m{mom}-{delay}"
                if name in runs:
                    pts = curve(runs[name][1])
                    ax.plot([p[1] for p in pts], [p[2] for p in pts], marker=".", color=colours[delay], label=delay)
                    drawn = True
            ax.set_title(f"FedAsync, {split}, momentum {mom}")
            ax.set_xlabel("virtual seconds")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("test accuracy")
        if axes[1].get_legend_handles_labels()[0]:
            axes[1].legend(title="delay")
        fig.tight_layout()
        if drawn:
            fig.savefig(os.path.join(args.out, f"accuracy_{split}.png"), dpi=80)
        plt.close(fig)

        fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharey=True)
        drawn = False
        for ax, delay in zip(axes, DELAYS):
            for label, name, sync, style in (("sync FedAvg", f"sync-{split}-m0.9", True, "k-"),
                                             ("FedAsync", f"fa-{split}-m0.9-{delay}", False, "C0-"),
                                             ("FedBuff", f"fb-{split}-m0.9-{delay}", False, "C1-")):
                if name in runs:
                    pts = curve(runs[name][1], delay, sync)
                    ax.plot([p[1] for p in pts], [p[2] for p in pts], style, marker=".", label=label)
                    drawn = True
            ax.set_title(f"{split}, delay {delay}")
            ax.set_xlabel("virtual seconds")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("test accuracy (momentum 0.9)")
        if axes[0].get_legend_handles_labels()[0]:
            axes[0].legend()
        fig.tight_layout()
        if drawn:
            fig.savefig(os.path.join(args.out, f"sync_vs_async_{split}.png"), dpi=80)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.4))
    for delay in DELAYS:
        name = f"fa-iid-m0.9-{delay}"
        if name in runs:
            st = staleness(runs[name][1])
            ax.hist(st, bins=np.arange(0, max(st) + 2) - 0.5, histtype="step", color=colours[delay], label=delay)
    ax.set_xlabel("staleness tau of an applied update (versions)")
    ax.set_ylabel("updates")
    ax.set_yscale("log")
    ax.set_title("FedAsync, C=10, IID, momentum 0.9")
    ax.legend(title="delay")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "staleness_hist.png"), dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
