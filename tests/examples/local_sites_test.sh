#!/usr/bin/env bash
# A federation on sites' own files, end to end, without Python torch: writes a tiny MNIST-format
# data set (IDX files, 12x12 images whose pixels follow the label), cuts it into per-client
# train.pt files with flotilla-partition --write-sites, and runs 2 rounds of --dataset local
# through flotilla-run (3 clients in 2 processes; client 0 also has a test.pt of its own, the
# others evaluate on their held-out slice). Checks the exit status, the federated evaluation in
# metrics.jsonl (answered == clients, every client "ok") and rounds.csv, the federated
# normalisation; then that a client whose data has another shape is refused, naming both shapes.
set -euo pipefail
source_dir=$1 build_dir=$2
bin=$build_dir/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# IDX files as datasets/mnist_idx.h reads them: big-endian magic and sizes, then the bytes.
write_idx() {  # DIR SIDE(12 or 10) TRAIN TEST
  python3 - "$@" <<'PY'
import os, struct, sys
out, side, sizes = sys.argv[1], int(sys.argv[2]), {"train": int(sys.argv[3]), "t10k": int(sys.argv[4])}
os.makedirs(out, exist_ok=True)
for split, n in sizes.items():
    labels = bytes((i * 7 + (3 if split == "t10k" else 0)) % 10 for i in range(n))
    # Class c: a bright band across rows 2c/2..; plus a little per-sample variation.
    images = bytearray()
    for i, c in enumerate(labels):
        for r in range(side):
            for col in range(side):
                images.append(min(255, (200 if r == c % side else 20) + (i * 13 + col * 5) % 40))
    with open(f"{out}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, side, side) + bytes(images))
    with open(f"{out}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)
PY
}
write_idx "$tmp/idx" 12 360 90
write_idx "$tmp/idx10" 10 60 20

"$bin/flotilla-partition" --dataset mnist --data-dir "$tmp/idx" --clients 3 --partitioner dirichlet --alpha 1 \
  --seed 5 --write-sites "$tmp/sites" > "$tmp/partition.log" 2>&1 ||
  { cat "$tmp/partition.log"; echo "FAIL: flotilla-partition --write-sites"; exit 1; }
for f in client_0/train.pt client_1/train.pt client_2/train.pt test.pt; do
  [[ -s $tmp/sites/$f ]] || { cat "$tmp/partition.log"; echo "FAIL: no $f"; exit 1; }
done
cp "$tmp/sites/test.pt" "$tmp/sites/client_0/test.pt"

common=(--clients 3 --rounds 2 --model mlp --dataset local --input-shape 1x12x12 --num-classes 10
        --federated-eval on --federated-eval-fraction 1 --seed 3 --batch-size 16 --startup-timeout 30)
start=$SECONDS
status=0
timeout 120 "$bin/flotilla-run" "${common[@]}" --processes 2 --data-dir "$tmp/sites" --normalize federated \
  --out "$tmp/run" > "$tmp/run.log" 2>&1 || status=$?
((status == 0)) || { tail -40 "$tmp/run.log"; echo "FAIL: flotilla-run exited $status"; exit 1; }
grep -q "fed acc [0-9.]* loss [0-9.]* (3/3 clients" "$tmp/run.log" ||
  { tail -40 "$tmp/run.log"; echo "FAIL: no 'fed acc ... (3/3 clients' on the round lines"; exit 1; }

python3 - "$tmp/run" <<'PY' || { tail -40 "$tmp/run.log"; exit 1; }
import csv, json, sys
run = sys.argv[1]
rows = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if l.strip()]
def fail(why):
    sys.exit(f"FAIL: {why}")
if [r["round"] for r in rows] != [1, 2]:
    fail(f"rounds {[r['round'] for r in rows]}")
for r in rows:
    fed = r.get("federated")
    if not isinstance(fed, dict):
        fail(f"round {r['round']} has no federated object")
    if fed["answered"] != 3 or len(fed["clients"]) != 3:
        fail(f"round {r['round']}: answered {fed['answered']} of {len(fed['clients'])}, want 3 of 3")
    for c in fed["clients"]:
        if c["status"] != "ok" or c["num_samples"] <= 0 or not 0 <= c["accuracy"] <= 1:
            fail(f"round {r['round']}: client row {c}")
        if sum(c.get("class_total", [])) != c["num_samples"]:
            fail(f"round {r['round']}: class_total {c.get('class_total')} does not add up to {c['num_samples']}")
    by_id = {c["client_id"]: c for c in fed["clients"]}
    if sorted(by_id) != [0, 1, 2]:
        fail(f"round {r['round']}: clients {sorted(by_id)}")
    if by_id[0]["num_samples"] != 90:  # client 0 evaluates on its own test.pt (90 rows)
        fail(f"client 0 evaluated {by_id[0]['num_samples']} samples, not its test.pt's 90")
    if fed["num_samples"] != sum(c["num_samples"] for c in fed["clients"]):
        fail(f"federated num_samples {fed['num_samples']}")
    if not 0 <= fed["accuracy"] <= 1:
        fail(f"federated accuracy {fed['accuracy']}")
with open(f"{run}/rounds.csv") as f:
    table = list(csv.DictReader(f))
if [t["fed_clients"] for t in table] != ["3", "3"] or any(not t["fed_accuracy"] for t in table):
    fail(f"rounds.csv fed columns: {[(t['fed_accuracy'], t['fed_clients']) for t in table]}")
config = json.load(open(f"{run}/config.json"))
if config["dataset"] != "local" or config["normalize"] != "federated":
    fail(f"config.json dataset {config['dataset']}, normalize {config['normalize']}")
norm = json.load(open(f"{run}/normalization.json"))
print(f"federated run ok: fed acc {rows[-1]['federated']['accuracy']:.4f}, normalisation {norm}")
PY

# A site whose images are 10x10 while the model takes 12x12: client 2, in a process of its own,
# is refused when it registers, and the message names both shapes.
"$bin/flotilla-partition" --dataset mnist --data-dir "$tmp/idx10" --clients 1 --partitioner iid \
  --write-sites "$tmp/small" > "$tmp/partition10.log" 2>&1 ||
  { cat "$tmp/partition10.log"; echo "FAIL: flotilla-partition on 10x10"; exit 1; }
mkdir -p "$tmp/bad"
cp -r "$tmp/sites/client_0" "$tmp/sites/client_1" "$tmp/bad/"
cp -r "$tmp/small/client_0" "$tmp/bad/client_2"
status=0
timeout 90 "$bin/flotilla-run" "${common[@]}" --processes 3 --data-dir "$tmp/bad" --out "$tmp/badrun" \
  > "$tmp/bad.log" 2>&1 || status=$?
((status != 0 && status != 124)) || { tail -40 "$tmp/bad.log"; echo "FAIL: the run with a 10x10 site exited $status"; exit 1; }
grep -q "client 2's samples are 1x10x10, and the model takes 1x12x12" "$tmp/bad.log" ||
  { tail -40 "$tmp/bad.log"; echo "FAIL: no refusal naming both shapes"; exit 1; }
echo "PASS: a local-data federation with federated evaluation in $((SECONDS - start)) s; a 10x10 site refused by shape"
