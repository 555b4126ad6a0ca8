#!/usr/bin/env python3
"""Checks a Flotilla run of the TorchScript model from Python, as its user would use the result.

    python3 evaluate.py RUN_DIR [--data-dir /usr/share/datasets/fashion-mnist]

Loads RUN_DIR/model_final.pt (a dict of tensors) into the Python class FashionNet with
load_state_dict(), and RUN_DIR/model_final.torchscript.pt with torch.jit.load(); evaluates both
on the Fashion-MNIST test set, read here from the official .gz IDX files and normalised as
Flotilla normalises it ((x / 255 - 0.2860) / 0.3530, datasets/mnist_idx.h); prints both
accuracies next to the last round's test_accuracy in RUN_DIR/metrics.jsonl and fails unless all
three agree to 4 digits.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import FashionNet  # noqa: E402

MEAN, STD = 0.2860, 0.3530  # Flotilla's Fashion-MNIST statistics (datasets/mnist_idx.h)


def read_idx(path: str) -> torch.Tensor:
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
    body = bytearray(data[4 + 4 * len(dims):])
    return torch.frombuffer(body, dtype=torch.uint8).view(*dims)


def find(data_dir: str, stem: str) -> str:
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    sys.exit(f"evaluate: no {stem}[.gz] in {data_dir}")


@torch.no_grad()
def evaluate(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000):
    """Accuracy and mean cross-entropy, batch by batch as Flotilla's evaluator goes (1000 a batch)."""
    model.eval()
    correct, loss = 0, 0.0
    for begin in range(0, len(labels), batch_size):
        x = images[begin:begin + batch_size].float().div_(255.0).sub_(MEAN).div_(STD)
        y = labels[begin:begin + batch_size]
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").double().item()
        correct += int((logits.argmax(1) == y).sum())
    return correct / len(labels), loss / len(labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    images = read_idx(find(args.data_dir, "t10k-images-idx3-ubyte")).unsqueeze(1)  # [N, 1, 28, 28]
    labels = read_idx(find(args.data_dir, "t10k-labels-idx1-ubyte")).long()

    with open(os.path.join(args.run_dir, "metrics.jsonl")) as f:
        rounds = [json.loads(line) for line in f if line.strip()]
    evaluated = [r for r in rounds if isinstance(r.get("test_accuracy"), (int, float))]
    if not evaluated:
        sys.exit(f"evaluate: no round of {args.run_dir}/metrics.jsonl has a test_accuracy")
    last = evaluated[-1]

    # The weights as a plain dict, into the user's own class.
    net = FashionNet()
    state = torch.load(os.path.join(args.run_dir, "model_final.pt"))
    net.load_state_dict(state)  # strict: every name of the class, and no other
    # The archive with the final weights, runnable without the class.
    scripted = torch.jit.load(os.path.join(args.run_dir, "model_final.torchscript.pt"))

    acc_dict, loss_dict = evaluate(net, images, labels)
    acc_script, loss_script = evaluate(scripted, images, labels)
    print(f"run {args.run_dir}: {len(rounds)} rounds; Fashion-MNIST test set, {len(labels)} images")
    print(f"{'':40} {'accuracy':>9} {'loss':>9}")
    print(f"{'Flotilla, round ' + str(last['round']) + ' (metrics.jsonl)':40} {last['test_accuracy']:>9.4f} "
          f"{last['test_loss']:>9.4f}")
    print(f"{'model_final.pt -> FashionNet.load_state_dict':40} {acc_dict:>9.4f} {loss_dict:>9.4f}")
    print(f"{'torch.jit.load(model_final.torchscript.pt)':40} {acc_script:>9.4f} {loss_script:>9.4f}")
    same = f"{acc_dict:.4f}" == f"{last['test_accuracy']:.4f}" == f"{acc_script:.4f}"
    print("PASS: the same accuracy to 4 digits in Flotilla and in Python" if same else
          "FAIL: the accuracies differ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
