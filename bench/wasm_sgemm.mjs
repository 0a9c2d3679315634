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
const a = w.alloc_f32(n * n), b = w.alloc_f32(n * n), c = w.alloc_f32(n * n);
const fill = (ptr, mul) => {
  const v = new Float32Array(w.memory.buffer, ptr, n * n);
  for (let i = 0; i < n * n; i++) v[i] = ((i * mul) % 1000) * 1e-3;
};
fill(a, 7919);
fill(b, 104729);
w.matmul(n, a, b, c);
let best = Infinity;
for (let r = 0; r < reps; r++) {
  const t = now();
  w.matmul(n, a, b, c);
  best = Math.min(best, now() - t);
}
console.log(`${label} ${(2 * n ** 3 / best / 1e9).toFixed(2)}`);
if (w.dmatmul) {
  // The f64 product (the theory's, through linalg::gemm in the page).
  const da = w.alloc_f64(n * n), db = w.alloc_f64(n * n), dc = w.alloc_f64(n * n);
  const fill64 = (ptr, mul) => {
    const v = new Float64Array(w.memory.buffer, ptr, n * n);
    for (let i = 0; i < n * n; i++) v[i] = ((i * mul) % 1000) * 1e-3;
  };
  fill64(da, 7919);
  fill64(db, 104729);
  w.dmatmul(n, da, db, dc);
  let best64 = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = now();
    w.dmatmul(n, da, db, dc);
    best64 = Math.min(best64, now() - t);
  }
  console.log(`${label}_f64 ${(2 * n ** 3 / best64 / 1e9).toFixed(2)}`);
}
