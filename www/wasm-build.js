// Which of the page's two wasm builds this browser runs, decided here and nowhere else:
// the relaxed-SIMD build (relaxed/scaling-playground_bg.wasm: products with fused
// multiply-adds) where the engine validates a relaxed-SIMD instruction, else the simd128
// build. Both use the one JS glue file (scripts/build-relaxed.sh checks that it is the
// same). index.html loads this module first, so the chosen build is fetched and compiled
// as early as the page allows; core.js instantiates it on the main thread and the pool
// hands the compiled module to every worker (pool.js -> worker.js), so a page load
// fetches one build, once. `?wasm=simd128` forces the simd128 build (tests, benchmarks).

/** `(func (param v128 v128 v128) (result v128) f32x4.relaxed_madd)`: valid only where
 * the engine has relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // code: local.get 0, 1, 2
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd (0xfd 0x105), end
]);

/** Whether this engine validates relaxed SIMD. */
export function hasRelaxedSimd() {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

const forced = new URLSearchParams(location.search).get("wasm");

/** The build this page load runs: `name` as the core's `cpu_build()` says it
 * ("relaxed-simd" | "simd128") and its wasm `url`. */
export const BUILD = forced !== "simd128" && hasRelaxedSimd()
  ? { name: "relaxed-simd", url: new URL("../relaxed/scaling-playground_bg.wasm", import.meta.url) }
  : { name: "simd128", url: new URL("../scaling-playground_bg.wasm", import.meta.url) };

/** The compiled WebAssembly.Module (streaming compile; plain compile as a fallback). */
export const modulePromise = WebAssembly.compileStreaming(fetch(BUILD.url))
  .catch(() => fetch(BUILD.url).then((r) => r.arrayBuffer()).then((b) => WebAssembly.compile(b)));
