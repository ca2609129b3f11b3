#!/usr/bin/python3
"""Writes the optimizer and LR-schedule goldens of tests/unit/test_optimizer.c
and tests/unit/test_lr_schedule.c from torch.optim.

Run with a Python that has torch (Debian's python3-torch 1.13):
    /usr/bin/python3 tools/gen_optimizer_golden.py [--out tests/golden] [--sizes 19,6] [--steps 5]

Each optimizer case runs `steps` updates of torch.optim (CPU, default
single-tensor implementation) on parameters of the given sizes, with seeded
random gradients, and writes tests/golden/optimizer_<case>.txt:

    # comment lines
    optimizer <sgd|momentum|nesterov|adam|adamw|adagrad>
    dtype <float32|float64>
    lr|momentum|dampening|beta1|beta2|eps|weight_decay|lr_decay|initial_accumulator <value>
    tensors <count> <numel...>
    steps <n>
    param<i> <values...>                 initial parameters
    step <t> lr <lr used in step t>      then, for each tensor: grad<i> <values...>,
    grad<i> ...  param<i> ...            then the parameters after step t
    end

Hyperparameters are written with repr() (exact doubles); float32 tensor values
with %.9g (round-trip exact), float64 with %.17g.

ATen's AVX2/AVX-512 CPU kernels use fused multiply-adds (add with alpha,
addcmul); the kernels under test reproduce that.  On a CPU where torch falls
back to its DEFAULT (non-vector) kernels the float32 results differ in the
last bit, so this script refuses to run there.

tests/golden/optimizer_clip.txt holds torch.nn.utils.clip_grad_norm_ cases:

    clip max_norm <v> tensors <count> <numel...>
    grad<i> <values>   total <norm>   clipped<i> <values>

Also writes tests/golden/optimizer_lr_schedules.txt: learning-rate traces of
torch.optim.lr_scheduler (LambdaLR with HuggingFace's warmup lambdas,
CosineAnnealingLR, StepLR), the lr that each optimizer step uses:

    schedule <name> kind <constant|linear|cosine|step> lr <v> min_lr <v> warmup <W> total <T> gamma <v> step_size <k> steps <n>
    values <n values, %.17g>
"""
import argparse
import math
import os
import re
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (kind, torch constructor, kwargs, dtype, lr lambda or None)
CASES = [
    ("sgd", "sgd", torch.optim.SGD, dict(lr=0.1), torch.float32, None),
    ("sgd_wd", "sgd", torch.optim.SGD, dict(lr=0.1, weight_decay=0.01), torch.float32, None),
    ("momentum", "momentum", torch.optim.SGD, dict(lr=0.05, momentum=0.9), torch.float32, None),
    ("momentum_damp", "momentum", torch.optim.SGD,
     dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=1e-3), torch.float32, None),
    ("nesterov", "nesterov", torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), torch.float32, None),
    ("adam", "adam", torch.optim.Adam, dict(lr=1e-2), torch.float32, None),
    ("adam_wd", "adam", torch.optim.Adam,
     dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), torch.float32, None),
    ("adamw", "adamw", torch.optim.AdamW, dict(lr=1e-2), torch.float32, None),
    ("adamw_sched", "adamw", torch.optim.AdamW, dict(lr=3e-2, weight_decay=0.1), torch.float32,
     lambda s: (s + 1) / 3 if s < 2 else 0.7 ** (s - 2)),
    ("adagrad", "adagrad", torch.optim.Adagrad, dict(lr=0.1), torch.float32, None),
    ("adagrad_full", "adagrad", torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1), torch.float32, None),
    ("adam_f64", "adam", torch.optim.Adam, dict(lr=1e-2, weight_decay=0.01), torch.float64, None),
    ("nesterov_f64", "nesterov", torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), torch.float64, None),
]

