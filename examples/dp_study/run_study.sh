#!/usr/bin/env bash
# Accuracy against privacy, one command: client-level DP-FedAvg (--dp central) on many clients,
# the same model and rounds at several target epsilons and without DP. For each target, flotilla-dp
# finds the smallest noise multiplier that keeps the whole run within it; then a table (epsilon
# spent, noise, final and best accuracy) and plots (accuracy per round, final accuracy vs epsilon).
#
#   examples/dp_study/run_study.sh [--dataset D] [--data-dir DIR] [--model M] [--clients N]
#       [--fraction F] [--processes P] [--rounds R] [--epsilons 1,3,8] [--clip-norm C]
#       [--delta D] [--epochs E] [--lr LR] [--server-lr ETA] [--seed S] [--out DIR]
#       [-- EXTRA flotilla-run FLAGS]
#
# Defaults: MNIST, 1,000 clients (IID, about 60 samples each), 10% Poisson-sampled per round,
# mnist_net, 100 rounds, 5 local epochs of batch 16 at lr 0.1, clip norm 1, delta 1e-5. Writes into --out
# (default runs/dp-study): one run directory per setting, summary.txt and summary.csv, and with
# Debian's python3-matplotlib accuracy.png and accuracy_vs_epsilon.png.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dataset=mnist data_dir="" model=mnist_net clients=1000 fraction=0.1 processes=2 rounds=100 epsilons=1,3,8
clip=1.0 delta=1e-5 epochs=5 lr=0.1 server_lr=1.0 seed=42 out=$root/runs/dp-study
extra=()
while (($#)); do
  case $1 in
    --dataset) dataset=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --fraction) fraction=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --epsilons) epsilons=$2; shift 2 ;;
    --clip-norm) clip=$2; shift 2 ;;
    --delta) delta=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --server-lr) server_lr=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run_study: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run && -x $bin/flotilla-dp ]] ||
  { echo "run_study: no $bin/flotilla-run or flotilla-dp; build first (scripts/build.sh)" >&2; exit 1; }

common=(--clients "$clients" --processes "$processes" --fraction "$fraction" --rounds "$rounds"
        --dataset "$dataset" --model "$model" --partitioner iid --epochs "$epochs" --batch-size 16 --lr "$lr"
        --aggregator-opt "server_lr=$server_lr" --seed "$seed" --checkpoint-every 0 --log-level warning
        --no-progress)
[[ -n $data_dir ]] && common+=(--data-dir "$data_dir")
mkdir -p "$out"
runs=()
IFS=, read -r -a targets <<< "$epsilons"
for target in "${targets[@]}"; do
  z=$("$bin/flotilla-dp" noise --sampling-rate "$fraction" --rounds "$rounds" --epsilon "$target" --delta "$delta" |
      awk '{print $3}')
  name=epsilon-$target
  echo "== $name: noise multiplier $z"
  "$bin/flotilla-run" "${common[@]}" --dp central --dp-opt "noise_multiplier=$z" --dp-opt "clip_norm=$clip" \
    --dp-opt "delta=$delta" "${extra[@]}" --out "$out/$name" |
    grep --line-buffered -E '^\[coordinator\] (round [0-9]*0/|done)' || { echo "run_study: the $name run failed" >&2; exit 1; }
  runs+=("$out/$name")
done
echo "== no-dp"
"$bin/flotilla-run" "${common[@]}" "${extra[@]}" --out "$out/no-dp" |
  grep --line-buffered -E '^\[coordinator\] (round [0-9]*0/|done)' || { echo "run_study: the no-dp run failed" >&2; exit 1; }
runs+=("$out/no-dp")

echo
/usr/bin/python3 "$root/examples/dp_study/summarize.py" --out "$out" "${runs[@]}" | tee "$out/summary.txt"
