#!/usr/bin/env bash
# Runs examples/noniid_study/run_study.sh end to end on the built-in synthetic data set (10
# clients, 2 rounds, all five settings) and checks its table and plots; then that a bad setting
# name is refused. Plots are checked only when matplotlib is there (the study skips them without).
set -euo pipefail
source_dir=$1 build_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FLOTILLA_BUILD_DIR=$build_dir "$source_dir/examples/noniid_study/run_study.sh" --dataset synthetic --model mlp \
  --clients 10 --processes 2 --fraction 0.5 --rounds 2 --target 0.3 --out "$tmp/study" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "FAIL: the study failed"; exit 1; }

csv=$tmp/study/summary.csv
[[ -s $csv ]] || { cat "$tmp/log"; echo "FAIL: no summary.csv"; exit 1; }
# A header and one row per setting, in the study's order.
runs=$(tail -n +2 "$csv" | cut -d, -f1 | tr '\n' ' ')
[[ $runs == "iid dirichlet-100 dirichlet-1 dirichlet-0.1 shards " ]] || { echo "FAIL: rows are '$runs'"; exit 1; }
head -1 "$csv" | grep -q "final_acc,best_acc,round_to_0.3,mean_divergence" || { echo "FAIL: header $(head -1 "$csv")"; exit 1; }
# Each run used the partition it names.
grep -q '"partitioner": *"shards"' "$tmp/study/shards/config.json" || { echo "FAIL: shards run config"; exit 1; }
grep -q '"alpha": *"0.1"' "$tmp/study/dirichlet-0.1/config.json" || { echo "FAIL: dirichlet-0.1 run config"; exit 1; }
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  for f in accuracy bytes divergence class_accuracy partition_iid partition_shards; do
    head -c 8 "$tmp/study/$f.png" 2>/dev/null | grep -q PNG || { cat "$tmp/log"; echo "FAIL: $f.png missing"; exit 1; }
  done
fi

if FLOTILLA_BUILD_DIR=$build_dir "$source_dir/examples/noniid_study/run_study.sh" --only iid,nope \
  --out "$tmp/bad" 2> "$tmp/err"; then
  echo "FAIL: an unknown setting was accepted"; exit 1
fi
grep -q "unknown setting 'nope'" "$tmp/err" || { echo "FAIL: unclear error: $(cat "$tmp/err")"; exit 1; }
echo "PASS: study table and plots written"
