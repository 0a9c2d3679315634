// The page's two wasm builds give the same numbers (make test-wasm-builds, in make test):
// 1. the GEMM kernel (src/packed_gemm.rs, as bench/wasm_sgemm.rs's bare module)
//    built for simd128 and for relaxed SIMD, each against a float64 naive product within
//    the rounding bound 2 k eps sum_l |a_il b_lj| (ragged shapes, all four transposes,
//    alpha and beta), and the two builds against each other; on a CPU with FMA the
//    relaxed build must differ from simd128 somewhere (its multiply-adds are fused);
// 2. the shipped builds (dist/scaling-playground_bg.wasm and
//    dist/relaxed/scaling-playground_bg.wasm, from make build) through the page's own glue:
//    each says which it is (cpu_build), and a training run and a sweep give the same
//    numbers (losses, outputs) within 1e-4 relative (the CPU/GPU conformance tolerance).
// Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd: without it
// this script runs itself again with the flag.
//   node tests/wasm_builds.mjs            (needs rustc's wasm32 target and a built dist/)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
// the page's own probe (www/wasm-build.js): its bytes, comments left out
const probe = fs.readFileSync(path.join(ROOT, "www/wasm-build.js"), "utf8")
  .match(/RELAXED_PROBE = new Uint8Array\(\[([^\]]*)\]/)[1].replace(/\/\/[^\n]*/g, "");
if (!WebAssembly.validate(new Uint8Array(probe.match(/0x[0-9a-f]{2}/g).map(Number)))) {
  if (process.execArgv.includes("--experimental-wasm-relaxed-simd")) {
    console.error("FAIL: this node cannot validate relaxed SIMD even with --experimental-wasm-relaxed-simd");
    process.exit(1);
  }
  console.log("# this node validates relaxed SIMD only with --experimental-wasm-relaxed-simd: rerunning with it");
  const child = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"}  ${what}`);
  if (!ok) failures++;
};

// ------------------------------------------------------------------ 1. the kernel
const tmp = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), "wasm-builds-test");
fs.mkdirSync(tmp, { recursive: true });
const kernel = {};
for (const [name, features] of [["simd128", "+simd128"], ["relaxed-simd", "+simd128,+relaxed-simd"]]) {
  const out = path.join(tmp, `sgemm-${name}.wasm`);
  const args = ["--edition", "2024", "-O", "-C", `target-feature=${features}`, "--target", "wasm32-unknown-unknown",
    "--crate-type", "cdylib", path.join(ROOT, "bench/wasm_sgemm.rs"), "-o", out];
  console.log(`# rustc ${args.join(" ")}`);
  execFileSync("rustc", args, { stdio: "inherit" });
  kernel[name] = (await WebAssembly.instantiate(fs.readFileSync(out), {})).instance.exports;
}
check(kernel["simd128"].relaxed_simd() === 0 && kernel["relaxed-simd"].relaxed_simd() === 1,
  "the kernel modules say which build they are");
for (const [name, w] of Object.entries(kernel)) check(w.self_test() === 0, `${name} kernel exact on integer data, f32 and f64 (ragged shapes, all transposes)`);

// a fixed pseudo-random stream (xorshift32), values in [-1, 1)
let state = 2463534242;
const rand = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 31 - 1; };
const EPS = 2 ** -24;
let differing = 0, entries = 0, worst = { simd128: 0, "relaxed-simd": 0, pair: 0 };
for (const [m, n, k] of [[1, 1, 1], [5, 9, 3], [67, 13, 300], [64, 64, 256], [97, 33, 517], [256, 64, 64], [3, 130, 1000]]) {
  for (const [ta, tb] of [[0, 0], [1, 1], [1, 0], [0, 1]]) {
    const A = Float32Array.from({ length: m * k }, rand), B = Float32Array.from({ length: k * n }, rand);
    const C0 = Float32Array.from({ length: m * n }, rand);
    const [alpha, beta] = [0.75, -0.5];
    const at = (i, l) => (ta ? A[l * m + i] : A[i * k + l]), bt = (l, j) => (tb ? B[j * k + l] : B[l * n + j]);
    const got = {};
    for (const [name, w] of Object.entries(kernel)) {
      const a = w.alloc_f32(m * k), b = w.alloc_f32(k * n), c = w.alloc_f32(m * n);
      new Float32Array(w.memory.buffer, a, m * k).set(A);
      new Float32Array(w.memory.buffer, b, k * n).set(B);
      new Float32Array(w.memory.buffer, c, m * n).set(C0);
      w.gemm(m, n, k, ta, tb, alpha, a, b, beta, c);
      got[name] = Float32Array.from(new Float32Array(w.memory.buffer, c, m * n));
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let exact = 0, mag = 0;
        for (let l = 0; l < k; l++) { exact += at(i, l) * bt(l, j); mag += Math.abs(at(i, l) * bt(l, j)); }
        const want = alpha * exact + beta * C0[i * n + j];
        // the bound of a k-term f32 sum (gamma_k), scaled by alpha, plus the beta C term's rounding
        const bound = 2 * (k + 2) * EPS * (Math.abs(alpha) * mag + Math.abs(beta * C0[i * n + j])) + 1e-30;
        const s = got["simd128"][i * n + j], r = got["relaxed-simd"][i * n + j];
        worst.simd128 = Math.max(worst.simd128, Math.abs(s - want) / bound);
        worst["relaxed-simd"] = Math.max(worst["relaxed-simd"], Math.abs(r - want) / bound);
        worst.pair = Math.max(worst.pair, Math.abs(r - s) / (2 * bound));
        entries++;
        if (r !== s) differing++;
      }
    }
  }
}
const fmt = (x) => x.toFixed(3);
check(worst.simd128 <= 1, `simd128 kernel vs float64 naive within the rounding bound (worst ${fmt(worst.simd128)} of it)`);
check(worst["relaxed-simd"] <= 1, `relaxed-SIMD kernel vs float64 naive within the rounding bound (worst ${fmt(worst["relaxed-simd"])} of it)`);
check(worst.pair <= 1, `relaxed-SIMD vs simd128 kernel within twice the bound (worst ${fmt(worst.pair)} of it)`);
const fma = os.platform() === "linux" && os.arch() === "x64"
  ? / fma( |$)/m.test(fs.readFileSync("/proc/cpuinfo", "utf8")) : null;
