#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs a real federated run:
# a coordinator and 4 client processes on Fashion-MNIST (Debian's dataset-fashion-mnist),
# Dirichlet(0.5) non-IID partitions, the FedAvg paper's CNN, 2 of the 4 clients sampled each round
# (about 2 minutes once built, on 2 cores). Extra arguments go to flotilla-run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
out="$root/runs/demo-$(date +%Y%m%d-%H%M%S)"
"${FLOTILLA_BUILD_DIR:-$root/build}/bin/flotilla-run" --clients 4 --rounds 5 --fraction 0.5 --dataset fashion-mnist \
  --model mnist_cnn --partitioner dirichlet --alpha 0.5 --epochs 1 --batch-size 32 --lr 0.01 --out "$out" "$@"
echo "metrics: $out/metrics.jsonl, $out/rounds.csv, $out/clients.csv; model: $out/model_final.pt"
