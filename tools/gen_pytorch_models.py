#!/usr/bin/env python3
"""Generates the PyTorch-exported golden models under tests/models/.

Each case is written in the ONNX backend-test layout the conformance runner
reads (its directory name must start with "test_"):

    tests/models/test_<model>_<mode>_opset<N>/model.onnx
    tests/models/test_<model>_<mode>_opset<N>/test_data_set_K/input_I.pb, output_O.pb

<mode> is "train" for the export recipe of CONTRACTS.md
(training=TrainingMode.TRAINING, do_constant_folding=False), "eval" for a
plain torch.onnx.export of the model in eval() mode (what most users have;
BatchNorm is folded into the preceding Conv), and "preserve" for an eval()
model exported with training=TrainingMode.PRESERVE, do_constant_folding=False
(BatchNormalization kept as an inference-mode node).
Reference outputs come from PyTorch with the model in the mode it was exported
in: a training export's BatchNormalization normalises with batch statistics,
so its reference is the train() forward.

Two interpreters are involved because Debian's python3-torch has no `onnx`
package: this script runs under the python that has torch, writes the arrays
as .npy plus a manifest, and re-invokes itself as

    PYTHON tools/gen_pytorch_models.py convert MANIFEST

with a python that has onnx (--python, else $ONNXTRAIN_PYTHON, else the repo's
.venv/bin/python) to write the TensorProto .pb files and check each model.
If the running python has both torch and onnx, everything happens in-process.

Deterministic: every model and input is seeded, torch runs single-threaded,
and re-running rewrites byte-identical files on the same torch build.
"""

import argparse
import copy
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSETS = list(range(11, 18))


# --------------------------------------------------------------------------
# convert mode: runs under a python with onnx (and numpy), never needs torch.
# --------------------------------------------------------------------------
def convert(manifest_path):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    with open(manifest_path) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        model_path = os.path.join(case["dir"], "model.onnx")
        model = onnx.load(model_path)
        onnx.checker.check_model(model, full_check=True)
        in_names = [i.name for i in model.graph.input
                    if i.name not in {t.name for t in model.graph.initializer}]
        out_names = [o.name for o in model.graph.output]
        for k, ds in enumerate(case["sets"]):
            set_dir = os.path.join(case["dir"], "test_data_set_%d" % k)
            os.makedirs(set_dir, exist_ok=True)
            for kind, names in (("input", in_names), ("output", out_names)):
                files = ds[kind + "s"]
                if len(files) != len(names):
                    raise SystemExit("%s: %d %ss given, graph has %d" % (model_path, len(files), kind, len(names)))
                for i, (npy, name) in enumerate(zip(files, names)):
                    t = numpy_helper.from_array(np.load(npy), name)
                    with open(os.path.join(set_dir, "%s_%d.pb" % (kind, i)), "wb") as f:
                        f.write(t.SerializeToString())
    return 0


