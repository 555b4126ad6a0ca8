#!/usr/bin/env bash
# Training topologies on one MNIST partition: star FedAvg through the coordinator, ring all-reduce
# (model averaging, and gradient all-reduce every step), gossip among the clients, asynchronous
# FedBuff; same seed, data, partition (Dirichlet 0.5), model and local training (1 epoch, batch 32,
# lr 0.01, momentum 0.9), every round evaluated. Prints one table: each client's traffic per round
# measured beside the analytic formula (star: task down + update up = 2 x model; ring: 2(N-1)/N x
# model sent to peers, as much received; gradient sync: that per step; gossip: degree x model;
# async: 2 x model per update), the coordinator's bytes per round (star: 2 x N x model; async: per
# N updates), final accuracy, local steps, rounds and client updates to TARGET, wall seconds and
# mean round seconds; then plots them (bench/plot_topologies.py).
#   bench/topologies.sh [OUT_DIR]     (default bench-results/topologies)
#   env: R=rounds (5) CLIENTS=N (8) TARGET=test accuracy (0.95) DATA=MNIST dir
#        PROCESSES (N; star and async only: flotilla-run gives decentralised runs one per client)
#        PARTITIONER (dirichlet) ALPHA (0.5) SEED (42) DATASET (mnist) MODEL (mnist_cnn)
#        RUNS="star ring ring-grad gossip-ring async-fedbuff", any of those and gossip-complete,
#        gossip-torus, async-fedasync. FLOTILLA_BUILD_DIR (build)
#   smoke test: R=2 CLIENTS=4 DATASET=synthetic TARGET=0.3 bench/topologies.sh /tmp/topo
# Every run trains R x N client updates: R rounds of N clients, or async with --concurrency N and
# R x N updates (FedBuff K = N/2 per version, FedAsync one); ring-grad (--collective-sync
# gradient) takes the steps the group agrees on (the smallest shard's full batches), so fewer. A
# run that fails is named with its log; the table still shows the others and the script then
# exits 1.
# Timings are whatever the machine gives; nothing here asserts them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench-results/topologies}
R=${R:-5} CLIENTS=${CLIENTS:-8} PROCESSES=${PROCESSES:-$CLIENTS} TARGET=${TARGET:-0.95}
DATA=${DATA:-$root/../shared/data/mnist} DATASET=${DATASET:-mnist} MODEL=${MODEL:-mnist_cnn}
PARTITIONER=${PARTITIONER:-dirichlet} ALPHA=${ALPHA:-0.5} SEED=${SEED:-42}
RUNS=${RUNS:-"star ring ring-grad gossip-ring async-fedbuff"}
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
for b in flotilla-run flotilla-coordinator flotilla-client; do
  [[ -x $bin/$b ]] || { echo "no $bin/$b: build first (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
partition=(--partitioner "$PARTITIONER")
[[ $PARTITIONER == dirichlet ]] && partition+=(--alpha "$ALPHA")
common=(--clients "$CLIENTS" --dataset "$DATASET" --data-dir "$DATA" --model "$MODEL" "${partition[@]}"
        --epochs 1 --batch-size 32 --lr 0.01 --momentum 0.9 --seed "$SEED" --eval-every 1 --checkpoint-every 0
        --log-level info)
half=$((CLIENTS / 2 > 0 ? CLIENTS / 2 : 1))

# flotilla-run starts the coordinator and the client processes; with a decentralised --topology
# it gives every client a process of its own and a peer endpoint, so PROCESSES is for star and async.
run() {  # KIND RUN_DIR LOG FLAGS...
  local kind=$1 dir=$2 log=$3
  shift 3
  local processes=(--processes "$PROCESSES")
  [[ $kind == collective ]] && processes=()
  "$bin/flotilla-run" "${common[@]}" "${processes[@]}" --out "$dir" "$@" > "$log" 2>&1
}

: > "$out/runs.tsv"
failed=()
for name in $RUNS; do
  rounds=$R
  case $name in
    star) kind=star flags=(--topology star) ;;
    ring) kind=collective flags=(--topology ring-allreduce) ;;
    ring-grad) kind=collective flags=(--topology ring-allreduce --collective-sync gradient) ;;
    gossip-ring | gossip-complete | gossip-torus) kind=collective flags=(--topology gossip --graph "${name#gossip-}") ;;
    async-fedbuff)
      kind=async
      rounds=$(((R * CLIENTS + half - 1) / half))
      flags=(--mode async --concurrency "$CLIENTS" --async-opt mode=fedbuff --async-opt "buffer_size=$half") ;;
    async-fedasync)
      kind=async
      rounds=$((R * CLIENTS))
      flags=(--mode async --concurrency "$CLIENTS" --async-opt mode=fedasync --async-opt staleness=polynomial:a=0.5) ;;
    *) echo "unknown run '$name' (star ring ring-grad gossip-ring gossip-complete gossip-torus async-fedbuff" \
         "async-fedasync)" >&2; exit 2 ;;
  esac
  flags+=(--rounds "$rounds")
  echo "== $name: ${flags[*]}" >&2
  dir=$out/$name log=$out/$name.log rc=0
  rm -rf "$dir"
  start=$(date +%s.%N)
  run "$kind" "$dir" "$log" "${flags[@]}" || rc=$?
  end=$(date +%s.%N)
  status=ok
  if ((rc != 0)); then
    status="failed (exit $rc), see $log"
    failed+=("$name ($log)")
    echo "run $name failed (exit $rc), see $log" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$dir" "$log" "$start" "$end" "$status" >> "$out/runs.tsv"
