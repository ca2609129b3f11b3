#!/usr/bin/env bash
# The main job: build onnxtrain, train the shipped MLP (models/mlp.onnx) for one
# epoch on Fashion-MNIST (Debian's dataset-fashion-mnist, IDX .gz files) with
# Adam, lr 1e-3, batch 64, then evaluate it on the test set and check the
# accuracy (PyTorch reaches 84.6% with the same model and settings:
# models/pytorch_reference.txt).
#   MODEL=models/cnn.onnx tools/main-job.sh     trains the shipped CNN instead
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-models/mlp.onnx}
DATA=/usr/share/datasets/fashion-mnist
OUT=${OUT:-build/trained-$(basename "$MODEL")}
MIN_ACCURACY=${MIN_ACCURACY:-0.84}

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/onnxtrain train "$MODEL" \
  --data input="$DATA/train-images-idx3-ubyte.gz" --data labels="$DATA/train-labels-idx1-ubyte.gz" \
  --input-scale 0.00392156862745098 --loss cross-entropy --optimizer adam --lr 1e-3 \
  --batch-size 64 --epochs 1 --seed 0 --log build/main-job-log.csv -o "$OUT"
result=$(build/onnxtrain eval "$OUT" --data input="$DATA/t10k-images-idx3-ubyte.gz" \
  --data labels="$DATA/t10k-labels-idx1-ubyte.gz" --input-scale 0.00392156862745098)
echo "$result"
accuracy=$(echo "$result" | awk '/^accuracy:/ {print $2}')
awk -v a="$accuracy" -v m="$MIN_ACCURACY" 'BEGIN { if (a + 0 < m + 0) { printf "main-job: test accuracy %s is below %s\n", a, m; exit 1 } }'
echo "main-job: trained model written to $OUT (test accuracy $accuracy)"