# Constructor defaults (PyTorch's), for the fields a case does not set.
DEFAULTS = {
    torch.optim.SGD: dict(momentum=0.0, dampening=0.0, weight_decay=0.0),
    torch.optim.Adam: dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    torch.optim.AdamW: dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
    torch.optim.Adagrad: dict(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
}


def fmt(t):
    if t.dtype == torch.float32:
        return " ".join("%.9g" % v for v in t.tolist())
    return " ".join("%.17g" % v for v in t.tolist())


def hyper_lines(ctor, kw):
    h = dict(DEFAULTS[ctor])
    h.update(kw)
    betas = h.get("betas", (0.9, 0.999))
    eps = h.get("eps", 1e-8)
    return [
        "lr %r" % float(h["lr"]),
        "momentum %r" % float(h.get("momentum", 0.0)),
        "dampening %r" % float(h.get("dampening", 0.0)),
        "beta1 %r" % float(betas[0]),
        "beta2 %r" % float(betas[1]),
        "eps %r" % float(eps),
        "weight_decay %r" % float(h.get("weight_decay", 0.0)),
        "lr_decay %r" % float(h.get("lr_decay", 0.0)),
        "initial_accumulator %r" % float(h.get("initial_accumulator_value", 0.0)),
    ]


def gradient(gen, n, dtype):
    # Magnitudes spread over 1e-4 .. 10 (small ones exercise eps), a few exact zeros.
    g = torch.randn(n, generator=gen, dtype=torch.float64)
    scale = 10.0 ** (torch.rand(n, generator=gen, dtype=torch.float64) * 5 - 4)
    g = g * scale
    g[torch.rand(n, generator=gen, dtype=torch.float64) < 0.08] = 0
    return g.to(dtype)


def run_case(idx, name, kind, ctor, kw, dtype, lam, sizes, steps, header):
    gen = torch.Generator().manual_seed(1234 + idx)
    params = [torch.nn.Parameter(torch.randn(n, generator=gen, dtype=torch.float64).to(dtype)) for n in sizes]
    opt = ctor(params, **kw)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lam) if lam else None
    lines = list(header)
    lines += ["optimizer " + kind, "dtype " + ("float32" if dtype == torch.float32 else "float64")]
    lines += hyper_lines(ctor, kw)
    lines += ["tensors %d %s" % (len(sizes), " ".join(str(n) for n in sizes)), "steps %d" % steps]
    lines += ["param%d %s" % (i, fmt(p.detach())) for i, p in enumerate(params)]
    for t in range(1, steps + 1):
        lr = opt.param_groups[0]["lr"]
        lines.append("step %d lr %r" % (t, float(lr)))
        for i, p in enumerate(params):
            p.grad = gradient(gen, p.numel(), dtype)
            lines.append("grad%d %s" % (i, fmt(p.grad)))
        opt.step()
        if sched:
            sched.step()
        lines += ["param%d %s" % (i, fmt(p.detach())) for i, p in enumerate(params)]
    lines.append("end")
    return "\n".join(lines) + "\n"