done

/usr/bin/python3 - "$out" "$TARGET" "$CLIENTS" <<'PY' | tee "$out/table.txt"
import csv, json, os, re, sys
out, target, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")

def model_bytes(rounds, log):
    for m in rounds:
        if "model_bytes" in m.get("policy", {}): return m["policy"]["model_bytes"]
    found = re.search(r"\((\d+) parameters", open(log, errors="replace").read())  # float32 models only
    return 4 * int(found.group(1)) if found else float("nan")

def client_bytes(m):  # traffic of one round's client rows: star and async, task down + update up
    return sum(c["bytes_sent"] + c["bytes_received"] for c in m["clients"])

rows, curves, notes = [], [], []
for line in open(os.path.join(out, "runs.tsv")):
    name, kind, d, log, t0, t1, status = line.rstrip("\n").split("\t")
    row = dict(run=name, kind=kind, status=status, wall_seconds=float(t1) - float(t0))
    rows.append(row)
    if status != "ok": continue
    ms = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
    ok = [m for m in ms if m["status"] == "ok"]
    mb = model_bytes(ok, log)
    coordinator = [m["wire_bytes_sent"] + m["bytes_received"] for m in ok]
    if kind == "star":
        per_round = [client_bytes(m) / len(m["clients"]) for m in ok]
        client, formula = mean(per_round), 2 * mb
        coord, coord_formula = mean(coordinator), 2 * n * mb
    elif kind == "collective":
        per_round = [m["policy"]["peer_bytes_sent_per_client"] for m in ok]
        client, formula = mean(per_round), mean([m["policy"]["peer_bytes_sent_formula_per_client"] for m in ok])
        coord, coord_formula = mean(coordinator), float("nan")
        last = ok[-1]
        own = [c["policy"]["test_accuracy"] for c in last["clients"] if "test_accuracy" in c.get("policy", {})]
        notes.append(f"{name}: consensus distance after round {last['round']}: "
                     f"{last['policy'].get('consensus_distance', float('nan')):.4g}"
                     + (f"; clients' own models: mean accuracy {mean(own):.4f}, min {min(own):.4f}" if own else ""))
    else:  # async: per update, and the coordinator's bytes per N updates
        updates = sum(len(m["clients"]) for m in ok)
        client, formula = sum(client_bytes(m) for m in ok) / updates, 2 * mb
        per_round = [client_bytes(m) / n for m in ok]
        coord, coord_formula = sum(coordinator) / updates * n, 2 * n * mb
        notes.append(f"{name}: {updates} updates in {len(ok)} versions, mean staleness "
                     f"{mean([m['policy'].get('mean_staleness', 0) for m in ok]):.2f}, max "
                     f"{max(m['policy'].get('max_staleness', 0) for m in ok):.0f}")
    done, cum_bytes, hit = 0, 0.0, None
    for m, b in zip(ok, per_round):
        done += m["answered"]
        cum_bytes += b
        acc = m["test_accuracy"]
        curves.append(dict(run=name, round=m["round"], updates=done, seconds=m["finished_unix"] - float(t0),
                           bytes_per_client=cum_bytes, accuracy="" if acc is None else acc))
        if hit is None and acc is not None and acc >= target:
            hit = (m["round"], done, m["finished_unix"] - float(t0))
    accs = [m["test_accuracy"] for m in ok if m["test_accuracy"] is not None]
    row.update(model_bytes=mb, client_bytes=client, formula_bytes=formula, ratio=client / formula,
               coordinator_bytes=coord, coordinator_formula=coord_formula, final_accuracy=accs[-1] if accs else "",
               rounds=len(ok), rounds_to_target=hit[0] if hit else "", updates_to_target=hit[1] if hit else "",
               seconds_to_target=hit[2] if hit else "", mean_round_seconds=mean([m["round_seconds"] for m in ok]),
               local_steps=mean([c["local_steps"] for m in ok for c in m["clients"]]))

