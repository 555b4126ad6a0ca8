#!/usr/bin/env bash
# What the live view costs the round loop: the same short run (synthetic data, the MLP, 4 clients
# in 2 processes) three ways, interleaved REPEAT times:
#   off     no live view
#   idle    --live-view served, nobody asks
#   polled  a poller asks for /api/state and /metrics 20 times a second each, on one keep-alive
#           connection each (40 requests/s, far more than a page (2/s) or Prometheus (1 per 15 s))
# and prints the mean round time (round_seconds of metrics.jsonl; rounds 2+ leave out the clients'
# start-up), the run's wall time, and for polled the requests served and their latency.
#   bench/live_view_cost.sh [OUT_DIR]   (default bench-results/live_view_cost)
#   env: ROUNDS (30) EPOCHS (5) REPEAT (3) FLOTILLA_BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench-results/live_view_cost}
ROUNDS=${ROUNDS:-30}
EPOCHS=${EPOCHS:-5}
REPEAT=${REPEAT:-3}
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
python=/usr/bin/python3
[[ -x $python ]] || python=python3
mkdir -p "$out"
rm -rf "$out"/run-*

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Polls until the live view stops answering (the run ended); prints "requests mean_ms p99_ms".
poller() {
  "$python" - "$1" <<'PY'
import http.client, sys, time
port = int(sys.argv[1])
conns = {path: None for path in ("/api/state", "/metrics")}
latencies, started, answered = [], time.time(), False
while True:
    tick = time.time()
    ok = True
    for path in conns:
        try:
            if conns[path] is None:
                conns[path] = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            t = time.perf_counter()
            conns[path].request("GET", path)
            body = conns[path].getresponse().read()
            latencies.append(time.perf_counter() - t)
            answered = True
        except OSError:
            conns[path] = None
            ok = False
    if not ok and (answered or time.time() - started > 120):
        break
    time.sleep(max(0.0, 0.05 - (time.time() - tick)))
latencies.sort()
n = len(latencies)
print(n, "%.2f" % (1000 * sum(latencies) / max(n, 1)), "%.2f" % (1000 * latencies[int(0.99 * (n - 1))] if n else 0))
PY
}

run() {  # name repetition
  local name=$1 rep=$2 dir=$out/run-$1-$2 extra=() port=""
  case $name in
    idle) extra=(--live-view 127.0.0.1:0) ;;
    polled) port=$(free_port); extra=(--live-view "127.0.0.1:$port") ;;
  esac
  local start=$SECONDS poll_pid=""
  if [[ -n $port ]]; then poller "$port" > "$dir.poll" & poll_pid=$!; fi
  "$bin/flotilla-run" --clients 4 --processes 2 --rounds "$ROUNDS" --dataset synthetic --model mlp --partitioner iid \
    --epochs "$EPOCHS" --batch-size 16 --lr 0.05 --momentum 0.9 --seed 7 --checkpoint-every 0 --log-level warning \
    --out "$dir" "${extra[@]+"${extra[@]}"}" > "$dir.log" 2>&1 || { echo "run $name failed, see $dir.log" >&2; exit 1; }
  echo $((SECONDS - start)) > "$dir.wall"
  [[ -n $poll_pid ]] && wait "$poll_pid"
  return 0
}

for rep in $(seq "$REPEAT"); do
  for name in off idle polled; do
    echo "== $name ($rep/$REPEAT)" >&2
    run "$name" "$rep"
  done
done

"$python" - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
fmt = "%-7s %5s %7s %13s %15s %11s %17s %8s %9s %12s %11s"
print(fmt % ("config", "runs", "rounds", "mean round s", "median round s", "mean r2+ s", "run means min-max",
             "wall s", "requests", "mean req ms", "p99 req ms"))
for name in ("off", "idle", "polled"):
    rounds, later, walls, requests, means, p99s, run_means = [], [], [], 0, [], [], []
    runs = sorted(glob.glob(os.path.join(out, "run-%s-*" % name)))
    runs = [r for r in runs if os.path.isdir(r)]
    for r in runs:
        ms = [json.loads(l) for l in open(os.path.join(r, "metrics.jsonl")) if l.strip()]
        rounds += [m["round_seconds"] for m in ms]
        run_means.append(statistics.mean(m["round_seconds"] for m in ms))
        later += [m["round_seconds"] for m in ms if m["round"] > 1]
        walls.append(int(open(r + ".wall").read()))
        if os.path.exists(r + ".poll"):
            n, mean, p99 = open(r + ".poll").read().split()
            requests += int(n); means.append(float(mean)); p99s.append(float(p99))
    if not runs:
        continue
    print(fmt % (name, len(runs), len(rounds), "%.4f" % statistics.mean(rounds), "%.4f" % statistics.median(rounds),
                 "%.4f" % statistics.mean(later), "%.3f-%.3f" % (min(run_means), max(run_means)),
                 "%.1f" % statistics.mean(walls), requests or "-",
                 "%.2f" % statistics.mean(means) if means else "-", "%.2f" % max(p99s) if p99s else "-"))
PY
