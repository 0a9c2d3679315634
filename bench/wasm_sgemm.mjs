// Times the simd128 SGEMM wasm module (bench/wasm_sgemm.rs) under node, one thread.
// Usage: node wasm_sgemm.mjs module.wasm [n] [reps]
import { readFileSync } from "node:fs";

const [file, nArg, repsArg] = process.argv.slice(2);
const n = Number(nArg ?? 512);
const reps = Number(repsArg ?? 5);
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
const w = instance.exports;
const a = w.alloc_f32(n * n), b = w.alloc_f32(n * n), c = w.alloc_f32(n * n);
const fill = (ptr, mul) => {
  const v = new Float32Array(w.memory.buffer, ptr, n * n);
  for (let i = 0; i < n * n; i++) v[i] = ((i * mul) % 1000) * 1e-3;
};
fill(a, 7919);
fill(b, 104729);
w.matmul(n, a, b, c);
const t = performance.now();
for (let r = 0; r < reps; r++) w.matmul(n, a, b, c);
const s = (performance.now() - t) / 1000 / reps;
console.log(`wasm_simd128 ${(2 * n ** 3 / s / 1e9).toFixed(2)}`);
