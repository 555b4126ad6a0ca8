#!/usr/bin/env bash
# Secure aggregation per round, in one process (bench/secagg/secagg_bench.cc): bytes each client
# sends and receives and seconds each client and the coordinator compute, for 10, 50 and 100
# clients, the complete graph (SecAgg) and 2*ceil(log2 n) neighbours (SecAgg+), and 0%, 10% and 30%
# of the clients dropping after sharing their keys. Prints a table; not a test.
#   bench/secagg.sh [WORDS]      the vector's length (default 100000: a 100k-parameter model)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_BUILD_DIR:-$root/build}
cmake --build "$build" --target secagg_bench >/dev/null
exec "$build/bench/secagg_bench" "$@"
