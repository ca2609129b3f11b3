#!/usr/bin/env python3
"""Checks the golden files under tests/models/ against ONNX Runtime.

Every case directory (test_*/model.onnx + test_data_set_K/{input,output}_I.pb)
is run with onnxruntime's CPU provider and each output must match the stored
reference within --tol (|got - want| <= tol * (1 + |want|)).  This validates
the golden files themselves: the PyTorch-computed references of
tools/gen_pytorch_models.py and the onnx.reference ones of
tools/gen_helper_models.py.

A case that onnxruntime cannot load or run (an op version it does not
implement) is checked with onnx.reference.ReferenceEvaluator instead and
labelled so; for the helper models that is the generator itself, so the line
says "self-check".  Exit status 1 when any output mismatches, any stored
tensor is misnamed, or a case runs with neither.

Usage: check_onnxruntime.py [--root DIR] [--tol 1e-4] [--filter SUBSTR] [-q]
"""

import argparse
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def load_set(set_dir, kind):
    tensors = []
    for i in range(1000):
        p = os.path.join(set_dir, "%s_%d.pb" % (kind, i))
        if not os.path.exists(p):
            break
        t = onnx.load_tensor(p)
        tensors.append((t.name, numpy_helper.to_array(t)))
    return tensors


def compare(got, want, tol):
    """Returns (ok, max abs error, why)."""
    got = np.asarray(got)
    if got.dtype != want.dtype:
        return False, float("inf"), "dtype %s, expected %s" % (got.dtype, want.dtype)
    if got.shape != want.shape:
        return False, float("inf"), "shape %s, expected %s" % (got.shape, want.shape)
    if want.size == 0:
        return True, 0.0, ""
    if not np.issubdtype(want.dtype, np.floating):
        bad = int(np.count_nonzero(got != want))
        return bad == 0, float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))), \
            "%d elements differ" % bad if bad else ""
    g, w = got.astype(np.float64), want.astype(np.float64)
    same_nonfinite = (np.isnan(g) & np.isnan(w)) | (np.isinf(g) & (g == w))
    finite = np.isfinite(w) & np.isfinite(g)
    if not np.all(same_nonfinite | finite):
        return False, float("inf"), "non-finite values differ"
    err = np.where(finite, np.abs(g - w), 0.0)
    bad = err > tol * (1.0 + np.abs(np.where(finite, w, 0.0)))
    worst = float(err.max())
    if np.any(bad):
        i = int(np.argmax(np.where(bad, err, -1)))
        return False, worst, "element %d: got %.9g, expected %.9g" % (i, g.flat[i], w.flat[i])
    return True, worst, ""


def ort_runner(model_path):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return lambda inputs: sess.run(None, dict(zip(names, inputs)))


def ref_runner(model_path):
    from onnx.reference import ReferenceEvaluator
    ev = ReferenceEvaluator(model_path)
    names = list(ev.input_names)
    return lambda inputs: ev.run(None, dict(zip(names, inputs)))


def check_case(case_dir, tol):
    """Returns (status, engine, max abs error, message)."""
    model_path = os.path.join(case_dir, "model.onnx")
    model = onnx.load(model_path)
    inits = {t.name for t in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in inits]
    out_names = [o.name for o in model.graph.output]
    sets = sorted(glob.glob(os.path.join(case_dir, "test_data_set_*")))
    if not sets:
        return "fail", "-", float("nan"), "no test_data_set_*"
    data = []
    for s in sets:
        ins, outs = load_set(s, "input"), load_set(s, "output")
        for kind, got, want in (("input", [n for n, _ in ins], in_names), ("output", [n for n, _ in outs], out_names)):
            if got != want[:len(got)] or len(got) != len(want):
                return "fail", "-", float("nan"), "%s: %s names %s, graph has %s" % (
                    os.path.basename(s), kind, got, want)
        data.append((os.path.basename(s), [a for _, a in ins], [a for _, a in outs]))

    engine, note = "onnxruntime", ""
    try:
        run = ort_runner(model_path)
        results = [run(ins) for _, ins, _ in data]
    except Exception as e:  # NOT_IMPLEMENTED, unsupported opset, ...
        note = "onnxruntime cannot run it (%s)" % str(e).strip().splitlines()[0][:160]
        # The helper models' references come from onnx.reference: checking
        # them with it again proves nothing beyond the file round trip.
        engine = "self-check" if model.producer_name.endswith("gen_helper_models.py") else "onnx.reference"
        try:
            run = ref_runner(model_path)
            results = [run(ins) for _, ins, _ in data]
        except Exception as e2:
            return "fail", "-", float("nan"), note + "; onnx.reference failed too: %s" % str(e2).splitlines()[0]
    worst = 0.0
    for (set_name, _, wants), gots in zip(data, results):
        for k, (got, want) in enumerate(zip(gots, wants)):
            ok, err, why = compare(got, want, tol)
            worst = max(worst, err)
            if not ok:
                return "fail", engine, worst, "%s output %d: %s" % (set_name, k, why)
    return "pass", engine, worst, note


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(HERE), "models"))
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--filter", default="")
    ap.add_argument("-q", action="store_true", help="print failures and the summary only")
    args = ap.parse_args()
    cases = sorted(d for d in glob.glob(os.path.join(args.root, "test_*"))
                   if os.path.isdir(d) and args.filter in os.path.basename(d))
    if not cases:
        print("check_onnxruntime: no test_* cases under %s" % args.root, file=sys.stderr)
        return 1
    counts = {}
    for d in cases:
        status, engine, err, msg = check_case(d, args.tol)
        counts[status] = counts.get(status, 0) + 1
        if status != "pass" or not args.q:
            print("%-44s %-4s %-14s max_abs_err %-10.3g %s" % (os.path.basename(d), status, engine, err, msg))
    print("check_onnxruntime: %d passed, %d failed (tol %g)" % (counts.get("pass", 0), counts.get("fail", 0), args.tol))
    return 1 if counts.get("fail") else 0


if __name__ == "__main__":
    sys.exit(main())
