#!/usr/bin/env bash
# One run of every benchmark of the backend, numbers side by side (README: "Speed").
#   Roofline probes (x86-64): clock, 128-bit mul+add, 128-bit FMA, 512-bit FMA.
#   SGEMM 512^3, one thread: native matrixmultiply, our packed kernel (native, and wasm
#   simd128 and relaxed SIMD under node, each through the page's wasm-opt flags),
#   numpy + OpenBLAS pinned to one thread, WGSL on the GPU if any.
#   The training step's three products at those widths: our x86 kernel vs matrixmultiply.
#   MLP training steps/s (D=16, depth 3, P=256, full-batch GD) at widths 64 and 1024:
#   native CPU (ours, and on matrixmultiply's kernels; GPU if asked) and the page's two wasm
#   builds (dist/ and dist/relaxed/, bench/wasm_train.mjs) against PyTorch CPU on one thread.
#   With BENCH_BROWSER=1, then bench/browser_bench.mjs: the same in headless Chromium beside
#   native, PyTorch and JAX, and the lr-transfer sweep's wall time in the page.
#   Transformer Adam steps/s at widths 64, 128, 256 (bench/transformer_speed.sh): native
#   CPU and the page's wasm build against PyTorch CPU on one thread.
# CPU numbers are in thread/process CPU time (a shared machine's other jobs do not count;
# on a quiet machine it equals wall time); `uptime` is printed with them.
# numpy and torch are installed into a throwaway venv here (never project dependencies).
# Env: BENCH_VENV (default target/bench-venv), N (512), WIDTHS ("64 1024"), ROUNDS (5),
#      TF_WIDTHS ("64 128 256"),
#      SKIP_BUILD=1 to reuse built examples, BENCH_GPU=1 to time GPU training too,
#      BENCH_BROWSER=1 to run bench/browser_bench.mjs at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-512}
WIDTHS=${WIDTHS:-"64 1024"}
VENV=${BENCH_VENV:-target/bench-venv}
OUT=$(mktemp -d)

echo "== building"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --examples -q
# The kernel as the page ships it: simd128, and relaxed SIMD's multiply-add (fused on FMA
# hardware; the page's relaxed build, which node 20 runs with
# --experimental-wasm-relaxed-simd), each through the page's wasm-opt flags.
WASM_OPT=node_modules/.bin/wasm-opt
rustc --edition 2024 -O -C target-feature=+simd128 --target wasm32-unknown-unknown \
  --crate-type cdylib bench/wasm_sgemm.rs -o "$OUT/sgemm.wasm"
rustc --edition 2024 -O -C target-feature=+simd128,+relaxed-simd \
  --target wasm32-unknown-unknown --crate-type cdylib bench/wasm_sgemm.rs -o "$OUT/sgemm_relaxed.wasm"
if [ -x "$WASM_OPT" ]; then
  "$WASM_OPT" -O3 --enable-simd --low-memory-unused "$OUT/sgemm.wasm" -o "$OUT/sgemm.wasm"
  "$WASM_OPT" -O3 --enable-simd --low-memory-unused --enable-relaxed-simd "$OUT/sgemm_relaxed.wasm" -o "$OUT/sgemm_relaxed.wasm"
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q numpy threadpoolctl
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  # The PyPI wheel without its CUDA runtime packages runs on the CPU.
  "$VENV/bin/pip" install -q --no-deps torch
  "$VENV/bin/pip" install -q filelock typing-extensions sympy networkx jinja2 fsspec
fi

echo "== SGEMM ${N}^3, one thread (GFLOP/s, best of several, CPU time)    $(uptime)"
${CARGO_TARGET_DIR:-target}/release/examples/bench_sgemm "$N" 10 | tee "$OUT/sgemm.txt"
node --no-liftoff bench/wasm_sgemm.mjs "$OUT/sgemm.wasm" "$N" 8 | tee -a "$OUT/sgemm.txt"
node --no-liftoff --experimental-wasm-relaxed-simd bench/wasm_sgemm.mjs \
  "$OUT/sgemm_relaxed.wasm" "$N" 8 wasm_relaxed_simd | tee -a "$OUT/sgemm.txt" ||
  echo "# this node cannot run relaxed-simd"
# OPENBLAS_CORETYPE / L2_SIZE slow a current numpy; unset both for this command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
  "$VENV/bin/python" bench/numpy_sgemm.py "$N" 10 | tee -a "$OUT/sgemm.txt"
