#!/usr/bin/env bash
# One non-IID study, one command: the same model, clients and budget under IID, Dirichlet(alpha)
# for alpha in {100, 1, 0.1} and the FedAvg paper's shards, then a comparison table (final and
# best accuracy, first round at the target, mean client divergence, traffic, time) and the plots.
#
#   examples/noniid_study/run_study.sh [--dataset D] [--data-dir DIR] [--model M] [--clients N]
#       [--fraction F] [--processes P] [--rounds R] [--epochs E] [--batch-size B] [--lr LR]
#       [--target ACC] [--seed S] [--out DIR] [--only NAME[,NAME...]] [-- EXTRA flotilla-run FLAGS]
#
# Defaults are the FedAvg paper's MNIST setting: 100 clients, 10% sampled per round, mnist_cnn,
# batch 32, 1 local epoch, 20 rounds. Writes into --out (default runs/noniid-study):
#   <setting>/           one run directory per setting (metrics.jsonl, partition.csv, ...)
#   summary.txt, summary.csv   the comparison table
#   accuracy.png bytes.png divergence.png class_accuracy.png   all settings on shared axes
#   partition_<setting>.png    samples per class per client, for each setting
# Needs a build (scripts/build.sh) and, for the plots, Debian's python3-matplotlib.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dataset=mnist data_dir="" model=mnist_cnn clients=100 fraction=0.1 processes=4 rounds=20 epochs=1
batch=32 lr=0.01 target=0.95 seed=42 out=$root/runs/noniid-study only=""
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
    --epochs) epochs=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run_study: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "run_study: no $bin/flotilla-run; build first (scripts/build.sh)" >&2; exit 1; }

# Setting name -> partitioner flags. Order is the table's order: from IID to most skewed.
names=(iid dirichlet-100 dirichlet-1 dirichlet-0.1 shards)
declare -A partition=(
  [iid]="--partitioner iid"
  [dirichlet-100]="--partitioner dirichlet --alpha 100"
  [dirichlet-1]="--partitioner dirichlet --alpha 1"
  [dirichlet-0.1]="--partitioner dirichlet --alpha 0.1"
  [shards]="--partitioner shards --shards-per-client 2"
)
if [[ -n $only ]]; then
  IFS=, read -r -a names <<< "$only"
  for n in "${names[@]}"; do
    [[ -n ${partition[$n]:-} ]] || { echo "run_study: unknown setting '$n' (known: ${!partition[*]})" >&2; exit 2; }
  done
fi

common=(--clients "$clients" --processes "$processes" --fraction "$fraction" --rounds "$rounds"
        --dataset "$dataset" --model "$model" --epochs "$epochs" --batch-size "$batch" --lr "$lr"
        --seed "$seed" --checkpoint-every 0 --log-level warning)
[[ -n $data_dir ]] && common+=(--data-dir "$data_dir")
mkdir -p "$out"
runs=()
for name in "${names[@]}"; do
  echo "== $name: ${partition[$name]}"
  # The partition flags are words on purpose: split them.
  # shellcheck disable=SC2086
  "$bin/flotilla-run" "${common[@]}" ${partition[$name]} "${extra[@]}" --out "$out/$name" |
    grep --line-buffered -E '^\[coordinator\] (round|done)' || { echo "run_study: the $name run failed" >&2; exit 1; }
  runs+=("$out/$name")
done

echo
/usr/bin/python3 "$root/scripts/summarize_runs.py" "${runs[@]}" --target "$target" --csv "$out/summary.csv" |
  tee "$out/summary.txt"
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 "$root/scripts/plot_metrics.py" "${runs[@]}" --out "$out"
  for name in "${names[@]}"; do
    /usr/bin/python3 "$root/scripts/plot_partition.py" "$out/$name" --out "$out/partition_$name.png"
  done
else
  echo "run_study: matplotlib is missing (apt-get install python3-matplotlib); skipped the plots" >&2
fi
echo "study written to $out"
