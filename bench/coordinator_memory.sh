#!/usr/bin/env bash
# Peak RSS of the coordinator and of the client processes vs logical clients (10, 100, 1000, with 10%
# sampled each round) and vs model size, for a streaming rule (fedavg: updates folded as they
# arrive) and a whole-round rule (median: every update kept until the round ends, which is what all
# rules did before streaming aggregation, so it is the "before" column). Peak RSS is VmHWM polled
# from /proc every 0.2 s. Start-up = launch of flotilla-run to the start of round 1 (round 1's
# finished_unix - round_seconds): key generation, process start, data loading and partitioning.
#   bench/coordinator_memory.sh [OUT_DIR]   (default bench-results/coordinator_memory)
# UPLOADS="default 100000 32" also runs each config with those --upload-memory values (MB): the
# coordinator lets that much of finished clients' updates travel at once, the rest wait on the
# clients; 100000 is in effect no limit, as before protocol 7.
#   env: ROUNDS (2) MNIST=dir CIFAR=dir with the CIFAR-10 subset SETS="synthetic mnist cifar"
#        RULES ("fedavg median") UPLOADS ("default") FLOTILLA_BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench-results/coordinator_memory}
ROUNDS=${ROUNDS:-2}
MNIST=${MNIST:-$root/../shared/data/mnist}
CIFAR=${CIFAR:-$root/../shared/data/cifar-10-subset}
SETS=${SETS:-"synthetic mnist cifar"}
RULES=${RULES:-"fedavg median"}
UPLOADS=${UPLOADS:-default}
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
source "$root/bench/lib_procmon.sh"
source "$root/bench/lib_cifar_subset.sh"
mkdir -p "$out"

cifar_dir=$out/cifar-10-batches-bin
if [[ $SETS == *cifar* ]]; then cifar_subset_dir "$CIFAR" "$out" >/dev/null; fi

# name dataset data model clients processes
configs=()
[[ $SETS == *synthetic* ]] && configs+=("syn-mlp-10 synthetic - mlp 10 2" "syn-mlp-100 synthetic - mlp 100 4" "syn-mlp-1000 synthetic - mlp 1000 4")
[[ $SETS == *mnist* ]] && configs+=("mnist-cnn-1000 mnist $MNIST mnist_cnn 1000 4")
[[ $SETS == *cifar* ]] && configs+=("cifar-resnet18-100 cifar10 $cifar_dir resnet18 100 2")
for cfg in "${configs[@]}"; do
  read -r name dataset data model clients procs <<<"$cfg"
  for rule in $RULES; do
  for upload in $UPLOADS; do
    run=$out/$name-$rule; [[ $upload == default ]] || run=$run-upload$upload
    rm -rf "$run"; mkdir -p "$run"
    echo "== $name $rule upload memory $upload" >&2
    args=(--clients "$clients" --processes "$procs" --fraction 0.1 --rounds "$ROUNDS" --dataset "$dataset" --model "$model"
          --partitioner iid --epochs 1 --batch-size 32 --lr 0.01 --seed 42 --aggregator "$rule"
          --checkpoint-every 0 --log-level warning --out "$run/run")
    [[ $data != - ]] && args+=(--data-dir "$data")
    [[ $upload == default ]] || args+=(--upload-memory "$upload")
    start=$(date +%s.%N)
    "$bin/flotilla-run" "${args[@]}" > "$run/log.txt" 2>&1 &
    launcher=$!
    procmon_start "$launcher" "$run/rss.txt"
    rc=0; wait "$launcher" || rc=$?
    procmon_wait
    echo "$name $dataset $model $clients $procs $rule $upload $start $rc" > "$run/bench.txt"
    [[ $rc == 0 ]] || echo "run $name $rule failed (rc $rc), see $run/log.txt" >&2
  done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys, glob
out = sys.argv[1]
print("%-20s %7s %8s %8s %7s %9s %9s %12s %9s %10s %11s %11s %9s %4s" % ("config", "clients", "sampled", "model MB",
      "rule", "upload MB", "coord MB", "in transit MB", "waited", "client MB", "client sum", "start-up s", "round s", "rc"))
for b in sorted(glob.glob(os.path.join(out, "*", "bench.txt")), key=os.path.getmtime):
    d = os.path.dirname(b)
    name, dataset, model, clients, procs, rule, upload, start, rc = open(b).read().split()
    rss = [l.split() for l in open(os.path.join(d, "rss.txt")) if l.strip()] if os.path.exists(os.path.join(d, "rss.txt")) else []
    coord = max([int(k) for _, t, k in rss if t == "coordinator"], default=0) / 1024
    cl = [int(k) / 1024 for _, t, k in rss if t == "client"]
    mfile = os.path.join(d, "run", "metrics.jsonl")
    ms = [json.loads(l) for l in open(mfile) if l.strip()] if os.path.exists(mfile) else []
    sampled = len(ms[0]["sampled"]) if ms else 0
    startup = (ms[0]["finished_unix"] - ms[0]["round_seconds"] - float(start)) if ms else float("nan")
    rs = sum(m["round_seconds"] for m in ms) / len(ms) if ms else float("nan")
    model_mb = float("nan")
    # What the coordinator ran with (its default when the run did not set it), from the run's record.
    cfg = os.path.join(d, "run", "config.json")
    upload_mb = "%g" % json.load(open(cfg))["upload_memory_mb"] if os.path.exists(cfg) else upload
    if ms and ms[0]["clients"]:
        # a task carries the model once: bytes_sent of one client is about the model's size
        model_mb = min(c["bytes_sent"] for c in ms[0]["clients"] if c["bytes_sent"] > 0) / 1e6
    transit = max((m.get("upload_peak_bytes", 0) for m in ms), default=0) / 1e6
    waited = max((m.get("uploads_waiting_peak", 0) for m in ms), default=0)
    print("%-20s %7s %8d %8.2f %7s %9s %9.1f %12.1f %9d %10s %11.1f %11.2f %9.2f %4s" % (name, clients, sampled, model_mb,
          rule, upload_mb, coord, transit, waited, "%.1f" % max(cl, default=0), sum(cl),
          startup, rs, rc))
print("client MB = the largest client process's peak; client sum = all client processes' peaks added;")
print("in transit MB / waited = the most update bytes granted and in transit, and the most finished clients")
print("waiting for their turn, at once in any round")
PY
