#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for a million inputs under ASan + UBSan and prints a
# table from libFuzzer's final stats:
#   target | executions | exec/s | corpus (files/bytes at the end) | coverage | crashes | time
#   bench/fuzz.sh [--runs N]
# Builds with scripts/fuzz.sh (clang, build-fuzz/); each target starts from a copy of its
# committed corpus. A target stops at its first crash; the input is saved under
# build-fuzz/fuzz-artifacts/<target>/ and the script exits 1. Nothing fails on speed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=1000000
while (($#)); do
  case "$1" in
    --runs)
      runs=${2:?--runs needs a number}
      shift 2
      ;;
    *)
      sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
done
echo "bench/fuzz: $runs inputs per target on $(nproc) cores, $("${FLOTILLA_FUZZ_CXX:-clang++}" --version | head -n 1)"
exec "$root/scripts/fuzz.sh" run "$runs"
