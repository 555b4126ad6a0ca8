#!/usr/bin/env bash
# Proof that site files written by `flotilla-partition --write-sites` are the partition a run of
# the public data set uses: writes a Dirichlet(0.5) split of MNIST into per-client train.pt files,
# then runs two federations with the same seed, one partitioning MNIST itself (--dataset mnist
# --partitioner dirichlet --alpha 0.5) and one on the site files (--dataset local, normalised with
# the MNIST reader's own constants 0.1307 / 0.3081), and compares the global model's SHA-256 after
# every round. Equal hashes mean both runs trained on the same rows, in the same order, with the
# same inputs, bit for bit.
#
#   examples/sites/partition_equivalence.sh [--data-dir DIR] [--out DIR] [--clients N]
#       [--rounds R] [--seed S] [--processes P]
#
# DIR holds the official MNIST files (default: $DATA, else data/mnist; scripts/download-data.sh
# mnist fetches them). Needs a build (scripts/build.sh; FLOTILLA_BUILD_DIR picks another build
# folder) and python3 (standard library only) to read metrics.jsonl. Prints a table, then PASS
# (exit 0) or FAIL (exit 1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${FLOTILLA_BUILD_DIR:-$root/build}/bin

data=${DATA:-data/mnist}
out=""
clients=4 rounds=3 seed=7 processes=2
while (($#)); do
  case $1 in
    --data-dir) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "partition_equivalence: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for tool in flotilla-partition flotilla-run flotilla-coordinator flotilla-client; do
  [[ -x $bin/$tool ]] || { echo "partition_equivalence: $bin/$tool is missing: build first (scripts/build.sh)" >&2; exit 2; }
done
[[ -n $out ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-equivalence.XXXXXX")
mkdir -p "$out"
sites=$out/sites

# The same federation twice; only where each client's rows come from differs.
common=(--clients "$clients" --processes "$processes" --rounds "$rounds" --seed "$seed" --model mnist_net
        --holdout-fraction 0.1 --checkpoint-every 0)
split=(--partitioner dirichlet --alpha 0.5)

echo "== 1. the Dirichlet(0.5) split of $data over $clients clients, seed $seed, as site files"
"$bin/flotilla-partition" --dataset mnist --data-dir "$data" --clients "$clients" "${split[@]}" --seed "$seed" \
  --max-rows 0 --write-sites "$sites"

echo "== 2. federation on MNIST, partitioned by the coordinator ($out/public)"
"$bin/flotilla-run" "${common[@]}" --dataset mnist --data-dir "$data" "${split[@]}" --out "$out/public" \
  > "$out/public.log" 2>&1 || { tail -20 "$out/public.log"; echo "FAIL: the public-data run failed"; exit 1; }
grep "\[coordinator\] round" "$out/public.log" || true

echo "== 3. federation on the site files, --dataset local ($out/local)"
"$bin/flotilla-run" "${common[@]}" --dataset local --data-dir "$sites" --test-data "$sites/test.pt" \
  --normalize given --input-mean 0.1307 --input-std 0.3081 --federated-eval off --out "$out/local" \
  > "$out/local.log" 2>&1 || { tail -20 "$out/local.log"; echo "FAIL: the site-data run failed"; exit 1; }
grep "\[coordinator\] round" "$out/local.log" || true

echo "== 4. the global model after every round"
/usr/bin/env python3 - "$out/public/metrics.jsonl" "$out/local/metrics.jsonl" "$rounds" <<'PY'
import json, sys

def rounds(path):
    with open(path) as f:
        return {row["round"]: row for row in map(json.loads, filter(str.strip, f))}

public, local, expected = rounds(sys.argv[1]), rounds(sys.argv[2]), int(sys.argv[3])
print(f"{'round':>5}  {'mnist + dirichlet (sha256)':<26}  {'local site files (sha256)':<26}  same  "
      f"{'acc mnist':>9}  {'acc local':>9}")
ok = len(public) == expected and len(local) == expected
for r in sorted(set(public) | set(local)):
    a, b = public.get(r, {}), local.get(r, {})
    sa, sb = a.get("model_sha256", "-"), b.get("model_sha256", "-")
    same = sa == sb and sa != "-"
    ok &= same
    acc = lambda row: f"{row['test_accuracy']:.4f}" if isinstance(row.get("test_accuracy"), (int, float)) else "-"
    print(f"{r:>5}  {sa[:24] + '..':<26}  {sb[:24] + '..':<26}  {'yes' if same else 'NO':<4}  "
          f"{acc(a):>9}  {acc(b):>9}")
print(f"{'PASS' if ok else 'FAIL'}: {expected} rounds, "
      + ("the same model SHA-256 after every round" if ok else "the models differ (or rounds are missing)"))
sys.exit(0 if ok else 1)
PY
