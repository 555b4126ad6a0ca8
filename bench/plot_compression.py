#!/usr/bin/env python3
"""Bytes of updates per round vs test accuracy after the last round, one point per codec (log x).
   bench/plot_compression.py SUMMARY_CSV --out PNG   (SUMMARY_CSV is what bench/compression.sh writes)"""
import argparse, csv
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ap = argparse.ArgumentParser()
ap.add_argument("summary")
ap.add_argument("--out", required=True)
a = ap.parse_args()
rows = list(csv.DictReader(open(a.summary)))
fig, ax = plt.subplots(figsize=(7, 4.5))
for r in rows:
    x, y = float(r["update_bytes_round"]) / 1e6, float(r["final_accuracy"])
    ax.scatter([x], [y], s=40)
    ax.annotate(r["codec"].replace(",error_feedback=1", "+ef"), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
ax.set_xscale("log")
ax.set_xlabel("update bytes per round (MB, all clients, log scale)")
rounds = rows[0]["rounds"] if rows else "?"
ax.set_ylabel(f"test accuracy after {rounds} rounds")
ax.set_title("MNIST, mnist_cnn, Dirichlet(0.5): compression vs accuracy")
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(a.out, dpi=120)
