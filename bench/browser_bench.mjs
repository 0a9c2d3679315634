// The page measured in the browser: training steps/s of the page's own wasm builds
// (simd128 and relaxed SIMD, CPU; WebGPU on SwiftShader) in headless Chromium, beside
// native (examples/bench_train.rs), PyTorch on one thread (bench/torch_train.py) and JAX
// jit on one thread (bench/jax_train.py), on the same machine in the same run, rounds
// interleaved; then the wall time of the lr-transfer-width preset's sweep in the page's
// worker pool at widths 64..1024 and 64..2048. Not part of make test (timings).
//   node bench/browser_bench.mjs        (after make build; bench/run.sh calls it)
// First the SGEMM kernel (512^3, one thread) of both builds, under node --no-liftoff and in
// a Web Worker of the page.
// Env: ROUNDS (3), WIDTHS ("64 256 1024"), SPLIT_FROM (512: from this width, also one run
//      split over two workers, wall), SWEEPS ("1024 2048": the largest width of each
//      sweep, from 64 doubling; "" for none), TORCH_PY (/tmp/venv-tf/bin/python), JAX_PY
//      (/tmp/venv-jax/bin/python; a peer whose python is missing is left out), NO_GPU=1
//      (skip SwiftShader), SKIP_BUILD=1 (reuse the built examples/bench_train).
// Every CPU row is CPU time, so that other jobs on a shared machine do not count: native,
// torch and JAX time themselves (thread/process CPU time, as in bench/run.sh); a page has
// no CPU clock, so this script reads the CPU time of the browser's worker threads
// (/proc/<pid>/task/<tid>/stat of the threads named DedicatedWorker in the Chromium it
// launched) around each run: the whole run, setup included (a few ms against seconds).
// The page's own wall-clock steady-state rate is printed beside it. WebGPU and the sweeps
// are wall time (the sweeps' CPU time of all workers is printed with them); `uptime` too.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { launch } from "../tests/browser/harness.mjs";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const ROUNDS = Number(process.env.ROUNDS || 3);
const WIDTHS = (process.env.WIDTHS || "64 256 1024").split(/\s+/).map(Number);
const SWEEPS = (process.env.SWEEPS ?? "1024 2048").split(/\s+/).filter(Boolean).map(Number);
const STEPS = (w) => (w <= 64 ? 2000 : w <= 256 ? 300 : 30);
const SPLIT_FROM = Number(process.env.SPLIT_FROM || 512); // widths with a split-run row
const GPU_STEPS = (w) => (w <= 64 ? 20 : w <= 256 ? 4 : 2);
const uptime = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
const num = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };

for (const f of ["dist/scaling-playground_bg.wasm", "dist/relaxed/scaling-playground_bg.wasm"]) {
  if (!fs.existsSync(path.join(ROOT, f))) { console.error(`${f} missing: run make build first`); process.exit(1); }
}

// ---------------------------------------------------------------- the peers
if (!process.env.SKIP_BUILD) {
  console.log("== cargo build --release --example bench_train");
  execFileSync("cargo", ["build", "--release", "--example", "bench_train", "-q"], { cwd: ROOT, stdio: "inherit" });
}
const py = { torch: process.env.TORCH_PY || "/tmp/venv-tf/bin/python", jax: process.env.JAX_PY || "/tmp/venv-jax/bin/python" };
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
const rate = (out, re) => Number(out.match(re)?.[1] ?? NaN);
const peers = {
  native: (w) => rate(run(path.join(TARGET, "release/examples/bench_train"), [String(w), String(STEPS(w)), "cpu"]), /\] ([\d.]+) steps\/s/),
  torch: fs.existsSync(py.torch) ? (w) => rate(run(py.torch, ["bench/torch_train.py", String(w), String(STEPS(w))], { OMP_NUM_THREADS: "1" }), / ([\d.]+) steps\/s/) : null,
  jax: fs.existsSync(py.jax) ? (w) => rate(run(py.jax, ["bench/jax_train.py", String(w), String(STEPS(w))]), / ([\d.]+) steps\/s/) : null,
};
for (const [k, f] of Object.entries(peers)) if (!f) { console.log(`# ${k}: no python at ${py[k]}, left out`); delete peers[k]; }

// ---------------------------------------------------------------- CPU time of the browser's workers
const TICK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
/** CPU ticks of every DedicatedWorker thread of the processes this script started, by
 * thread id. */
