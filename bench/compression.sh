#!/usr/bin/env bash
# Update compression on MNIST: one run per codec with the same seed and partition (Dirichlet 0.5,
# 10 clients, all sampled every round), then a table (update bytes per round, ratio to none,
# task bytes per round, accuracy after each round, wall time) and a plot (bench/plot_compression.py).
#   bench/compression.sh [OUT_DIR]     (default bench-results/compression)
#   env: R=rounds (5) CLIENTS (10) PROCESSES (2) FRACTION (1.0) DATA=MNIST dir CODECS="none fp16 ..." FLOTILLA_BUILD_DIR
# Timings are whatever the machine gives; nothing here asserts them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench-results/compression}
R=${R:-5} CLIENTS=${CLIENTS:-10} PROCESSES=${PROCESSES:-2} FRACTION=${FRACTION:-1.0}
DATA=${DATA:-$root/../shared/data/mnist}
CODECS=${CODECS:-"none fp16 bf16 qsgd topk:ratio=0.1 topk:ratio=0.01"}
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
mkdir -p "$out"
common=(--clients "$CLIENTS" --processes "$PROCESSES" --fraction "$FRACTION" --rounds "$R" --dataset mnist --data-dir "$DATA" --model mnist_cnn
        --partitioner dirichlet --alpha 0.5 --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed 42
        --checkpoint-every 0 --log-level warning)
dirs=()
for codec in $CODECS; do
  name=${codec//[:=,]/_}
  spec=$codec
  [[ $codec == topk* && $codec != *error_feedback* ]] && spec="$codec,error_feedback=1"
  echo "== $spec" >&2
  rm -rf "$out/$name"
  start=$(date +%s.%N)
  "$bin/flotilla-run" "${common[@]}" --compression "$spec" --out "$out/$name" > "$out/$name.log" 2>&1 \
    || { echo "run $spec failed, see $out/$name.log" >&2; continue; }
  end=$(date +%s.%N)
  echo "$spec $start $end" > "$out/$name/bench_wall.txt"
  dirs+=("$out/$name")
done
/usr/bin/python3 - "$out" "${dirs[@]}" <<'PY'
import json, sys, os, csv
out, dirs = sys.argv[1], sys.argv[2:]
rows = []
for d in dirs:
    spec, t0, t1 = open(os.path.join(d, "bench_wall.txt")).read().split()
    ms = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
    n = len(ms)
    recv = sum(m["bytes_received"] for m in ms) / n
    per_client = sum(m["bytes_received"] / max(1, len(m["clients"])) for m in ms) / n
    task = sum(m["bytes_sent"] for m in ms) / n
    wire = sum(m.get("wire_bytes_sent", 0) for m in ms) / n
    accs = [m["test_accuracy"] for m in ms]
    rows.append(dict(codec=spec, rounds=n, update_bytes_round=recv, update_bytes_client=per_client,
                     task_bytes_round=task, task_wire_bytes_round=wire, final_accuracy=accs[-1],
                     accuracy_per_round=" ".join("%.4f" % a if a is not None else "-" for a in accs),
                     round_seconds=sum(m["round_seconds"] for m in ms) / n, wall_seconds=float(t1) - float(t0)))
base = next((r["update_bytes_round"] for r in rows if r["codec"] == "none"), None)
for r in rows: r["ratio_to_none"] = (r["update_bytes_round"] / base) if base else float("nan")
hdr = ["codec", "upd MB/round", "upd KB/client", "ratio", "task MB/round", "task wire MB", "final acc",
       "mean round s", "wall s", "acc per round"]
fmt = "%-34s %12s %13s %7s %13s %12s %9s %12s %7s  %s"
print(fmt % tuple(hdr))
for r in rows:
    print(fmt % (r["codec"], "%.3f" % (r["update_bytes_round"] / 1e6), "%.1f" % (r["update_bytes_client"] / 1e3),
                 "%.4f" % r["ratio_to_none"], "%.3f" % (r["task_bytes_round"] / 1e6),
                 "%.3f" % (r["task_wire_bytes_round"] / 1e6), "%.4f" % r["final_accuracy"],
                 "%.2f" % r["round_seconds"], "%.1f" % r["wall_seconds"], r["accuracy_per_round"]))
with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys())); w.writeheader(); w.writerows(rows)
PY
/usr/bin/python3 "$root/bench/plot_compression.py" "$out/summary.csv" --out "$out/compression.png"
echo "plot: $out/compression.png"
