#!/usr/bin/env bash
# How much does the approximate CIFAR-10 copy of ../shared/data/cifar-10-approx cost in accuracy?
# Its images are the official ones after a JPEG round trip (quality 75, 4:2:0; 5.8 of 255 mean
# absolute error a pixel), except the first 4,000 train and 1,000 test records, which are exact.
# This takes those exact records and the same images after the same round trip
# (jpeg_folders.py), and trains NIID-Bench's CNN with its local settings on one client (batch 64,
# SGD lr 0.01 momentum 0.9 weight decay 1e-5, reflect-padded crop and flip, pixels in [0, 1]) for
# each pairing of train and test set, exact or JPEG, over several seeds. Same images everywhere,
# so the differences are the round trip's alone.
#
#   examples/niid_bench/jpeg_check.sh [--subset DIR] [--jpgpack FILE] [--rounds R] [--epochs E]
#       [--seeds S,...] [--out DIR]
#
# Defaults: ../shared/data/cifar-10-subset, ../shared/data/cifar-10-approx/train.jpgpack, 15
# rounds x 4 epochs (60 passes over the 4,000 images), seeds 0,1,2, out runs/jpeg-check. Prints
# the final test accuracy per pairing and seed, and the means; writes summary.csv into --out.
# About 30 s a run on 2 CPU cores (measured 7 Dec 2026). Needs a build, and Debian's python3-pil and python3-numpy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
subset=$root/../shared/data/cifar-10-subset jpgpack=$root/../shared/data/cifar-10-approx/train.jpgpack
rounds=15 epochs=4 seeds=0,1,2 out=$root/runs/jpeg-check
while (($#)); do
  case $1 in
    --subset) subset=$2; shift 2 ;;
    --jpgpack) jpgpack=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "jpeg_check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
[[ -x $bin/flotilla-run ]] || { echo "jpeg_check: no $bin/flotilla-run; build first (scripts/build.sh)" >&2; exit 1; }
for f in "$subset/data_batch_subset.bin" "$subset/test_batch_subset.bin" "$jpgpack"; do
  [[ -f $f ]] || { echo "jpeg_check: no $f" >&2; exit 1; }
done

mkdir -p "$out"
/usr/bin/python3 "$here/jpeg_folders.py" "$subset" "$jpgpack" "$out/data"
IFS=, read -r -a seed_list <<< "$seeds"
echo "pairing,seed,final_accuracy,best_accuracy" > "$out/summary.csv"
for pairing in train-exact-test-exact train-exact-test-jpeg train-jpeg-test-exact train-jpeg-test-jpeg; do
  for seed in "${seed_list[@]}"; do
    run=$out/$pairing-seed$seed
    rm -rf "$run"
    "$bin/flotilla-run" --dataset cifar10 --data-dir "$out/data/$pairing" --model cifar_cnn --clients 1 --processes 1 \
      --fraction 1 --partitioner iid --rounds "$rounds" --epochs "$epochs" --batch-size 64 --lr 0.01 --momentum 0.9 \
      --weight-decay 1e-5 --augment crop_flip_reflect --normalize none --seed "$seed" --checkpoint-every 0 \
      --log-level warning --out "$run" > "$run.log" 2>&1 || { cat "$run.log" >&2; echo "jpeg_check: $pairing seed $seed failed" >&2; exit 1; }
    /usr/bin/python3 - "$run/metrics.jsonl" "$pairing" "$seed" >> "$out/summary.csv" <<'PY'
import json, sys
rounds = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
accuracies = [r["test_accuracy"] for r in rounds if r.get("test_accuracy") is not None]
print(f"{sys.argv[2]},{sys.argv[3]},{100 * accuracies[-1]:.1f},{100 * max(accuracies):.1f}")
PY
    tail -1 "$out/summary.csv"
  done
done
echo
/usr/bin/python3 - "$out/summary.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("final test accuracy in %, mean over seeds (min-max):")
for pairing in dict.fromkeys(r["pairing"] for r in rows):
    finals = [float(r["final_accuracy"]) for r in rows if r["pairing"] == pairing]
    print(f"  {pairing:24s} {statistics.mean(finals):5.1f} ({min(finals):.1f}-{max(finals):.1f}), {len(finals)} seeds")
PY
echo "written to $out"
