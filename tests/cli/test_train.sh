#!/usr/bin/env bash
# End-to-end tests of `onnxtrain train` and `onnxtrain eval`.
#
#   test_train.sh ONNXTRAIN_BINARY SCRATCH_DIR [PYTHON]
#
# Trains the golden models of tests/models for a few steps on synthetic data
# written here as .npy / CSV files by a small bash writer, so the test needs
# nothing but bash and coreutils.  PYTHON, when given and able to import numpy
# and onnx, adds a check of the logged losses against a NumPy reference of the
# training loop (accumulation with a short last group); without it that check
# prints a "skipped:" line.  Prints "N passed, N failed"; exits non-zero if
# anything failed.
set -u

. "$(dirname "$0")/lib.sh" # BIN S PY, ok bad ot expect_rc check finish
MODELS=$(cd "$(dirname "$0")/../models" && pwd)
PARITY=$(cd "$(dirname "$0")/../parity" 2>/dev/null && pwd)
cd "$S" || exit 1

MLP=$MODELS/test_mlp_train_opset17/model.onnx
CNN_BN=$MODELS/test_cnn_bn_train_opset17/model.onnx
GPT=$MODELS/test_gpt_train_opset17/model.onnx
REG=$MODELS/test_mlp_tanh_regression_train_opset17/model.onnx
# One thread: the test machine may be busy, and small steps gain nothing from more.
T1=(--threads 1)

only_loss() { [ "$(grep -c . "$S/out")" -eq 1 ] && grep -q '^loss: ' "$S/out"; }

