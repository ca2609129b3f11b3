#!/usr/bin/env python3
"""Training-step speed and memory of onnxtrain against PyTorch, same run.

For every shipped model (models/mlp.onnx, models/cnn.onnx) and every parity
model (tests/parity/*/model.onnx) this script

  1. writes one batch of data (.npy) valid for the model;
  2. asks `onnxtrain info MODEL --train --plan --json`, with the bench runs'
     training options and batch, for the compiled step's figures (ops,
     kernels, arena, lower bound, naive and persistent bytes), plain and with
     --recompute;
  3. runs `onnxtrain bench MODEL --train --json --data ...` on it: W warm-up
     steps, then K timed ones, median step time, peak RSS of that process;
     three times, for the fused step `train` runs and, to show what fusion
     buys and what recomputation costs, with --no-fuse and with --recompute
     (--no-variants: the fused step only);
  4. rebuilds the same PyTorch module (the classes of tools/make_models.py,
     tools/gen_pytorch_models.py, tools/gen_parity_goldens.py), loads the
     ONNX file's initializers into it, and runs the same training step (same
     batch, loss, optimizer and settings, schedule, clipping, accumulation,
     frozen parameters, thread count, W warm-up, median of K) in a separate
     process, whose peak RSS it reports;
  5. checks that all computed the same thing: the loss of the first timed
     step (after W identical updates) of every onnxtrain variant must agree
     with PyTorch's;

and prints two tables: onnxtrain against PyTorch, and the compiler's
figures.  Each (model, threads) pair is measured --repeat times, reversing
the order of the sides every other time, and the medians of the per-run medians
are shown: the machine may be shared and noisy.

Run with a python that has torch (Debian's python3-torch, torch 1.13) and
numpy, from anywhere:

    /usr/bin/python3 tools/bench/compare_pytorch.py --onnxtrain build/onnxtrain --threads 1,2

The onnx package is not needed: initializers are read by a small protobuf
reader below.
"""
import argparse
import functools
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))

