#!/usr/bin/env bash
# Secure aggregation in real runs: a coordinator and 10 client processes on loopback, MNIST with
# the FedAvg paper's 2NN (199k parameters), every client in every round, for 10, 50 and 100 logical
# clients; without secure aggregation, then with it on the complete graph (SecAgg) and on
# 2*ceil(log2 n) neighbours (SecAgg+), with 0%, 10% and 30% of the clients dropping out before
# masking in every round (whole client processes, --secagg-dropout all:2: silent, not dead, so
# the stage waits its timeout for them). Prints seconds per round and of them the protocol's
# stages 1-3 (the means of rounds 2..R: round 1 loads data), bytes per client per round each way
# (dropped clients included), the accuracy after R rounds, and how secure aggregation ended.
# Not a test.
#   bench/secagg_rounds.sh [--rounds R] [--sizes "10 50 100"] [--dropouts "0 10 30"] [--data-dir DIR]
#       [--stage-timeout S]
# Needs a build (FLOTILLA_BUILD_DIR, default build/) and MNIST (default ../shared/data/mnist, else data/mnist).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
rounds=3 sizes="10 50 100" dropouts="0 10 30" stage_timeout=20
data=$root/../shared/data/mnist
[[ -d $data ]] || data=$root/data/mnist
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --dropouts) dropouts=$2; shift 2 ;;
    --data-dir) data=$2; shift 2 ;;
    --stage-timeout) stage_timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "secagg_rounds: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[[ -x $bin/flotilla-coordinator ]] || { echo "secagg_rounds: no $bin/flotilla-coordinator; build first" >&2; exit 1; }
work=$(mktemp -d /tmp/flotilla-secagg-rounds.XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT
processes=10

# run NAME CLIENTS DROPPED_PROCESSES COORDINATOR_FLAGS...: one run; its directory is $work/NAME.
run() {
  local name=$1 clients=$2 dropped=$3
  shift 3
  local dir=$work/$name per=$((clients / processes))
  mkdir -p "$dir"
  "$bin/flotilla-coordinator" --bind 'tcp://127.0.0.1:*' --endpoint-file "$dir/endpoint" --out "$dir/run" \
    --dataset mnist --data-dir "$data" --model mlp --partitioner iid --clients "$clients" --fraction 1 \
    --rounds "$rounds" --epochs 1 --batch-size 50 --lr 0.1 --seed 1 --checkpoint-every 0 --threads 1 \
    --round-timeout 300 "$@" > "$dir/coordinator.log" 2>&1 &
  local coordinator=$!
  for _ in $(seq 100); do [[ -s $dir/endpoint ]] && break; sleep 0.1; done
  for ((p = 0; p < processes; p++)); do
    local drop=()
    ((p < dropped)) && drop=(--secagg-dropout all:2)
    "$bin/flotilla-client" --connect "$(cat "$dir/endpoint")" --client-ids "$((p * per))-$((p * per + per - 1))" \
      --data-dir "$data" --threads 1 "${drop[@]}" > "$dir/client-$p.log" 2>&1 &
  done
  wait "$coordinator" || true
  wait
}

# summarise NAME LABEL: one table row from the run's metrics.jsonl.
summarise() {
  /usr/bin/python3 - "$work/$1/run/metrics.jsonl" "$2" "$work/$1/coordinator.log" <<'EOF'
import json, sys
path, label, log = sys.argv[1:4]
try:
    rows = [json.loads(line) for line in open(path)]
except FileNotFoundError:
    rows = []
ok = [r for r in rows if r["status"] == "ok"]
if len(ok) < 2:
    why = next((l.strip() for l in open(log) if "failed" in l), "no rounds")
    print(f"| {label} | fails: {why[-110:]} | | | | | |")
    sys.exit()
later = ok[1:]
seconds = sum(r["round_seconds"] for r in later) / len(later)
clients = [c for r in later for c in r["clients"]]
sent = sum(c["bytes_sent"] for c in clients) / len(clients) / 1e6
received = sum(c["bytes_received"] for c in clients) / len(clients) / 1e6
policy = later[-1].get("policy", {})
stages = sum(r.get("policy", {}).get("secagg_seconds", 0.0) for r in later) / len(later)
how = "plain" if "secagg_masked" not in policy else (
    f"t={int(policy['secagg_threshold'])}, {int(policy['secagg_masked'])} masked of {len(later[-1]['clients'])}")
print(f"| {label} | {seconds:.2f} | {stages:.2f} | {sent:.3f} | {received:.3f} | {ok[-1]['test_accuracy']:.4f} | {how} |")
EOF
}

echo "Secure aggregation in real runs: MNIST, 2NN, $rounds rounds, 1 epoch, $processes client processes, stage timeout ${stage_timeout} s ($(date +%F), $(nproc) cores)"
echo
echo "| clients, graph, dropouts | s/round | of which stages 1-3 | MB to each client | MB from each client | accuracy | secure aggregation |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
for n in $sizes; do
  run "plain-$n" "$n" 0
  summarise "plain-$n" "$n, plain"
  k=$(/usr/bin/python3 -c "import math; print(2 * math.ceil(math.log2($n)))")
  graphs=("complete:0")
  ((k < n - 1)) && graphs+=("k=$k:$k")
  for graph in "${graphs[@]}"; do
    for pct in $dropouts; do
      dropped=$((processes * pct / 100))
      name="secagg-$n-${graph%%:*}-$pct"
      run "$name" "$n" "$dropped" --secagg on --secagg-opt "neighbours=${graph##*:}" \
        --secagg-opt "stage_timeout=$stage_timeout"
      summarise "$name" "$n, ${graph%%:*}, $pct%"
    done
  done
done