function workerTicks() {
  const kids = {};
  for (const p of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      (kids[st.slice(st.lastIndexOf(")") + 2).split(" ")[1]] ??= []).push(p);
    } catch { /* gone */ }
  }
  const ticks = new Map();
  const walk = (pid) => {
    for (const c of kids[pid] || []) {
      try {
        for (const t of fs.readdirSync(`/proc/${c}/task`)) {
          if (fs.readFileSync(`/proc/${c}/task/${t}/comm`, "utf8").trim() !== "DedicatedWorker") continue;
          const st = fs.readFileSync(`/proc/${c}/task/${t}/stat`, "utf8");
          const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
          ticks.set(`${c}/${t}`, Number(f[11]) + Number(f[12])); // utime, stime
        }
      } catch { /* gone */ }
      walk(c);
    }
  };
  walk(String(process.pid));
  return ticks;
}
/** A clock of the workers' CPU time: `const t = workerClock(); ...; t()` gives the CPU
 * seconds the browser's worker threads ran in between (threads started in between count
 * from their start; a thread that ended in between is lost, so time only live workers). */
function workerClock() {
  const before = workerTicks();
  return () => {
    let sum = 0;
    for (const [k, v] of workerTicks()) sum += v - (before.get(k) ?? 0);
    return sum / TICK;
  };
}

// ---------------------------------------------------------------- the kernel modules
const SGEMM_N = 512;
const kdir = path.join(TARGET, "browser-bench");
fs.mkdirSync(kdir, { recursive: true });
for (const [name, features, extra] of [["simd128", "+simd128", []], ["relaxed-simd", "+simd128,+relaxed-simd", ["--enable-relaxed-simd"]]]) {
  const out = path.join(kdir, `sgemm-${name}.wasm`);
  run("rustc", ["--edition", "2024", "-O", "-C", `target-feature=${features}`, "--target", "wasm32-unknown-unknown", "--crate-type", "cdylib", "bench/wasm_sgemm.rs", "-o", out]);
  run(path.join(ROOT, "node_modules/.bin/wasm-opt"), ["-O3", "--enable-simd", "--low-memory-unused", ...extra, out, "-o", out]);
}
const gemm = {}; // gemm[build] = {node, chromium, chromiumWall}
for (const name of ["simd128", "relaxed-simd"]) {
  const args = ["--no-liftoff", ...(name === "relaxed-simd" ? ["--experimental-wasm-relaxed-simd"] : []), "bench/wasm_sgemm.mjs", path.join(kdir, `sgemm-${name}.wasm`), String(SGEMM_N), "10", name];
  (gemm[name] ??= {}).node = rate(run(process.execPath, args), / ([\d.]+)$/m);
}

// ---------------------------------------------------------------- the page
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json" };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const [root, rel] = url.pathname.startsWith("/bench/")
    ? [path.join(ROOT, "bench/browser"), url.pathname.slice("/bench/".length) || "index.html"]
    : url.pathname.startsWith("/sgemm/") ? [kdir, url.pathname.slice("/sgemm/".length)]
      : [path.join(ROOT, "dist"), url.pathname.slice(1) || "index.html"];
  const file = path.normalize(path.join(root, decodeURIComponent(rel)));
  if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": MIME[path.extname(file)] || "application/octet-stream" }).end(data);
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}/`;
const { browser } = await launch(process.env.NO_GPU ? [] : ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]);
const page = await (await browser.newContext()).newPage();
page.on("pageerror", (e) => console.log("# page error:", String(e)));
await page.goto(base + "bench/index.html");
await page.waitForFunction(() => window.bench, null, { timeout: 120_000 });
const info = await page.evaluate(() => ({ relaxed: window.bench.relaxed, hc: window.bench.hardwareConcurrency, ua: window.bench.userAgent }));
const builds = info.relaxed ? ["simd128", "relaxed-simd"] : ["simd128"];
console.log(`# ${info.ua}; relaxed SIMD: ${info.relaxed}; hardwareConcurrency ${info.hc}; ${os.cpus()[0].model}, ${os.cpus().length} CPUs`);
/** One training run in the page: steps/s in the workers' CPU time (and the page's wall-clock
 * steady-state rate, `wall`). */
async function inPage(opts) {
  const clock = workerClock();
  const r = await page.evaluate((o) => window.bench.train(o), opts);
  const cpu = clock();
  return { ...r, cpuRate: opts.steps / cpu };
}

// SGEMM in a worker of the page, best of the reps (wall) and all reps in CPU time
for (const name of builds) {
  const reps = 60;
  await page.evaluate((o) => window.bench.sgemm(o), { url: `/sgemm/sgemm-${name}.wasm`, n: SGEMM_N, reps });
  const clock = workerClock();
  const d = await page.evaluate(() => window.__sgemm.go());
  const cpu = clock();
  await page.evaluate(() => window.__sgemm.stop());
  if (d.bad) console.log(`# ${name}: ${d.bad} entries wrong in the kernel's self-test`);
  Object.assign(gemm[name], { chromium: (reps * 2 * SGEMM_N ** 3) / cpu / 1e9, chromiumWall: (2 * SGEMM_N ** 3) / d.best / 1e9 });
}
console.log(`== SGEMM ${SGEMM_N}^3, one thread, GFLOP/s: node --no-liftoff (best rep, CPU time) | Chromium worker (all reps, CPU time; best rep, wall)`);
for (const [name, g] of Object.entries(gemm)) {
  console.log(`  wasm ${name.padEnd(13)} node ${g.node.toFixed(2)} | chromium ${(g.chromium ?? NaN).toFixed(2)} (best rep wall ${(g.chromiumWall ?? NaN).toFixed(2)})`);
}

