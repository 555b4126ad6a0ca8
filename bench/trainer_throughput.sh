#!/usr/bin/env bash
# Local training speed: Flotilla's train_local() against a bare LibTorch loop on the same device
# (CUDA when LibTorch sees one), for the MNIST CNNs, and the bare loop on the same network with
# ATen's max_pool2d (what models/max_pool.h saves). Prints samples/s and the first two's ratio.
# With --torchscript: each built-in MNIST CNN against a TorchScript copy of it (same layers, same
# weights, as a Python user's torch.jit.script would give), and whether both train the same model.
#   bench/trainer_throughput.sh [--device cpu|cuda] [--samples N] [--epochs E] [--batch B]
#                               [--torchscript] [--runs R]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_BUILD_DIR:-$root/build}
cmake --build "$build" --target trainer_throughput >/dev/null
exec "$build/bench/trainer_throughput" "$@"
