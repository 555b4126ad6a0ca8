#!/usr/bin/env bash
# The same federation of sites as run_by_hand.sh, in one command: flotilla-run starts the
# coordinator and the client processes on this host (with throwaway CURVE keys) and, because the
# run is --dataset local, starts every client with --local-data on DIR/client_<id>/. Prints the
# per-site federated evaluation table at the end.
#
#   examples/sites/run_local.sh [--sites DIR] [--out DIR] [--rounds R] [--model NAME] [--processes P]
#
# DIR (default: data/sites in the repository) holds client_0/, client_1/, ... each with train.pt and
# test.pt: make them with make_sites.py. When DIR also has test.pt (make_sites.py keeps the data
# set's official test split there), the coordinator evaluates on it centrally as well.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin

sites=$root/data/sites out="" rounds=3 model=mnist_net processes=2
while (($#)); do
  case $1 in
    --sites) sites=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run_local: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x $bin/flotilla-run ]] || { echo "run_local: $bin/flotilla-run is missing: build first (scripts/build.sh)" >&2; exit 2; }
n=0
while [[ -d $sites/client_$n ]]; do n=$((n + 1)); done
((n > 0)) || { echo "run_local: no $sites/client_0: write the sites first (examples/sites/make_sites.py --out $sites)" >&2; exit 2; }
[[ -n $out ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-sites.XXXXXX")
central=()
[[ -f $sites/test.pt ]] && central=(--test-data "$sites/test.pt")

"$bin/flotilla-run" --clients "$n" --processes "$((processes < n ? processes : n))" --rounds "$rounds" \
  --model "$model" --dataset local --data-dir "$sites" --input-shape 1x28x28 --num-classes 10 \
  --normalize federated --federated-eval on "${central[@]}" --out "$out/run"
echo
python3 "$here/fed_table.py" "$out/run"
echo "run directory: $out/run"