// warm every pool (its worker's code tiers up) before anything is timed
for (const build of builds) for (const w of WIDTHS) await inPage({ build, width: w, steps: Math.max(4, STEPS(w) >> 3) });
if (!process.env.NO_GPU) await inPage({ build: builds.at(-1), device: "gpu", width: 64, steps: 2 });
for (const w of WIDTHS.filter((x) => x >= SPLIT_FROM)) await inPage({ build: builds.at(-1), width: w, steps: 8, workers: 2 });

// ---------------------------------------------------------------- training rounds
const rows = {}; // rows[width][name] = [per-round rates]
const put = (w, name, v) => ((rows[w] ??= {})[name] ??= []).push(v);
for (let r = 1; r <= ROUNDS; r++) {
  console.log(`== round ${r}   load ${uptime()}`);
  for (const w of WIDTHS) {
    const jobs = [
      ...builds.map((build) => [`page ${build}`, async () => {
        const r = await inPage({ build, width: w, steps: STEPS(w) });
        put(w, `(wall) page ${build}`, r.rate);
        return r.cpuRate;
      }]),
      ...Object.entries(peers).map(([k, f]) => [k, async () => f(w)]),
      // one run split over two workers by hidden units (the page's wide runs), wall time:
      // its CPU-time row sums both workers
      ...(w >= SPLIT_FROM ? [[`page ${builds.at(-1)} split over 2`, async () => {
        const r = await inPage({ build: builds.at(-1), width: w, steps: STEPS(w), workers: 2 });
        if (r.backend.split !== 2) console.log(`# width ${w}: the run did not split: ${JSON.stringify(r.backend)}`);
        put(w, `(wall) page ${builds.at(-1)} split over 2`, r.rate);
        return r.cpuRate;
      }]] : []),
    ];
    // the order rotates from round to round, so a drift of the machine's speed is spread
    for (let i = 0; i < jobs.length; i++) {
      const [name, f] = jobs[(i + r - 1) % jobs.length];
      const v = await f();
      put(w, name, v);
    }
    if (!process.env.NO_GPU && r === 1) {
      const g = await inPage({ build: builds.at(-1), device: "gpu", width: w, steps: GPU_STEPS(w) });
      put(w, "page WebGPU (SwiftShader)", g.backend.device === "gpu" ? g.rate : NaN);
      if (g.backend.device !== "gpu") console.log(`# width ${w}: the WebGPU run fell back to the CPU: ${JSON.stringify(g.backend)}`);
    }
    console.log(`  width ${w}: ${Object.entries(rows[w]).map(([k, v]) => `${k} ${num(v.at(-1))}`).join(", ")}`);
  }
}

// ---------------------------------------------------------------- the table
const ref = "torch" in peers ? "torch" : "native";
console.log(`\n== MLP full-batch GD steps/s (D=16, depth 3, P=256, one seed), medians of ${ROUNDS} rounds; ratio: median of the per-round ratios to ${ref}`);
for (const w of WIDTHS) {
  const cells = Object.entries(rows[w]).map(([k, v]) => {
    const refs = rows[w][ref];
    const ratios = v.map((x, i) => x / refs[Math.min(i, refs.length - 1)]);
    return `${k} ${num(median(v))} (${median(ratios).toPrecision(2)}x)`;
  });
  console.log(`  width ${String(w).padStart(5)}: ${cells.join(" | ")}`);
}

// ---------------------------------------------------------------- the lr-transfer sweeps
const workers = Math.min(8, Math.max(2, info.hc - 1)); // the page's defaultPoolSize()
for (const top of SWEEPS) {
  const widths = [];
  for (let w = 64; w <= top; w *= 2) widths.push(w);
  for (const build of builds) {
    // a small sweep first starts the pool's workers, as the landing run has on the page
    await page.evaluate((o) => window.bench.sweep(o), { build, widths: [16, 32], workers });
    const clock = workerClock();
    const s = await page.evaluate((o) => window.bench.sweep(o), { build, widths, workers });
    const cpu = clock();
    console.log(`lr-transfer-width sweep, widths ${widths[0]}..${top}, ${build}: ${s.wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU of the workers (${s.cells} cells in ${s.shards} shards on ${s.workers} workers)   load ${uptime()}`);
  }
}

await browser.close();
server.close();
