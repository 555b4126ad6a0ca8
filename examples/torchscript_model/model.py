#!/usr/bin/env python3
"""A small Fashion-MNIST CNN written in plain PyTorch, exported for Flotilla as TorchScript.

    python3 model.py net.pt        # writes the archive: flotilla-run --model torchscript:net.pt ...

Flotilla trains any module that TorchScript can compile: it calls forward() on float32 batches
[B, 1, 28, 28] (already normalised) and expects logits [B, 10]. The state it trains, aggregates
and saves is the module's state_dict() (parameters and buffers, under the same names), and it
switches the module between train() and eval() as Python does, so batch norm's running statistics
are updated while training and used while evaluating (and averaged across clients like weights).

features() and classify() are exported as well (forward == classify(features(x))), which lets
MOON (--aggregator moon) contrast representations; a model without them still trains with every
other aggregator. The initial weights are those of the saved module, drawn here with torch's
default initialisation from the seed given on the command line.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class FashionNet(nn.Module):
    """conv 5x5 (10) + batch norm, pool, conv 5x5 (20) + group norm, pool, fc 320 -> 50 -> classes."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.bn1 = nn.BatchNorm2d(10)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.gn2 = nn.GroupNorm(4, 20)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, num_classes)

    @torch.jit.export
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The representation MOON contrasts: [B, 50]."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)   # [B, 10, 12, 12]
        x = F.max_pool2d(F.relu(self.gn2(self.conv2(x))), 2)   # [B, 20, 4, 4]
        return F.relu(self.fc1(torch.flatten(x, 1)))

    @torch.jit.export
    def classify(self, z: torch.Tensor) -> torch.Tensor:
        """Logits from the representation: [B, classes]."""
        return self.fc2(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "net.pt"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    torch.manual_seed(seed)
    model = FashionNet()
    scripted = torch.jit.script(model)
    # The archive and the Python class agree on names and on what they compute.
    assert list(scripted.state_dict()) == list(model.state_dict())
    x = torch.randn(3, 1, 28, 28)
    model.eval()
    scripted.eval()
    assert torch.equal(scripted(x), model(x))
    assert torch.equal(scripted.classify(scripted.features(x)), scripted(x))
    scripted.train()
    scripted.save(path)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {path}: FashionNet, {params} parameters, state {', '.join(model.state_dict())}")


if __name__ == "__main__":
    main()
