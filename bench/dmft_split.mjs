// Wall time of one deep DMFT solve in the page (headless Chromium, the page's own build
// in dist/) on pools of 1, 2, ... workers, beside the native CLI's single-thread time.
//   node bench/dmft_split.mjs CONFIG.json [WORKERS...]      (default workers: 1 2)
// CONFIG is a `dmft` RunConfig; the CLI binary is the newest under $CARGO_TARGET_DIR.
// Beside the wall time, the CPU time the browser's processes spent during the solve
// (all workers together; on a loaded machine the wall time counts others' work too).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { serve, launch, openPage, waitDone } from "../tests/browser/harness.mjs";

/** CPU seconds (user + system) of this process's descendants (the browser), from /proc. */
function browserCpu() {
  const stat = (pid) => fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1).split(" ");
  const procs = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try { const f = stat(d); procs.push({ pid: Number(d), ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) }); } catch { /* gone */ }
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) { mine.add(p.pid); grew = true; }
  }
  return procs.filter((p) => p.pid !== process.pid && mine.has(p.pid)).reduce((a, p) => a + p.cpu, 0) / 100;
}

const [file, ...ws] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
const workers = ws.length ? ws.map(Number) : [1, 2];
const { server, base } = await serve();
const { browser } = await launch();
const loss = [];
for (const w of workers) {
  const p = await openPage(browser);
  await p.page.goto(base + `?workers=${w}`);
  await waitDone(p.page, 300_000);
  const cpu0 = browserCpu();
  const r = await p.page.evaluate(async (c) => {
    const { core, pool } = window.__app;
    const blocks = core.dmft_blocks(JSON.stringify(c));
    const t0 = performance.now();
    const running = pool.run(c, null, undefined, undefined, blocks);
    const busy = pool.busyCount();
    const rec = await running;
    return { ms: performance.now() - t0, blocks, busy, loss: JSON.parse(rec.__json).result.loss };
  }, cfg);
  const cpu = browserCpu() - cpu0;
  loss.push(r.loss);
  console.log(`page, ${w} worker(s): ${(r.ms / 1000).toFixed(2)} s wall, ${cpu.toFixed(1)} s browser CPU (${r.blocks} blocks, ${r.busy} busy; load ${os.loadavg()[0].toFixed(1)})`);
  await p.context.close();
}
await browser.close();
server.close();
const same = loss.every((l) => JSON.stringify(l) === JSON.stringify(loss[0]));
console.log(`identical loss curves across worker counts: ${same}`);
const dir = process.env.CARGO_TARGET_DIR || "target";
const bin = ["release", "debug"].map((p) => path.join(dir, p, "scaling-playground")).filter((f) => fs.existsSync(f))
  .sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs)[0];
// one thread: the deep solver runs no threads of its own; user time from GNU time
const out = path.join(os.tmpdir(), "dmft-split-native.json");
const r = spawnSync("/usr/bin/time", ["-f", "%e %U", bin, "run", file, "--out", out], { encoding: "utf8" });
const [wall, user] = r.stderr.trim().split("\n").at(-1).split(" ").map(Number);
const native = JSON.parse(fs.readFileSync(out, "utf8")).result.loss;
const rel = Math.max(...native.map((v, t) => Math.abs(v - loss[0][t]) / Math.abs(v)));
console.log(`native (${path.basename(path.dirname(bin))} build): ${wall.toFixed(2)} s wall, ${user.toFixed(2)} s CPU (load ${os.loadavg()[0].toFixed(1)}); page vs native loss: max relative gap ${rel.toExponential(2)}`);