# ---------------------------------------------------------------------------
# ONNX initializers without the onnx package (ModelProto.graph = 7,
# GraphProto.initializer = 5, TensorProto: dims 1, data_type 2, float_data 4,
# int32_data 5, int64_data 7, name 8, raw_data 9, double_data 10).
# ---------------------------------------------------------------------------
def _varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf):
    """(field number, wire type, value): an int for varints and fixed
    widths, a memoryview for length-delimited fields."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wire == 5:
            v, i = struct.unpack_from("<I", buf, i)[0], i + 4
        elif wire == 2:
            ln, i = _varint(buf, i)
            v, i = buf[i:i + ln], i + ln
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield field, wire, v


def _packed_varints(v, wire):
    if wire == 0:
        return [v]
    out, i, b = [], 0, bytes(v)
    while i < len(b):
        x, i = _varint(b, i)
        out.append(x)
    return out


def _tensor(buf):
    import numpy as np
    dims, dtype, name, raw = [], 1, "", None
    floats, ints64, ints32, doubles = [], [], [], []
    for f, w, v in _fields(buf):
        if f == 1:
            dims += [x - (1 << 64) if x >= 1 << 63 else x for x in _packed_varints(v, w)]
        elif f == 2:
            dtype = v
        elif f == 8:
            name = bytes(v).decode()
        elif f == 9:
            raw = bytes(v)
        elif f == 4:
            floats += list(struct.unpack("<%df" % (len(v) // 4), v)) if w == 2 else [struct.unpack("<f", struct.pack("<I", v))[0]]
        elif f == 7:
            ints64 += [x - (1 << 64) if x >= 1 << 63 else x for x in _packed_varints(v, w)]
        elif f == 5:
            ints32 += [x - (1 << 64) if x >= 1 << 63 else x for x in _packed_varints(v, w)]
        elif f == 10:
            doubles += list(struct.unpack("<%dd" % (len(v) // 8), v)) if w == 2 else [struct.unpack("<d", struct.pack("<Q", v))[0]]
        elif f == 13:
            raise ValueError("initializer with external data: not supported by this reader")
    np_type = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}.get(dtype)
    if np_type is None:
        return name, None
    if raw is not None:
        a = np.frombuffer(raw, dtype=np_type).copy()
    else:
        a = np.array(floats or doubles or ints64 or ints32, dtype=np_type)
    return name, a.reshape(dims)


def onnx_initializers(path):
    with open(path, "rb") as f:
        buf = memoryview(f.read())
    out = {}
    for f, _, v in _fields(buf):
        if f != 7:
            continue
        for g, _, t in _fields(v):
            if g == 5:
                name, a = _tensor(t)
                if a is not None:
                    out[name] = a
    return out


# ---------------------------------------------------------------------------
# The cases: model file, PyTorch module, data and training configuration.
# ---------------------------------------------------------------------------
def read_config(path):
    cfg = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                cfg[k] = v
    return cfg


def build_cases(batch_override):
    from make_models import CNN as ShippedCNN, MLP as ShippedMLP
    from functools import partial
    from gen_parity_goldens import RecurrentClassifier, SmallMLP, UpsampleCNN
    from gen_pytorch_models import build_models
    golden = build_models()
    cases = []
    shipped = {"mlp": (ShippedMLP, (784,)), "cnn": (ShippedCNN, (1, 28, 28))}
    for name, (cls, shape) in shipped.items():
        cases.append(dict(name=name, model=os.path.join(REPO, "models", name + ".onnx"), make=cls, input="input",
                          x=("float", shape), y=("class", 10, ()), batch=batch_override or 64,
                          config={"loss": "cross-entropy", "optimizer": "adam", "lr": "0.001"}))
    parity = os.path.join(REPO, "tests", "parity")
    kinds = {"mlp": (SmallMLP, "input", ("float", (20,)), ("class", 5, ())),
             "cnn": (golden["cnn"]["make"], "input", ("float", (1, 16, 16)), ("class", 10, ())),
             "cnn_bn": (golden["cnn_bn"]["make"], "input", ("float", (1, 16, 16)), ("class", 10, ())),
             "mse": (golden["mlp_tanh_regression"]["make"], "input", ("float", (13,)), ("float", (1,))),
             "gpt": (golden["gpt"]["make"], "tokens", ("tokens", (16,), 50), ("class", 50, (16,))),
             "lstm": (partial(RecurrentClassifier, "lstm", 6, 12, 4), "input", ("float", (5, 6)), ("class", 4, ())),
             "gru": (partial(RecurrentClassifier, "gru", 6, 12, 4, True), "input", ("float", (5, 6)), ("class", 4, ())),
             "rnn": (partial(RecurrentClassifier, "rnn", 6, 12, 4), "input", ("float", (5, 6)), ("class", 4, ())),
             "upsample": (UpsampleCNN, "input", ("float", (1, 4, 4)), ("class", 3, ()))}
    for d in sorted(os.listdir(parity)):
        path = os.path.join(parity, d, "model.onnx")
        if not os.path.exists(path):
            continue
        kind = "cnn_bn" if d.startswith("cnn_bn") else d.split("_")[0]
        if kind not in kinds:
            print("compare_pytorch: skipping %s (no PyTorch module known for it)" % d, file=sys.stderr)
            continue
        make, inp, x, y = kinds[kind]
        cfg = read_config(os.path.join(parity, d, "config.txt"))
        cases.append(dict(name=d, model=path, make=make, input=inp, x=x, y=y,
                          batch=batch_override or int(cfg.get("batch-size", 16)), config=cfg))
    return cases


def write_batch(case, tmp):
    """One batch of data valid for the model, as .npy files."""
    import numpy as np
    rng = np.random.default_rng(12345)
    b = case["batch"]
    if case["x"][0] == "float":
        x = rng.standard_normal((b,) + case["x"][1]).astype(np.float32)
    else:
        x = rng.integers(0, case["x"][2], (b,) + case["x"][1], dtype=np.int64)
    if case["y"][0] == "class":
        y = rng.integers(0, case["y"][1], (b,) + case["y"][2], dtype=np.int64)
    else:
        y = rng.standard_normal((b,) + case["y"][1]).astype(np.float32)
    xp, yp = os.path.join(tmp, case["name"] + "_x.npy"), os.path.join(tmp, case["name"] + "_y.npy")
    np.save(xp, x)
    np.save(yp, y)
    return xp, yp


# The training options both sides take from a case's configuration.
CLI_KEYS = ["loss", "optimizer", "lr", "momentum", "dampening", "weight-decay", "accumulate", "clip-grad-norm",
            "lr-schedule", "warmup-steps", "min-lr", "gamma", "step-size", "freeze"]
# `info` plans one micro-batch and refuses --accumulate: accumulation reruns
# the same compiled step, so it changes neither the kernels nor the arena.
NOT_FOR_INFO = {"accumulate"}

# The compiled steps timed: fused is what `train` runs; the other two are
# there to show what fusion buys and what recomputation costs.  The prefix
# names the variant's fields in a result row ("onnxtrain_ms", "nofuse_ms"...).
VARIANTS = [("fused", "onnxtrain", []), ("no-fuse", "nofuse", ["--no-fuse"]),
            ("recompute", "recompute", ["--recompute"])]

# What `info --train --plan --json` says about the compiled step.
PLAN_KEYS = ["ops", "kernels", "arena_bytes", "lower_bound_bytes", "naive_bytes", "persistent_bytes",
             "recomputed_ops", "released_bytes", "unscheduled_peak_bytes"]


# ---------------------------------------------------------------------------
# onnxtrain side
# ---------------------------------------------------------------------------
def onnxtrain_cmd(binary, command, case, flags):
    """`onnxtrain bench|info MODEL --train` with the case's batch size and
    training options: one builder, so the plan `info` reports is the step
    `bench` times."""
    cmd = [binary, command, case["model"], "--train", "--batch-size", str(case["batch"])] + flags
    for k in CLI_KEYS:
        if k in case["config"] and not (command == "info" and k in NOT_FOR_INFO):
            cmd += ["--" + k, case["config"][k]]
    return cmd


def run_cmd(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("onnxtrain %s failed (%d): %s\n  %s" % (cmd[1], p.returncode, p.stderr.strip(),
                                                                   " ".join(cmd)))
    return json.loads(p.stdout)


def run_onnxtrain(binary, case, xp, yp, threads, warmup, steps, flags=()):
    cmd = onnxtrain_cmd(binary, "bench", case, list(flags)) + [
        "--json", "--no-shuffle", "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads),
        "--data", "%s=%s" % (case["input"], xp), "--data", "labels=%s" % yp]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    r = run_cmd(cmd, env)
    return dict(ms=r["step_ms_median"], p10=r["step_ms_p10"], p90=r["step_ms_p90"], rss=r["peak_rss_bytes"],
                loss=r["loss_first"], gflops=r["gflops"], kernels=r["kernels"], arena=r["arena_bytes"])


def onnxtrain_plan(binary, case, flags=()):
    r = run_cmd(onnxtrain_cmd(binary, "info", case, list(flags) + ["--plan", "--json"]))
    return {k: r[k] for k in PLAN_KEYS}


# ---------------------------------------------------------------------------
# PyTorch side: a separate process (its own peak RSS), `--worker SPEC`.
# ---------------------------------------------------------------------------
def run_torch(case, xp, yp, threads, warmup, steps):
    spec = dict(name=case["name"], model=case["model"], x=xp, y=yp, threads=threads, warmup=warmup, steps=steps,
                config=case["config"])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)], capture_output=True,
                       text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("PyTorch worker failed for %s:\n%s" % (case["name"], p.stderr.strip()))
    return json.loads(p.stdout.strip().splitlines()[-1])


def peak_rss():
    """VmHWM: after fork + exec, getrusage's ru_maxrss keeps the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(spec):
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import torch
    rss_import = peak_rss()
    from gen_parity_goldens import lr_lambda, loss_fn, make_optimizer
    torch.set_num_threads(spec["threads"])
    case = next(c for c in build_cases(None) if c["name"] == spec["name"])
    cfg = spec["config"]
    model = case["make"]()
    state = {k: torch.from_numpy(v) for k, v in onnx_initializers(spec["model"]).items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit("%s: the ONNX file has no initializer for %s" % (spec["name"], ", ".join(missing)))
    model.load_state_dict({k: state[k] for k in own if k in state}, strict=False)
    model.train()
    frozen = cfg.get("freeze", "").split(",") if cfg.get("freeze") else []
    for k, p in model.named_parameters():
        p.requires_grad_(k not in frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    # gen_parity_goldens's helpers take the options with underscores, numbers parsed
    tcfg = {k.replace("-", "_"): (v if k in ("loss", "optimizer", "lr-schedule", "freeze") else float(v))
            for k, v in cfg.items()}
    for k in ("warmup_steps", "step_size", "accumulate"):
        if k in tcfg:
            tcfg[k] = int(tcfg[k])
    tcfg["steps"] = spec["warmup"] + spec["steps"]  # the schedule's length, as bench's total_steps
    opt = make_optimizer(tcfg["optimizer"], params, tcfg)
    scheduled = tcfg.get("lr_schedule", "constant") != "constant" or tcfg.get("warmup_steps", 0) > 0
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(tcfg)) if scheduled else None
    x = torch.from_numpy(np.load(spec["x"]))
    y = torch.from_numpy(np.load(spec["y"]))
    acc = tcfg.get("accumulate", 1)
    clip = tcfg.get("clip_grad_norm", 0)

    def step():
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(acc):
            loss = loss_fn(tcfg["loss"], model(x), y)
            (loss / acc).backward()
            total += loss.item()
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        if sched:
            sched.step()
        return total / acc

    for _ in range(spec["warmup"]):
        step()
    times, first = [], None
    for i in range(spec["steps"]):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1e3)
        if i == 0:
            first = loss
    q = statistics.quantiles(times, n=10, method="inclusive") if len(times) > 1 else times * 9
    print(json.dumps(dict(ms=statistics.median(times), p10=q[0], p90=q[-1], loss=first,
                          rss=peak_rss(), rss_import=rss_import)))
    return 0


