#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (the repository's .clang-format)
# would write, naming the files. Exits 77 (ctest: skipped) when clang-format is not installed.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format is not installed"; exit 77; }
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cpp' 2>/dev/null || find . -name '*.cc' -o -name '*.h' -o -name '*.cpp')
# One clang-format process for every file (one per file spent a minute starting processes); each
# violation comes back as "FILE:LINE:COL: error: code should be clang-formatted".
status=0
report=$(clang-format --dry-run -Werror "${files[@]}" 2>&1) || status=$?
mapfile -t bad < <(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*clang-format.*/\1/p' <<<"$report" | sort -u)
if ((status != 0 && ${#bad[@]} == 0)); then
  echo "FAIL: clang-format failed: $report"
  exit 1
fi
if ((${#bad[@]})); then
  echo "FAIL: not clang-formatted (run clang-format -i on them): ${bad[*]}"
  exit 1
fi
echo "PASS: ${#files[@]} files are clang-formatted"
