#!/usr/bin/env bash
# Flotilla vs the PyTorch + mpi4py FedAvg peer (../shared/peers/pytorch_mpi_fedavg.py), side by
# side on one machine, identical settings: MNIST, 4 clients, Dirichlet(0.5) non-IID, 3 rounds,
# 1 local epoch, batch 32, lr 0.01, momentum 0.9, the peer's small MNIST CNN (mnist_net), one
# thread per process, every client training on its whole partition (no held-out slice). Prints
# wall times, their ratio and final accuracies. The peer runs one process per client; Flotilla
# runs one per client too unless --processes P hosts the logical clients in fewer.
#
#   bench/peer_compare.sh [--data DIR] [--peer FILE] [--rounds R] [--clients N] [--processes P] [--repeat K]
# Needs: scripts/install-deps.sh --peers, and a build (scripts/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/../shared/data/mnist
peer=$root/../shared/peers/pytorch_mpi_fedavg.py
rounds=3 clients=4 processes=0 repeat=1 alpha=0.5
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --peer) peer=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
((processes > 0)) || processes=$clients
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }
[[ -f $peer ]] || { echo "peer not found: $peer" >&2; exit 1; }
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -f $data/$f.gz || -f $data/$f ]] || { echo "missing $data/$f[.gz]" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# torchvision's layout for the peer: ROOT/MNIST/raw/*-ubyte
mkdir -p "$work/peer/MNIST/raw"
for f in "$data"/*-ubyte*; do
  case $f in
    *.gz) gunzip -c "$f" > "$work/peer/MNIST/raw/$(basename "${f%.gz}")" ;;
    *) cp "$f" "$work/peer/MNIST/raw/" ;;
  esac
done

now() { date +%s.%N; }
printf '%-10s %-4s %10s %10s\n' system run wall_s final_acc
declare -a fl_times peer_times fl_accs peer_accs
for ((i = 1; i <= repeat; i++)); do
  t0=$(now)
  "$bin/flotilla-run" --clients "$clients" --processes "$processes" --threads 1 --rounds "$rounds" \
    --dataset mnist --data-dir "$data" --model mnist_net --partitioner dirichlet --alpha "$alpha" \
    --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed 42 --holdout-fraction 0 --out "$work/flotilla-$i" \
    --checkpoint-every 0 > "$work/flotilla-$i.log" 2>&1 || { cat "$work/flotilla-$i.log"; exit 1; }
  t1=$(now)
  acc=$(grep -o 'final accuracy [0-9.]*' "$work/flotilla-$i.log" | awk '{print $3}')
  fl_times+=("$(awk "BEGIN{print $t1 - $t0}")"); fl_accs+=("$acc")
  printf '%-10s %-4s %10.2f %10s\n' flotilla "$i" "${fl_times[-1]}" "$acc"

  t0=$(now)
  mpirun --allow-run-as-root --oversubscribe -n $((clients + 1)) /usr/bin/python3 "$peer" --dataset mnist \
    --data "$work/peer" --split non-iid --alpha "$alpha" --rounds "$rounds" --epochs 1 --batch 32 --lr 0.01 \
    --threads 1 > "$work/peer-$i.log" 2>&1 || { cat "$work/peer-$i.log"; exit 1; }
  t1=$(now)
  acc=$(grep -o 'final_acc [0-9.]*' "$work/peer-$i.log" | awk '{print $2}')
  peer_times+=("$(awk "BEGIN{print $t1 - $t0}")"); peer_accs+=("$acc")
  printf '%-10s %-4s %10.2f %10s\n' peer "$i" "${peer_times[-1]}" "$acc"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
fm=$(median "${fl_times[@]}"); pm=$(median "${peer_times[@]}")
echo
echo "settings: MNIST, $clients clients ($processes Flotilla processes, $clients peer processes), dirichlet alpha $alpha, $rounds rounds, 1 epoch, batch 32, lr 0.01, momentum 0.9, mnist_net, 1 thread/process, $(nproc) cores"
printf 'median wall: flotilla %.2f s, peer %.2f s, speed-up peer/flotilla = %.2fx\n' "$fm" "$pm" "$(awk "BEGIN{print $pm / $fm}")"
echo "final accuracy: flotilla ${fl_accs[*]}, peer ${peer_accs[*]}"
