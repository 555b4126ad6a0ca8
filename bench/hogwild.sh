#!/usr/bin/env bash
# Hogwild! inside one client (training/hogwild.h): samples/s and held-out accuracy for
# local_threads = 1, 2, 4 on the MNIST CNN, on the CPU. Real MNIST when --data-dir names a folder
# with its idx files, generated 28x28 data otherwise. Prints a table; not a test. More threads than
# cores oversubscribes them (each worker runs one intra-op thread; T = 1 uses all of them).
#   bench/hogwild.sh [--model mnist_cnn|mnist_net] [--data-dir DIR] [--samples N] [--test N]
#                    [--epochs E] [--batch B] [--lr LR] [--threads 1,2,4]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_BUILD_DIR:-$root/build}
cmake --build "$build" --target hogwild_bench >/dev/null
exec "$build/bench/hogwild_bench" "$@"
