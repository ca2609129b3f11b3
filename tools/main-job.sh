#!/usr/bin/env bash
# The main job: build onnxtrain and train the shipped MLP on Fashion-MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"
if ! build/onnxtrain train --help >/dev/null 2>&1; then
  echo "main-job: 'onnxtrain train' is not implemented yet (issue 3); running inference checks instead" >&2
  ctest --test-dir build -L conformance --output-on-failure
  exit 1
fi
