#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (the repository's .clang-format)
# would write, naming the files. Exits 77 (ctest: skipped) when clang-format is not installed.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format is not installed"; exit 77; }
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cpp' 2>/dev/null || find . -name '*.cc' -o -name '*.h' -o -name '*.cpp')
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "FAIL: not clang-formatted (run clang-format -i on them): ${bad[*]}"
  exit 1
fi
echo "PASS: ${#files[@]} files are clang-formatted"
