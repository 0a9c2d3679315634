// The browser benchmark's page: the page's own wasm builds (dist/ and dist/relaxed/),
// run through the page's own worker pool (www/pool.js, www/worker.js), timed in the
// browser. bench/browser_bench.mjs calls `window.bench.*` and prints the table.
//   train({build, device, width, steps, workers}): one full-batch GD run of the bench MLP
//     (D = 16, depth 3, P = 256, ReLU, muP, one seed) in a pool of `workers` (1), split
//     over them by hidden units when there are several (the core's train_workers); the steady-state
//     steps/s between the training loop's first and last progress reports (CPU), or the
//     whole run's (WebGPU: the reports say when work was recorded, not done)
//   sweep({build, widths, workers}): the lr-transfer-width preset at those widths, split
//     into shards across `workers` workers and merged, as the page runs it; wall seconds
//   sgemm({url, n, reps}): the bare kernel module in a worker (sgemm-worker.js), warmed
//     up; then window.__sgemm.go() times the reps and window.__sgemm.stop() ends the worker
// Wall time (a browser has no thread CPU clock): the driver interleaves the rounds.
import init, * as core from "../scaling-playground.js";
import { Pool } from "../www/pool.js";

const BUILDS = {
  simd128: new URL("../scaling-playground_bg.wasm", location.href),
  "relaxed-simd": new URL("../relaxed/scaling-playground_bg.wasm", location.href),
};
const modules = {};
const compiled = (build) => (modules[build] ??= WebAssembly.compileStreaming(fetch(BUILDS[build])));
const pools = {};
/** One pool per (build, size), kept warm across calls as the page keeps its own. */
function pool(build, size) {
  const key = `${build}/${size}`;
  if (!pools[key]) pools[key] = new Pool(size, compiled(build));
  return pools[key];
}

function trainConfig(width, steps) {
  return {
    kind: "train",
    data: { task: "teacher", dim: 16, train: 256, test: 0, noise: 0, seed: 1 },
    model: { arch: "mlp", width, depth: 3, activation: "relu" },
    param: { kind: "mup", gamma0: 1 },
    optimizer: { kind: "gd", lr: 0.1 },
    steps, seeds: 1, seed: 0,
    observe: { every: steps, test_loss: false },
  };
}

async function train({ build, device = "cpu", width, steps, workers = 1 }) {
  const p = pool(build, workers);
  p.device = device;
  const ticks = [];
  const cfg = trainConfig(width, steps);
  const split = workers > 1 ? core.train_workers(JSON.stringify(cfg)) : 1;
  const t0 = performance.now();
  const rec = await p.run(cfg, (stage, done, total) => {
    if (stage === "train" && done < total) ticks.push([done, performance.now()]);
  }, undefined, undefined, 0, split);
  const wall = (performance.now() - t0) / 1000;
  let rate;
  if (device === "cpu") {
    if (ticks.length < 2) throw new Error("fewer than two progress reports");
    const [[d0, t1], [d1, t2]] = [ticks[0], ticks.at(-1)];
    rate = (d1 - d0) / ((t2 - t1) / 1000);
  } else rate = steps / wall;
  return { rate, wall, loss: rec.result.train_loss.at(-1)[0], backend: rec.result.backend, workerBuild: p.build };
}

async function sweep({ build, widths, workers }) {
  const preset = JSON.parse(core.presets()).find((q) => q.name === "lr-transfer-width").config;
  const cfg = { ...preset, widths };
  const text = JSON.stringify(cfg);
  const p = pool(build, workers);
  p.device = "cpu";
  const cells = core.cells(text);
  const n = Math.min(p.size, cells);
  const t0 = performance.now();
  const parts = await Promise.all([...Array(n).keys()].map((i) => p.run(cfg, null, [i, n])));
  const rec = JSON.parse(core.merge(JSON.stringify(parts.map(({ __json, ...r }) => r))));
  const wall = (performance.now() - t0) / 1000;
  return { wall, cells, shards: n, workers: p.workers.length, workerBuild: p.build, best: rec.result.best_lr ?? null };
}

/** SGEMM n^3 in a fresh worker: `url` is a bare kernel module (bench/wasm_sgemm.rs).
 * Resolves `{warm, done}`: call `warm` (after reading the CPU clock) to start the timed reps. */
async function sgemm({ url, n, reps }) {
  const bytes = await (await fetch(url)).arrayBuffer();
  const w = new Worker(new URL("./sgemm-worker.js", import.meta.url));
  const msg = () => new Promise((r) => { w.onmessage = (e) => r(e.data); });
  w.postMessage({ bytes, n, reps });
  await msg();
  window.__sgemm = { go: () => { const done = msg(); w.postMessage("go"); return done; }, stop: () => w.terminate() };
  return "warm";
}

await init({ module_or_path: await compiled("simd128") });
window.bench = {
  train, sweep, sgemm, relaxed: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11])),
  hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent,
};
document.getElementById("status").textContent = "ready";
