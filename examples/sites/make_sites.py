#!/usr/bin/env python3
"""Writes a few "sites" of real data, each holding its own train.pt and test.pt, as a site would.

    python3 make_sites.py [--out DIR] [--dataset mnist|fashion-mnist] [--data-dir DIR]
                          [--sites 4] [--alpha 0.5] [--test-fraction 0.2] [--seed 3]

flotilla-partition --write-sites cuts the data set's training split into non-IID shares
(Dirichlet(alpha) over the labels, the same split a run with those flags would make); this script
then splits each share into the site's own training and test rows (a seeded random
test_fraction) and saves each as a site writes its data for Flotilla, in one line of PyTorch:

    torch.save({"x": images_uint8_N_1_28_28, "y": labels_int64_N}, "DIR/client_0/train.pt")

It also keeps the data set's official test split as DIR/test.pt, a central test set for
--test-data. DIR defaults to data/sites in the repository (ignored by git), where run_by_hand.sh
and run_local.sh look. Needs a build (FLOTILLA_BUILD_DIR picks another build folder) and Debian's
python3-torch (scripts/install-deps.sh --peers).
"""
import argparse
import os
import shutil
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIRS = {"mnist": os.path.join(ROOT, "data", "mnist"), "fashion-mnist": "/usr/share/datasets/fashion-mnist"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "data", "sites"),
                   help="the sites' parent folder (written: client_<k>/, test.pt; default: data/sites)")
    p.add_argument("--dataset", default="mnist", choices=sorted(DEFAULT_DIRS))
    p.add_argument("--data-dir", help="the official files (default: data/mnist, or Debian's Fashion-MNIST)")
    p.add_argument("--sites", type=int, default=4)
    p.add_argument("--alpha", type=float, default=0.5, help="Dirichlet concentration of the label skew")
    p.add_argument("--test-fraction", type=float, default=0.2, help="share of each site's rows kept for its test.pt")
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    data_dir = args.data_dir or DEFAULT_DIRS[args.dataset]
    tool = os.path.join(os.environ.get("FLOTILLA_BUILD_DIR", os.path.join(ROOT, "build")), "bin",
                        "flotilla-partition")
    if not os.access(tool, os.X_OK):
        sys.exit(f"make_sites: {tool} is missing: build first (scripts/build.sh)")

    # 1. The shares, as Flotilla would split the training set (printed: samples per class per site).
    shares = os.path.join(args.out, ".shares")
    subprocess.run([tool, "--dataset", args.dataset, "--data-dir", data_dir, "--clients", str(args.sites),
                    "--partitioner", "dirichlet", "--alpha", str(args.alpha), "--seed", str(args.seed),
                    "--write-sites", shares], check=True)

    # 2. Each site: its share, split into its own train and test rows.
    print(f"\n{'site':<10} {'train':>6} {'test':>6}  labels (train)")
    for k in range(args.sites):
        share = torch.load(os.path.join(shares, f"client_{k}", "train.pt"))
        x, y = share["x"], share["y"]
        g = torch.Generator().manual_seed(args.seed * 1000 + k)
        order = torch.randperm(len(y), generator=g)
        n_test = max(1, int(args.test_fraction * len(y)))
        test_rows, train_rows = order[:n_test].sort().values, order[n_test:].sort().values
        site = os.path.join(args.out, f"client_{k}")
        os.makedirs(site, exist_ok=True)
        torch.save({"x": x[train_rows].clone(), "y": y[train_rows].clone()}, os.path.join(site, "train.pt"))
        torch.save({"x": x[test_rows].clone(), "y": y[test_rows].clone()}, os.path.join(site, "test.pt"))
        counts = torch.bincount(y[train_rows], minlength=10).tolist()
        print(f"client_{k:<3} {len(train_rows):>6} {len(test_rows):>6}  {counts}")
    os.replace(os.path.join(shares, "test.pt"), os.path.join(args.out, "test.pt"))
    shutil.rmtree(shares)
    print(f"\nwrote {args.out}/client_{{0..{args.sites - 1}}}/{{train,test}}.pt and {args.out}/test.pt "
          f"({args.dataset}, uint8 [N, 1, 28, 28] images, int64 labels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
