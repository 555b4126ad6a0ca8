#!/usr/bin/env bash
# McMahan et al. 2017 ("Communication-Efficient Learning of Deep Networks from Decentralized
# Data"), Table 2, MNIST CNN rows, in one command: FedSGD and FedAvg with E in {1, 5, 20} local
# epochs and B in {10, 50, all} batch sizes, on the IID split and the pathological non-IID split
# (sorted by label, 200 shards of 300, 2 per client), 100 clients, C = 0.1 (10 a round), the
# paper's CNN (mnist_cnn: conv 32, conv 64, dense 512), plain SGD. Each run stops once a round
# reaches the target test accuracy (99%), and the table gives the rounds it took beside the
# paper's, with the time.
#
#   examples/mcmahan/run.sh [--rows ROW,...] [--splits iid,noniid] [--lr LR | --lr-grid LR,LR,...]
#       [--max-rounds N] [--target ACC] [--processes P] [--device DEV] [--seed S] [--data-dir DIR]
#       [--out DIR] [--clients N] [--dataset D --model M] [-- EXTRA flotilla-run FLAGS]
#
# Rows (the paper's order): fedsgd (E=1, B=all), e5-ball, e1-b50, e20-ball, e1-b10, e5-b50,
# e20-b50, e5-b10, e20-b10. Default: all of them, both splits (18 runs; hours on 2 CPU cores:
# pick rows). --lr: the client learning rate of every run (default 0.1, the rate of Flower's
# reproduction of this table). --lr-grid: run each rate and keep the fastest, as the paper did
# over its grid. --max-rounds: where a run gives up (default: twice the paper's rounds for the
# row). --target: the test accuracy (default 0.99). --clients/--dataset/--model: for tests
# (the paper's are 100, mnist, mnist_cnn).
# Writes into --out (default runs/mcmahan): <split>-<row>-lr<LR>/ (a run directory each),
# summary.md and summary.csv (the table). Needs a build (FLOTILLA_BUILD_DIR, default build/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
all_rows="fedsgd,e5-ball,e1-b50,e20-ball,e1-b10,e5-b50,e20-b50,e5-b10,e20-b10"
rows=$all_rows splits="iid,noniid" lr_grid="0.1" max_rounds="" target=0.99 processes=4 device="" seed=0
data_dir=$root/data/mnist out=$root/runs/mcmahan clients=100 dataset=mnist model=mnist_cnn
extra=()
while (($#)); do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --splits) splits=$2; shift 2 ;;
    --lr|--lr-grid) lr_grid=$2; shift 2 ;;
    --max-rounds) max_rounds=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --dataset) dataset=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "mcmahan: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# Row -> "E B" (B 0: the client's whole data set, the paper's B = infinity).
declare -A shape=([fedsgd]="1 0" [e5-ball]="5 0" [e1-b50]="1 50" [e20-ball]="20 0" [e1-b10]="1 10"
                  [e5-b50]="5 50" [e20-b50]="20 50" [e5-b10]="5 10" [e20-b10]="20 10")
declare -A split_flags=([iid]="--partitioner iid" [noniid]="--partitioner shards --shards-per-client 2")
IFS=, read -r -a row_list <<< "$rows"
IFS=, read -r -a split_list <<< "$splits"
IFS=, read -r -a lr_list <<< "$lr_grid"
for r in "${row_list[@]}"; do
  [[ -n ${shape[$r]:-} ]] || { echo "mcmahan: unknown row '$r' (known: $all_rows)" >&2; exit 2; }
done
for s in "${split_list[@]}"; do
  [[ -n ${split_flags[$s]:-} ]] || { echo "mcmahan: unknown split '$s' (known: iid noniid)" >&2; exit 2; }
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "mcmahan: no $bin/flotilla-run; build first (scripts/build.sh)" >&2; exit 1; }
data=(--dataset "$dataset" --model "$model")
if [[ $dataset == mnist ]]; then
  [[ -d $data_dir ]] || { echo "mcmahan: no MNIST in $data_dir: fetch it (scripts/download-data.sh mnist $data_dir) or give --data-dir" >&2; exit 1; }
  data+=(--data-dir "$data_dir")
fi

mkdir -p "$out"
runs=()
for s in "${split_list[@]}"; do
  for r in "${row_list[@]}"; do
    read -r epochs batch <<< "${shape[$r]}"
    limit=$max_rounds
    [[ -n $limit ]] || limit=$(/usr/bin/python3 "$here/table.py" --paper-rounds "$s" "$r" --times 2)
    for lr in "${lr_list[@]}"; do
      name=$s-$r-lr$lr
      echo "== $name: E=$epochs B=$([[ $batch == 0 ]] && echo all || echo "$batch") lr $lr, up to $limit rounds"
      flags=(--clients "$clients" --processes "$processes" --fraction 0.1 --rounds "$limit" --epochs "$epochs"
             --batch-size "$batch" --lr "$lr" --momentum 0 --weight-decay 0 --holdout-fraction 0 --seed "$seed"
             --target-accuracy "$target" --checkpoint-every 0 --log-level warning)
      [[ -n $device ]] && flags+=(--device "$device")
      start=$(date +%s)
      # shellcheck disable=SC2086
      "$bin/flotilla-run" "${flags[@]}" "${data[@]}" ${split_flags[$s]} "${extra[@]}" --out "$out/$name" |
        grep --line-buffered -E '^\[coordinator\] done' || { echo "mcmahan: the $name run failed" >&2; exit 1; }
      echo "$(($(date +%s) - start))" > "$out/$name/wall_seconds"
      runs+=("$out/$name")
    done
  done
done
/usr/bin/python3 "$here/table.py" "${runs[@]}" --target "$target" --csv "$out/summary.csv" --markdown "$out/summary.md"
