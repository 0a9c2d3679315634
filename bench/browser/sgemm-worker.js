// SGEMM in a Web Worker of the benchmark page: bench/wasm_sgemm.rs's bare module (the
// page's kernel, built by bench/browser_bench.mjs with the page's wasm-opt flags).
// {bytes, n, reps} -> {best, total}: seconds of the fastest rep and of all reps (wall),
// after a self-test and warm-up reps, so the optimising tier's code is timed.
self.onmessage = async ({ data: { bytes, n, reps } }) => {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const w = instance.exports;
  const bad = w.self_test();
  const [a, b, c] = [w.alloc_f32(n * n), w.alloc_f32(n * n), w.alloc_f32(n * n)];
  for (const [p, mul] of [[a, 7919], [b, 104729]]) {
    const v = new Float32Array(w.memory.buffer, p, n * n);
    for (let i = 0; i < n * n; i++) v[i] = ((i * mul) % 1000) * 1e-3;
  }
  for (let r = 0; r < 5; r++) w.matmul(n, a, b, c);
  postMessage({ type: "warm" });
  // the driver reads this thread's CPU time between "warm" and the result
  await new Promise((r) => { self.onmessage = r; });
  let best = Infinity;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    w.matmul(n, a, b, c);
    best = Math.min(best, performance.now() - t);
  }
  postMessage({ type: "done", bad, best: best / 1000, total: (performance.now() - t0) / 1000 });
};
