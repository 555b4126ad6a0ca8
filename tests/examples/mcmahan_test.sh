#!/usr/bin/env bash
# Runs examples/mcmahan/run.sh end to end on the built-in synthetic data set (10 clients, the
# 2NN, two rows on both splits, two learning rates, a target of 60%) and checks its table: every
# run stopped once it reached the target (a round after it: evaluation runs a round behind),
# the faster rate was kept, the paper's rounds are beside the measured ones; then that unknown
# rows and splits are refused before anything runs.
set -euo pipefail
source_dir=$1 build_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
example=$source_dir/examples/mcmahan/run.sh
FLOTILLA_BUILD_DIR=$build_dir "$example" --dataset synthetic --model mlp --clients 10 --rows fedsgd,e1-b10 \
  --splits iid,noniid --lr-grid 0.05,0.2 --target 0.6 --max-rounds 12 --processes 2 --out "$tmp/out" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "FAIL: the example failed"; exit 1; }
csv=$tmp/out/summary.csv
[[ $(head -1 "$csv") == split,row,lr,rounds,paper,ran,best_accuracy,minutes ]] || { cat "$csv"; echo "FAIL: header"; exit 1; }
[[ $(tail -n +2 "$csv" | cut -d, -f1,2,5 | tr '\n' ' ') == "iid,fedsgd,626 iid,e1-b10,34 noniid,fedsgd,483 noniid,e1-b10,350 " ]] ||
  { cat "$csv"; echo "FAIL: rows or paper numbers"; exit 1; }
# E=1, B=10 reaches 60% on synthetic data within a few rounds; the run then stops a round later.
reached=$(grep '^iid,e1-b10,' "$csv" | cut -d, -f4)
ran=$(grep '^iid,e1-b10,' "$csv" | cut -d, -f6)
[[ -n $reached ]] && ((ran == reached + 1)) || { cat "$csv"; echo "FAIL: iid e1-b10 reached in '$reached', ran $ran"; exit 1; }
metrics=$tmp/out/iid-e1-b10-lr0.05/metrics.jsonl
[[ -s $metrics ]] || { echo "FAIL: no metrics for the first rate"; exit 1; }
# Both rates ran; the row kept the one that got there first.
[[ -d $tmp/out/iid-e1-b10-lr0.2 ]] || { echo "FAIL: the second rate did not run"; exit 1; }
grep -q "FedAvg E=1, B=10" "$tmp/out/summary.md" || { cat "$tmp/out/summary.md"; echo "FAIL: summary.md"; exit 1; }
# FedSGD is one full-batch step per client per round: its clients report one step.
grep -q '"local_steps":1,' "$tmp/out/iid-fedsgd-lr0.05/metrics.jsonl" || { echo "FAIL: FedSGD took more than one step"; exit 1; }
grep -q '"batch_size": *0' "$tmp/out/iid-fedsgd-lr0.05/config.json" || { echo "FAIL: FedSGD's batch is not all"; exit 1; }

for bad in "--rows e2-b10:row 'e2-b10'" "--splits dirichlet:split 'dirichlet'"; do
  flags=${bad%%:*} want=${bad#*:}
  # shellcheck disable=SC2086
  if FLOTILLA_BUILD_DIR=$build_dir "$example" $flags --out "$tmp/bad" 2> "$tmp/err"; then
    echo "FAIL: $flags was accepted"; exit 1
  fi
  grep -q "$want" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: $flags: no mention of $want"; exit 1; }
done
echo PASS