# ---- a .npy writer ------------------------------------------------------------
# npy FILE DESCR SHAPE < raw little-endian data   (DESCR '|u1', '<i8', '<f4')
npy() {
    local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
    local pad=$(((64 - (10 + ${#hdr} + 1) % 64) % 64))
    hdr+=$(printf '%*s' "$pad" '')
    local len=$((${#hdr} + 1))
    {
        printf '\x93NUMPY\x01\x00'
        printf "${HX[len & 255]}${HX[len >> 8]}"
        printf '%s\n' "$hdr"
        cat
    } >"$1"
}
HX=()
for ((i = 0; i < 256; i++)); do printf -v 'HX[i]' '\\x%02x' "$i"; done
SEQ=""
for ((i = 0; i < 256; i++)); do SEQ+=${HX[(i * 97 + 13) & 255]}; done
printf "$SEQ$SEQ$SEQ$SEQ$SEQ" >seq.bin # 1280 bytes, no period shorter than 256

# bytes N PER: N samples of PER uint8 values, each sample a different window of seq.bin
bytes() {
    for ((k = 0; k < $1; k++)); do tail -c +$((k * 37 % 256 + 1)) seq.bin | head -c "$2"; done
}
# i64 V...: int64 little-endian values in [0, 65536)
i64() {
    local out="" v
    for v in "$@"; do out+="${HX[v & 255]}${HX[(v >> 8) & 255]}\\x00\\x00\\x00\\x00\\x00\\x00"; done
    printf "$out"
}
# f32_ones N: N float32 1.0
f32_ones() { for ((k = 0; k < $1; k++)); do printf '\x00\x00\x80\x3f'; done; }

N=40 # samples: batch 16 -> batches of 16, 16, 8
bytes $N 784 | npy img.npy '|u1' "($N, 784)"
labels=()
for ((k = 0; k < N; k++)); do labels+=($((k * 7 % 10))); done
i64 "${labels[@]}" | npy lab.npy '<i8' "($N,)"
i64 "${labels[@]}" | npy lab2d.npy '<i8' "($N, 1)"
labels[17]=12
i64 "${labels[@]}" | npy badlab.npy '<i8' "($N,)"
f32_ones $((2 * 784)) | npy ones.npy '<f4' '(2, 784)'
bytes 24 256 | npy cnn.npy '|u1' '(24, 1, 16, 16)'
i64 $(for ((k = 0; k < 24; k++)); do echo $((k % 10)); done) | npy cnnlab.npy '<i8' '(24,)'
toks=()
for ((k = 0; k < 8 * 16; k++)); do toks+=($((k * 13 % 50))); done
i64 "${toks[@]}" | npy tok.npy '<i8' '(8, 16)'
i64 "${toks[@]:1}" 0 | npy next.npy '<i8' '(8, 16)'
{
    printf 'f%d,' $(seq 0 12)
    echo target
    for ((k = 0; k < 30; k++)); do
        for ((j = 0; j < 13; j++)); do printf '%d.%d,' $(((k + j) % 5 - 2)) $((j % 10)); done
        echo "$((k % 3)).25"
    done
} >reg.csv
DATA=(--data input=img.npy --data labels=lab.npy --input-scale 0.00392156862745098)

# ---- train: exit status, log format, output ------------------------------------
expect_rc "train --help" 0 train --help
grep -q '^usage: onnxtrain train' out || bad "train --help prints the usage"
expect_rc "eval --help" 0 eval --help

expect_rc "train mlp 2 epochs" 0 train "$MLP" "${DATA[@]}" --batch-size 16 --epochs 2 --log log.csv -o mlp.onnx "${T1[@]}"
check "log: CSV header" [ "$(head -1 log.csv)" = "step,epoch,loss,lr,samples_per_s" ]
check "log: one row per step (3 batches x 2 epochs)" [ "$(tail -n +2 log.csv | wc -l)" -eq 6 ]
check "log: step and epoch columns" [ "$(tail -n +2 log.csv | cut -d, -f1,2 | tr '\n' ' ')" = "1,1 2,1 3,1 4,2 5,2 6,2 " ]
check "log: every field is a number" [ -z "$(tail -n +2 log.csv | grep -vE '^[0-9]+,[0-9]+,[-+.e0-9]+,[-+.e0-9]+,[-+.e0-9]+$')" ]
check "log: lr is Adam's default" [ "$(tail -n +2 log.csv | cut -d, -f4 | sort -u)" = "0.001" ]
check "stdout: a summary naming the output" grep -q 'wrote mlp.onnx' out
check "-o wrote the model" [ -s mlp.onnx ]
expect_rc "run loads the trained model" 0 run mlp.onnx --input ones.npy --out runout
check "run wrote the output" [ -s runout/output.npy ]

expect_rc "--accumulate 2: short last group" 0 train "$MLP" "${DATA[@]}" --batch-size 16 --epochs 2 --accumulate 2 --log acc.csv -o acc.onnx -q "${T1[@]}"
check "--accumulate 2: 2 steps per epoch" [ "$(tail -n +2 acc.csv | cut -d, -f1,2 | tr '\n' ' ')" = "1,1 2,1 3,2 4,2 " ]
check "--quiet: nothing on stdout or stderr" test ! -s out -a ! -s err

expect_rc "--steps, .jsonl log, sgd + cosine" 0 train "$MLP" "${DATA[@]}" --steps 5 --optimizer momentum --lr 0.05 \
    --lr-schedule cosine --warmup-steps 2 --log log.jsonl -o steps.onnx -q "${T1[@]}"
check "jsonl: 5 rows" [ "$(wc -l <log.jsonl)" -eq 5 ]
check "jsonl: row format" [ -z "$(grep -vE '^\{"step": [0-9]+, "epoch": [0-9]+, "loss": [-+.e0-9]+, "lr": [-+.e0-9]+, "samples_per_s": [-+.e0-9]+\}$' log.jsonl)" ]
check "jsonl: lr warms up over 2 steps, then cosine" [ "$(sed 's/.*"lr": \([^,]*\),.*/\1/' log.jsonl | tr '\n' ' ')" = "0 0.025 0.05 0.0375 0.0125 " ]

expect_rc "a one-input model takes the one non-label array" 0 train "$MLP" --data images=img.npy --data labels=lab.npy \
    --steps 1 -o one.onnx -q "${T1[@]}"
expect_rc "(N, 1) labels are reshaped" 0 train "$MLP" --data input=img.npy --data labels=lab2d.npy --steps 1 -o one.onnx -q "${T1[@]}"

# ---- eval, and validation during training ------------------------------------------
expect_rc "train --eval-data --eval-every 2" 0 train "$MLP" "${DATA[@]}" --batch-size 16 --epochs 2 --eval-data input=img.npy \
    --eval-data labels=lab.npy --eval-every 2 --log ev.csv -o ev.onnx -q "${T1[@]}"
check "eval log: header" [ "$(head -1 ev.csv)" = "step,epoch,loss,lr,samples_per_s,eval_loss,eval_accuracy" ]
check "eval log: filled at steps 2, 4, 6" [ "$(tail -n +2 ev.csv | awk -F, '$6 != "" {printf "%s ", $1}')" = "2 4 6 " ]
expect_rc "eval the trained model" 0 eval ev.onnx "${DATA[@]}" "${T1[@]}"
check "eval prints accuracy in [0, 1]" grep -qE '^accuracy: (0\.[0-9]+|1\.0+)$' out
check "eval prints the loss" grep -qE '^loss: [0-9.e+-]+$' out
last_acc=$(tail -1 ev.csv | cut -d, -f7)
check "eval of -o equals the last validation" grep -qx "accuracy: $last_acc" out
expect_rc "eval --metric loss" 0 eval ev.onnx "${DATA[@]}" --metric loss --batch-size 7 "${T1[@]}"
check "--metric loss: only the loss" only_loss
expect_rc "eval --json" 0 eval ev.onnx "${DATA[@]}" --json "${T1[@]}"
check "eval --json: one object" grep -qE '^\{"accuracy": [0-9.e+-]+, "loss": [0-9.e+-]+, "samples": 40\}$' out

# ---- more models and data formats ------------------------------------------------------
if [ -f "$CNN_BN" ]; then
    expect_rc "train a BatchNorm CNN" 0 train "$CNN_BN" --data input=cnn.npy --data labels=cnnlab.npy --batch-size 8 \
        --epochs 1 --input-scale 0.0039 -o cnn.onnx -q "${T1[@]}"
    expect_rc "eval the BatchNorm CNN (running statistics)" 0 eval cnn.onnx --data input=cnn.npy --data labels=cnnlab.npy "${T1[@]}"
else
    echo "skipped: $CNN_BN missing"
fi
if [ -f "$GPT" ]; then
    expect_rc "train the GPT: (N, T, C) logits, (N, T) labels" 0 train "$GPT" --data tokens=tok.npy --data labels=next.npy \
        --batch-size 4 --steps 2 -o gpt.onnx -q "${T1[@]}"
else
    echo "skipped: $GPT missing"
fi
expect_rc "train regression from CSV (mse, label column)" 0 train "$REG" --data x=reg.csv --label-column target --loss mse \
    --batch-size 8 --steps 3 --log reg.csv.log -o reg.onnx -q "${T1[@]}"
check "CSV run logged 3 steps" [ "$(tail -n +2 reg.csv.log | wc -l)" -eq 3 ]
expect_rc "eval regression: loss only" 0 eval reg.onnx --data x=reg.csv --loss l1 "${T1[@]}"
check "no accuracy for l1" only_loss

# ---- checkpoints -------------------------------------------------------------------------
common=(train "$MLP" "${DATA[@]}" --batch-size 16 --accumulate 2 --lr-schedule step --step-size 2 --gamma 0.5 "${T1[@]}" -q)
expect_rc "straight run, 3 epochs" 0 "${common[@]}" --epochs 3 --log straight.csv -o straight.onnx
expect_rc "first part, 3 steps, checkpoint" 0 "${common[@]}" --steps 3 --log parts.csv --checkpoint-dir ck -o part.onnx
check "checkpoint written" [ -s ck/checkpoint.json ]
printf '4,2,9.5,0.001,1.0\n5,2,9.5,0.001,1.0\n' >>parts.csv # rows a crash left past the checkpoint
expect_rc "resume to 3 epochs" 0 "${common[@]}" --epochs 3 --log parts.csv --resume ck --checkpoint-dir ck -o resumed.onnx
check "resumed log continues the straight run" [ "$(cut -d, -f1-4 parts.csv)" = "$(cut -d, -f1-4 straight.csv)" ]
check "resumed model equals the straight one" cmp -s straight.onnx resumed.onnx
expect_rc "resume with another --lr is refused" 1 "${common[@]}" --epochs 3 --resume ck -o x.onnx --lr 0.5
check "the refusal names the setting" grep -q -- '--lr' err

# SIGINT: the step finishes, a checkpoint is saved, exit 130.
rm -rf ckint int.csv
"$BIN" train "$MLP" "${DATA[@]}" --batch-size 4 --steps 100000000 --log int.csv --checkpoint-dir ckint -o int.onnx -q \
    "${T1[@]}" >out 2>err &
pid=$!
for ((w = 0; w < 400; w++)); do
    [ -f int.csv ] && [ "$(wc -l <int.csv)" -ge 3 ] && break
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT: exit 130" [ "$rc" -eq 130 ]
check "SIGINT: checkpoint saved" [ -s ckint/checkpoint.json ]
check "SIGINT: no output model" [ ! -e int.onnx ]
check "SIGINT: checkpoint at the last logged step" grep -q "\"steps\": $(tail -1 int.csv | cut -d, -f1)," ckint/checkpoint.json

# ---- errors -------------------------------------------------------------------------------
expect_rc "unknown option" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --bogus
expect_rc "no --epochs / --steps" 2 train "$MLP" "${DATA[@]}" -o x.onnx
expect_rc "--epochs and --steps" 2 train "$MLP" "${DATA[@]}" --epochs 1 --steps 1 -o x.onnx
expect_rc "no -o" 2 train "$MLP" "${DATA[@]}" --steps 1
expect_rc "no MODEL" 2 train "${DATA[@]}" --steps 1 -o x.onnx
expect_rc "bad number" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --lr abc
expect_rc "--batch-size 0" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --batch-size 0
expect_rc "unknown loss" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --loss hinge
expect_rc "unknown optimizer" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --optimizer lion
expect_rc "sgd without --lr" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --optimizer sgd
expect_rc "--beta1 with sgd" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --optimizer sgd --lr 0.1 --beta1 0.5
expect_rc "--freeze of no initializer" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --freeze nope
expect_rc "--eval-every without --eval-data" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --eval-every 1
expect_rc "--metric is eval's" 2 train "$MLP" "${DATA[@]}" --steps 1 -o x.onnx --metric loss
expect_rc "eval --metric accuracy with mse" 2 eval "$MLP" "${DATA[@]}" --loss mse --metric accuracy
expect_rc "missing data file" 1 train "$MLP" --data input=nothere.npy --data labels=lab.npy --steps 1 -o x.onnx
check "the error names the file" grep -q 'nothere.npy' err
expect_rc "missing model" 1 train nothere.onnx "${DATA[@]}" --steps 1 -o x.onnx
expect_rc "no labels array" 1 train "$MLP" --data input=img.npy --steps 1 -o x.onnx
check "the error says what is missing" grep -q "no data array is named 'labels'" err
expect_rc "label out of range" 1 train "$MLP" --data input=img.npy --data labels=badlab.npy --steps 1 -o x.onnx
check "the error names the sample" grep -q 'sample 17' err
expect_rc "unwritable -o" 1 train "$MLP" "${DATA[@]}" --steps 1 -o "$S/no/such/dir/x.onnx"
check "nothing written after failures" [ ! -e x.onnx ]

# ---- PyTorch parity through the CLI ----------------------------------------------------------
# tests/parity/*: a model, its data, the options (config.txt, in flag form) and the
# losses PyTorch logged with shuffle=False.
for dir in "$PARITY"/*/; do
    [ -f "$dir/config.txt" ] || continue
    name=$(basename "$dir")
    args=()
    while IFS='=' read -r key value; do [ -n "$key" ] && args+=("--$key" "$value"); done <"$dir/config.txt"
    # every parity model has one input: it takes the one non-label array
    ot train "$dir/model.onnx" --data "x=$dir/input.npy" --data "labels=$dir/labels.npy" --no-shuffle "${args[@]}" \
        --log "parity_$name.csv" -o "parity_$name.onnx" -q "${T1[@]}"
    if [ "$RC" -ne 0 ]; then
        bad "parity $name: exit $RC"
        continue
    fi
    worst=$(tail -n +2 "parity_$name.csv" | cut -d, -f3 | paste -d' ' - "$dir/losses.txt" |
        awk '{ d = $1 - $2; if (d < 0) d = -d; if (NF != 2) d = 1e9; if (d > w) w = d } END { print w + 0 }')
    check "parity $name: logged losses match PyTorch (worst $worst)" awk -v w="$worst" 'BEGIN { exit !(w <= 1e-5) }'
done

# ---- the training loop against a NumPy reference ------------------------------------------
if [ -n "$PY" ] && "$PY" -c 'import numpy, onnx' 2>/dev/null; then
    expect_rc "momentum, accumulate 2, no shuffle" 0 train "$MLP" "${DATA[@]}" --batch-size 16 --epochs 2 --accumulate 2 \
        --optimizer momentum --lr 0.05 --no-shuffle --log ref.csv -o ref.onnx -q "${T1[@]}"
    cat >ref.py <<'EOF'
import sys
import numpy as np, onnx, onnx.numpy_helper as nh
m = onnx.load(sys.argv[1])
P = {i.name: nh.to_array(i).astype(np.float64) for i in m.graph.initializer}
X = np.load("img.npy").astype(np.float32) * np.float32(0.00392156862745098)
X = X.astype(np.float64)
Y = np.load("lab.npy")
def step_grads(x, y):
    h = x @ P["fc1.weight"].T + P["fc1.bias"]
    a = np.maximum(h, 0)
    z = a @ P["fc2.weight"].T + P["fc2.bias"]
    z = z - z.max(1, keepdims=True)
    ls = z - np.log(np.exp(z).sum(1, keepdims=True))
    n = len(y)
    g = np.exp(ls)
    g[np.arange(n), y] -= 1
    g /= n
    G = {"fc2.weight": g.T @ a, "fc2.bias": g.sum(0)}
    gh = (g @ P["fc2.weight"]) * (h > 0)
    G["fc1.weight"] = gh.T @ x
    G["fc1.bias"] = gh.sum(0)
    return -ls[np.arange(n), y].mean(), G
batches = [(i, min(i + 16, len(Y))) for i in range(0, len(Y), 16)]
buf, rows = {}, []
for epoch in range(2):
    for g0 in range(0, len(batches), 2):
        group = batches[g0:g0 + 2]
        k, acc, losses = len(group), {}, []
        for a, b in group:
            l, G = step_grads(X[a:b], Y[a:b])
            losses.append(l)
            for n_, v in G.items():
                acc[n_] = acc.get(n_, 0) + v / k
        for n_, v in acc.items():
            buf[n_] = v if n_ not in buf else 0.9 * buf[n_] + v
            P[n_] -= 0.05 * buf[n_]
        rows.append(np.mean(losses))
got = [float(l.split(",")[2]) for l in open("ref.csv").read().split("\n")[1:] if l]
assert len(got) == len(rows), (got, rows)
for s, (g, w) in enumerate(zip(got, rows), 1):
    assert abs(g - w) <= 1e-4 * max(1, abs(w)), "step %d: logged %g, reference %g" % (s, g, w)
EOF
    if "$PY" ref.py "$MLP" >out 2>err; then ok "logged losses match the NumPy reference"; else bad "logged losses match the NumPy reference"; fi
else
    echo "skipped: the NumPy reference of the loop (needs PYTHON with numpy and onnx)"
fi

finish