def lr_traces(steps):
    """(name, kind, lr, min_lr, warmup, total, gamma, step_size, scheduler factory)."""
    def hf_linear(W, T, lr, min_lr):
        r = min_lr / lr
        return lambda s: s / max(1, W) if s < W else r + (1 - r) * max(0.0, (T - s) / max(1, T - W))

    def hf_cosine(W, T, lr, min_lr):
        r = min_lr / lr
        def f(s):
            if s < W:
                return s / max(1, W)
            p = min(1.0, (s - W) / max(1, T - W))
            return r + (1 - r) * 0.5 * (1.0 + math.cos(math.pi * p))
        return f

    def warm_step(W, gamma, k):
        return lambda s: s / max(1, W) if s < W else gamma ** ((s - W) // k)

    L = torch.optim.lr_scheduler
    return [
        ("constant", "constant", 0.1, 0.0, 0, steps, 0.1, 0, lambda o: L.LambdaLR(o, lambda s: 1.0)),
        ("constant_warmup", "constant", 0.1, 0.0, 5, steps, 0.1, 0,
         lambda o: L.LambdaLR(o, lambda s: s / 5 if s < 5 else 1.0)),
        ("linear", "linear", 0.1, 0.0, 0, steps, 0.1, 0, lambda o: L.LambdaLR(o, hf_linear(0, steps, 0.1, 0.0))),
        ("linear_warmup", "linear", 0.1, 0.0, 4, steps, 0.1, 0,
         lambda o: L.LambdaLR(o, hf_linear(4, steps, 0.1, 0.0))),
        ("linear_min", "linear", 0.05, 0.005, 3, steps, 0.1, 0,
         lambda o: L.LambdaLR(o, hf_linear(3, steps, 0.05, 0.005))),
        ("linear_short", "linear", 0.1, 0.0, 2, 10, 0.1, 0, lambda o: L.LambdaLR(o, hf_linear(2, 10, 0.1, 0.0))),
        ("cosine", "cosine", 0.1, 1e-4, 0, steps, 0.1, 0, lambda o: L.CosineAnnealingLR(o, T_max=steps, eta_min=1e-4)),
        ("cosine_warmup", "cosine", 0.1, 0.0, 5, steps, 0.1, 0,
         lambda o: L.LambdaLR(o, hf_cosine(5, steps, 0.1, 0.0))),
        ("cosine_warmup_min", "cosine", 0.02, 0.002, 3, 15, 0.1, 0,
         lambda o: L.LambdaLR(o, hf_cosine(3, 15, 0.02, 0.002))),
        ("step", "step", 0.1, 0.0, 0, steps, 0.5, 6, lambda o: L.StepLR(o, step_size=6, gamma=0.5)),
        ("step_warmup", "step", 0.1, 0.0, 3, steps, 0.1, 4, lambda o: L.LambdaLR(o, warm_step(3, 0.1, 4))),
    ]


def run_lr_traces(steps, header):
    lines = list(header)
    for name, kind, lr, min_lr, W, T, gamma, k, make in lr_traces(steps):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        sched = make(opt)
        vals = []
        for _ in range(steps):
            vals.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        lines.append("schedule %s kind %s lr %r min_lr %r warmup %d total %d gamma %r step_size %d steps %d"
                     % (name, kind, lr, min_lr, W, T, gamma, k, steps))
        lines.append("values " + " ".join("%.17g" % v for v in vals))
    lines.append("end")
    return "\n".join(lines) + "\n"


def run_clip(sizes, header):
    """clip_grad_norm_ on float32 gradients: total norm and clipped gradients."""
    gen = torch.Generator().manual_seed(99)
    lines = list(header)
    for max_norm, scale in ((1.0, 1.0), (100.0, 1.0), (0.5, 30.0), (2.5, 1e-3)):
        grads = [(torch.randn(n, generator=gen, dtype=torch.float64) * scale).float() for n in sizes]
        params = [torch.nn.Parameter(torch.zeros(n)) for n in sizes]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        lines.append("clip max_norm %r tensors %d %s" % (max_norm, len(sizes), " ".join(str(n) for n in sizes)))
        lines += ["grad%d %s" % (i, fmt(g)) for i, g in enumerate(grads)]
        lines.append("total %.9g" % total.item())
        lines += ["clipped%d %s" % (i, fmt(p.grad)) for i, p in enumerate(params)]
    lines.append("end")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden"))
    ap.add_argument("--sizes", default="19,6", help="element counts of the parameters")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--lr-steps", type=int, default=20)
    args = ap.parse_args()
    cap = re.search(r"CPU capability usage: (\w+)", torch.__config__.show())
    cap = cap.group(1) if cap else "unknown"
    if cap not in ("AVX2", "AVX512"):
        sys.exit("torch runs its %s CPU kernels here (no fused multiply-add): "
                 "generate the goldens on an AVX2 or AVX-512 machine" % cap)
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.out, exist_ok=True)
    header = ["# generated by tools/gen_optimizer_golden.py with torch %s (CPU capability %s); do not edit"
              % (torch.__version__, cap)]
    for idx, (name, kind, ctor, kw, dtype, lam) in enumerate(CASES):
        with open(os.path.join(args.out, "optimizer_%s.txt" % name), "w") as f:
            f.write(run_case(idx, name, kind, ctor, kw, dtype, lam, sizes, args.steps, header))
    with open(os.path.join(args.out, "optimizer_lr_schedules.txt"), "w") as f:
        f.write(run_lr_traces(args.lr_steps, header))
    with open(os.path.join(args.out, "optimizer_clip.txt"), "w") as f:
        f.write(run_clip(sizes, header))
    # The list the C test walks.
    with open(os.path.join(args.out, "optimizer_cases.txt"), "w") as f:
        f.write("\n".join(header + [c[0] for c in CASES]) + "\n")


if __name__ == "__main__":
    main()
