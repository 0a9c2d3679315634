#!/usr/bin/env bash
# Transformer Adam steps/s, one thread, CPU time (bench/README.md, "Transformer"): the
# model of bench/transformer_bench.json (4 heads, depth 2, context 16, batch 16, the
# character corpus) at widths TF_WIDTHS, ours natively (examples/bench_transformer.rs)
# against PyTorch CPU on one thread (bench/torch_transformer.py: attention as plain
# batched products and a softmax, our ops, and torch's fused scaled_dot_product_attention),
# and the page's wasm build under node (bench/wasm_train.mjs) when dist/ exists.
# Ours and torch alternate for ROUNDS rounds (which goes first alternates too); each
# round's ratio compares runs seconds apart, and the median ratio is reported.
# bench/run.sh runs this last; alone it needs the examples built
# (cargo build --release --examples) and torch in BENCH_VENV.
# Env: BENCH_VENV (default target/bench-venv), TF_WIDTHS ("64 128 256"), ROUNDS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BENCH_VENV:-target/bench-venv}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

echo "== transformer Adam steps/s (width N, 4 heads, depth 2, context 16, batch 16), one thread, CPU time    $(uptime)"
for w in ${TF_WIDTHS:-64 128 256}; do
  steps=$(( 19200 / w ))  # 300 steps at width 64: about a second of ours at every width
  run_ours() {
    RAYON_NUM_THREADS=1 SCALING_PLAYGROUND_DEVICE=cpu \
      "${CARGO_TARGET_DIR:-target}/release/examples/bench_transformer" "$w" "$steps" | awk '{print $2}'
  }
  run_torch() {
    OMP_NUM_THREADS=1 "$VENV/bin/python" bench/torch_transformer.py "$w" "$steps" "$1" |
      awk '/^torch/ {print $2}'
  }
  ours_all="" torch_all="" sdpa_all="" ratios="" sdpa_ratios=""
  for r in $(seq "${ROUNDS:-5}"); do
    if (( r % 2 )); then o=$(run_ours); t=$(run_torch matched); f=$(run_torch sdpa)
    else f=$(run_torch sdpa); t=$(run_torch matched); o=$(run_ours); fi
    q=$(ratio "$o" "$t") qf=$(ratio "$o" "$f")
    echo "  round $r width $w: ours $o torch $t (sdpa $f) steps/s: ${q}x (${qf}x)" >&2
    ours_all="$ours_all $o" torch_all="$torch_all $t" sdpa_all="$sdpa_all $f"
    ratios="$ratios $q" sdpa_ratios="$sdpa_ratios $qf"
  done
  echo "  width $w: ratios per round$ratios (sdpa$sdpa_ratios)" >&2
  # the page's own wasm build (dist/, from `make build`), best of 2
  wasm=0
  if [ -f dist/scaling-playground_bg.wasm ]; then
    wasm=$(node --no-liftoff bench/wasm_train.mjs dist "$w" "$steps" 2 bench/transformer_bench.json |
      tee >(cat >&2) | awk '{print $2}')
  else
    echo "# no dist/ build: run make build for the wasm row" >&2
  fi
  awk -v w="$w" -v a="$(echo "$ours_all" | median)" -v b="$(echo "$torch_all" | median)" \
    -v f="$(echo "$sdpa_all" | median)" -v q="$(echo "$ratios" | median)" \
    -v qf="$(echo "$sdpa_ratios" | median)" -v c="$wasm" 'BEGIN {
    printf "  width %4d: ours native %7.1f (%.2fx torch, %.2fx torch sdpa: median ratios)  ours wasm %7.1f (%.2fx torch)  torch %7.1f, sdpa %7.1f (medians)\n", w, a, q, qf, c, c/b, b, f}'
done
echo "  $(uptime)"
