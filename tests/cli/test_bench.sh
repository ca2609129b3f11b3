#!/usr/bin/env bash
# End-to-end tests of `onnxtrain bench` and `onnxtrain info --train`.
#
#   test_bench.sh ONNXTRAIN_BINARY SCRATCH_DIR [PYTHON]
#
# Uses the parity and golden models shipped in tests/.  JSON output is checked
# with grep/sed; PYTHON (any python3), when given, also parses it with the json
# module.  Prints "N passed, N failed"; exits non-zero if anything failed.
set -u

. "$(dirname "$0")/lib.sh" # BIN S PY, ok bad ot expect_rc check finish
TESTS=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$PY" ] && ! "$PY" -c 'import json' 2>/dev/null && PY=""
cd "$S" || exit 1

MLP=$TESTS/parity/mlp_sgd/model.onnx
MLP_DATA=(--data "input=$TESTS/parity/mlp_sgd/input.npy" --data "labels=$TESTS/parity/mlp_sgd/labels.npy")
GPT=$TESTS/parity/gpt_adamw/model.onnx
GPT_EVAL=$TESTS/models/test_gpt_eval_opset17/model.onnx
SGD=(--optimizer sgd --lr 0.1)
T1=(--threads 1) # the test machine may be busy; small steps gain nothing from more

# num KEY: the number after "KEY": in out (empty when absent)
num() { sed -n "s/.*\"$1\": \\([-0-9.eE+]*\\).*/\\1/p" "$S/out"; }
# one_object KEY...: out is one line holding one JSON object with every KEY a number
one_object() {
    [ "$(wc -l <"$S/out")" -eq 1 ] || return 1
    grep -q '^{.*}$' "$S/out" || return 1
    local k
    for k in "$@"; do [ -n "$(num "$k")" ] || { echo "  missing key $k"; return 1; }; done
    [ -z "$PY" ] && return 0
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict)
for k in sys.argv[2:]:
    assert isinstance(d[k], (int, float)) and not isinstance(d[k], bool), k
' "$S/out" "$@"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
gt0() { awk -v a="$1" 'BEGIN { exit !(a + 0 > 0) }'; }

# ---- help and bad command lines ------------------------------------------------------
expect_rc "bench --help" 0 bench --help
check "bench --help: usage" grep -q '^usage: onnxtrain bench' "$S/out"
check "onnxtrain --help lists bench" sh -c "'$BIN' --help | grep -q '^  bench '"
expect_rc "info --help mentions --train" 0 info --help
check "info --help: --train" grep -q -- '--train' "$S/out"
expect_rc "bench inference: training flags refused" 2 bench "$MLP" "${SGD[@]}"
expect_rc "bench inference: --accumulate refused" 2 bench "$MLP" --accumulate 2
expect_rc "bench inference: --recompute refused" 2 bench "$MLP" --recompute
expect_rc "bench --steps 0" 2 bench "$MLP" --train "${SGD[@]}" --steps 0
expect_rc "bench --warmup x" 2 bench "$MLP" --train "${SGD[@]}" --warmup x
expect_rc "bench --dim without =" 2 bench "$MLP" --train "${SGD[@]}" --dim batch
expect_rc "bench --no-fuse=1" 2 bench "$MLP" --train "${SGD[@]}" --no-fuse=1
expect_rc "info --no-fuse without --train" 2 info "$MLP" --no-fuse
expect_rc "bench --recompute=1" 2 bench "$MLP" --train "${SGD[@]}" --recompute=1
expect_rc "info --recompute without --train" 2 info "$MLP" --recompute
expect_rc "bench unknown option" 2 bench "$MLP" --train "${SGD[@]}" --bogus
expect_rc "bench --train=1" 2 bench "$MLP" --train=1 "${SGD[@]}"
expect_rc "bench sgd without --lr" 2 bench "$MLP" --train --optimizer sgd
expect_rc "bench -o does not apply" 2 bench "$MLP" --train "${SGD[@]}" -o x.onnx
expect_rc "bench missing MODEL" 2 bench --train "${SGD[@]}"
expect_rc "bench unknown --freeze name" 2 bench "$MLP" --train "${SGD[@]}" --freeze nosuch
expect_rc "info --dump without --train" 2 info "$MLP" --dump x.onnx
expect_rc "info --plan without --train" 2 info "$MLP" --plan
expect_rc "info --lr without --train" 2 info "$MLP" --lr 0.1
expect_rc "info --train --data does not apply" 2 info "$MLP" --train --data x.npy
expect_rc "info --train --batch-size 0" 2 info "$MLP" --train --batch-size 0
expect_rc "info --train --plan=1" 2 info "$MLP" --train --plan=1
expect_rc "info --train --dump needs a file" 2 info "$MLP" --train --dump
expect_rc "bench: a missing model file" 1 bench nosuch.onnx --train "${SGD[@]}"

