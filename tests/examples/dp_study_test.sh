#!/usr/bin/env bash
# Runs examples/dp_study/run_study.sh end to end on the built-in synthetic data set (20 clients, 2
# rounds, two targets and no DP) and checks its table: one row per setting, each private run within
# its target epsilon, and the plots when matplotlib is there.
set -euo pipefail
source_dir=$1 build_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FLOTILLA_BUILD_DIR=$build_dir "$source_dir/examples/dp_study/run_study.sh" --dataset synthetic --model mlp \
  --clients 20 --processes 2 --fraction 0.5 --rounds 2 --epochs 1 --epsilons 5,50 --out "$tmp/study" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "FAIL: the study failed"; exit 1; }
csv=$tmp/study/summary.csv
[[ -s $csv ]] || { cat "$tmp/log"; echo "FAIL: no summary.csv"; exit 1; }
runs=$(tail -n +2 "$csv" | cut -d, -f1 | tr '\n' ' ')
[[ $runs == "epsilon-5 epsilon-50 no-dp " ]] || { echo "FAIL: rows are '$runs'"; exit 1; }
/usr/bin/python3 - "$csv" <<'PY' || { cat "$csv"; echo "FAIL: epsilons"; exit 1; }
import csv, sys
rows = {r["run"]: r for r in csv.DictReader(open(sys.argv[1]))}
for name, target in (("epsilon-5", 5.0), ("epsilon-50", 50.0)):
    eps = float(rows[name]["epsilon"])
    assert 0 < eps <= target, (name, eps)
    assert rows[name]["rounds"] == "2", rows[name]
assert float(rows["epsilon-5"]["noise_multiplier"]) > float(rows["epsilon-50"]["noise_multiplier"]), rows
assert rows["no-dp"]["dp"] == "off" and rows["no-dp"]["epsilon"] == "inf", rows["no-dp"]
PY
grep -q '"dp": *"central"' "$tmp/study/epsilon-5/config.json" || { echo "FAIL: the epsilon-5 run was not private"; exit 1; }
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  for f in accuracy accuracy_vs_epsilon; do
    head -c 8 "$tmp/study/$f.png" 2>/dev/null | grep -q PNG || { cat "$tmp/log"; echo "FAIL: $f.png missing"; exit 1; }
  done
fi
echo "PASS: dp_study"
