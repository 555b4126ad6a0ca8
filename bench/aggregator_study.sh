#!/usr/bin/env bash
# Runs the same non-IID MNIST setting under several aggregation rules and prints a table (final
# and best accuracy, first round at 95%, divergence, traffic, time), then draws the plots.
#   bench/aggregator_study.sh [--data DIR] [--model M] [--rounds R] [--clients N] [--alpha A] [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/../shared/data/mnist model=mnist_net rounds=20 clients=10 alpha=0.1 out=$root/runs/aggregator-study
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;; --model) model=$2; shift 2 ;; --rounds) rounds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;; --alpha) alpha=$2; shift 2 ;; --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
mkdir -p "$out"
common=(--clients "$clients" --rounds "$rounds" --dataset mnist --data-dir "$data" --model "$model"
        --partitioner dirichlet --alpha "$alpha" --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed 42
        --checkpoint-every 0 --log-level warning)
declare -A variants=(
  [fedavg]="--aggregator fedavg"
  [fedavgm]="--aggregator fedavgm --aggregator-opt server_lr=1.0 --aggregator-opt momentum=0.9"
  [fedadam]="--aggregator fedadam --aggregator-opt server_lr=0.01 --aggregator-opt tau=0.001"
  [fedprox]="--aggregator fedavg --prox-mu 0.01"
)
for name in fedavg fedavgm fedadam fedprox; do
  echo "== $name: ${variants[$name]}"
  # shellcheck disable=SC2086
  "$bin/flotilla-run" "${common[@]}" ${variants[$name]} --out "$out/$name" | grep --line-buffered -E '^\[coordinator\] (round|done)'
done
/usr/bin/python3 "$root/scripts/summarize_runs.py" "$out"/fedavg "$out"/fedavgm "$out"/fedadam "$out"/fedprox \
  --target 0.95 --csv "$out/summary.csv"
/usr/bin/python3 "$root/scripts/plot_metrics.py" "$out"/fedavg "$out"/fedavgm "$out"/fedadam "$out"/fedprox --out "$out"
