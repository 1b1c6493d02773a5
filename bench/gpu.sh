#!/usr/bin/env bash
# GPU benchmark: the same model and pipeline bench as on CPU, with the CUDA (and TensorRT) execution provider,
# side by side with the CPU provider in the same run. Needs an NVIDIA driver, CUDA 13 + cuDNN 9 runtime libraries
# (a CUDA runtime container provides them) and the GPU provider libraries (scripts/install-deps --gpu).
# Usage: bench/gpu.sh [OUT_DIR]    Results go to OUT_DIR/gpu-bench.md (default: out/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-out}"
mkdir -p "$out"
scripts/install-deps --gpu
[[ -f build/build.ninja ]] || cmake --preset release >/dev/null
cmake --build build --target facefleet-bench-models
models="${TMPDIR:-/tmp}/facefleet-bench-models"
{
  echo "# GPU bench, $(date -u +%Y-%m-%d), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
  echo
  for ep in cpu cuda tensorrt; do
    build/bin/facefleet-bench-models --models-dir "$models" --runs 20 --execution-providers "$ep" 2>&1
    echo
  done
} | tee "$out/gpu-bench.md"
