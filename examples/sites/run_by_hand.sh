#!/usr/bin/env bash
# A federation of sites that each keep their own data, started by hand as site operators would
# start it across hosts (here all on this host): CURVE keys with flotilla-keys, one coordinator
# that has no data at all (--dataset local: it knows only the model's input, 1x28x28 images of 10
# classes), and one flotilla-client per site on that site's own files. Normalisation is agreed
# federatedly (each site reports only per-channel sums), and every evaluated round each site
# evaluates the global model on its own test.pt. Prints the per-site table at the end.
#
#   examples/sites/run_by_hand.sh [--sites DIR] [--out DIR] [--rounds R] [--model NAME]
#
# DIR (default: data/sites in the repository) holds client_0/, client_1/, ... each with train.pt and
# test.pt: make them with make_sites.py. Needs a build (FLOTILLA_BUILD_DIR picks another build
# folder) and python3 (standard library) for the table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin

sites=$root/data/sites out="" rounds=3 model=mnist_net
while (($#)); do
  case $1 in
    --sites) sites=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run_by_hand: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for tool in flotilla-keys flotilla-coordinator flotilla-client; do
  [[ -x $bin/$tool ]] || { echo "run_by_hand: $bin/$tool is missing: build first (scripts/build.sh)" >&2; exit 2; }
done
n=0
while [[ -d $sites/client_$n ]]; do n=$((n + 1)); done
((n > 0)) || { echo "run_by_hand: no $sites/client_0: write the sites first (examples/sites/make_sites.py --out $sites)" >&2; exit 2; }
[[ -n $out ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-sites.XXXXXX")
mkdir -p "$out"
keys=$out/keys

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== keys: the coordinator's and one per site; each site may register only its own client id"
names=()
for ((k = 0; k < n; k++)); do names+=("site-$k"); done
rm -rf "$keys"
"$bin/flotilla-keys" generate --out "$keys" coordinator "${names[@]}"
: > "$keys/allowlist.txt"
for ((k = 0; k < n; k++)); do "$bin/flotilla-keys" allow --ids "$k" "$keys/site-$k.public" >> "$keys/allowlist.txt"; done
cat "$keys/allowlist.txt"

echo "== coordinator: $n sites, $rounds rounds, model $model (log: $out/coordinator.log)"
rm -f "$out/endpoint"
"$bin/flotilla-coordinator" --bind 'tcp://127.0.0.1:*' --endpoint-file "$out/endpoint" \
  --curve-secret-key "$keys/coordinator.secret" --allowlist "$keys/allowlist.txt" \
  --clients "$n" --rounds "$rounds" --model "$model" --threads 1 \
  --dataset local --input-shape 1x28x28 --num-classes 10 --normalize federated --federated-eval on \
  --out "$out/run" > "$out/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
for _ in $(seq 100); do [[ -s $out/endpoint ]] && break; sleep 0.1; done
[[ -s $out/endpoint ]] || { cat "$out/coordinator.log"; echo "run_by_hand: the coordinator did not start" >&2; exit 1; }
endpoint=$(cat "$out/endpoint")

echo "== sites: one client each, on its own folder, connecting to $endpoint"
for ((k = 0; k < n; k++)); do
  # What a site operator runs on the site's host: its own secret key, the coordinator's public
  # key, its client id and its data; nothing about the experiment (the coordinator sends that).
  "$bin/flotilla-client" --connect "$endpoint" --coordinator-key "$keys/coordinator.public" \
    --key "$keys/site-$k.secret" --client-id "$k" --local-data --data-dir "$sites/client_$k" --threads 1 \
    > "$out/site-$k.log" 2>&1 &
  pids+=("$!")
done

status=0
wait "$coordinator" || status=$?
grep -h "round [0-9]*/" "$out/coordinator.log" || true
if ((status != 0)); then
  tail -20 "$out/coordinator.log"
  echo "run_by_hand: the coordinator exited $status (logs in $out)" >&2
  exit "$status"
fi
for pid in "${pids[@]:1}"; do wait "$pid" || echo "run_by_hand: a site exited $? (logs in $out)" >&2; done
pids=()
echo
python3 "$here/fed_table.py" "$out/run"
echo "run directory: $out/run"
