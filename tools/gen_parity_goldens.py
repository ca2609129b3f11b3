#!/usr/bin/env python3
"""Training-parity goldens: PyTorch trains small models step by step and
records each step's loss and the final parameters; tests/parity/test_parity.c
trains the exported ONNX model with onnxtrain on the same data and compares.

Run with Debian's python3-torch (torch 1.13), from the repository root:
    python3 tools/gen_parity_goldens.py        # writes tests/parity/<case>/

Each case directory holds:
    model.onnx          exported as the README recommends (training mode, no constant folding)
    config.txt          key=value lines: the onnxtrain training options
    input.npy labels.npy   the data, walked in file order (shuffle=False, drop_last=False)
    losses.txt          one line per optimizer step: the step's mean loss (loss.item() before the step)
    final/<name>.npy    parameters and BatchNorm statistics after the last step, by ONNX initializer name
"""
import copy
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_pytorch_models import build_models  # noqa: E402  (the same model classes as the golden models)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity")


class SmallMLP(nn.Module):
    # (N, 20) -> 16 -> ReLU -> (N, 5): the MLP used for every optimizer (small files).
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class RecurrentClassifier(nn.Module):
    """A recurrent layer over (N, T, F) sequences, classified from the last step."""

    def __init__(self, kind, features, hidden, classes, bidirectional=False):
        super().__init__()
        cell = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.rnn = cell(features, hidden, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1])


