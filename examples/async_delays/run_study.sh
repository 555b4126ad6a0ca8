#!/usr/bin/env bash
# Asynchronous training under client delays, on real MNIST: the classic asynchronous-SGD study's
# questions asked of Flotilla's --mode async (FedAsync, FedBuff, staleness weights, DC-ASGD).
#
#   examples/async_delays/run_study.sh [--data-dir DIR] [--out DIR] [--quick] [--only REGEX]
#       [--updates U] [--processes P] [--seed S] [--force]
#
# Every run has the same budget of U client updates (default 60, each one local epoch over a
# client's 1,500 samples in batches of 100 = 15 local steps of SGD, lr 0.01), so accuracy can be compared per
# update and per virtual second. The grid (see README.md for what each setting means):
#   fa-<split>-m<mom>-<delay>   FedAsync, polynomial staleness a=0.5, concurrency 10:
#                               split iid|label x momentum 0|0.9 x delay none|small|large|slow  (16)
#   sync-<split>-m<mom>         synchronous FedAvg, 10 clients a round (delays do not change what
#                               it computes; analyse.py charges each round its virtual time)    (4)
#   fb-<split>-m0.9-<delay>     FedBuff K=5, concurrency 10, delay none|large|slow              (6)
#   fa-label-m0.9-large-const   FedAsync without staleness weighting                            (1)
#   fa-label-m0.9-large-dc      FedAsync, polynomial staleness, DC-ASGD lambda=0.5              (1)
# --quick: 20 updates, IID, momentum 0.9, sync and FedAsync without and with large delays (3 runs,
# a smoke test of the pipeline).
# A run whose directory already has a complete metrics.jsonl is skipped (--force reruns it).
# Then analyse.py prints the tables and writes the plots into --out.
#
# Virtual clock throughout: a task costs 1 virtual second per local batch (step_cost=1) plus the
# delay model's draws, so runs are deterministic by seed and take CPU time, not the delays.
# Run it niced on a shared machine: nice -n 10 examples/async_delays/run_study.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data_dir=$root/data/mnist
[[ -d /work/shared/data/mnist ]] && data_dir=/work/shared/data/mnist
out=$root/runs/async-delays quick=0 only="" updates=60 processes=2 seed=1 force=0
while (($#)); do
  case $1 in
    --data-dir) data_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "run_study: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "run_study: no $bin/flotilla-run; build first" >&2; exit 1; }
ls "$data_dir"/train-images-idx3-ubyte* > /dev/null 2>&1 ||
  { echo "run_study: no MNIST (train-images-idx3-ubyte[.gz]) in $data_dir; pass --data-dir" >&2; exit 1; }
((quick)) && updates=20
clients=40 concurrency=10 sync_per_round=10 buffer=5
# Evaluate every 10 updates whatever the rule (evaluation is most of a run's CPU time): FedAsync
# makes a version per update, FedBuff one per K updates, a synchronous round one per 10 updates.
fa_eval=10 fb_eval=$(( 10 / buffer ))

declare -A split=(
  [iid]="--partitioner iid"
  [label]="--partitioner label_split --labels-per-client 2"
)
# Per-batch Gaussian delays in virtual seconds, against a step cost of 1 s a batch; "slow" is the
# small delays plus client 3 running 5 times slower (its steps and its delays).
declare -A delay=(
  [none]="constant:value=0,per=batch"
  [small]="gaussian:mean=0.1,std=0.05,per=batch"
  [large]="gaussian:mean=2,std=2,per=batch"
  [slow]="gaussian:mean=0.1,std=0.05,per=batch;slow=3:factor=5"
)

common=(--clients "$clients" --processes "$processes" --threads 1 --no-encryption
        --dataset mnist --data-dir "$data_dir" --model mnist_net --holdout-fraction 0
        --batch-size 100 --lr 0.01 --seed "$seed" --checkpoint-every 0 --log-level warning)
async=(--mode async --concurrency "$concurrency" --async-opt clock=virtual --async-opt step_cost=1)

# name -> extra flags, in the order they run.
names=()
declare -A flags
add() { names+=("$1"); flags[$1]=$2; }
splits=(iid label) momenta=(0 0.9) delays=(none small large slow)
((quick)) && splits=(iid) momenta=(0.9) delays=(none large)
for s in "${splits[@]}"; do
  for m in "${momenta[@]}"; do
    add "sync-$s-m$m" "${split[$s]} --momentum $m --fraction $(awk "BEGIN{print $sync_per_round/$clients}")
      --min-fit $sync_per_round --rounds $(( updates / sync_per_round )) --eval-every 1"
    for d in "${delays[@]}"; do
      add "fa-$s-m$m-$d" "${split[$s]} --momentum $m --rounds $updates --eval-every $fa_eval
        ASYNC --async-opt mode=fedasync --async-opt staleness=polynomial:a=0.5 --async-opt delay=${delay[$d]}"
    done
  done
done
if ((!quick)); then
  for s in iid label; do
    for d in none large slow; do
      add "fb-$s-m0.9-$d" "${split[$s]} --momentum 0.9 --rounds $(( updates / buffer )) --eval-every $fb_eval
        ASYNC --async-opt mode=fedbuff --async-opt buffer_size=$buffer --async-opt delay=${delay[$d]}"
    done
  done
  add fa-label-m0.9-large-const "${split[label]} --momentum 0.9 --rounds $updates --eval-every $fa_eval
    ASYNC --async-opt mode=fedasync --async-opt staleness=constant --async-opt delay=${delay[large]}"
  add fa-label-m0.9-large-dc "${split[label]} --momentum 0.9 --rounds $updates --eval-every $fa_eval
    ASYNC --async-opt mode=fedasync --async-opt staleness=polynomial:a=0.5 --async-opt delay=${delay[large]}
    --async-opt dc_lambda=0.5 --async-opt dc_client_lr=0.01"
fi

mkdir -p "$out"
start=$SECONDS
for name in "${names[@]}"; do
  [[ -n $only && ! $name =~ $only ]] && continue
  dir=$out/$name
  rounds=$(grep -o -- '--rounds [0-9]*' <<< "${flags[$name]}" | cut -d' ' -f2)
  if ((!force)) && [[ -f $dir/metrics.jsonl ]] && (($(wc -l < "$dir/metrics.jsonl") == rounds)); then
    echo "== $name: done already"
    continue
  fi
  rm -rf "$dir"
  # The flags are words on purpose (the delay specs hold no spaces); ASYNC stands for ${async[@]}.
  read -r -a words <<< "$(tr '\n' ' ' <<< "${flags[$name]}")"
  args=()
  for w in "${words[@]}"; do
    if [[ $w == ASYNC ]]; then args+=("${async[@]}"); else args+=("$w"); fi
  done
  t0=$SECONDS
  "$bin/flotilla-run" "${common[@]}" "${args[@]}" --out "$dir" > "$out/$name.log" 2>&1 ||
    { echo "run_study: $name failed, see $out/$name.log" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
  echo "== $name: $(grep -o 'final accuracy [0-9.]*' "$out/$name.log") ($((SECONDS - t0)) s)"
done
echo "runs took $((SECONDS - start)) s"
/usr/bin/python3 "$root/examples/async_delays/analyse.py" "$out"