# --------------------------------------------------------------------------
# The models (torch is imported lazily so convert mode works without it).
# --------------------------------------------------------------------------
def build_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class MLP(nn.Module):
        # Fashion-MNIST classifier: (N, 784) -> (N, 10); exports as Gemm-Relu-Gemm.
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 64)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    class MLPTanhRegression(nn.Module):
        # (N, 13) -> (N, 1), trained with MSE.
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(13, 32)
            self.fc2 = nn.Linear(32, 1)

        def forward(self, x):
            return self.fc2(torch.tanh(self.fc1(x)))

    class CNN(nn.Module):
        # (N, 1, 16, 16) -> conv3 (N, 4, 14, 14) -> maxpool (N, 4, 7, 7)
        # -> conv3 pad 1 (N, 8, 7, 7) -> avgpool (N, 8, 3, 3) -> flatten (N, 72) -> (N, 10)
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
            self.fc = nn.Linear(72, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc(torch.flatten(x, 1))

    class CNNPad(nn.Module):
        # Explicit padding layers become ONNX Pad nodes (constant and reflect);
        # the flatten is a view on a dynamic batch (Shape/Gather/Concat/Reshape).
        # (N, 1, 16, 16) -> ZeroPad2d(l1, r2, t1, b0) (N, 1, 17, 19) -> conv3 (N, 4, 15, 17)
        # -> maxpool (N, 4, 7, 8) -> F.pad reflect 1 (N, 4, 9, 10) -> conv3 (N, 8, 7, 8)
        # -> F.pad constant 0.5 (0, 1, 0, 0) (N, 8, 7, 9) -> avgpool 2 (N, 8, 3, 4) -> (N, 96) -> (N, 10)
        def __init__(self):
            super().__init__()
            self.pad1 = nn.ZeroPad2d((1, 2, 1, 0))
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 8, 3)
            self.fc = nn.Linear(96, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(self.pad1(x))), 2)
            x = F.relu(self.conv2(F.pad(x, (1, 1, 1, 1), mode="reflect")))
            x = F.avg_pool2d(F.pad(x, (0, 1, 0, 0), value=0.5), 2)
            return self.fc(x.view(x.size(0), -1))

    class CNNBN(nn.Module):
        # (N, 1, 16, 16) -> conv3 (N, 4, 14, 14) -> BN -> relu -> maxpool (N, 4, 7, 7)
        # -> conv3 pad 1 (N, 8, 7, 7) -> BN -> relu -> avgpool (N, 8, 3, 3) -> (N, 72) -> (N, 10)
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(8)
            self.fc = nn.Linear(72, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
            x = F.avg_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
            return self.fc(torch.flatten(x, 1))

    class Block(nn.Module):
        def __init__(self, d, heads, block):
            super().__init__()
            self.heads = heads
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.gelu = nn.GELU()  # exact (erf) form
            self.out = nn.Linear(4 * d, d)
            self.register_buffer("mask", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

        def attn(self, x):
            B, T, C = x.size()
            hd = C // self.heads
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T, self.heads, hd).transpose(1, 2)  # (B, H, T, hd)
            k = k.view(B, T, self.heads, hd).transpose(1, 2)
            v = v.view(B, T, self.heads, hd).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # (B, H, T, T)
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.proj(y)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.out(self.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        # int64 tokens (B, T), T <= 16 -> logits (B, T, 50)
        def __init__(self, vocab=50, block=16, layers=2, heads=2, d=32):
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(block, d)
            self.blocks = nn.ModuleList([Block(d, heads, block) for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            T = idx.size(1)
            pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    def randn(g, *shape):
        return torch.randn(*shape, generator=g)

    def bn_stats(model, g):
        # Non-trivial running statistics and affine parameters, so that a
        # runtime that confuses batch and running statistics fails.
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.running_mean.copy_(0.1 * randn(g, m.num_features))
                    m.running_var.copy_(1.0 + 0.5 * torch.rand(m.num_features, generator=g))
                    m.weight.copy_(1.0 + 0.2 * randn(g, m.num_features))
                    m.bias.copy_(0.1 * randn(g, m.num_features))

    def tokens(g, b, t):
        return torch.randint(0, 50, (b, t), generator=g, dtype=torch.long)

    # name: (constructor, input name, output name, dynamic axes of input,
    #        dynamic axes of output, input maker per data set, modes, opsets)
    img = lambda g, n: randn(g, n, 1, 16, 16)
    return {
        "mlp": dict(make=MLP, inp="input", out="output", in_axes={0: "batch"}, out_axes={0: "batch"},
                    inputs=[lambda g: randn(g, 2, 784), lambda g: randn(g, 5, 784)],
                    # 784x64 weights are 200 KB a copy: three copies only.
                    variants=[("train", 11), ("train", 17), ("eval", 17)]),
        "mlp_tanh_regression": dict(make=MLPTanhRegression, inp="input", out="output", in_axes={0: "batch"},
                                    out_axes={0: "batch"},
                                    inputs=[lambda g: randn(g, 4, 13), lambda g: randn(g, 1, 13)],
                                    variants=[("train", o) for o in OPSETS] + [("eval", 17)]),
        "cnn": dict(make=CNN, inp="input", out="output", in_axes={0: "batch"}, out_axes={0: "batch"},
                    inputs=[lambda g: img(g, 2), lambda g: img(g, 3)],
                    variants=[("train", o) for o in OPSETS] + [("eval", o) for o in OPSETS]),
        "cnn_pad": dict(make=CNNPad, inp="input", out="output", in_axes={0: "batch"}, out_axes={0: "batch"},
                        inputs=[lambda g: img(g, 2), lambda g: img(g, 3)],
                        variants=[("train", o) for o in OPSETS] + [("eval", 11), ("eval", 17)]),
        "cnn_bn": dict(make=CNNBN, inp="input", out="output", in_axes={0: "batch"}, out_axes={0: "batch"},
                       init=bn_stats, inputs=[lambda g: img(g, 2), lambda g: img(g, 3)],
                       # eval exports fold BatchNorm into Conv; "preserve" keeps an
                       # inference-mode BatchNormalization (BN-9, BN-14, BN-15).
                       variants=[("train", o) for o in OPSETS] + [("eval", 11), ("eval", 17)]
                       + [("preserve", o) for o in (11, 14, 17)]),
        "gpt": dict(make=GPT, inp="tokens", out="logits", in_axes={0: "batch", 1: "T"},
                    out_axes={0: "batch", 1: "T"}, inputs=[lambda g: tokens(g, 2, 16), lambda g: tokens(g, 3, 7)],
                    # 145 KB a copy: skip opsets 12 and 16, where none of its ops changed.
                    variants=[("train", o) for o in (11, 13, 14, 15, 17)] + [("eval", 17)]),
    }


def seed_of(name):
    # Stable across runs and python versions (str hash is randomised).
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 100003


def export_case(spec, name, mode, opset, case_dir, npy_dir):
    import numpy as np
    import torch

    torch.manual_seed(seed_of(name))
    model = spec["make"]()
    g = torch.Generator().manual_seed(seed_of(name) + 1)
    if "init" in spec:
        spec["init"](model, g)
    inputs = [make(g) for make in spec["inputs"]]

    # Export a copy: a training-mode trace moves BatchNorm running statistics,
    # and the stored initializers must equal the model's.
    exported = copy.deepcopy(model)
    kwargs = dict(input_names=[spec["inp"]], output_names=[spec["out"]], opset_version=opset,
                  dynamic_axes={spec["inp"]: spec["in_axes"], spec["out"]: spec["out_axes"]})
    if mode == "train":
        exported.train()
        kwargs.update(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    elif mode == "preserve":
        # The recipe applied to an eval() model: no eval peephole (BatchNorm
        # stays a node, in inference mode), no constant folding.
        exported.eval()
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    else:
        exported.eval()
    os.makedirs(case_dir, exist_ok=True)
    torch.onnx.export(exported, (inputs[0],), os.path.join(case_dir, "model.onnx"), **kwargs)

    sets = []
    for k, x in enumerate(inputs):
        ref = copy.deepcopy(model)
        ref.train(mode == "train")  # eval and preserve: inference
        with torch.no_grad():
            y = ref(x)
        files = {}
        for kind, t in (("inputs", x), ("outputs", y)):
            p = os.path.join(npy_dir, "%s_%d_%s.npy" % (os.path.basename(case_dir), k, kind))
            np.save(p, t.detach().cpu().numpy())
            files[kind] = [p]
        sets.append(files)
    return {"dir": case_dir, "sets": sets}


def default_python():
    env = os.environ.get("ONNXTRAIN_PYTHON")
    if env:
        return env
    return os.path.join(REPO, ".venv", "bin", "python")


def generate(args):
    import torch

    torch.set_num_threads(1)
    import warnings
    warnings.filterwarnings("ignore")
    specs = build_models()
    npy_dir = tempfile.mkdtemp(prefix="gen_pytorch_models_")
    cases = []
    try:
        for name, spec in specs.items():
            if args.only and name not in args.only:
                continue
            for mode, opset in spec["variants"]:
                case = "test_%s_%s_opset%d" % (name, mode, opset)
                case_dir = os.path.join(args.out, case)
                shutil.rmtree(case_dir, ignore_errors=True)
                cases.append(export_case(spec, name, mode, opset, case_dir, npy_dir))
                print("exported %s" % case, file=sys.stderr)
        manifest = os.path.join(npy_dir, "manifest.json")
        with open(manifest, "w") as f:
            json.dump({"cases": cases}, f)
        if importlib.util.find_spec("onnx"):
            rc = convert(manifest)
        else:
            python = args.python or default_python()
            if not os.access(python, os.X_OK):
                raise SystemExit("gen_pytorch_models: no `onnx` in this python and %s is not executable: "
                                 "pass --python PATH (a python with onnx) or set ONNXTRAIN_PYTHON" % python)
            rc = subprocess.call([python, os.path.abspath(__file__), "convert", manifest])
        if rc:
            raise SystemExit("gen_pytorch_models: convert failed (exit %d)" % rc)
    finally:
        shutil.rmtree(npy_dir, ignore_errors=True)
    print("wrote %d cases into %s" % (len(cases), args.out), file=sys.stderr)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    gen = sub.add_parser("generate", help="export the models and write reference data (default)")
    gen.add_argument("--out", default=os.path.join(REPO, "tests", "models"))
    gen.add_argument("--python", help="python with onnx for the .pb conversion "
                                      "(default: $ONNXTRAIN_PYTHON, else REPO/.venv/bin/python)")
    gen.add_argument("--only", nargs="*", help="model names to regenerate (default: all)")
    conv = sub.add_parser("convert", help="internal: .npy manifest -> .pb files (needs onnx)")
    conv.add_argument("manifest")
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("generate", "convert", "-h", "--help"):
        argv = ["generate"] + argv
    args = ap.parse_args(argv)
    if args.cmd == "convert":
        return convert(args.manifest)
    return generate(args)


if __name__ == "__main__":
    sys.exit(main())