MB = lambda b: "-" if b != b else "%.3f" % (b / 1e6)  # NaN -> "-"
show = lambda v, f: "-" if v == "" else f % v
model = next((r["model_bytes"] for r in rows if "model_bytes" in r), float("nan"))
print(f"N = {n} clients, target test accuracy {target}; MB = 1e6 bytes on the wire; model {MB(model)} MB")
fmt = "%-15s %9s %9s %6s %9s %9s %6s %6s %6s %6s %6s %6s %7s"
print(fmt % ("run", "client MB", "formula", "ratio", "coord MB", "coord frm", "acc", "steps", "rnd->T", "upd->T",
             "s->T", "wall s", "round s"))
for r in rows:
    if r["status"] != "ok":
        print("%-15s %s" % (r["run"], r["status"]))
        continue
    print(fmt % (r["run"], MB(r["client_bytes"]), MB(r["formula_bytes"]), "%.4f" % r["ratio"],
                 MB(r["coordinator_bytes"]), MB(r["coordinator_formula"]), show(r["final_accuracy"], "%.4f"),
                 "%.0f" % r["local_steps"],
                 show(r["rounds_to_target"], "%d"), show(r["updates_to_target"], "%d"),
                 show(r["seconds_to_target"], "%.0f"), "%.0f" % r["wall_seconds"], "%.1f" % r["mean_round_seconds"]))
print("client MB: per client per round; star: task down + update up; ring, gossip: sent to peers (as much\n"
      "is received); async: per update. coord MB: the coordinator's bytes sent + received per round (async:\n"
      "per N updates); a decentralised run sends it the model once (round 1) and every client's model on\n"
      "evaluation rounds (here every round). steps: mean local optimizer steps per client update.\n"
      "rnd->T: rounds (async: versions) until test accuracy >= target; upd->T: client updates until then;\n"
      "s->T: seconds from launch until then. round s: mean round (async: version) seconds.")
for note in notes: print(note)
fields = ["run", "kind", "status", "model_bytes", "client_bytes", "formula_bytes", "ratio", "coordinator_bytes",
          "coordinator_formula", "final_accuracy", "rounds", "rounds_to_target", "updates_to_target",
          "seconds_to_target", "wall_seconds", "mean_round_seconds", "local_steps"]
with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields, restval=""); w.writeheader(); w.writerows(rows)
with open(os.path.join(out, "curves.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(curves[0]) if curves else ["run"]); w.writeheader(); w.writerows(curves)
PY
if /usr/bin/python3 -c 'import matplotlib' 2> /dev/null; then
  /usr/bin/python3 "$root/bench/plot_topologies.py" "$out"
else
  echo "no matplotlib for /usr/bin/python3: no plots" >&2
fi
if ((${#failed[@]})); then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
