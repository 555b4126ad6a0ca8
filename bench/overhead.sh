#!/usr/bin/env bash
# Framework overhead per round: round_seconds minus the slowest client process's training time,
# where a process's training time is the sum of train_seconds of its logical clients that round
# (flotilla-run gives each process a contiguous id range). Evaluation runs in the background
# while the next round trains; on a machine where clients share the coordinator's cores it
# competes with training for CPU, so it shows up partly inside training time.
# The overhead is split in two: "client other" is what the slowest process spent outside training
# (its clients' total_seconds minus train_seconds: loading the model, the held-out evaluation
# before and after training that --holdout-fraction asks for, encoding), "coord+wire" the rest of
# the round (sending, receiving, folding, the server step). Round 1 also holds the clients' start-up
# (loading and partitioning their data after the welcome), so "coord+wire r2+" repeats the split
# for the rounds after it.
#   bench/overhead.sh [OUT_DIR]   (default bench-results/overhead)
#   env: ROUNDS (3) MNIST=dir CIFAR=dir (the CIFAR-10 subset) SETS="mnist cifar" FLOTILLA_BUILD_DIR
#        CIFAR_FULL=dir (a full-size cifar-10-batches-bin/, e.g. written by ../shared/data/cifar-10-approx/rebuild.py:
#        adds a run on it, whose rounds are as long as a real one's)
#        REPORT_ONLY=1 (print the table of the runs already in OUT_DIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench-results/overhead}
ROUNDS=${ROUNDS:-3}
MNIST=${MNIST:-$root/../shared/data/mnist}
CIFAR=${CIFAR:-$root/../shared/data/cifar-10-subset}
SETS=${SETS:-"mnist cifar"}
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
source "$root/bench/lib_cifar_subset.sh"
mkdir -p "$out"
cifar_dir=$out/cifar-10-batches-bin
if [[ $SETS == *cifar* ]]; then cifar_subset_dir "$CIFAR" "$out" >/dev/null; fi
configs=()  # name dataset data model clients processes
[[ $SETS == *mnist* ]] && configs+=("mnist-2p mnist $MNIST mnist_cnn 10 2" "mnist-10p mnist $MNIST mnist_cnn 10 10")
[[ $SETS == *cifar* ]] && configs+=("cifar-2p cifar10 $cifar_dir cifar_cnn 10 2")
[[ $SETS == *cifar* && -n ${CIFAR_FULL:-} ]] && configs+=("cifar-full-2p cifar10 $CIFAR_FULL cifar_cnn 10 2")
[[ ${REPORT_ONLY:-0} == 1 ]] && configs=()
for cfg in "${configs[@]+"${configs[@]}"}"; do
  read -r name dataset data model clients procs <<<"$cfg"
  run=$out/$name; rm -rf "$run"
  echo "== $name" >&2
  "$bin/flotilla-run" --clients "$clients" --processes "$procs" --rounds "$ROUNDS" --dataset "$dataset" --data-dir "$data" \
    --model "$model" --partitioner dirichlet --alpha 0.5 --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed 42 \
    --checkpoint-every 0 --log-level warning --out "$run" > "$out/$name.log" 2>&1 \
    || { echo "run $name failed, see $out/$name.log" >&2; continue; }
  echo "$name $dataset $model $clients $procs" > "$run/bench.txt"
done
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys, glob
out = sys.argv[1]
fmt = "%-10s %-8s %-10s %7s %9s %12s %14s %10s %10s %14s %14s %16s %7s"
print(fmt % ("run", "dataset", "model", "clients", "processes", "mean round s", "mean slowest s", "overhead s", "overhead %",
             "client other %", "coord+wire %", "coord+wire r2+ %", "eval s"))
for b in sorted(glob.glob(os.path.join(out, "*", "bench.txt")), key=os.path.getmtime):
    d = os.path.dirname(b)
    name, dataset, model, clients, procs = open(b).read().split()
    clients, procs = int(clients), int(procs)
    base, extra = divmod(clients, procs)
    proc_of, nxt = {}, 0
    for p in range(procs):
        for c in range(nxt, nxt + base + (p < extra)): proc_of[c] = p
        nxt += base + (p < extra)
    ms = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
    rounds, slow, slow_total, evals = [], [], [], []
    for m in ms:
        per, per_total = {}, {}
        for c in m["clients"]:
            p = proc_of[c["client_id"]]
            per[p] = per.get(p, 0.0) + (c["train_seconds"] or 0.0)
            per_total[p] = per_total.get(p, 0.0) + (c["total_seconds"] or 0.0)
        slowest = max(per, key=per.get)
        rounds.append(m["round_seconds"]); slow.append(per[slowest]); slow_total.append(per_total[slowest])
        evals.append(m["eval_seconds"] or 0.0)
    n = len(ms); r = sum(rounds) / n; s = sum(slow) / n; t = sum(slow_total) / n; e = sum(evals) / n
    later = "-"
    if n > 1:
        later = "%.1f" % (100 * (sum(rounds[1:]) - sum(slow_total[1:])) / sum(rounds[1:]))
    print(fmt % (name, dataset, model, clients, procs, "%.2f" % r, "%.2f" % s, "%.2f" % (r - s), "%.1f" % (100 * (r - s) / r),
                 "%.1f" % (100 * (t - s) / r), "%.1f" % (100 * (r - t) / r), later, "%.2f" % e))
    print("  per round: " + "  ".join("r%d %.2f/%.2f" % (m["round"], a, b) for m, a, b in zip(ms, rounds, slow)))
PY
