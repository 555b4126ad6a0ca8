#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs the fuzz smoke and every test
# with ctest, then prints how long each step took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
timings=()
step() {  # step NAME COMMAND...: runs it and remembers its wall time
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name $((SECONDS - start)) s")
}
report() {
  local joined
  joined=$(printf '%s, ' "${timings[@]}")
  echo "test.sh: took ${joined%, }; $((SECONDS - started)) s in all"
}
started=$SECONDS
trap report EXIT
step apt "$root/scripts/install-deps.sh"
step build "$root/scripts/build.sh"
# The fuzz smoke (a clang build of the parsers' libraries, then seconds per target) runs first,
# so that ctest's summary stays near the end. FLOTILLA_SKIP_FUZZ=1 skips it.
if [[ "${FLOTILLA_SKIP_FUZZ:-0}" != 1 ]]; then
  step fuzz "$root/scripts/fuzz.sh" smoke
fi
cd "${FLOTILLA_BUILD_DIR:-$root/build}"
step ctest ctest --output-on-failure -j "${FLOTILLA_TEST_JOBS:-2}" --timeout 900