class UpsampleCNN(nn.Module):
    """Convolutions around nn.Upsample (exported as Resize): nearest then bilinear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = nn.Linear(4 * 16 * 16, 3)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.tanh(self.conv2(self.up1(x)))
        return self.head(self.up2(x).flatten(1))


def make_optimizer(kind, params, cfg):
    lr = cfg["lr"]
    wd = cfg.get("weight_decay", 0.0)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.get("momentum", 0.9), dampening=cfg.get("dampening", 0.0),
                               weight_decay=wd)
    if kind == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.get("momentum", 0.9), nesterov=True, weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.get("weight_decay", 0.01))
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise ValueError(kind)


def lr_lambda(cfg):
    # CONTRACTS.md: warmup linear from 0 (step counted from 0), then the schedule.
    kind, W, T = cfg.get("lr_schedule", "constant"), cfg.get("warmup_steps", 0), cfg["steps"]
    min_ratio = cfg.get("min_lr", 0.0) / cfg["lr"]

    def f(step):
        if step < W:
            return step / max(1, W)
        s, S = step - W, max(1, T - W)
        if kind == "linear":
            return min_ratio + (1 - min_ratio) * max(0.0, (S - s) / S)
        if kind == "cosine":
            return min_ratio + (1 - min_ratio) * (1 + math.cos(math.pi * s / S)) / 2
        if kind == "step":
            return cfg.get("gamma", 0.1) ** (s // cfg["step_size"])
        return 1.0
    return f


def loss_fn(kind, out, y):
    if kind == "cross-entropy":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if kind == "mse":
        return F.mse_loss(out, y)
    raise ValueError(kind)


def groups(n, b, acc):
    """Optimizer steps as lists of micro-batches: groups of `acc` micro-batches
    that never cross an epoch boundary (the epoch's last group may be shorter),
    the last partial batch kept (CONTRACTS.md, --accumulate)."""
    while True:
        mb = [slice(s, min(n, s + b)) for s in range(0, n, b)]
        for g in range(0, len(mb), acc):
            yield mb[g:g + acc]


def run_case(name, model, x, y, cfg, example):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)  # no stale files from an earlier configuration
    os.makedirs(os.path.join(d, "final"))
    exported = copy.deepcopy(model)
    exported.train()
    torch.onnx.export(exported, (example,), os.path.join(d, "model.onnx"), input_names=[cfg["input"]],
                      output_names=["output"], opset_version=cfg.get("opset", 17),
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      dynamic_axes={cfg["input"]: {0: "batch"}, "output": {0: "batch"}})
    # The export's tracing forward pass moved the copy's BatchNorm statistics,
    # and those moved values are what the ONNX file holds: train PyTorch from
    # exactly the exported state.
    model.load_state_dict(exported.state_dict())
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "labels.npy"), y.numpy())
    model.train()
    frozen = cfg.get("freeze", "").split(",") if cfg.get("freeze") else []
    for k, p in model.named_parameters():
        p.requires_grad_(k not in frozen)
    opt = make_optimizer(cfg["optimizer"], [p for p in model.parameters() if p.requires_grad], cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg))
    it = groups(x.shape[0], cfg["batch_size"], cfg.get("accumulate", 1))
    losses = []
    for step in range(cfg["steps"]):
        opt.zero_grad()
        group = []
        mbs = next(it)
        for sl in mbs:
            loss = loss_fn(cfg["loss"], model(x[sl]), y[sl])
            (loss / len(mbs)).backward()
            group.append(loss.item())
        if cfg.get("clip_grad_norm"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip_grad_norm"])
        opt.step()
        sched.step()
        losses.append(sum(group) / len(group))
    with open(os.path.join(d, "losses.txt"), "w") as f:
        for v in losses:
            f.write("%.9g\n" % v)
    for k, v in model.state_dict().items():
        if v.dtype.is_floating_point and not k.endswith("mask") and k not in frozen:
            np.save(os.path.join(d, "final", k + ".npy"), v.detach().numpy())
    keys = ["loss", "optimizer", "lr", "batch_size", "steps", "momentum", "dampening", "weight_decay", "accumulate",
            "clip_grad_norm", "lr_schedule", "warmup_steps", "min_lr", "gamma", "step_size", "freeze"]
    with open(os.path.join(d, "config.txt"), "w") as f:
        for k in keys:
            if k in cfg:
                f.write("%s=%s\n" % (k.replace("_", "-"), cfg[k]))
    print(name, "final loss %.6f" % losses[-1])


def recurrent_cases(g):
    """LSTM, GRU and (tanh) RNN layers: backpropagation through time against PyTorch's."""
    seqs = torch.randn(24, 5, 6, generator=g)
    labels = torch.randint(0, 4, (24,), generator=g)
    for kind, bidir, opt_kind, lr in [("lstm", False, "adam", 0.01), ("gru", True, "momentum", 0.1),
                                      ("rnn", False, "sgd", 0.1)]:
        torch.manual_seed(19)
        cfg = dict(input="input", loss="cross-entropy", optimizer=opt_kind, lr=lr, batch_size=8, steps=5, opset=14)
        name = "%s%s_%s" % (kind, "_bidir" if bidir else "", opt_kind)
        run_case(name, RecurrentClassifier(kind, 6, 12, 4, bidir), seqs, labels, cfg, seqs[:2])


def resize_cases(g):
    """Resize (nearest and bilinear upsampling) inside a CNN."""
    imgs = torch.randn(16, 1, 4, 4, generator=g)
    labels = torch.randint(0, 3, (16,), generator=g)
    torch.manual_seed(23)
    cfg = dict(input="input", loss="cross-entropy", optimizer="adam", lr=0.01, batch_size=8, steps=4, opset=13)
    run_case("upsample_cnn_adam", UpsampleCNN(), imgs, labels, cfg, imgs[:2])


def main():
    if sys.argv[1:] == ["--recurrent"]:  # only these cases: the others' files stay as they are
        return recurrent_cases(torch.Generator().manual_seed(4321))
    if sys.argv[1:] == ["--resize"]:
        return resize_cases(torch.Generator().manual_seed(8765))
    models = build_models()
    g = torch.Generator().manual_seed(1234)
    # MLP with each optimizer: 40 samples, batches of 16 (16, 16, 8), 6 steps (two epochs).
    x = torch.randn(40, 20, generator=g)
    y = torch.randint(0, 5, (40,), generator=g)
    base = dict(input="input", loss="cross-entropy", batch_size=16, steps=6)
    for opt_kind, lr, extra in [("sgd", 0.1, {}), ("momentum", 0.05, {"dampening": 0.1}), ("nesterov", 0.05, {}),
                                ("adam", 0.01, {}), ("adamw", 0.01, {"weight_decay": 0.05}), ("adagrad", 0.05, {}),
                                ("sgd", 0.1, {"weight_decay": 0.01, "name": "sgd_wd"})]:
        torch.manual_seed(7)
        cfg = dict(base, optimizer=opt_kind, lr=lr, **{k: v for k, v in extra.items() if k != "name"})
        run_case("mlp_" + extra.get("name", opt_kind), SmallMLP(), x, y, cfg, x[:2])
    # Schedules, clipping and accumulation (adam, cosine with warmup, clip, accumulate 2).
    torch.manual_seed(7)
    cfg = dict(base, optimizer="adam", lr=0.02, steps=5, accumulate=2, clip_grad_norm=0.5, lr_schedule="cosine",
               warmup_steps=2, batch_size=8)
    run_case("mlp_adam_cosine_clip_accum", SmallMLP(), x, y, cfg, x[:2])
    torch.manual_seed(7)
    cfg = dict(base, optimizer="momentum", lr=0.1, steps=6, lr_schedule="step", step_size=2, gamma=0.5)
    run_case("mlp_momentum_step_schedule", SmallMLP(), x, y, cfg, x[:2])
    # CNN with Conv/MaxPool/AveragePool; CNN with BatchNorm (training-mode export).
    imgs = torch.randn(24, 1, 16, 16, generator=g)
    labels = torch.randint(0, 10, (24,), generator=g)
    # (Not Adam for cnn_bn: conv2's bias feeds a BatchNorm, so its true gradient
    # is zero and PyTorch's is rounding noise, which Adam scales up to lr-sized
    # steps of random sign: no implementation could match that.)
    for name, opt_kind, lr in [("cnn", "momentum", 0.05), ("cnn_bn", "momentum", 0.05)]:
        torch.manual_seed(11)
        spec = models[name]
        model = spec["make"]()
        if "init" in spec:
            spec["init"](model, torch.Generator().manual_seed(5))
        cfg = dict(input="input", loss="cross-entropy", optimizer=opt_kind, lr=lr, batch_size=10, steps=5)
        run_case(name + "_" + opt_kind, model, imgs, labels, cfg, imgs[:2])
    # MSE regression with Tanh.
    torch.manual_seed(13)
    xr = torch.randn(32, 13, generator=g)
    yr = torch.randn(32, 1, generator=g)
    cfg = dict(input="input", loss="mse", optimizer="sgd", lr=0.05, batch_size=8, steps=6)
    run_case("mse_tanh_sgd", models["mlp_tanh_regression"]["make"](), xr, yr, cfg, xr[:2])
    # Small GPT with AdamW.
    torch.manual_seed(17)
    toks = torch.randint(0, 50, (12, 16), generator=g)
    targets = torch.randint(0, 50, (12, 16), generator=g)
    # The key third of each qkv bias has an identically zero gradient (adding a
    # constant to every key leaves the softmax unchanged): PyTorch's gradient
    # there is float32 rounding noise, which Adam scales up to lr-sized steps.
    # Frozen on both sides, since no two implementations agree on noise.
    cfg = dict(input="tokens", loss="cross-entropy", optimizer="adamw", lr=0.003, weight_decay=0.01, batch_size=4, steps=5,
               freeze="blocks.0.qkv.bias,blocks.1.qkv.bias")
    run_case("gpt_adamw", models["gpt"]["make"](), toks, targets, cfg, toks[:2])
    recurrent_cases(torch.Generator().manual_seed(4321))
    resize_cases(torch.Generator().manual_seed(8765))


if __name__ == "__main__":
    main()
