#!/usr/bin/env bash
# Memory and time of per-client algorithm state (SCAFFOLD's c_i, FedDyn's g_i, MOON's previous
# model) when many logical clients share one process: each configuration saves a state for every
# client, then loads and saves it again (two rounds of full participation). Memory must stay near
# the budget however many clients there are; the rest goes to files.
#
#   bench/client_state.sh [BUILD_DIR]
# Needs a build (scripts/build.sh); builds its benchmark program. Writes up to clients x state size to a temporary folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${FLOTILLA_BUILD_DIR:-$root/build}}
[[ -f $build/CMakeCache.txt ]] || { echo "client_state: no build in $build; build first (scripts/build.sh)" >&2; exit 1; }
cmake --build "$build" --target client_state_bench >/dev/null  # not part of the default build
bin=$build/bench/client_state_bench
printf "%8s  %8s  %9s  %12s  %12s  %8s  %9s  %14s  %5s\n" clients state_MB budget_MB peak_rss_MB in_memory_MB files \
  save_ms load+save_ms wrong
# The small MNIST CNN's parameters (1.7 MB), then the CIFAR CNN's (0.25 MB) at 1,000 clients.
for config in "100 1.7 512" "1000 1.7 512" "1000 1.7 128" "1000 0.25 512"; do
  # shellcheck disable=SC2086
  "$bin" $config
done