# ---- bench -------------------------------------------------------------------------------
KEYS=(step_ms_median samples_per_s gflops peak_rss_bytes step_ms_p10 step_ms_p90 flops_per_step)
if expect_rc "bench --json" 0 bench "$MLP" --train "${SGD[@]}" --steps 5 --warmup 2 --batch-size 16 "${T1[@]}" --json; then
    check "bench --json: one object with the keys" one_object "${KEYS[@]}"
    check "bench --json: median > 0" gt0 "$(num step_ms_median)"
    check "bench --json: samples/s > 0" gt0 "$(num samples_per_s)"
    check "bench --json: GFLOP/s > 0" gt0 "$(num gflops)"
    check "bench --json: peak RSS > 1 MiB" ge "$(num peak_rss_bytes)" 1048576
    check "bench --json: p90 >= median >= p10" sh -c "awk -v a=$(num step_ms_p90) -v b=$(num step_ms_median) -v c=$(num step_ms_p10) 'BEGIN { exit !(a >= b && b >= c) }'"
    check "bench --json: batch" test "$(num batch)" = 16
    # 2 Gemm forward (16x20x16, 16x16x5), 3 backward Gemm: the contractions alone
    check "bench --json: FLOPs count the GEMMs" ge "$(num flops_per_step)" $((2 * 16 * (20 * 16 + 16 * 5) * 2))
    check "bench --json: nothing on stderr" test ! -s "$S/err"
fi
if expect_rc "bench text" 0 bench "$MLP" --train "${SGD[@]}" --steps 3 --warmup 1 "${T1[@]}"; then
    check "bench text: median line" grep -q '^step time: *median [0-9.]* ms' "$S/out"
    check "bench text: samples/s" grep -q 'samples/s' "$S/out"
    check "bench text: GFLOP/s" grep -q 'GFLOP/s' "$S/out"
    check "bench text: peak RSS" grep -q 'peak RSS' "$S/out"
fi
if expect_rc "bench --data" 0 bench "$MLP" --train "${SGD[@]}" --steps 4 --warmup 1 --batch-size 8 "${MLP_DATA[@]}" "${T1[@]}" --json; then
    check "bench --data: one object" one_object "${KEYS[@]}"
    check "bench --data: batch" test "$(num batch)" = 8
    check "bench --data: files" grep -q '"data": "files"' "$S/out"
fi
expect_rc "bench --data: fewer samples than a batch" 1 bench "$MLP" --train "${SGD[@]}" --batch-size 100000 "${MLP_DATA[@]}"
if expect_rc "bench --no-fuse" 0 bench "$MLP" --train "${SGD[@]}" --steps 2 --warmup 1 "${T1[@]}" --no-fuse --json; then
    check "bench --no-fuse: one object" one_object "${KEYS[@]}"
    check "bench --no-fuse: not fused" grep -q '"fused": false' "$S/out"
    LOSS_UNFUSED=$(num loss_last)
    if expect_rc "bench fused, same steps" 0 bench "$MLP" --train "${SGD[@]}" --steps 2 --warmup 1 "${T1[@]}" --json; then
        check "bench: fused and unfused losses agree" awk -v a="$LOSS_UNFUSED" -v b="$(num loss_last)" \
            'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * (b < 0 ? -b : b) + 1e-7) }'
    fi
fi
if expect_rc "bench inference --json" 0 bench "$MLP" --steps 3 --warmup 1 --batch-size 16 "${T1[@]}" --json; then
    check "bench inference: one object with the keys" one_object "${KEYS[@]}"
    check "bench inference: mode" grep -q '"mode": "inference"' "$S/out"
    check "bench inference: no loss" grep -q '"loss_first": null' "$S/out"
    # 2 Gemm forward only (16x20x16, 16x16x5)
    check "bench inference: FLOPs of the forward GEMMs" ge "$(num flops_per_step)" $((2 * 16 * (20 * 16 + 16 * 5)))
    check "bench inference: fewer FLOPs than a training step" awk -v a="$(num flops_per_step)" \
        'BEGIN { exit !(a < 2 * 16 * (20 * 16 + 16 * 5) * 2) }'
