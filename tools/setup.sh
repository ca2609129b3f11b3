#!/usr/bin/env bash
# Installs everything onnxtrain needs on a fresh Debian 12 / Ubuntu machine:
# the build toolchain and libraries (apt), the Fashion-MNIST data set, and a
# Python virtual environment (.venv) with onnx 1.22.0 (its wheel ships the ONNX
# backend node tests), onnxruntime and numpy for the interop tests.
# Idempotent: re-running only fills in what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

APT_PACKAGES=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev
              libopenblas-openmp-dev zlib1g-dev python3 python3-venv dataset-fashion-mnist)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import onnx, onnxruntime, numpy; assert onnx.__version__ == '1.22.0'" 2>/dev/null; then
  echo "setup: installing onnx==1.22.0 onnxruntime numpy into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check "onnx==1.22.0" onnxruntime numpy
fi
echo "setup: done" >&2
