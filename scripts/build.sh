#!/usr/bin/env bash
# Configures and builds Flotilla into build/ (or $FLOTILLA_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_BUILD_DIR:-$root/build}
jobs=${FLOTILLA_JOBS:-$(nproc)}
# Ninja where installed: it keeps both cores busy to the last link, where make's recursive
# targets leave one idle. A build folder keeps the generator it was made with.
generator=()
[[ ! -f $build/CMakeCache.txt ]] && command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=${FLOTILLA_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j "$jobs"