fi
if expect_rc "bench inference --data (inputs only)" 0 bench "$MLP" --steps 2 --warmup 1 --batch-size 8 -q "${MLP_DATA[@]}" "${T1[@]}" --json; then
    check "bench inference --data: files" grep -q '"data": "files"' "$S/out"
    check "bench inference --data: batch" test "$(num batch)" = 8
fi
if expect_rc "bench GPT inference --no-fuse" 0 bench "$GPT" --steps 2 --warmup 1 --batch-size 2 --no-fuse "${T1[@]}"; then
    check "bench GPT inference: text" grep -q '^inference, batch 2, .*not fused' "$S/out"
fi
if expect_rc "bench --recompute" 0 bench "$GPT" --train --optimizer adamw --steps 2 --warmup 1 --batch-size 2 "${T1[@]}" --recompute --json; then
    check "bench --recompute: one object" one_object "${KEYS[@]}"
    check "bench --recompute: flagged" grep -q '"recompute": true' "$S/out"
    LOSS_RECOMPUTE=$(num loss_last)
    ARENA_RECOMPUTE=$(num arena_bytes)
    if expect_rc "bench GPT, same steps without --recompute" 0 bench "$GPT" --train --optimizer adamw --steps 2 --warmup 1 --batch-size 2 "${T1[@]}" --json; then
        check "bench --recompute: the same loss" awk -v a="$LOSS_RECOMPUTE" -v b="$(num loss_last)" \
            'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6 * (b < 0 ? -b : b)) }'
        check "bench --recompute: a smaller arena" awk -v a="$ARENA_RECOMPUTE" -v b="$(num arena_bytes)" 'BEGIN { exit !(a < b) }'
    fi
fi
if expect_rc "info --train --plan --recompute" 0 info "$GPT" --train --plan --json --batch-size 4 --optimizer adamw --recompute; then
    check "info --recompute: keys" one_object recomputed_ops released_bytes arena_bytes
    check "info --recompute: ops recomputed" gt0 "$(num recomputed_ops)"
    check "info --recompute: bytes released" gt0 "$(num released_bytes)"
fi
if expect_rc "info --train --plan --recompute (text)" 0 info "$GPT" --train --plan --batch-size 4 --optimizer adamw --recompute; then
    check "info --recompute: recompute line" grep -q '^  recompute  *[1-9][0-9]* forward ops run again' "$S/out"
fi
if expect_rc "bench --accumulate 2" 0 bench "$MLP" --train "${SGD[@]}" --steps 2 --warmup 1 --batch-size 4 --accumulate 2 "${T1[@]}" --json; then
    check "bench --accumulate: samples per step" test "$(num batch)" = 8
fi
if expect_rc "bench: GPT with adamw (token inputs, sequence labels)" 0 bench "$GPT" --train --optimizer adamw --steps 2 --warmup 1 --batch-size 2 "${T1[@]}" --json; then
    check "bench GPT: one object" one_object "${KEYS[@]}"
fi

# ---- info --train --------------------------------------------------------------------------
if expect_rc "info --train" 0 info "$MLP" --train; then
    check "info --train: fc1.weight trainable" sh -c "sed -n '/^trainable:/,/^not trained:/p' '$S/out' | grep -q '^  fc1.weight .*float32 *\\[16, 20\\] *320'"
    check "info --train: nothing else" grep -qx 'not trained: none' "$S/out"
fi
if expect_rc "info --train --freeze" 0 info "$MLP" --train --freeze fc1.weight,fc2.bias; then
    check "info --freeze: fc1.weight frozen" sh -c "sed -n '/^not trained:/,\$p' '$S/out' | grep -q '^  fc1.weight .* frozen\$'"
    check "info --freeze: fc2.bias frozen" sh -c "sed -n '/^not trained:/,\$p' '$S/out' | grep -q '^  fc2.bias .* frozen\$'"
    check "info --freeze: fc1.bias still trainable" sh -c "sed -n '/^trainable:/,/^not trained:/p' '$S/out' | grep -q '^  fc1.bias '"
