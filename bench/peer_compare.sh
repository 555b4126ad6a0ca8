#!/usr/bin/env bash
# Flotilla vs the PyTorch + mpi4py FedAvg peer (../shared/peers/pytorch_mpi_fedavg.py), side by
# side on one machine, identical settings: MNIST (or CIFAR-10), 4 clients, Dirichlet(0.5) non-IID,
# 3 rounds, 1 local epoch, batch 32, lr 0.01, momentum 0.9, the peer's own network (MNIST: its
# small CNN = Flotilla's mnist_net; CIFAR-10: its LeNet = cifar_cnn), one thread per process,
# every client training on its whole partition (no held-out slice). Prints
# wall times, their ratio and final accuracies, and the time each took to reach a target test
# accuracy (--target, default 0.9 on MNIST and 0.3 on CIFAR-10): from launch to the moment the
# first global model at or above it existed (Flotilla: the round's finished_unix in metrics.jsonl,
# its evaluation running in the background; the peer: the round's line, printed after its inline
# evaluation). The peer runs one process per client; Flotilla
# runs one per client too unless --processes P hosts the logical clients in fewer.
#
#   bench/peer_compare.sh [--dataset mnist|cifar10] [--data DIR] [--peer FILE] [--rounds R] [--clients N]
#                         [--processes P] [--repeat K] [--target ACC]
# MNIST: DIR holds the four *-ubyte[.gz] files (default ../shared/data/mnist). CIFAR-10: DIR holds
# cifar-10-batches-bin/ for Flotilla and cifar-10-batches-py/ for the peer, as
# ../shared/data/cifar-10-approx/rebuild.py DIR --python writes them.
# Needs: scripts/install-deps.sh --peers, and a build (scripts/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dataset=mnist data=""
peer=$root/../shared/peers/pytorch_mpi_fedavg.py
rounds=3 clients=4 processes=0 repeat=1 alpha=0.5 target=""
while (($#)); do
  case $1 in
    --dataset) dataset=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --peer) peer=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
((processes > 0)) || processes=$clients
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }
[[ -f $peer ]] || { echo "peer not found: $peer" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $dataset in
  mnist)
    model=mnist_net data=${data:-$root/../shared/data/mnist} peer_root=$work/peer
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      [[ -f $data/$f.gz || -f $data/$f ]] || { echo "missing $data/$f[.gz]" >&2; exit 1; }
    done
    # torchvision's layout for the peer: ROOT/MNIST/raw/*-ubyte
    mkdir -p "$peer_root/MNIST/raw"
    for f in "$data"/*-ubyte*; do
      case $f in
        *.gz) gunzip -c "$f" > "$peer_root/MNIST/raw/$(basename "${f%.gz}")" ;;
        *) cp "$f" "$peer_root/MNIST/raw/" ;;
      esac
    done ;;
  cifar10)
    model=cifar_cnn peer_root=$data
    [[ -n $data ]] || { echo "--dataset cifar10 needs --data DIR (see --help)" >&2; exit 1; }
    for d in cifar-10-batches-bin cifar-10-batches-py; do
      [[ -d $data/$d ]] || { echo "missing $data/$d (rebuild.py DIR --python writes both layouts)" >&2; exit 1; }
    done ;;
  *) echo "unknown dataset '$dataset' (mnist | cifar10)" >&2; exit 2 ;;
esac

[[ -n $target ]] || target=$([[ $dataset == mnist ]] && echo 0.9 || echo 0.3)
now() { date +%s.%N; }
# Seconds from $2 (launch) to the first round of metrics.jsonl $1 at or above the target, or "-".
flotilla_time_to_target() {
  /usr/bin/python3 - "$1" "$2" "$target" <<'PY'
import json, sys
path, t0, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
for line in open(path):
    row = json.loads(line)
    if row.get("test_accuracy") is not None and row["test_accuracy"] >= target:
        print(f"{row['finished_unix'] - t0:.2f}"); break
else:
    print("-")
PY
}
# The same from the peer's log, whose lines were stamped with the time they were printed.
peer_time_to_target() {
  awk -v t0="$2" -v target="$target" '$4 == "global_acc" && $5 >= target { printf "%.2f\n", $1 - t0; found = 1; exit }
    END { if (!found) print "-" }' "$1"
}
printf '%-10s %-4s %10s %10s %14s\n' system run wall_s final_acc "to_${target}_s"
declare -a fl_times peer_times fl_accs peer_accs fl_ttas peer_ttas
for ((i = 1; i <= repeat; i++)); do
  t0=$(now)
  "$bin/flotilla-run" --clients "$clients" --processes "$processes" --threads 1 --rounds "$rounds" \
    --dataset "$dataset" --data-dir "$data" --model "$model" --partitioner dirichlet --alpha "$alpha" \
    --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed 42 --holdout-fraction 0 --out "$work/flotilla-$i" \
    --checkpoint-every 0 > "$work/flotilla-$i.log" 2>&1 || { cat "$work/flotilla-$i.log"; exit 1; }
  t1=$(now)
  acc=$(grep -o 'final accuracy [0-9.]*' "$work/flotilla-$i.log" | awk '{print $3}')
  fl_times+=("$(awk "BEGIN{print $t1 - $t0}")"); fl_accs+=("$acc")
  fl_ttas+=("$(flotilla_time_to_target "$work/flotilla-$i/metrics.jsonl" "$t0")")
  printf '%-10s %-4s %10.2f %10s %14s\n' flotilla "$i" "${fl_times[-1]}" "$acc" "${fl_ttas[-1]}"

  t0=$(now)
  mpirun --allow-run-as-root --oversubscribe -n $((clients + 1)) /usr/bin/python3 "$peer" --dataset "$dataset" \
    --data "$peer_root" --split non-iid --alpha "$alpha" --rounds "$rounds" --epochs 1 --batch 32 --lr 0.01 \
    --threads 1 2>&1 | while IFS= read -r line; do echo "$(now) $line"; done > "$work/peer-$i.log" \
    || { cat "$work/peer-$i.log"; exit 1; }
  t1=$(now)
  acc=$(grep -o 'final_acc [0-9.]*' "$work/peer-$i.log" | awk '{print $2}')
  peer_times+=("$(awk "BEGIN{print $t1 - $t0}")"); peer_accs+=("$acc")
  peer_ttas+=("$(peer_time_to_target "$work/peer-$i.log" "$t0")")
  printf '%-10s %-4s %10.2f %10s %14s\n' peer "$i" "${peer_times[-1]}" "$acc" "${peer_ttas[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
fm=$(median "${fl_times[@]}"); pm=$(median "${peer_times[@]}")
echo
echo "settings: $dataset, $clients clients ($processes Flotilla processes, $clients peer processes), dirichlet alpha $alpha, $rounds rounds, 1 epoch, batch 32, lr 0.01, momentum 0.9, $model, 1 thread/process, $(nproc) cores"
printf 'median wall: flotilla %.2f s, peer %.2f s, speed-up peer/flotilla = %.2fx\n' "$fm" "$pm" "$(awk "BEGIN{print $pm / $fm}")"
echo "final accuracy: flotilla ${fl_accs[*]}, peer ${peer_accs[*]}"
echo "seconds to test accuracy $target: flotilla ${fl_ttas[*]}, peer ${peer_ttas[*]}"