# Each kernel against numpy and against the ceiling of the instructions it can use:
# simd128 = 128-bit multiply + add, relaxed-simd = 128-bit FMA, native = 512-bit FMA.
awk '/^numpy_openblas/ {np=$2} /^# roofline simd128_mul_add/ {r128=$4}
  /^# roofline fma_128bit/ {f128=$4} /^# roofline fma_512bit/ {f512=$4}
  !/^#/ {v[$1]=$2} END {
  for (k in v) if (np > 0) {
    roof = (k ~ /^wasm_simd128/ || k ~ /^ours_portable/) ? r128 : (k ~ /relaxed/ ? f128 : f512)
    if (k ~ /^wgsl/) roof = 0
    printf "  %-40s %8.2f GFLOP/s  %.2fx numpy", k, v[k], v[k]/np
    if (roof > 0) printf "  %3.0f%% of its roofline (%.1f)", 100 * v[k] / roof, roof
    printf "\n" } }' "$OUT/sgemm.txt"

echo "== the training step's products, native kernel vs matrixmultiply (interleaved)    $(uptime)"
${CARGO_TARGET_DIR:-target}/release/examples/bench_shapes $WIDTHS

echo "== MLP full-batch GD steps/s (D=16, depth 3, P=256), one thread, CPU time    $(uptime)"
# Ours and torch alternate for ROUNDS rounds (which goes first alternates too); each
# round's ratio compares two runs seconds apart, and the median ratio is reported: this
# machine's speed drifts by ~30% over tens of seconds, for both programs alike.
"$VENV/bin/python" -c "import torch; print('# torch', torch.__version__, 'one thread')" >&2
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for w in $WIDTHS; do
  steps=$(( w >= 1024 ? 30 : 2000 ))
  run_ours() { ${CARGO_TARGET_DIR:-target}/release/examples/bench_train "$w" "$steps" cpu | awk '{print $2}'; }
  run_torch() { OMP_NUM_THREADS=1 "$VENV/bin/python" bench/torch_train.py "$w" "$steps" | awk '/^torch/ {print $2}'; }
  ours_all="" torch_all="" ratios=""
  for r in $(seq "${ROUNDS:-5}"); do
    if (( r % 2 )); then o=$(run_ours); t=$(run_torch); else t=$(run_torch); o=$(run_ours); fi
    q=$(awk -v a="$o" -v b="$t" 'BEGIN {printf "%.2f", a/b}')
    echo "  round $r width $w: ours $o torch $t steps/s: ${q}x" >&2
    ours_all="$ours_all $o" torch_all="$torch_all $t" ratios="$ratios $q"
  done
  ours=$(echo "$ours_all" | median) torch=$(echo "$torch_all" | median) ratio=$(echo "$ratios" | median)
  echo "  width $w: ratios per round$ratios" >&2
  # the same training on matrixmultiply's kernels (the native backend picks ours)
  SCALING_PLAYGROUND_CPU_GEMM=matrixmultiply \
    ${CARGO_TARGET_DIR:-target}/release/examples/bench_train "$w" "$steps" cpu |
    sed 's/^train_/matrixmultiply_train_/' >&2
  # GPU training only on request: on a software adapter (lavapipe) width 1024 takes minutes.
  if [ -n "${BENCH_GPU:-}" ]; then
    ${CARGO_TARGET_DIR:-target}/release/examples/bench_train "$w" "$steps" gpu >&2 || true
  fi
  # the page's own wasm builds (dist/, from `make build`), when there are any
  wasm=0
  if [ -f dist/scaling-playground_bg.wasm ]; then
    wasm=$(node --no-liftoff bench/wasm_train.mjs dist "$w" "$steps" 2 | tee >(cat >&2) | awk '{print $2}')
    if [ -f dist/relaxed/scaling-playground_bg.wasm ]; then
      node --no-liftoff --experimental-wasm-relaxed-simd bench/wasm_train.mjs dist "$w" "$steps" 2 \
        dist/relaxed/scaling-playground_bg.wasm | sed 's/^wasm_train/wasm_relaxed_simd_train/' >&2
    fi
  else
    echo "# no dist/ build: run make build for the wasm row" >&2
  fi
  awk -v w="$w" -v a="$ours" -v b="$torch" -v c="$wasm" -v q="$ratio" \
    'BEGIN {printf "  width %5d: ours native %9.1f (%.2fx torch, median of the rounds'"'"' ratios)  ours wasm %9.1f (%.2fx torch)  torch %9.1f (medians)\n", w, a, q, c, c/b, b}'
done

# the tiny transformer against PyTorch (its own script, so that it can run alone)
bench/transformer_speed.sh
if [ -n "${BENCH_BROWSER:-}" ]; then
  echo "== the page in headless Chromium (bench/browser_bench.mjs)    $(uptime)"
  SKIP_BUILD=1 node bench/browser_bench.mjs
fi
