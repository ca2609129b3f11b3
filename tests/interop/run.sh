#!/usr/bin/env bash
# Checks the golden files under tests/models/ against ONNX Runtime.
# Usage: tests/interop/run.sh PYTHON [check_onnxruntime.py args...]
# PYTHON is an interpreter with onnx, onnxruntime and numpy (CI: the repo's
# .venv/bin/python made by tools/setup.sh).  Prints "skipped: ..." and exits 0
# when it or one of those packages is missing, so ctest can mark it skipped.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
py="${1:-}"
[ $# -gt 0 ] && shift
if [ -z "$py" ]; then
  echo "skipped: no python given (usage: $0 PYTHON)"
  exit 0
fi
if ! command -v "$py" >/dev/null 2>&1; then
  echo "skipped: python '$py' not found (run tools/setup.sh)"
  exit 0
fi
if ! missing="$("$py" -c 'import onnx, onnxruntime, numpy' 2>&1)"; then
  echo "skipped: $py lacks onnx/onnxruntime/numpy: $(printf '%s' "$missing" | tail -n 1)"
  exit 0
fi
exec "$py" "$here/check_onnxruntime.py" --root "$here/../models" "$@"
