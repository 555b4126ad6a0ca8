#!/usr/bin/env python3
"""Plots of bench/topologies.sh's results, written into OUT_DIR:
   accuracy.png  test accuracy vs seconds from launch and vs cumulative bytes per client (log), one line per run;
   bytes.png     each run's bytes per client per round (async: per update), measured beside the formula (log).
   bench/plot_topologies.py OUT_DIR   (the folder holding topologies.sh's summary.csv and curves.csv)"""
import argparse, csv, os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ap = argparse.ArgumentParser()
ap.add_argument("out_dir")
a = ap.parse_args()
summary = [r for r in csv.DictReader(open(os.path.join(a.out_dir, "summary.csv"))) if r["status"] == "ok"]
curves = [r for r in csv.DictReader(open(os.path.join(a.out_dir, "curves.csv"))) if r.get("accuracy")]
if not summary:
    print("no run finished: nothing to plot")
    raise SystemExit(0)

fig, (by_time, by_bytes) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for r in summary:
    pts = [c for c in curves if c["run"] == r["run"]]
    acc = [float(c["accuracy"]) for c in pts]
    by_time.plot([float(c["seconds"]) for c in pts], acc, marker=".", label=r["run"])
    by_bytes.plot([float(c["bytes_per_client"]) / 1e6 for c in pts], acc, marker=".", label=r["run"])
by_time.set_xlabel("seconds from launch")
by_bytes.set_xscale("log")  # gradient sync moves two orders of magnitude more than the others
by_bytes.set_xlabel("cumulative MB per client, log (star, async: down + up; ring, gossip: to peers)")
by_time.set_ylabel("test accuracy (gossip: of the clients' average)")
for ax in (by_time, by_bytes):
    ax.grid(True, alpha=0.3)
by_bytes.legend(fontsize=8)
fig.suptitle("accuracy by topology (bench/topologies.sh)")
fig.tight_layout()
fig.savefig(os.path.join(a.out_dir, "accuracy.png"), dpi=120)

fig, ax = plt.subplots(figsize=(7, 4.5))
x = range(len(summary))
ax.bar([i - 0.2 for i in x], [float(r["client_bytes"]) / 1e6 for r in summary], width=0.4, label="measured")
ax.bar([i + 0.2 for i in x], [float(r["formula_bytes"]) / 1e6 for r in summary], width=0.4, label="formula")
ax.set_xticks(list(x))
ax.set_xticklabels([r["run"] for r in summary], rotation=20)
ax.set_yscale("log")
ax.set_ylabel("MB per client per round (async: per update), log scale")
ax.set_title("bytes per client: measured vs analytic formula")
ax.legend()
ax.grid(True, axis="y", alpha=0.3)
fig.tight_layout()
fig.savefig(os.path.join(a.out_dir, "bytes.png"), dpi=120)
print("plots:", os.path.join(a.out_dir, "accuracy.png"), os.path.join(a.out_dir, "bytes.png"))
