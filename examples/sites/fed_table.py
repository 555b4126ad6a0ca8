#!/usr/bin/env python3
"""Prints a run's federated evaluation from RUN_DIR/metrics.jsonl: per round the weighted
accuracy and loss over the sites that answered, each site's own accuracy on its own test data,
and for the last evaluated round each site's per-class accuracy (where the site did not withhold
its per-class counts).

    python3 fed_table.py RUN_DIR

Standard library only.
"""
import json
import os
import sys


def fmt(v, spec=".4f"):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = os.path.join(sys.argv[1], "metrics.jsonl")
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    evaluated = [r for r in rows if "federated" in r]
    if not evaluated:
        print(f"{path}: no round has a federated evaluation")
        return 1
    ids = sorted({c["client_id"] for r in evaluated for c in r["federated"]["clients"]})
    print(f"federated evaluation of {sys.argv[1]}: each site evaluates the global model on its own test data")
    header = f"{'round':>5} {'fed acc':>8} {'fed loss':>8} {'answered':>8} {'central':>8}" + "".join(
        f" {'site ' + str(i):>14}" for i in ids)
    print(header)
    for r in evaluated:
        fed = r["federated"]
        by_id = {c["client_id"]: c for c in fed["clients"]}
        cells = ""
        for i in ids:
            c = by_id.get(i)
            cells += f" {'':>14}" if c is None else (
                f" {fmt(c['accuracy']) + ' (' + str(c['num_samples']) + ')':>14}" if c["status"] == "ok" else
                f" {c['status'][:14]:>14}")
        print(f"{r['round']:>5} {fmt(fed['accuracy']):>8} {fmt(fed['loss']):>8} "
              f"{str(fed['answered']) + '/' + str(len(fed['clients'])):>8} {fmt(r.get('test_accuracy')):>8}{cells}")
    last = evaluated[-1]
    print(f"\nper-class accuracy on each site's test data, round {last['round']} (correct/total; '-' no samples)")
    for c in last["federated"]["clients"]:
        if "class_total" not in c:
            print(f"site {c['client_id']}: withheld")
            continue
        cells = [f"{k}:{ok}/{n}" if n else f"{k}:-" for k, (ok, n) in
                 enumerate(zip(c["class_correct"], c["class_total"]))]
        print(f"site {c['client_id']}: " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
