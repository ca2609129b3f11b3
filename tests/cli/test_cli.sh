#!/usr/bin/env bash
# End-to-end tests of the onnxtrain command-line tool.
#
#   test_cli.sh ONNXTRAIN_BINARY SCRATCH_DIR [PYTHON]
#
# The test models and tensors are written here, byte by byte (a small protobuf
# encoder in bash), so the test needs nothing but bash and coreutils.  PYTHON,
# when it is given and has onnx installed, adds two checks: `info --json` parsed
# by a real JSON parser, and `run` on an ONNX backend node test compared with its
# expected output; without it those checks print a "skipped:" line.
# Prints "N passed, N failed"; exits non-zero if anything failed.
set -u

. "$(dirname "$0")/lib.sh" # BIN S PY, ok bad ot expect_rc check finish

# ---- a tiny protobuf encoder: every function prints hex ---------------------
hex_of() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
varint() {
    local n=$1 out=""
    while ((n > 127)); do
        out+=$(printf '%02x' $(((n & 127) | 128)))
        n=$((n >> 7))
    done
    printf '%s%02x' "$out" "$n"
}
pb_int() { varint $(($1 << 3)); varint "$2"; }                          # varint field
pb_msg() { varint $((($1 << 3) | 2)); varint $((${#2} / 2)); printf '%s' "$2"; } # bytes field
pb_str() { pb_msg "$1" "$(hex_of "$2")"; }
write_hex() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')" >"$2"; }

# ONNX messages (field numbers from onnx.proto)
dim_value() { pb_msg 1 "$(pb_int 1 "$1")"; }   # TensorShapeProto.dim
dim_param() { pb_msg 1 "$(pb_str 2 "$1")"; }
# value_info NAME ELEM_TYPE SHAPE_HEX|- : a ValueInfoProto ("-": unknown rank,
# which onnx.checker rejects on graph inputs and outputs)
value_info() {
    local t
    t=$(pb_int 1 "$2")
    [ "$3" != "-" ] && t+=$(pb_msg 2 "$3")
    pb_str 1 "$1"
    pb_msg 2 "$(pb_msg 1 "$t")"
}
# node OP_TYPE NAME "INPUTS" "OUTPUTS" [DOMAIN]: a NodeProto
node() {
    local x
    for x in $3; do pb_str 1 "$x"; done
    for x in $4; do pb_str 2 "$x"; done
    pb_str 3 "$2"
    pb_str 4 "$1"
    [ -n "${5:-}" ] && pb_str 7 "$5"
    true
}
# tensor NAME "DIMS" RAW_HEX: a float32 TensorProto
tensor() {
    local d
    for d in $2; do pb_int 1 "$d"; done
    pb_int 2 1
    pb_str 8 "$1"
    pb_msg 9 "$3"
}
# model PRODUCER GRAPH_HEX [DOMAIN]: a ModelProto, IR version 8, opset 13
# (and version 1 of DOMAIN)
model() {
    pb_int 1 8
    pb_str 2 "$1"
    pb_str 3 "1.0"
    pb_msg 7 "$2"
    pb_msg 8 "$(pb_int 2 13)"
    [ -n "${3:-}" ] && pb_msg 8 "$(pb_str 1 "$3")$(pb_int 2 1)"
    true
}

# npy_f32 FILE "(2, 3)" RAW_HEX: a version 1.0 .npy file
npy_f32() {
    local dict="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
    local len=$((${#dict} + 1)) # + '\n'
    local pad=$(((64 - (10 + len) % 64) % 64))
    local header
    header=$(printf '%s%*s' "$dict" "$pad" '')
    len=$((len + pad))
    write_hex "934e554d5059""0100""$(printf '%02x%02x' $((len & 255)) $((len >> 8)))""$(hex_of "$header")0a""$3" "$1"
}

# npy_values FILE: the float32 payload of a .npy file, one "%g" per value
npy_values() {
    local hl
    hl=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
    od -An -v -tf4 -j $((10 + hl)) "$1" | awk '{for (i = 1; i <= NF; i++) printf "%s%g", (n++ ? " " : ""), $i} END {print ""}'
}
# has_header FILE TEXT: TEXT is in the .npy header
has_header() { head -c 256 "$1" | tr -c '[:print:]' ' ' | grep -qF "$2"; }
# the op histogram lines of `info` as "Op count, Op count, ..."
op_lines() { sed -n '/^ops:/,/^unsupported/{/^  /p}' "$S/out" | awk '{printf "%s%s %s", (n++ ? ", " : ""), $1, $2}'; }

# ---- test inputs --------------------------------------------------------------
# X (2, 3) = [[1, -2, 3], [-4, 5, -6]]
X_RAW=0000803f000000c000004040000080c00000a0400000c0c0
PRODUCER='cli "test" \tool'$'\n''x'
# naming.onnx: exporter-style output names that collide once sanitized.
G=$(pb_msg 1 "$(node Relu relu1 "x" "/net/Relu_output_0")")
G+=$(pb_msg 1 "$(node Add add1 "x w" "onnx::Add_3")")
G+=$(pb_msg 1 "$(node Identity id1 "x" "a/b")")
G+=$(pb_msg 1 "$(node Identity id2 "x" "a_b")")
G+=$(pb_msg 1 "$(node Relu relu2 "x" "_net_Relu_output_0")")
G+=$(pb_str 2 "naming")
G+=$(pb_msg 5 "$(tensor w "3" 0000003f0000003f0000003f)")
G+=$(pb_msg 11 "$(value_info x 1 "$(dim_param N)$(dim_value 3)")")
G+=$(pb_msg 12 "$(value_info /net/Relu_output_0 1 "$(dim_param N)$(dim_value 3)")")
G+=$(pb_msg 12 "$(value_info onnx::Add_3 1 "$(dim_param N)$(dim_value 3)")")
G+=$(pb_msg 12 "$(value_info a/b 1 "$(pb_msg 1 "")$(dim_value 3)")") # first dim unknown, unnamed
for o in a_b _net_Relu_output_0; do G+=$(pb_msg 12 "$(value_info "$o" 1 "$(dim_param N)$(dim_value 3)")"); done
write_hex "$(model "$PRODUCER" "$G")" "$S/naming.onnx"

# two.onnx: d = a - b, for binding order
G=$(pb_msg 1 "$(node Sub sub1 "a b" "d")")
G+=$(pb_str 2 "two")
G+=$(pb_msg 11 "$(value_info a 1 "$(dim_value 2)")")
G+=$(pb_msg 11 "$(value_info b 1 "$(dim_value 2)")")
G+=$(pb_msg 12 "$(value_info d 1 "$(dim_value 2)")")
write_hex "$(model "cli-test" "$G")" "$S/two.onnx"

# unsup.onnx: ops onnxtrain cannot run, one in a custom domain
G=$(pb_msg 1 "$(node NoSuchOp n1 "x" "y")")
G+=$(pb_msg 1 "$(node FooOp n2 "y" "z" com.example)")
G+=$(pb_str 2 "unsup")
G+=$(pb_msg 11 "$(value_info x 1 "$(dim_value 2)")")
G+=$(pb_msg 12 "$(value_info z 1 "$(dim_value 2)")")
write_hex "$(model "cli-test" "$G" com.example)" "$S/unsup.onnx"

npy_f32 "$S/x.npy" "(2, 3)" "$X_RAW"
write_hex "$(tensor x "2 3" "$X_RAW")" "$S/x.pb"
npy_f32 "$S/x24.npy" "(2, 4)" "${X_RAW}0000803f0000803f"
npy_f32 "$S/A.npy" "(2,)" 0000a04000004040 # [5, 3]
npy_f32 "$S/B.npy" "(2,)" 0000803f0000803f # [1, 1]
size=$(wc -c <"$S/naming.onnx")
head -c $((size / 2)) "$S/naming.onnx" >"$S/truncated.onnx"
printf 'this is not an onnx model\n' >"$S/garbage.onnx"

# ---- help, version, command-line errors ----------------------------------------
expect_rc "--help" 0 --help && check "--help lists commands" grep -q 'run' "$S/out"
expect_rc "--version" 0 --version && check "--version prints a version" grep -Eq '^onnxtrain [0-9]+\.[0-9]+\.[0-9]+$' "$S/out"
for c in info run; do
    expect_rc "$c --help" 0 "$c" --help && check "$c --help prints usage" grep -q "^usage: onnxtrain $c" "$S/out"
    expect_rc "$c -h" 0 "$c" -h
    expect_rc "help $c" 0 help "$c"
    expect_rc "$c --bogus" 2 "$c" "$S/naming.onnx" --bogus
    expect_rc "$c without MODEL" 2 "$c"
done
expect_rc "no command" 2
expect_rc "unknown command" 2 frobnicate
expect_rc "unknown top-level flag" 2 --bogus
expect_rc "info: two models" 2 info "$S/naming.onnx" "$S/two.onnx"
expect_rc "info --json=1" 2 info "$S/naming.onnx" --json=1
expect_rc "run --format xyz" 2 run "$S/naming.onnx" --format xyz
expect_rc "run --threads -1" 2 run "$S/naming.onnx" --threads -1
expect_rc "run --threads abc" 2 run "$S/naming.onnx" --threads abc
expect_rc "run --input without a value" 2 run "$S/naming.onnx" --input
expect_rc "run --input =file" 2 run "$S/naming.onnx" --input "=$S/x.npy"
expect_rc "run: input named twice" 2 run "$S/naming.onnx" --input "x=$S/x.npy" --input "x=$S/x.npy"

# ---- info -------------------------------------------------------------------------
if expect_rc "info" 0 info "$S/naming.onnx"; then
    check "info: ir_version" grep -qx 'ir_version: 8' "$S/out"
    check "info: opsets" grep -qx 'opsets: ai.onnx 13' "$S/out"
    check "info: symbolic dims" grep -qx '  x: float32 \[N, 3\]' "$S/out"
    check "info: unknown dim" grep -qx '  a/b: float32 \[?, 3\]' "$S/out"
    check "info: parameters" grep -q '^parameters: 3 (12 bytes' "$S/out"
    check "info: op histogram sorted" test "$(op_lines)" = "Identity 2, Relu 2, Add 1"
    check "info: unsupported line" grep -q '^unsupported: ' "$S/out"
fi
if expect_rc "info --json" 0 info "$S/naming.onnx" --json; then
    check "info --json: one line" test "$(wc -l <"$S/out")" -eq 1
    check "info --json: escaped producer" grep -qF '"name": "cli \"test\" \\tool\nx"' "$S/out"
    check "info --json: parameters" grep -qF '"parameters": 3, "parameter_bytes": 12' "$S/out"
    check "info --json: shape" grep -qF '"shape": ["N", 3]' "$S/out"
fi
if expect_rc "info: unsupported ops are not an error" 0 info "$S/unsup.onnx"; then
    check "info: unsupported ops listed" grep -q '^unsupported: .*NoSuchOp.*FooOp' "$S/out"
    check "info: custom domain op" grep -qx '  com.example:FooOp 1' "$S/out"
    check "info: custom domain opset" grep -qx 'opsets: ai.onnx 13, com.example 1' "$S/out"
fi
if expect_rc "info --json: unsupported ops" 0 info "$S/unsup.onnx" --json; then
    check "info --json: unsupported message" grep -q '"unsupported": ".*NoSuchOp.*"}$' "$S/out"
fi
expect_rc "run: unsupported ops" 1 run "$S/unsup.onnx" --input "$S/A.npy" --out "$S/o9" &&
    check "run: unsupported op named" grep -qF "NoSuchOp" "$S/err"
HAVE_ONNX=0
if [ -n "$PY" ] && [ -x "$PY" ] && "$PY" -c 'import onnx, numpy' 2>/dev/null; then HAVE_ONNX=1; fi
if [ "$HAVE_ONNX" = 1 ]; then
    "$BIN" info "$S/naming.onnx" --json >"$S/info.json" 2>"$S/err"
    check "info --json: parses, exact keys and values" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["ir_version", "producer", "opsets", "inputs", "outputs", "parameters",
                   "parameter_bytes", "ops", "unsupported"], list(d)
assert d["producer"]["name"] == "cli \"test\" \\tool\nx", d["producer"]
assert d["opsets"] == {"ai.onnx": 13}
assert d["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["N", 3]}]
assert d["outputs"][2] == {"name": "a/b", "dtype": "float32", "shape": [None, 3]}, d["outputs"]
assert list(d["ops"].items()) == [("Identity", 2), ("Relu", 2), ("Add", 1)], d["ops"]
' "$S/info.json"
else
    echo "skipped: info --json through a JSON parser (no python with onnx given)"
fi

# ---- run: output naming, values, formats ----------------------------------------------
NAMES="_net_Relu_output_0 onnx__Add_3 a_b a_b_2 _net_Relu_output_0_2"
if expect_rc "run (npy input)" 0 run "$S/naming.onnx" --input "$S/x.npy" --out "$S/o1"; then
    for f in $NAMES; do check "run: file $f.npy" test -f "$S/o1/$f.npy"; done
    check "run: exactly 5 files" test "$(ls "$S/o1" | wc -l)" -eq 5
    check "run: one line per output" test "$(wc -l <"$S/out")" -eq 5
    check "run: output line" grep -qxF "/net/Relu_output_0: float32 [2, 3] -> $S/o1/_net_Relu_output_0.npy" "$S/out"
    check "run: npy header" has_header "$S/o1/onnx__Add_3.npy" "'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"
    check "run: Relu values" test "$(npy_values "$S/o1/_net_Relu_output_0.npy")" = "1 0 3 0 5 0"
    check "run: Add values" test "$(npy_values "$S/o1/onnx__Add_3.npy")" = "1.5 -1.5 3.5 -3.5 5.5 -5.5"
    check "run: Identity values" test "$(npy_values "$S/o1/a_b_2.npy")" = "1 -2 3 -4 5 -6"
fi
if expect_rc "run (pb input, named, nested --out)" 0 run "$S/naming.onnx" --input "x=$S/x.pb" --out "$S/o2/deep/er" --quiet; then
    check "run --quiet prints nothing" test ! -s "$S/out"
    check "run: pb input values" test "$(npy_values "$S/o2/deep/er/onnx__Add_3.npy")" = "1.5 -1.5 3.5 -3.5 5.5 -5.5"
fi
if expect_rc "run --format pb" 0 run "$S/naming.onnx" -i "$S/x.npy" -o "$S/o3" --format=pb --threads 1; then
    for k in 0 1 2 3 4; do check "run --format pb: output_$k.pb" test -f "$S/o3/output_$k.pb"; done
    check "run --format pb: only output_K.pb files" test "$(ls "$S/o3" | wc -l)" -eq 5
    check "run --format pb: TensorProto named" grep -qaF "/net/Relu_output_0" "$S/o3/output_0.pb"
    check "run --format pb: TensorProto named (4)" grep -qaF "_net_Relu_output_0" "$S/o3/output_4.pb"
    if expect_rc "run: pb output read back as input" 0 run "$S/naming.onnx" --input "$S/o3/output_2.pb" --out "$S/o4" -q; then
        check "run: pb round trip values" test "$(npy_values "$S/o4/a_b.npy")" = "1 -2 3 -4 5 -6"
    fi
    if [ "$HAVE_ONNX" = 1 ]; then
        check "run --format pb: onnx reads name and values" "$PY" -c '
import sys, onnx, onnx.numpy_helper as nh, numpy as np
t = onnx.load_tensor(sys.argv[1])
assert t.name == "onnx::Add_3", t.name
np.testing.assert_array_equal(nh.to_array(t), np.array([[1.5, -1.5, 3.5], [-3.5, 5.5, -5.5]], np.float32))
' "$S/o3/output_1.pb"
    fi
fi
mkdir -p "$S/cwd"
if (cd "$S/cwd" && "$BIN" run "$S/naming.onnx" --input "$S/x.npy" -q >"$S/out" 2>"$S/err"); then
    check "run: default --out is ." test -f "$S/cwd/onnx__Add_3.npy"
else
    bad "run: default --out"
fi

# binding order: unnamed inputs fill the graph inputs not named, in order
if expect_rc "run: unnamed inputs in order" 0 run "$S/two.onnx" --input "$S/A.npy" --input "$S/B.npy" --out "$S/o5"; then
    check "run: a - b" test "$(npy_values "$S/o5/d.npy")" = "4 2"
fi
if expect_rc "run: named then unnamed" 0 run "$S/two.onnx" --input "a=$S/B.npy" --input "$S/A.npy" --out "$S/o6"; then
    check "run: named binding wins" test "$(npy_values "$S/o6/d.npy")" = "-4 -2"
fi

# ---- run: failures ----------------------------------------------------------------------
expect_rc "run: missing input file" 1 run "$S/naming.onnx" --input "x=$S/nope.npy" --out "$S/o7" &&
    check "run: missing file is named" grep -qF "nope.npy" "$S/err"
check "run: nothing written on failure" test ! -e "$S/o7"
expect_rc "run: missing input" 1 run "$S/naming.onnx" --out "$S/o7" &&
    check "run: missing input is named" grep -qF "'x'" "$S/err"
expect_rc "run: unknown input name" 1 run "$S/naming.onnx" --input "nosuch=$S/x.npy" --out "$S/o7" &&
    check "run: unknown input is named" grep -qF "nosuch" "$S/err"
expect_rc "run: too many inputs" 1 run "$S/naming.onnx" --input "$S/x.npy" --input "$S/x.npy" --out "$S/o7"
expect_rc "run: too many inputs (mixed)" 1 run "$S/two.onnx" --input "a=$S/A.npy" --input "$S/B.npy" --input "$S/B.npy" --out "$S/o7"
expect_rc "run: wrong shape" 1 run "$S/naming.onnx" --input "$S/x24.npy" --out "$S/o7"
expect_rc "run: input file is a model" 1 run "$S/naming.onnx" --input "$S/naming.onnx" --out "$S/o7"
expect_rc "run: missing model" 1 run "$S/nomodel.onnx" --input "$S/x.npy" &&
    check "run: missing model is named" grep -qF "nomodel.onnx" "$S/err"
expect_rc "run: truncated model" 1 run "$S/truncated.onnx" --input "$S/x.npy" --out "$S/o7"
expect_rc "info: truncated model" 1 info "$S/truncated.onnx"
expect_rc "info --json: truncated model" 1 info "$S/truncated.onnx" --json
expect_rc "info: not a model" 1 info "$S/garbage.onnx"
expect_rc "info: missing model" 1 info "$S/nomodel.onnx"
touch "$S/file"
expect_rc "run: --out is a file" 1 run "$S/naming.onnx" --input "$S/x.npy" --out "$S/file"

# ---- an ONNX backend node test ------------------------------------------------------------
if [ "$HAVE_ONNX" = 1 ]; then
    NT=$("$PY" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node/test_add"))')
    if [ -f "$NT/model.onnx" ]; then
        if expect_rc "node test test_add" 0 run "$NT/model.onnx" --input "$NT/test_data_set_0/input_0.pb" \
            --input "$NT/test_data_set_0/input_1.pb" --out "$S/o8"; then
            check "node test test_add: output matches" "$PY" -c '
import sys, glob, onnx, onnx.numpy_helper as nh, numpy as np
want = nh.to_array(onnx.load_tensor(sys.argv[1] + "/test_data_set_0/output_0.pb"))
got = np.load(sys.argv[2] + "/sum.npy")
assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
np.testing.assert_allclose(got, want, rtol=1e-6)
' "$NT" "$S/o8"
        fi
    else
        echo "skipped: node test test_add (not found under $NT)"
    fi
else
    echo "skipped: ONNX backend node test (no python with onnx given)"
fi

finish
