#!/usr/bin/env bash
# Large models: runs flotilla-run (coordinator + client processes, CURVE on as by default) with
# wide_mlp models of the sizes asked for, and measures the peak resident memory (max RSS) of the
# coordinator and of each client process, with GNU time wrapped around each binary. Prints one
# row per model:
#
#   model  MB  coord_peak_MB  coord_x  client_peak_MB  client_x  round_s (wait agg eval)
#
# client_peak is the largest of the client processes. The first row is a tiny model, the
# processes' own footprint (LibTorch, data, ZeroMQ); x is what a model adds over it, in model
# sizes: (peak - tiny's peak) / model size. A watchdog polls the processes' RSS and
# stops the run when their sum passes --max-total-gb (a shared machine must not swap or OOM):
# that row then says "over cap" with what was reached.
#
# Defaults keep a 1 GB model's run to a few minutes on 2 cores: the synthetic data set (12x12
# images, 10 classes, 2000 train / 500 test samples: MNIST-like but quick to evaluate), one round,
# one local step per client (the batch covers its partition), plain SGD (--momentum 0). The
# default models: 261 MB with a 256 MB tensor (hidden=8000), 1.01 GB in 16 layers of 67 MB
# (hidden=4096,layers=16) and 1.03 GB with a 1.02 GB tensor (hidden=16000).
#
#   bench/large_model.sh                                       # ~256 MB and ~1 GB, 1 client
#   bench/large_model.sh --clients 2 --models "wide_mlp:hidden=8000 wide_mlp:hidden=2048,layers=16"
#   bench/large_model.sh --dataset mnist --data-dir /work/shared/data/mnist --models wide_mlp:hidden=7600
#
# Options: --build-dir DIR (build), --models "NAME ..." (model names, see wide_mlp in
# models/wide_mlp.h), --clients N (1; one process each), --rounds R (1), --dataset, --data-dir,
# --max-total-gb G (8), --keep (keep the run folders), --trace FILE (every 0.2 s, each process's
# RSS as "time model pid name rss_kb" lines, the time as the logs give it: which phase of a round
# takes the memory), and anything after -- goes to flotilla-run (e.g. --no-encryption).
set -euo pipefail

build=build
models="wide_mlp:hidden=8000 wide_mlp:hidden=4096,layers=16 wide_mlp:hidden=16000"
clients=1
rounds=1
dataset=synthetic
data_dir=""
max_total_gb=8
keep=0
trace=/dev/null
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dataset) dataset=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --max-total-gb) max_total_gb=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --trace) trace=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

