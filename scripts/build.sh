#!/usr/bin/env bash
# Configures and builds Flotilla into build/ (or $FLOTILLA_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_BUILD_DIR:-$root/build}
jobs=${FLOTILLA_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${FLOTILLA_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j "$jobs"
