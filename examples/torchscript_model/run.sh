#!/usr/bin/env bash
# Your own PyTorch model in Flotilla, end to end: exports model.py's FashionNet as TorchScript,
# trains it federated on Fashion-MNIST (4 clients, Dirichlet(0.5), 3 rounds) with flotilla-run,
# then evaluate.py loads the result back into Python both ways (state dict into the class, and
# the TorchScript archive) and checks the accuracy against Flotilla's own.
#
#   examples/torchscript_model/run.sh [--out DIR] [--data-dir DIR] [--rounds R] [--aggregator NAME]
#
# Needs a build (scripts/build.sh; FLOTILLA_BUILD_DIR picks another build folder), Debian's
# python3-torch (scripts/install-deps.sh --peers) and Fashion-MNIST (dataset-fashion-mnist, in
# /usr/share/datasets/fashion-mnist). About two minutes on two cores.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin
python=/usr/bin/python3

out="" data=/usr/share/datasets/fashion-mnist rounds=3 aggregator=fedavg
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --data-dir) data=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --aggregator) aggregator=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x $bin/flotilla-run ]] || { echo "run.sh: $bin/flotilla-run is missing: build first (scripts/build.sh)" >&2; exit 2; }
$python -c 'import torch' 2>/dev/null ||
  { echo "run.sh: $python lacks torch: scripts/install-deps.sh --peers (Debian's python3-torch)" >&2; exit 2; }
[[ -n $out ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-torchscript.XXXXXX")
mkdir -p "$out"

echo "== 1. export the model ($out/net.pt)"
$python "$here/model.py" "$out/net.pt" 0

echo "== 2. train it federated: 4 clients, Dirichlet(0.5), $rounds rounds, $aggregator"
"$bin/flotilla-run" --clients 4 --processes 2 --rounds "$rounds" --model "torchscript:$out/net.pt" \
  --dataset fashion-mnist --data-dir "$data" --partitioner dirichlet --alpha 0.5 --seed 1 \
  --batch-size 32 --lr 0.05 --momentum 0.9 --aggregator "$aggregator" --out "$out/run"
ls -l "$out/run/model_final.pt" "$out/run/model_final.torchscript.pt" "$out/run/model_archive.pt"
# The run knows the model by the SHA-256 of the archive's bytes.
sha=$(sha256sum "$out/net.pt" | cut -d' ' -f1)
grep -q "\"torchscript:$sha\"" "$out/run/config.json" ||
  { echo "run.sh: config.json does not name the model torchscript:$sha" >&2; exit 1; }
cmp -s "$out/net.pt" "$out/run/model_archive.pt" || { echo "run.sh: model_archive.pt is not net.pt" >&2; exit 1; }
echo "config.json: \"model\": \"torchscript:$sha\" (sha256sum of net.pt); model_archive.pt is a copy of it"

echo "== 3. the result, back in Python"
$python "$here/evaluate.py" "$out/run" --data-dir "$data"
