#!/usr/bin/env python3
"""Exports the models shipped in models/ (run with Debian's python3-torch):

    python3 tools/make_models.py          # writes models/mlp.onnx, models/cnn.onnx

Both take Fashion-MNIST images: the MLP (N, 784), the CNN (N, 1, 28, 28);
both output logits (N, 10).  Exported as the README recommends (training
mode, no constant folding, dynamic batch).  Initialisation is PyTorch's
default with a fixed seed, so tools/fashion_mnist_pytorch.py trains exactly
the same starting point in PyTorch.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "models")


class MLP(nn.Module):
    # (N, 784) -> 256 -> ReLU -> 128 -> ReLU -> (N, 10)
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    # (N, 1, 28, 28) -> conv5 16 (N, 16, 24, 24) -> ReLU -> maxpool (N, 16, 12, 12)
    # -> conv5 32 (N, 32, 8, 8) -> ReLU -> maxpool (N, 32, 4, 4) -> (N, 512) -> 64 -> ReLU -> (N, 10)
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.fc1 = nn.Linear(512, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


MODELS = {"mlp": (MLP, (2, 784)), "cnn": (CNN, (2, 1, 28, 28))}


def make(name):
    torch.manual_seed(20261121)
    return MODELS[name][0]()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (_, shape) in MODELS.items():
        model = make(name).train()
        torch.onnx.export(model, (torch.zeros(*shape),), os.path.join(OUT, name + ".onnx"), input_names=["input"],
                          output_names=["logits"], opset_version=17, training=torch.onnx.TrainingMode.TRAINING,
                          do_constant_folding=False, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        print("wrote models/%s.onnx" % name)


if __name__ == "__main__":
    main()
