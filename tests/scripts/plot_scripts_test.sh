#!/usr/bin/env bash
# Runs scripts/plot_metrics.py and scripts/plot_partition.py on a generated run directory and
# checks they write non-empty PNGs. Exits 77 (ctest: skipped) when matplotlib is missing.
set -euo pipefail
source_dir=$1
py=/usr/bin/python3
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  echo "SKIP: python3-matplotlib is not installed"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for run in a b; do
  mkdir -p "$tmp/$run"
  cat > "$tmp/$run/config.json" <<JSON
{"aggregator": "fedavg", "partitioner": "dirichlet", "partitioner_options": {"alpha": "0.5"}, "clients": 3, "prox_mu": 0}
JSON
  : > "$tmp/$run/metrics.jsonl"
  for r in 1 2 3; do
    echo "{\"round\": $r, \"status\": \"ok\", \"test_accuracy\": 0.$((r + 4)), \"test_loss\": 1.$r, \"bytes_sent\": 1000000, \"bytes_received\": 990000, \"mean_divergence\": 0.0$r, \"max_divergence\": 0.1$r, \"class_accuracy\": [0.5, null, 0.7]}" >> "$tmp/$run/metrics.jsonl"
  done
  # As partitioners/partition_report.h writes it: the class columns, total, then classes and emd.
  printf 'client_id,class_0,class_1,class_2,total,classes,emd\n0,5,0,1,6,2,1\n1,0,7,2,9,2,0.7222222222\n2,3,3,3,9,3,0.1666666667\n' > "$tmp/$run/partition.csv"
done

"$py" "$source_dir/scripts/plot_metrics.py" "$tmp/a" "$tmp/b" --out "$tmp/plots"
for f in accuracy bytes divergence class_accuracy; do
  [[ -s $tmp/plots/$f.png ]] || { echo "FAIL: $f.png not written"; exit 1; }
  head -c 8 "$tmp/plots/$f.png" | grep -q PNG || { echo "FAIL: $f.png is not a PNG"; exit 1; }
done
"$py" "$source_dir/scripts/plot_partition.py" "$tmp/a" --out "$tmp/plots/partition.png"
[[ -s $tmp/plots/partition.png ]] || { echo "FAIL: partition.png not written"; exit 1; }

# Bad input gets a clear error, not a traceback.
if "$py" "$source_dir/scripts/plot_metrics.py" "$tmp/missing" 2> "$tmp/err"; then
  echo "FAIL: a missing run directory was accepted"; exit 1
fi
grep -q "cannot read run" "$tmp/err" || { echo "FAIL: unclear error: $(cat "$tmp/err")"; exit 1; }
echo "PASS: plots written"
