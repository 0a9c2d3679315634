#!/usr/bin/env bash
# The relaxed-SIMD build of the wasm core, beside Trunk's simd128 build: the same crate
# compiled with `-C target-feature=+simd128,+relaxed-simd` (the GEMM kernel's fused
# multiply-add, src/packed_gemm.rs), run through wasm-bindgen and wasm-opt like
# Trunk's, into relaxed/scaling-playground_bg.wasm of the page. The page fetches one of
# the two at load (www/wasm-build.js). Both builds share the page's one JS glue file:
# wasm-bindgen's JS depends only on the exported API, and this script checks that it is
# byte for byte the glue Trunk made.
#
# Trunk runs it after every build (Trunk.toml, [[hooks]] post_build), so `trunk build`
# and `trunk serve` (make build, make serve) both ship both builds. By hand it writes
# into dist/. Idempotent: cargo skips a fresh build, and wasm-bindgen and wasm-opt run
# only when the compiled module changed (their output is kept in the target directory).
# Its own target directory (<target>/relaxed-simd) keeps the simd128 build's artifacts
# valid: RUSTFLAGS differ, so sharing one would rebuild everything each time.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[relaxed-simd] %s\n' "$*"; }
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

STAGE=${TRUNK_STAGING_DIR:-dist}
PROFILE=${TRUNK_PROFILE:-release}
TARGET_DIR="${CARGO_TARGET_DIR:-target}/relaxed-simd"
OUT="$TARGET_DIR/page-$PROFILE"
# the same wasm-opt level and flags as index.html's data-wasm-opt / data-wasm-opt-params
# (Trunk's build), plus relaxed SIMD
WASM_OPT_FLAGS=(-O3 --enable-simd --low-memory-unused --enable-relaxed-simd)

cargo_profile=()
profile_dir=debug
if [ "$PROFILE" = release ]; then cargo_profile=(--release); profile_dir=release; fi
say "cargo build --lib ${cargo_profile[*]} --target wasm32-unknown-unknown, RUSTFLAGS=-C target-feature=+simd128,+relaxed-simd, target dir $TARGET_DIR"
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" cargo build --lib "${cargo_profile[@]}" \
  --target wasm32-unknown-unknown --target-dir "$TARGET_DIR"
WASM="$TARGET_DIR/wasm32-unknown-unknown/$profile_dir/scaling_playground.wasm"

if [ ! -f "$OUT/scaling-playground_bg.wasm" ] || [ "$WASM" -nt "$OUT/scaling-playground_bg.wasm" ]; then
  mkdir -p "$OUT/bindgen"
  say "wasm-bindgen --target web -> $OUT/bindgen"
  wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name scaling-playground "$WASM"
  say "wasm-opt ${WASM_OPT_FLAGS[*]} -> $OUT/scaling-playground_bg.wasm"
  wasm-opt "${WASM_OPT_FLAGS[@]}" "$OUT/bindgen/scaling-playground_bg.wasm" -o "$OUT/scaling-playground_bg.wasm.tmp"
  mv "$OUT/scaling-playground_bg.wasm.tmp" "$OUT/scaling-playground_bg.wasm"
else
  say "wasm-bindgen and wasm-opt: up to date ($OUT)"
fi

if [ -f "$STAGE/scaling-playground.js" ] && ! cmp -s "$OUT/bindgen/scaling-playground.js" "$STAGE/scaling-playground.js"; then
  echo "[relaxed-simd] error: the relaxed build's JS glue differs from $STAGE/scaling-playground.js;" \
    "the page loads one glue file for both builds (www/wasm-build.js), so this needs a glue per build" >&2
  exit 1
fi
mkdir -p "$STAGE/relaxed"
cp "$OUT/scaling-playground_bg.wasm" "$STAGE/relaxed/scaling-playground_bg.wasm"
say "$STAGE/relaxed/scaling-playground_bg.wasm ($(wc -c < "$STAGE/relaxed/scaling-playground_bg.wasm") bytes)"
