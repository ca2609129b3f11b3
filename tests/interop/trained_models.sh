#!/usr/bin/env bash
# Trained models round-trip to ONNX Runtime: `onnxtrain train -o` writes an
# inference graph (BatchNorm running statistics, Dropout off) that
# onnx.checker accepts and ONNX Runtime runs with the same outputs as
# `onnxtrain run` (within 1e-4).
#   trained_models.sh ONNXTRAIN SCRATCH PYTHON
# Prints "skipped: ..." when PYTHON lacks onnx/onnxruntime/numpy.
set -u
BIN=$1 S=$2 PY=${3:-}
HERE=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$PY" ] || ! "$PY" -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
    echo "skipped: needs a python with onnx, onnxruntime and numpy (tools/setup.sh makes .venv)"
    exit 0
fi
rm -rf "$S" && mkdir -p "$S"
pass=0 fail=0
for case in mlp_adam cnn_bn_momentum gpt_adamw mse_tanh_sgd; do
    dir=$HERE/parity/$case
    loss=cross-entropy
    grep -q '^loss=mse' "$dir/config.txt" && loss=mse
    input=$("$PY" -c "import onnx; print(onnx.load('$dir/model.onnx').graph.input[0].name)")
    if ! "$BIN" train "$dir/model.onnx" --data "$input=$dir/input.npy" --data "labels=$dir/labels.npy" --loss $loss \
            --optimizer sgd --lr 0.01 --batch-size 4 --steps 3 --threads 1 --quiet -o "$S/$case.onnx" 2>"$S/$case.err"; then
        echo "FAIL $case: train: $(cat "$S/$case.err")"; fail=$((fail + 1)); continue
    fi
    "$PY" - "$dir/input.npy" "$S/$case.in.npy" <<'PYEOF'
import sys, numpy as np
x = np.load(sys.argv[1])
np.save(sys.argv[2], x[:3])
PYEOF
    if ! "$BIN" run "$S/$case.onnx" --input "$S/$case.in.npy" --out "$S/$case.out" --quiet 2>"$S/$case.err"; then
        echo "FAIL $case: run: $(cat "$S/$case.err")"; fail=$((fail + 1)); continue
    fi
    if "$PY" - "$S/$case.onnx" "$S/$case.in.npy" "$S/$case.out" <<'PYEOF'; then
import os, sys, numpy as np, onnx, onnxruntime as ort
path, inp, outdir = sys.argv[1:]
m = onnx.load(path)
onnx.checker.check_model(m)
bn = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
assert all(len(n.output) == 1 for n in bn), "BatchNormalization must be in inference form"
s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
got = s.run(None, {s.get_inputs()[0].name: np.load(inp)})
for o, g in zip(s.get_outputs(), got):
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in o.name)
    ours = np.load(os.path.join(outdir, name + ".npy"))
    err = float(np.max(np.abs(ours - g)))
    print("  %s: max |onnxtrain - onnxruntime| = %.3g" % (o.name, err))
    assert err <= 1e-4, err
PYEOF
        echo "ok   $case"; pass=$((pass + 1))
    else
        echo "FAIL $case"; fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
