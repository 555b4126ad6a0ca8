#!/usr/bin/env bash
# Runs examples/niid_bench/run.sh end to end on the built-in synthetic data set (2 algorithms x
# the Dirichlet(0.5) partition, 2 rounds of 1 epoch, model mlp) and checks its table, each run's
# config and the plot; then one run on a tiny MNIST-format folder written here (NIID-Bench's input
# scaling and #C=2 draw); then that unknown names are refused before anything runs. The plot is
# checked only when matplotlib is there (the bench skips it without).
set -euo pipefail
source_dir=$1 build_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench=$source_dir/examples/niid_bench/run.sh
FLOTILLA_BUILD_DIR=$build_dir "$bench" --datasets synthetic --partitions dir0.5 --algorithms fedavg,scaffold \
  --rounds 2 --epochs 1 --processes 2 --out "$tmp/bench" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "FAIL: the bench failed"; exit 1; }

csv=$tmp/bench/summary.csv
[[ -s $csv ]] || { cat "$tmp/log"; echo "FAIL: no summary.csv"; exit 1; }
# One row per (dataset, partition); per algorithm this run's final and best and the published ones.
header=$(head -1 "$csv")
[[ $header == dataset,partition,rounds,epochs,fedavg_final,fedavg_best,fedavg_paper,fedavg_flower,scaffold_final,scaffold_best,scaffold_paper,scaffold_flower ]] ||
  { echo "FAIL: header '$header'"; exit 1; }
rows=$(tail -n +2 "$csv" | cut -d, -f1-4 | tr '\n' ' ')
[[ $rows == "synthetic,dir0.5,2,1 " ]] || { echo "FAIL: rows are '$rows'"; exit 1; }
# Accuracies are percentages; synthetic has no published number.
# (",end": read drops a trailing empty field.)
IFS=, read -r -a cells <<< "$(tail -n +2 "$csv"),end"
for i in 4 5 8 9; do
  if ! [[ ${cells[$i]} =~ ^[0-9]+\.[0-9]{2}$ ]] || ((${cells[$i]%.*} > 100)); then
    echo "FAIL: cell $i is '${cells[$i]}'"; exit 1
  fi
done
[[ -z ${cells[6]}${cells[7]}${cells[10]}${cells[11]} ]] || { echo "FAIL: published numbers for synthetic"; exit 1; }
grep -q "FedAvg *SCAFFOLD" "$tmp/bench/summary.txt" || { cat "$tmp/bench/summary.txt"; echo "FAIL: summary.txt"; exit 1; }
grep -q "2 rounds x 1 local epochs" "$tmp/bench/summary.md" || { echo "FAIL: summary.md lacks the budget"; exit 1; }
grep -q "no numbers for it" "$tmp/log" || { echo "FAIL: no warning about synthetic"; exit 1; }
# Each run directory ran the algorithm and partition it is named after.
for a in fedavg scaffold; do
  config=$tmp/bench/synthetic-dir0.5-$a/config.json
  grep -q "\"aggregator\": *\"$a\"" "$config" || { echo "FAIL: $a run config: $(cat "$config")"; exit 1; }
  grep -q '"partitioner": *"dirichlet"' "$config" || { echo "FAIL: $a run partitioner"; exit 1; }
  grep -q '"alpha": *"0.5"' "$config" || { echo "FAIL: $a run alpha"; exit 1; }
done
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  head -c 8 "$tmp/bench/accuracy.png" 2>/dev/null | grep -q PNG || { cat "$tmp/log"; echo "FAIL: accuracy.png missing"; exit 1; }
fi

# A real image set runs as NIID-Bench runs it: pixels in [0, 1] (--normalize none) and #C=2 drawn
# by NIID-Bench's assignment. A tiny MNIST-format folder (50 images a class) stands in for MNIST.
/usr/bin/python3 - "$tmp/mnist" <<'PY'
import os, random, struct, sys
out = sys.argv[1]
os.makedirs(out)
rng = random.Random(5)
for prefix, n in (("train", 500), ("t10k", 100)):
    labels = [i % 10 for i in range(n)]
    with open(f"{out}/{prefix}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28))
        f.write(bytes(min(255, rng.randrange(100) + 15 * y) for y in labels for _ in range(784)))
    with open(f"{out}/{prefix}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 2049, n) + bytes(labels))
PY
FLOTILLA_BUILD_DIR=$build_dir "$bench" --datasets mnist --partitions c2 --algorithms fedavg --rounds 1 --epochs 1 \
  --processes 2 --data-dir-mnist "$tmp/mnist" --out "$tmp/mnist-bench" > "$tmp/mnist-log" 2>&1 ||
  { cat "$tmp/mnist-log"; echo "FAIL: the MNIST-format run failed"; exit 1; }
config=$tmp/mnist-bench/mnist-c2-fedavg/config.json
grep -q '"normalize": *"none"' "$config" || { cat "$config"; echo "FAIL: MNIST not fed pixels in [0, 1]"; exit 1; }
grep -q '"assignment": *"niid_bench"' "$config" || { cat "$config"; echo "FAIL: #C=2 not NIID-Bench's draw"; exit 1; }
grep -q '"partitioner": *"label_split"' "$config" || { cat "$config"; echo "FAIL: #C=2 partitioner"; exit 1; }
grep -q "^mnist *#C=2 " "$tmp/mnist-bench/summary.txt" || { cat "$tmp/mnist-bench/summary.txt"; echo "FAIL: no MNIST row"; exit 1; }

for bad in "--algorithms fedavg,fedsgd:algorithm 'fedsgd'" "--datasets mnist,svhn:dataset 'svhn'" \
  "--partitions c3:partition 'c3'" "--config tpu:configuration 'tpu'"; do
  flags=${bad%%:*} want=${bad#*:}
  # shellcheck disable=SC2086
  if FLOTILLA_BUILD_DIR=$build_dir "$bench" $flags --out "$tmp/bad" 2> "$tmp/err"; then
    echo "FAIL: '$flags' was accepted"; exit 1
  else
    status=$?
  fi
  ((status == 2)) || { echo "FAIL: '$flags' exited $status, not 2"; exit 1; }
  grep -q "unknown $want" "$tmp/err" || { echo "FAIL: unclear error for '$flags': $(cat "$tmp/err")"; exit 1; }
done
[[ ! -e $tmp/bad ]] || { echo "FAIL: a refused bench wrote $tmp/bad"; exit 1; }
echo "PASS: bench table, run configs and plot written; unknown names refused"