# ---------------------------------------------------------------------------
def find_onnxtrain():
    for p in (os.path.join(REPO, "build", "onnxtrain"),):
        if os.access(p, os.X_OK):
            return p
    from shutil import which
    return which("onnxtrain")


def mib(b):
    return b / (1024.0 * 1024.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnxtrain", help="the onnxtrain binary (default: REPO/build/onnxtrain, else on PATH)")
    ap.add_argument("--threads", default="1", help="comma-separated thread counts (default 1)")
    ap.add_argument("--steps", type=int, default=50, help="timed steps per run (default 50)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per model and thread count (default 3)")
    ap.add_argument("--batch", type=int, help="batch size for every model (default: 64 for the shipped "
                                              "models, each parity case's own)")
    ap.add_argument("--models", help="comma-separated case names (default: all), e.g. mlp,cnn,gpt_adamw")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--no-variants", action="store_true", help="time only the fused step, not --no-fuse and "
                                                                "--recompute (their plans are still shown)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    binary = args.onnxtrain or find_onnxtrain()
    if not binary:
        ap.error("no onnxtrain binary: pass --onnxtrain PATH")
    threads = [int(t) for t in args.threads.split(",")]
    cases = build_cases(args.batch)
    if args.models:
        want = args.models.split(",")
        unknown = [m for m in want if m not in {c["name"] for c in cases}]
        if unknown:
            ap.error("unknown model(s): %s (known: %s)" % (", ".join(unknown), ", ".join(c["name"] for c in cases)))
        cases = [c for c in cases if c["name"] in want]
    variants = VARIANTS[:1] if args.no_variants else VARIANTS
    rows = []
    with tempfile.TemporaryDirectory(prefix="compare_pytorch_") as tmp:
        for case in cases:
            xp, yp = write_batch(case, tmp)
            # the plan does not depend on the thread count: once per model
            plans = {"fused": onnxtrain_plan(binary, case), "recompute": onnxtrain_plan(binary, case, ["--recompute"])}
            for t in threads:
                sides = [(prefix, functools.partial(run_onnxtrain, binary, case, xp, yp, t, args.warmup, args.steps,
                                                    flags)) for _, prefix, flags in variants]
                sides.append(("pytorch", functools.partial(run_torch, case, xp, yp, t, args.warmup, args.steps)))
                runs = {prefix: [] for prefix, _ in sides}
                for r in range(args.repeat):
                    # alternate the order: a noisy neighbour hurts every side alike
                    for prefix, run in (sides if r % 2 == 0 else sides[::-1]):
                        runs[prefix].append(run())
                rows.append(make_row(case, t, variants, runs, plans))
                print("%-28s threads %d: %s, PyTorch %.3f ms" % (
                    case["name"], t, ", ".join("%s %.3f ms" % (name, rows[-1][prefix + "_ms"])
                                               for name, prefix, _ in variants), rows[-1]["pytorch_ms"]),
                      file=sys.stderr)
    print_table(rows, args)
    print_compiler_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    bad = sorted(set("%s (%s)" % (r["model"], v) for r in rows for v, d in r["loss_rel_diffs"].items() if not d < 1e-3))
    if bad:
        print("WARNING: first timed loss differs by more than 1e-3 (relative) for: %s" % ", ".join(bad))
    mismatch = sorted(set(m for r in rows for m in r["plan_mismatch"]))
    if mismatch:
        print("WARNING: bench ran another step than info planned: %s" % "; ".join(mismatch))
    plan_of = lambda r, v: r["plan_recompute" if v == "recompute" else "plan"]["arena_bytes"]
    grown = sorted(set("%s %s %.1f -> %.1f KiB" % (r["model"], v, plan_of(r, v) / 1024.0, b / 1024.0)
                       for r in rows for v, b in r["arena_replanned"].items()))
    if grown:
        print("NOTE: arena re-planned at run time (a kernel needed more scratch than planned; info's plan "
              "-> bench's arena after warm-up): %s" % "; ".join(grown))
    return 0


def ratio(a, b):
    return a / b if a is not None and b else None


def make_row(case, threads, variants, runs, plans):
    """One result row: medians over the repeats of each side's median."""
    med = lambda runs, k: statistics.median(x[k] for x in runs)
    pt_runs = runs["pytorch"]
    row = dict(model=case["name"], batch=case["batch"], threads=threads,
               pytorch_ms=med(pt_runs, "ms"), pytorch_rss=med(pt_runs, "rss"),
               pytorch_rss_import=med(pt_runs, "rss_import"), pytorch_ms_runs=[x["ms"] for x in pt_runs],
               pytorch_loss=pt_runs[0]["loss"], onnxtrain_gflops=med(runs["onnxtrain"], "gflops"),
               plan=plans["fused"], plan_recompute=plans["recompute"], loss_rel_diffs={}, plan_mismatch=[],
               arena_replanned={})
    for name, prefix, _ in variants:
        vr = runs[prefix]
        row.update({prefix + "_ms": med(vr, "ms"), prefix + "_rss": med(vr, "rss"),
                    prefix + "_ms_runs": [x["ms"] for x in vr], prefix + "_loss": vr[0]["loss"],
                    prefix + "_kernels": vr[0]["kernels"], prefix + "_arena_bytes": vr[0]["arena"]})
        # every variant computes the same step: its loss must be PyTorch's too
        row["loss_rel_diffs"][name] = abs(vr[0]["loss"] - row["pytorch_loss"]) / max(1e-12, abs(row["pytorch_loss"]))
        # the plan figures are only evidence if `info` compiled what `bench` ran
        plan = plans.get(name)
        if plan and plan["kernels"] != vr[0]["kernels"]:
            row["plan_mismatch"].append("%s %s: info %d kernels, bench %d" % (
                case["name"], name, plan["kernels"], vr[0]["kernels"]))
        # same step, bigger arena: a kernel needed more scratch than it declared
        # and the warm-up re-planned; the table shows the compiler's plan
        if plan and plan["arena_bytes"] != vr[0]["arena"]:
            row["arena_replanned"][name] = vr[0]["arena"]
    row["loss_rel_diff"] = row["loss_rel_diffs"]["fused"]
    row["speed_ratio"] = row["pytorch_ms"] / row["onnxtrain_ms"]
    row["memory_ratio"] = row["pytorch_rss"] / row["onnxtrain_rss"]
    p, pr = plans["fused"], plans["recompute"]
    row["arena_lower_ratio"] = ratio(p["arena_bytes"], p["lower_bound_bytes"])
    row["naive_arena_ratio"] = ratio(p["naive_bytes"], p["arena_bytes"])
    row["recompute_arena_saved"] = ratio(p["arena_bytes"] - pr["arena_bytes"], p["arena_bytes"])
    row["fusion_speedup"] = ratio(row.get("nofuse_ms"), row["onnxtrain_ms"])
    row["recompute_time_cost"] = ratio(row.get("recompute_ms"), row["onnxtrain_ms"])
    return row


def print_grid(head, lines):
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for l in lines:
        print(fmt(l))


def loss_check(r):
    bad = ["%s %.1e" % (v, d) for v, d in r["loss_rel_diffs"].items() if not d < 1e-3]
    return "DIFF " + ", ".join(bad) if bad else "ok"


def print_table(rows, args):
    head = ["model", "batch", "thr", "onnxtrain ms", "PyTorch ms", "speed ratio", "onnxtrain RSS",
            "PyTorch RSS", "memory ratio", "PyTorch RSS - import", "loss check"]
    lines = []
    for r in rows:
        lines.append([r["model"], str(r["batch"]), str(r["threads"]), "%.3f" % r["onnxtrain_ms"],
                      "%.3f" % r["pytorch_ms"], "%.2fx" % r["speed_ratio"], "%.1f MiB" % mib(r["onnxtrain_rss"]),
                      "%.1f MiB" % mib(r["pytorch_rss"]), "%.1fx" % r["memory_ratio"],
                      "%.1f MiB" % mib(r["pytorch_rss"] - r["pytorch_rss_import"]), loss_check(r)])
    print_grid(head, lines)
    if rows:
        base = statistics.median(r["pytorch_rss_import"] for r in rows)
        print("\nmedian of %d runs each; %d warm-up + %d timed steps per run.  speed ratio = PyTorch ms / onnxtrain ms"
              " (> 1: onnxtrain is faster); memory ratio = PyTorch peak RSS / onnxtrain peak RSS.  PyTorch's RSS "
              "includes %.0f MiB just for importing torch (the \"PyTorch RSS - import\" column is what the training "
              "added).  loss check: the first timed step's loss of every onnxtrain variant timed (%s) agrees with "
              "PyTorch's (relative difference < 1e-3)." % (args.repeat, args.warmup, args.steps, mib(base),
                                                          ", ".join(rows[0]["loss_rel_diffs"])))


def print_compiler_table(rows):
    head = ["model", "batch", "thr", "ops", "kernels", "arena (KiB)", "lower bound (KiB)", "arena/lower",
            "unscheduled peak (KiB)", "naive (KiB)", "naive/arena", "persistent (KiB)", "fused ms", "no-fuse ms", "fusion speedup",
            "recompute arena (KiB)", "arena saved by recompute", "recompute ms", "recompute time cost"]
    opt = lambda fmt, v: "-" if v is None else fmt % v  # None: not timed (--no-variants) or nothing to divide by
    pct = lambda v: opt("%.1f%%", None if v is None else 100 * v)
    kib = lambda b: "%.1f" % (b / 1024.0)
    lines = []
    for r in rows:
        p, pr = r["plan"], r["plan_recompute"]
        lines.append([r["model"], str(r["batch"]), str(r["threads"]), str(p["ops"]), str(p["kernels"]),
                      kib(p["arena_bytes"]), kib(p["lower_bound_bytes"]), opt("%.2fx", r["arena_lower_ratio"]),
                      kib(p["unscheduled_peak_bytes"]), kib(p["naive_bytes"]), opt("%.2fx", r["naive_arena_ratio"]), kib(p["persistent_bytes"]),
                      "%.3f" % r["onnxtrain_ms"], opt("%.3f", r.get("nofuse_ms")), opt("%.2fx", r["fusion_speedup"]),
                      kib(pr["arena_bytes"]), pct(r["recompute_arena_saved"]),
                      opt("%.3f", r.get("recompute_ms")), opt("%.2fx", r["recompute_time_cost"])])
    print("\ncompiler")
    print_grid(head, lines)
    if rows:
        print("\nthe training step as compiled, from `onnxtrain info MODEL --train --plan` with the bench runs' "
              "options and batch (plain, and with --recompute).  ops: nodes of the training graph before fusion; "
              "kernels: launches per optimizer step after fusion; arena: transient memory as planned; lower bound: "
              "the most transient bytes live at once (arena/lower = 1.00x: the plan wastes nothing); unscheduled peak: the "
              "same with the steps in the graph's order, without the memory-aware schedule; naive: every "
              "transient tensor in its own buffer (naive/arena: what planning saves); persistent: every "
              "initializer, gradients, optimizer state.  fused / no-fuse / recompute ms: step time of bench as is, "
              "with --no-fuse, with --recompute (timed as in the table above; \"-\": not timed, --no-variants); "
              "fusion speedup = no-fuse ms / fused ms (> 1: fusion pays).  recompute arena: the arena with cheap "
              "activations recomputed in the backward pass instead of kept; recompute time cost = recompute ms / "
              "fused ms (> 1: recomputing is slower).")


if __name__ == "__main__":
    sys.exit(main())
