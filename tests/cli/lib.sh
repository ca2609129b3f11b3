# Shared by the CLI test scripts (sourced, not run):
#
#   . "$(dirname "$0")/lib.sh"      # with the script's own arguments
#
# Reads the arguments every script takes (ONNXTRAIN_BINARY SCRATCH_DIR
# [PYTHON]) into BIN, S and PY, made absolute because the scripts change
# directory, and empties the scratch directory S.  Then the test-case helpers:
# ok / bad count cases, ot runs the tool, expect_rc and check are the cases,
# and finish prints "N passed, N failed" and gives the exit status.

BIN=${1:?usage: ${0##*/} ONNXTRAIN_BINARY SCRATCH_DIR [PYTHON]}
S=${2:?usage: ${0##*/} ONNXTRAIN_BINARY SCRATCH_DIR [PYTHON]}
PY=${3:-}
case $BIN in */*) [ "${BIN#/}" = "$BIN" ] && BIN=$PWD/$BIN ;; esac
case $PY in */*) [ "${PY#/}" = "$PY" ] && PY=$PWD/$PY ;; esac
rm -rf "$S"
mkdir -p "$S" || exit 1
S=$(cd "$S" && pwd)

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    [ -s "$S/out" ] && sed 's/^/  stdout: /' "$S/out" | head -20
    [ -s "$S/err" ] && sed 's/^/  stderr: /' "$S/err" | head -20
}

# Runs the tool, keeping stdout in $S/out, stderr in $S/err and the status in RC.
ot() {
    "$BIN" "$@" >"$S/out" 2>"$S/err"
    RC=$?
}

# expect_rc NAME WANT args...: the status must be WANT; for WANT != 0 the error
# must be exactly one line on stderr, starting "onnxtrain: error: ", and
# nothing may be left on stdout.
expect_rc() {
    local name=$1 want=$2
    shift 2
    ot "$@"
    if [ "$RC" -ne "$want" ]; then
        bad "$name: exit $RC, expected $want"
        return 1
    fi
    if [ "$want" -ne 0 ]; then
        if [ "$(wc -l <"$S/err")" -ne 1 ] || ! grep -q '^onnxtrain: error: ' "$S/err"; then
            bad "$name: expected one 'onnxtrain: error: ' line on stderr"
            return 1
        fi
        if [ -s "$S/out" ]; then
            bad "$name: printed to stdout on failure"
            return 1
        fi
    fi
    ok "$name"
}

# check NAME COMMAND...: a shell condition as a test case.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
