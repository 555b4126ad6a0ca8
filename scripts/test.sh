#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs the fuzz smoke and every test
# with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
# The fuzz smoke (a clang build of the parsers' libraries, then seconds per target) runs first,
# so that ctest's summary stays the last thing printed. FLOTILLA_SKIP_FUZZ=1 skips it.
if [[ "${FLOTILLA_SKIP_FUZZ:-0}" != 1 ]]; then
  "$root/scripts/fuzz.sh" smoke
fi
cd "${FLOTILLA_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${FLOTILLA_TEST_JOBS:-2}" --timeout 900