fi
if expect_rc "info --train --trainable" 0 info "$MLP" --train --trainable fc2.weight --json; then
    check "info --trainable: one object" one_object trainable_parameters
    check "info --trainable: 80 parameters" test "$(num trainable_parameters)" = 80
    check "info --trainable: reason" grep -q '"name": "fc1.weight", [^}]*"reason": "not listed in --trainable"' "$S/out"
fi
if expect_rc "info --train: no-gradient reasons (GPT masks)" 0 info "$GPT" --train --optimizer adamw; then
    check "info --train: mask has no gradient" grep -q '^  blocks.0.mask .*no gradient reaches it' "$S/out"
fi
if expect_rc "info --train: Identity fan-out" 0 info "$GPT_EVAL" --train; then
    check "info: fan-out warning on stderr" grep -q "warning: initializer 'blocks.0.ln1.weight' feeds .*Identity.*TrainingMode.TRAINING, do_constant_folding=False" "$S/err"
    check "info: fan-out warning is not on stdout" sh -c "! grep -q warning '$S/out'"
fi
PLAN_KEYS=(ops kernels arena_bytes lower_bound_bytes naive_bytes persistent_bytes flops)
if expect_rc "info --train --plan --json" 0 info "$MLP" --train --plan --json --batch-size 16 --plan-svg plan.svg; then
    check "info --plan --json: one object with the keys" one_object "${PLAN_KEYS[@]}"
    check "info --plan: arena >= lower bound" ge "$(num arena_bytes)" "$(num lower_bound_bytes)"
    check "info --plan: naive >= lower bound" ge "$(num naive_bytes)" "$(num lower_bound_bytes)"
    check "info --plan: lower bound > 0" gt0 "$(num lower_bound_bytes)"
    check "info --plan: the unscheduled peak is no lower" ge "$(num unscheduled_peak_bytes)" "$(num lower_bound_bytes)"
    # adam with the update inside the step: parameters and two moments, 3 x 1684 bytes
    # (gradients are transient there: they die at their update)
    check "info --plan: persistent bytes (adam)" test "$(num persistent_bytes)" = $((3 * 1684))
    check "info --plan: kernels > ops' steps" ge "$(num kernels)" 8
    check "info --plan-svg: an SVG" sh -c "head -c 200 plan.svg | grep -q '<svg' && tail -c 20 plan.svg | grep -q '</svg>'"
    check "info --plan-svg: rectangles with titles" grep -q '<rect .*><title>' plan.svg
fi
if expect_rc "info --train --plan --no-fuse" 0 info "$MLP" --train --plan --json --batch-size 16 --no-fuse; then
    UNFUSED_KERNELS=$(num kernels)
    UNFUSED_OPS=$(num ops)
    if expect_rc "info --train --plan (fused)" 0 info "$MLP" --train --plan --json --batch-size 16; then
        check "info --plan: fusion launches no more kernels" ge "$UNFUSED_KERNELS" "$(num kernels)"
        check "info --plan: ops count the graph before fusion" test "$UNFUSED_OPS" = "$(num ops)"
    fi
fi
if expect_rc "info --train --plan (text)" 0 info "$MLP" --train --plan --optimizer sgd --lr 0.1; then
    check "info --plan: MiB" grep -q '^  arena .* bytes (.* MiB)' "$S/out"
    check "info --plan: persistent (sgd: parameters only)" grep -q "^  persistent *$((1 * 1684)) bytes" "$S/out"
    for k in ops kernels 'lower bound' unscheduled naive flops; do check "info --plan: $k line" grep -q "^  $k " "$S/out"; done
fi
if expect_rc "info --train --dump" 0 info "$MLP" --train --dump dump.onnx --batch-size 3; then
    if expect_rc "info reads the dumped training graph" 0 info dump.onnx; then
        check "dump: batch 3" grep -qx '  input: float32 \[3, 20\]' "$S/out"
        check "dump: gradient ops" grep -q 'ai.onnxtrain:' "$S/out"
    fi
fi
if expect_rc "info --train --dump --dim" 0 info "$GPT" --train --dump gpt.onnx --dim MatMuloutput_dim_1=16 --batch-size 2; then
    expect_rc "info reads the dumped GPT training graph" 0 info gpt.onnx
fi

finish
