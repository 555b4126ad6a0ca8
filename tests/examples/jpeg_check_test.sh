#!/usr/bin/env bash
# Runs examples/niid_bench/jpeg_check.sh on a tiny CIFAR-10 subset and JPEG pack written here (80
# train and 20 test records, one quality-75 JPEG for the settings), 1 round of 1 epoch, one seed,
# and checks its folders and table: the exact folders hold the subset's records byte for byte, the
# JPEG ones the same labels with pixels moved by the round trip, and summary.csv a row per pairing.
# Skipped (passes) without Debian's python3-pil and python3-numpy, which the check needs.
set -euo pipefail
source_dir=$1 build_dir=$2
if ! /usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null; then
  echo "SKIP: python3-pil or python3-numpy missing"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import io, os, random, struct, sys
from PIL import Image
out = sys.argv[1]
rng = random.Random(3)
def records(n):
    # Smooth images (a gradient per class plus noise), so that JPEG keeps them close, not equal.
    rows = []
    for i in range(n):
        label = i % 10
        pixels = bytes(min(255, (x + y) * 3 + label * 10 + rng.randrange(20)) for c in range(3) for y in range(32) for x in range(32))
        rows.append(bytes([label]) + pixels)
    return b"".join(rows)
os.makedirs(f"{out}/subset")
open(f"{out}/subset/data_batch_subset.bin", "wb").write(records(80))
open(f"{out}/subset/test_batch_subset.bin", "wb").write(records(20))
open(f"{out}/subset/batches.meta.txt", "w").write("\n".join(f"class{i}" for i in range(10)) + "\n")
buffer = io.BytesIO()
Image.new("RGB", (32, 32), (120, 60, 30)).save(buffer, "JPEG", quality=75)
jpeg = buffer.getvalue()
open(f"{out}/pack.jpgpack", "wb").write(struct.pack("<BH", 3, len(jpeg)) + jpeg)
PY
FLOTILLA_BUILD_DIR=$build_dir "$source_dir/examples/niid_bench/jpeg_check.sh" --subset "$tmp/subset" \
  --jpgpack "$tmp/pack.jpgpack" --rounds 1 --epochs 1 --seeds 0 --out "$tmp/out" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "FAIL: the check failed"; exit 1; }
grep -q "80 train and 20 test images" "$tmp/log" || { cat "$tmp/log"; echo "FAIL: image counts"; exit 1; }
/usr/bin/python3 - "$tmp" <<'PY' || exit 1
import csv, sys
tmp = sys.argv[1]
def read(folder, names):
    return b"".join(open(f"{tmp}/out/data/{folder}/{n}", "rb").read() for n in names)
train_names = [f"data_batch_{b}.bin" for b in range(1, 6)]
exact_train = open(f"{tmp}/subset/data_batch_subset.bin", "rb").read()
exact_test = open(f"{tmp}/subset/test_batch_subset.bin", "rb").read()
def fail(message):
    print("FAIL:", message); sys.exit(1)
if read("train-exact-test-exact", train_names) != exact_train: fail("exact train records changed")
if read("train-exact-test-exact", ["test_batch.bin"]) != exact_test: fail("exact test records changed")
jpeg_train = read("train-jpeg-test-jpeg", train_names)
if len(jpeg_train) != len(exact_train): fail("JPEG train set of another size")
labels = lambda b: b[0::3073]
if labels(jpeg_train) != labels(exact_train): fail("JPEG round trip changed labels")
moved = sum(abs(a - b) for a, b in zip(jpeg_train, exact_train)) / (len(exact_train) / 3073 * 3072)
if not 0.1 < moved < 30: fail(f"JPEG round trip moved pixels by {moved:.2f} on average")
if read("train-exact-test-jpeg", ["test_batch.bin"]) != read("train-jpeg-test-jpeg", ["test_batch.bin"]):
    fail("the two JPEG test sets differ")
rows = list(csv.DictReader(open(f"{tmp}/out/summary.csv")))
pairings = [r["pairing"] for r in rows]
if pairings != ["train-exact-test-exact", "train-exact-test-jpeg", "train-jpeg-test-exact", "train-jpeg-test-jpeg"]:
    fail(f"pairings {pairings}")
for r in rows:
    if not 0 <= float(r["final_accuracy"]) <= float(r["best_accuracy"]) <= 100: fail(f"accuracies {r}")
PY
grep -q "mean over seeds" "$tmp/log" || { cat "$tmp/log"; echo "FAIL: no means"; exit 1; }
echo "PASS: exact and JPEG folders, a row per pairing"
