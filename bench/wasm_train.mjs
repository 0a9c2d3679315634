// Training steps per second of the page's own wasm build (dist/, simd128, or the
// relaxed-SIMD build dist/relaxed/scaling-playground_bg.wasm given as WASM). By default
// the setting of examples/bench_train.rs: MLP full-batch GD, D = 16, depth 3, P = 256,
// ReLU, muP, SEEDS seeds (default one) trained as one batched ensemble; with CONFIG,
// that config file (e.g. bench/transformer_bench.json, the setting of
// examples/bench_transformer.rs) with its width, steps and record
// interval set from the arguments. Timed in process CPU time (best of `rounds`), so
// other jobs on a shared machine drop out, between the training loop's first and last
// progress reports: the steady-state rate, with setup left out as bench/torch_train.py
// and bench/torch_transformer.py leave it out.
//   node bench/wasm_train.mjs DIST_DIR WIDTH STEPS [ROUNDS] [SEEDS] [CONFIG.json] [WASM.wasm]
//   (node 20 runs the relaxed build with --experimental-wasm-relaxed-simd)
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dist, width, steps, rounds = "3", ...extra] = process.argv.slice(2);
const configFile = extra.find((a) => a.endsWith(".json"));
const wasm = extra.find((a) => a.endsWith(".wasm"));
const seeds = extra.find((a) => /^\d+$/.test(a)) ?? "1";
const glue = await import(pathToFileURL(path.resolve(dist, "scaling-playground.js")).href);
glue.initSync({ module: fs.readFileSync(wasm ? path.resolve(wasm) : path.resolve(dist, "scaling-playground_bg.wasm")) });

const mlp = {
  kind: "train",
  data: { task: "teacher", dim: 16, train: 256, test: 0, noise: 0, seed: 1 },
  model: { arch: "mlp", width: Number(width), depth: 3, activation: "relu" },
  param: { kind: "mup", gamma0: 1 },
  optimizer: { kind: "gd", lr: 0.1 },
  steps: Number(steps), seeds: Number(seeds), seed: 0,
  observe: { every: Number(steps), test_loss: false },
};
const config = configFile ? JSON.parse(fs.readFileSync(configFile, "utf8")) : mlp;
if (configFile) {
  config.model.width = Number(width);
  config.steps = Number(steps);
  config.observe = { ...config.observe, every: Number(steps) };
}
const text = JSON.stringify(config);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1e-6; };
let best = 0, loss;
for (let r = 0; r < Number(rounds); r++) {
  const ticks = [];
  const rec = JSON.parse(glue.run(text, (stage, done, total) => {
    if (stage === "train" && done < total) ticks.push([done, cpu()]);
  }));
  if (ticks.length < 2) throw new Error("fewer than two progress reports from the training loop");
  const [[d0, t0], [d1, t1]] = [ticks[0], ticks.at(-1)];
  best = Math.max(best, (d1 - d0) / (t1 - t0));
  loss = rec.result.train_loss.at(-1)[0];
}
if (!Number.isFinite(loss)) throw new Error(`the wasm run did not train: loss ${loss}`);
console.log(`wasm_train ${best.toFixed(1)} steps/s (${glue.cpu_build ? glue.cpu_build() : "simd128"}, ${config.kind} width ${width}, ${config.seeds} seeds, ${steps} steps, steady state, final loss ${loss.toExponential(3)})`);
