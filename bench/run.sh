#!/usr/bin/env bash
# One run of every benchmark of the backend, numbers side by side (README: "Speed").
#   SGEMM 512^3, one thread: native matrixmultiply, our packed kernel (native and wasm
#   simd128 under node), numpy + OpenBLAS pinned to one thread, WGSL on the GPU if any.
#   MLP training steps/s (D=16, depth 3, P=256, full-batch GD) at widths 64 and 1024:
#   native CPU (and GPU if any) against PyTorch CPU on one thread.
# numpy and torch are installed into a throwaway venv here (never project dependencies).
# Env: BENCH_VENV (default target/bench-venv), N (512), WIDTHS ("64 1024").
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-512}
WIDTHS=${WIDTHS:-"64 1024"}
VENV=${BENCH_VENV:-target/bench-venv}
OUT=$(mktemp -d)

echo "== building"
cargo build --release --examples -q
rustc --edition 2024 -O -C target-feature=+simd128 --target wasm32-unknown-unknown \
  --crate-type cdylib bench/wasm_sgemm.rs -o "$OUT/sgemm.wasm"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q numpy threadpoolctl
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  # The PyPI wheel without its CUDA runtime packages runs on the CPU.
  "$VENV/bin/pip" install -q --no-deps torch
  "$VENV/bin/pip" install -q filelock typing-extensions sympy networkx jinja2 fsspec
fi

echo "== SGEMM ${N}^3, one thread (GFLOP/s)"
target/release/examples/bench_sgemm "$N" 10 | tee "$OUT/sgemm.txt"
node bench/wasm_sgemm.mjs "$OUT/sgemm.wasm" "$N" 5 | tee -a "$OUT/sgemm.txt"
# OPENBLAS_CORETYPE / L2_SIZE slow a current numpy; unset both for this command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
  "$VENV/bin/python" bench/numpy_sgemm.py "$N" 10 | tee -a "$OUT/sgemm.txt"
awk '/^numpy_openblas/ {np=$2} {v[$1]=$2} END {
  for (k in v) if (k !~ /^#/ && np > 0) printf "  %-40s %8.2f GFLOP/s  %.2fx numpy\n", k, v[k], v[k]/np }' \
  "$OUT/sgemm.txt"

echo "== MLP full-batch GD steps/s (D=16, depth 3, P=256), one thread"
for w in $WIDTHS; do
  steps=$(( w >= 1024 ? 20 : 500 ))
  ours=$(target/release/examples/bench_train "$w" "$steps" cpu | tee /dev/stderr | awk '{print $2}')
  target/release/examples/bench_train "$w" "$steps" gpu >&2 || true
  torch=$(OMP_NUM_THREADS=1 "$VENV/bin/python" bench/torch_train.py "$w" "$steps" \
    | tee /dev/stderr | awk '/^torch/ {print $2}')
  awk -v w="$w" -v a="$ours" -v b="$torch" \
    'BEGIN {printf "  width %5d: ours %9.1f  torch %9.1f  ratio %.2fx\n", w, a, b, a/b}'
done