if (fma === true) {
  check(differing > 0, `the relaxed build fuses its multiply-adds on this FMA CPU (${differing} of ${entries} entries differ from simd128)`);
} else {
  console.log(`# ${differing} of ${entries} entries differ from simd128 (FMA on this CPU: ${fma ?? "unknown"}, not checked)`);
}

// ------------------------------------------------------------------ 2. the shipped builds
const DIST = path.join(ROOT, "dist");
const glue = path.join(DIST, "scaling-playground.js");
const builds = [["simd128", path.join(DIST, "scaling-playground_bg.wasm")], ["relaxed-simd", path.join(DIST, "relaxed/scaling-playground_bg.wasm")]];
for (const [, file] of builds) {
  if (!fs.existsSync(file) || !fs.existsSync(glue)) { console.error(`FAIL: ${file} missing: run make build first`); process.exit(1); }
}
const cores = {};
for (const [name, file] of builds) {
  // one instance of the glue per build (the query makes it a separate module)
  const core = await import(`${pathToFileURL(glue).href}?build=${name}`);
  core.initSync({ module: fs.readFileSync(file) });
  cores[name] = core;
  check(core.cpu_build() === name, `${path.relative(ROOT, file)} says it is the ${name} build (cpu_build() = ${core.cpu_build()})`);
}
const noop = () => {};
const train = JSON.stringify({
  kind: "train",
  data: { task: "teacher", dim: 16, train: 256, test: 64, noise: 0, seed: 1 },
  model: { arch: "mlp", width: 96, depth: 3, activation: "relu" },
  param: { kind: "mup", gamma0: 1 },
  optimizer: { kind: "gd", lr: 0.1 },
  steps: 60, seeds: 2, seed: 0, observe: { every: 10, test_loss: true },
});
const presets = JSON.parse(cores["simd128"].presets());
const sweep = presets.find((p) => p.name === "lr-transfer-width").config;
// two widths, and the rates well below divergence (near it the runs amplify any rounding
// difference, which is the physics, not a defect of either build)
sweep.widths = [32, 64];
sweep.lrs = sweep.lrs.filter((lr) => lr <= 0.13);
const sweepText = JSON.stringify(sweep);
// every number of a result, table by table (`backend` left out)
const tables = (rec) => Object.entries(rec.result).filter(([k]) => k !== "backend")
  .map(([k, v]) => [k, (JSON.stringify(v).match(/-?\d+\.?\d*(e[-+]?\d+)?/g) || []).map(Number)]);
for (const [what, text] of [["training run (width 96, depth 3, 2 seeds, 60 steps)", train], [`lr-transfer sweep (widths 32, 64, ${sweep.lrs.length} rates, SP and muP)`, sweepText]]) {
  const [s, r] = ["simd128", "relaxed-simd"].map((b) => tables(JSON.parse(cores[b].run(text, noop))));
  // relative to the entry, or to 1% of its table's largest entry for entries near zero
  // (a network's outputs cross zero)
  let worst = 0, count = 0, differ = 0, where = "";
  s.forEach(([key, sv], t) => {
    const rv = r[t][1];
    const scale = 0.01 * Math.max(...sv.map(Math.abs), 0);
    if (rv.length !== sv.length) { worst = Infinity; where = `${key}: ${sv.length} vs ${rv.length} numbers`; return; }
    sv.forEach((x, i) => {
      const e = Math.abs(x - rv[i]) / Math.max(Math.abs(x), Math.abs(rv[i]), scale, 1e-30);
      count++;
      if (x !== rv[i]) differ++;
      if (e > worst) { worst = e; where = key; }
    });
  });
  check(count > 10 && worst <= 1e-4,
    `${what}: the two builds within 1e-4 relative (${count} numbers, ${differ} differ, worst ${worst.toExponential(2)} in ${where || "-"})`);
}

console.log(failures ? `${failures} FAILED` : "wasm builds: all ok");
process.exit(failures ? 1 : 0);
