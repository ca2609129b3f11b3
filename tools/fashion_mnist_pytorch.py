#!/usr/bin/env python3
"""The PyTorch reference for the Fashion-MNIST figures (run with Debian's
python3-torch; reads Debian's dataset-fashion-mnist IDX files):

    python3 tools/fashion_mnist_pytorch.py [--threads N] [--epochs E]

Trains the same models as models/*.onnx (tools/make_models.py, same seed and
so the same initial weights) with Adam, lr 1e-3, batch 64, shuffled, inputs
scaled by 1/255, and prints test accuracy and epoch time per model.  The
figures in models/pytorch_reference.txt come from this script.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import make  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="mlp,cnn")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    xtr = torch.tensor(idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = torch.tensor(idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), dtype=torch.float32) / 255
    yte = torch.tensor(idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    ap_models = args.models.split(",")
    for name, shape in (("mlp", (-1, 784)), ("cnn", (-1, 1, 28, 28))):
        if name not in ap_models:
            continue
        model = make(name).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(args.seed)
        for epoch in range(args.epochs):
            perm = torch.randperm(xtr.shape[0], generator=g)
            t0, c0 = time.perf_counter(), time.process_time()
            for s in range(0, xtr.shape[0], 64):
                i = perm[s:s + 64]
                loss = F.cross_entropy(model(xtr[i].reshape(shape)), ytr[i])
                opt.zero_grad()
                loss.backward()
                opt.step()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        model.eval()
        with torch.no_grad():
            acc = (model(xte.reshape(shape)).argmax(1) == yte).float().mean().item()
        print("%s: test accuracy %.4f after %d epoch(s), last epoch %.1f s wall, %.1f s CPU (torch %s, %d threads)"
              % (name, acc, args.epochs, dt, cpu, torch.__version__, args.threads))


if __name__ == "__main__":
    main()
