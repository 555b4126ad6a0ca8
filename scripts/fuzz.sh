#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and UBSan, and runs them.
#   scripts/fuzz.sh smoke      each target for FLOTILLA_FUZZ_SECONDS (5) seconds: what CI runs
#   scripts/fuzz.sh run N      each target for N inputs (bench/fuzz.sh: a million)
#   scripts/fuzz.sh build      configure and build only
# Each target starts from a temporary copy of tests/fuzz/corpus/<target>, so the committed corpus
# stays as it is. Prints one line per target; a crash, leak, timeout or sanitizer report prints
# the report and the saved input, and makes the script exit 1 once every target has run.
#
# Environment: FLOTILLA_FUZZ_BUILD_DIR (build-fuzz), FLOTILLA_JOBS (nproc), FLOTILLA_FUZZ_SECONDS,
# FLOTILLA_FUZZ_TARGETS (a space-separated subset), FLOTILLA_FUZZ_ARTIFACTS (where crash inputs
# are saved: BUILD_DIR/fuzz-artifacts), FLOTILLA_FUZZ_CC and FLOTILLA_FUZZ_CXX (clang, clang++).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLOTILLA_FUZZ_BUILD_DIR:-$root/build-fuzz}
[[ $build = /* ]] || build=$root/$build
jobs=${FLOTILLA_JOBS:-$(nproc)}
cc=${FLOTILLA_FUZZ_CC:-clang}  # not CC/CXX: a developer's g++ there must not leak in
cxx=${FLOTILLA_FUZZ_CXX:-clang++}

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode=${1:-}
case "$mode" in
  smoke) libfuzzer_args=(-max_total_time="${FLOTILLA_FUZZ_SECONDS:-5}") ;;
  run)
    [[ "${2:-}" =~ ^[0-9]+$ ]] || usage
    libfuzzer_args=(-runs="$2")
    ;;
  build) ;;
  *) usage ;;
esac

# clang and its libFuzzer runtime (package libclang-rt-14-dev on Debian 12) must both be there:
# compile and link an empty fuzz target the way the real ones are.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: $cxx not found; libFuzzer needs clang (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/probe.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cc" -o "$probe/probe" 2>"$probe/err"; then
  cat "$probe/err" >&2
  echo "fuzz: $cxx cannot link a libFuzzer target; the runtime is missing (install libclang-rt-14-dev)" >&2
  exit 1
fi

start=$SECONDS
generator=()
[[ ! -f $build/CMakeCache.txt ]] && command -v ninja >/dev/null && generator=(-G Ninja)
CC=$cc CXX=$cxx cmake -S "$root" -B "$build" "${generator[@]}" -DFLOTILLA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target flotilla_fuzzers -j "$jobs" >"$build/fuzz-build.log" 2>&1 || {
  tail -n 60 "$build/fuzz-build.log" >&2
  echo "fuzz: building the fuzz targets failed (log: $build/fuzz-build.log)" >&2
  exit 1
}
echo "fuzz: built the fuzz targets in $((SECONDS - start)) s ($build)"
[[ $mode == build ]] && exit 0

read -r -a targets <<<"${FLOTILLA_FUZZ_TARGETS:-$(tr '\n' ' ' <"$build/fuzz/fuzzers.txt")}"
artifacts=${FLOTILLA_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
# A UBSan report aborts (-fno-sanitize-recover); print where it happened.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# Final stats of one libFuzzer log: "executions exec/s corpus coverage", the corpus as libFuzzer
# prints it (inputs/size) on its last status line.
stats() {
  awk '/^stat::number_of_executed_units:/ {n = $2}
       /^stat::average_exec_per_sec:/ {s = $2}
       /^#[0-9]+\t(INITED|NEW|REDUCE|pulse|DONE) / {for (i = 2; i < NF; i++) {if ($i == "corp:") c = $(i + 1); if ($i == "cov:") v = $(i + 1)}}
       END {print n + 0, s + 0, (c == "" ? "-" : c), v + 0}' "$1"
}

# One target, in the background: its table line goes to $work/line, its exit code to $work/rc.
run_target() {
  local t=$1 bin=$build/fuzz/$1 work=$probe/$1
  mkdir -p "$work/corpus" "$artifacts/$t"
  [[ -d $root/tests/fuzz/corpus/$t ]] && cp -r "$root/tests/fuzz/corpus/$t/." "$work/corpus/"
  local before t0 rc=0 seconds crashes execs rate corpus cov
  before=$(find "$artifacts/$t" -type f | wc -l)
  t0=$EPOCHREALTIME
  "$bin" "${libfuzzer_args[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$t/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
  seconds=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')
  crashes=$(($(find "$artifacts/$t" -type f | wc -l) - before))
  ((rc != 0 && crashes == 0)) && crashes=1  # died without saving an input (out of memory, say)
  read -r execs rate corpus cov < <(stats "$work/log")
  printf '%-20s %12s %9s %15s %9s %8s %7.1fs\n' "$t" "$execs" "$rate" "$corpus" "$cov" "$crashes" "$seconds" >"$work/line"
  echo "$rc" >"$work/rc"
}

for t in "${targets[@]}"; do
  [[ -x $build/fuzz/$t ]] || { echo "fuzz: $build/fuzz/$t was not built" >&2; exit 1; }
done
# The targets run side by side, one per core: each is single-threaded, and the smoke's time is
# then that of the slowest batch instead of the sum.
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

printf '%-20s %12s %9s %15s %9s %8s %8s\n' target executions exec/s corpus coverage crashes time
failed=0
for t in "${targets[@]}"; do
  work=$probe/$t
  cat "$work/line"
  rc=$(cat "$work/rc")
  if ((rc != 0)); then
    failed=1
    echo "---- $t failed (exit $rc); end of its log:" >&2
    tail -n 80 "$work/log" >&2
    echo "---- inputs saved under $artifacts/$t/; replay one with: $build/fuzz/$t INPUT" >&2
  fi
done
exit $failed