bin=$(cd "$build/bin" && pwd)
for b in flotilla-run flotilla-coordinator flotilla-client; do
  [[ -x $bin/$b ]] || { echo "missing $bin/$b: cmake --build $build --target $b" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-large-XXXXXX")
cleanup() { [[ $keep == 1 ]] && echo "run folders kept in $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

# flotilla-run starts whatever its --bin-dir holds: wrappers that run each binary under GNU time,
# which writes the process's max RSS (KB) and wall time when it exits.
wrap=$work/bin
mkdir -p "$wrap"
for b in flotilla-coordinator flotilla-client; do
  cat > "$wrap/$b" <<EOF
#!/bin/sh
exec /usr/bin/time -f "%M %e" -o "$work/time.$b.\$\$" "$bin/$b" "\$@"
EOF
  chmod +x "$wrap/$b"
done

# Sum of the RSS (KB) of a process and all its descendants; with a trace, each one's RSS (prefixed
# by $2) goes to it.
tree_rss_kb() {
  local pids=("$1") i=0 total=0 kids rss name
  while [[ $i -lt ${#pids[@]} ]]; do
    kids=$(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null || true)
    for k in $kids; do pids+=("$k"); done
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do
    rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null || true)
    total=$((total + ${rss:-0}))
    if [[ $trace != /dev/null && ${rss:-0} -gt 0 ]]; then
      name=$(cat /proc/"$p"/comm 2>/dev/null || echo "?")
      echo "$2 $p $name $rss" >> "$trace"
    fi
  done
  echo "$total"
}

# KB (GNU time's and /proc's unit, 1024 bytes) as MB (10^6 bytes), and as a multiple of MB.
mb() { awk -v kb="${1:-0}" 'BEGIN { if (kb > 0) printf "%.0f", kb * 1024 / 1e6; else print "-" }'; }
ratio() { awk -v kb="${1:-0}" -v m="${2:-0}" 'BEGIN { if (kb > 0 && m > 0) printf "%.2f", kb * 1024 / 1e6 / m; else print "-" }'; }

data_args=(--dataset "$dataset")
[[ -n $data_dir ]] && data_args+=(--data-dir "$data_dir")

rows=()
n=0
base_coord_kb=0
base_client_kb=0
# The first run, with a tiny model, measures what the processes take without one (LibTorch, data,
# ZeroMQ): the x columns divide what a model adds over that by the model's size.
for model in wide_mlp:hidden=16 $models; do
  n=$((n + 1))
  rm -f "$work"/time.*
  out=$work/run-$n
  log=$work/run-$n.log
  # One local step: the batch is larger than any client's partition.
  setsid "$bin/flotilla-run" --bin-dir "$wrap" --clients "$clients" --processes "$clients" --rounds "$rounds" \
    "${data_args[@]}" --model "$model" --partitioner iid --epochs 1 --batch-size 1000000 --momentum 0 \
    --round-timeout 3600 --registration-timeout 600 --out "$out" "${extra[@]}" > "$log" 2>&1 &
  run_pid=$!
  peak_total=0
  over=0
  while kill -0 "$run_pid" 2>/dev/null; do
    total=$(tree_rss_kb "$run_pid" "$(date +%H:%M:%S.%1N) $model")
    ((total > peak_total)) && peak_total=$total
    if ((total > max_total_gb * 1024 * 1024)); then
      over=1
      kill -TERM -- -"$run_pid" 2>/dev/null || true
      sleep 2
      kill -KILL -- -"$run_pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  status=0
  wait "$run_pid" || status=$?

  # Model size from the coordinator's log line "model NAME (P parameters, X.YMB)".
  model_mb=$(grep -o '[0-9.]*MB); evaluating' "$log" | head -1 | sed 's/MB.*//')
  coord_kb=$(cat "$work"/time.flotilla-coordinator.* 2>/dev/null | awk '{print $1}' | sort -n | tail -1)
  client_kb=$(cat "$work"/time.flotilla-client.* 2>/dev/null | awk '{print $1}' | sort -n | tail -1)
  round=$(python3 - "$out/metrics.jsonl" <<'EOF' 2>/dev/null || echo "-"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = rows[-1]
print("%.1f (%.1f %.1f %.1f)" % (r["round_seconds"], r["wait_seconds"], r["aggregate_seconds"], r["eval_seconds"]))
EOF
)
  if ((over)); then
    note="over cap: all processes reached $(mb "$peak_total") MB"
  elif ((status != 0)); then
    note="failed ($status), see $log"
    keep=1
  else
    note=""
  fi
  if ((n == 1)); then
    base_coord_kb=${coord_kb:-0}
    base_client_kb=${client_kb:-0}
  fi
  rows+=("$(printf '%-32s %8s %10s %7s %10s %7s  %-24s %s' "$model" "${model_mb:--}" "$(mb "$coord_kb")" \
    "$(ratio $((${coord_kb:-0} - base_coord_kb)) "$model_mb")" "$(mb "$client_kb")" \
    "$(ratio $((${client_kb:-0} - base_client_kb)) "$model_mb")" "$round" "$note")")
  echo "${rows[-1]}" >&2
done

printf '\n%-32s %8s %10s %7s %10s %7s  %-24s\n' model model_MB coord_MB coord_x client_MB client_x \
  "round_s (wait agg eval)"
printf '%s\n' "${rows[@]}"
echo "(peak = max resident set size from GNU time, MB = 10^6 bytes; x = (peak - the tiny model's peak) / model size;"
echo " $clients client process(es), dataset $dataset, $rounds round(s))"
