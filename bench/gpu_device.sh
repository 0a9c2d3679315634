#!/usr/bin/env bash
# GPU throughput natively over Vulkan (one prepared run, well under 10 minutes on a
# hardware GPU): WGSL SGEMM 2048^3 and 4096^3 (vec4 and scalar loads), one width-4096
# training step, the batched ensemble (S = 1, 8, 32 seeds at widths 256 and 1024: time
# per seed-step) and the lr-transfer-width sweep at widths 64..4096 with every cell on
# the GPU (wall time), against the card's fp32 peak. --quick on lavapipe takes ~40 s.
#
# Usage: bench/gpu_device.sh [PEAK_TFLOPS] [--quick]
#   PEAK_TFLOPS  the card's fp32 peak (default 67: H200 SXM)
#   --quick      small sizes, accepts a software adapter (lavapipe): an end-to-end check
# Env: BENCH_GPU_BIN=path to a prebuilt examples/bench_gpu binary (skips the build);
#      CARGO_TARGET_DIR as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
PEAK=67
QUICK=()
for a in "$@"; do
  case "$a" in
    --quick) QUICK=(--quick) ;;
    *) PEAK="$a" ;;
  esac
done
BIN="${BENCH_GPU_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --example bench_gpu -q
  BIN="${CARGO_TARGET_DIR:-target}/release/examples/bench_gpu"
fi
if command -v vulkaninfo >/dev/null 2>&1; then
  vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion" || true
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,clocks.max.sm --format=csv || true
timeout 540 "$BIN" --peak "$PEAK" "${QUICK[@]}"
