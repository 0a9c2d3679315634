// Times the SGEMM wasm module (bench/wasm_sgemm.rs) under node, one thread, after its
// self-test: best of `reps` in process CPU time. Run node with --no-liftoff so that the
// optimising compiler's code is timed (a browser tiers up to it after the first calls).
// Usage: node --no-liftoff wasm_sgemm.mjs module.wasm [n] [reps] [label]
import { readFileSync } from "node:fs";

// Seconds of CPU time of this process, so that other jobs on a shared machine do not
// count (the wasm runs on the main thread; compilation is done before timing starts).
const now = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const [file, nArg, repsArg, labelArg] = process.argv.slice(2);
const n = Number(nArg ?? 512);
const reps = Number(repsArg ?? 5);
const label = labelArg ?? "wasm_simd128";
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
const w = instance.exports;
if (w.self_test) {
  const bad = w.self_test();
  if (bad !== 0) throw new Error(`${label}: ${bad} entries differ from the naive product`);
  console.log(`# ${label} self-test: ragged shapes, all transposes exact`);
}
/** GFLOP/s of the module's n x n product `matmul` on arrays from `alloc` (element type
 * `Array`): best of `reps` in CPU time, after one warm-up call. */
function rate(matmul, alloc, Array) {
  const [a, b, c] = [alloc(n * n), alloc(n * n), alloc(n * n)];
  for (const [ptr, mul] of [[a, 7919], [b, 104729]]) {
    const v = new Array(w.memory.buffer, ptr, n * n);
    for (let i = 0; i < n * n; i++) v[i] = ((i * mul) % 1000) * 1e-3;
  }
  matmul(n, a, b, c);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = now();
    matmul(n, a, b, c);
    best = Math.min(best, now() - t);
  }
  return (2 * n ** 3 / best / 1e9).toFixed(2);
}
console.log(`${label} ${rate(w.matmul, w.alloc_f32, Float32Array)}`);
// the f64 product (the theory's, through linalg::gemm in the page)
if (w.dmatmul) console.log(`${label}_f64 ${rate(w.dmatmul, w.alloc_f64, Float64Array)}`);
