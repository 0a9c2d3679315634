// The Kernels panel of the page (headless Chromium, the page's own build in dist/) with
// the landing setup at depth 3: the panel's jobs (the finite run and its DMFT), each
// one's wall time from submission to its record, and the panel's.
//   node bench/kernels_panel.mjs [WORKERS] [DEPTH] [STEPS]     (default 2 3 40)
// The landing setup's 100 steps at depth 3 are over the page's DMFT budget; 40 steps
// (the kernels browser test's) fit. The DMFT config goes to $OUT (default
// /tmp/kernels_dmft.json), to run natively or with bench/dmft_split.mjs.
import fs from "node:fs";
import os from "node:os";
import { serve, launch, openPage, waitDone } from "../tests/browser/harness.mjs";

const [workers, depth, steps] = [2, 3, 40].map((d, i) => Number(process.argv[2 + i] || d));
const out = process.env.OUT || "/tmp/kernels_dmft.json";
const { server, base } = await serve();
const { browser } = await launch();
const p = await openPage(browser);
await p.page.goto(base + `?workers=${workers}`);
await waitDone(p.page, 300_000);
for (const [id, v] of [["f-depth", depth], ["f-steps", steps]]) {
  await p.page.fill(`#${id}`, String(v));
  await p.page.dispatchEvent(`#${id}`, "change");
}
await p.page.evaluate(() => {
  const { pool } = window.__app;
  window.__jobs = [];
  const run = pool.run.bind(pool);
  pool.run = (c, ...rest) => {
    const t0 = performance.now();
    const j = { config: structuredClone(c), blocks: rest[3] || 0 };
    window.__jobs.push(j);
    return run(c, ...rest).then((r) => { j.ms = performance.now() - t0; return r; });
  };
});
await p.page.click("#tab-kernels");
const t0 = Date.now();
await p.page.click("#run");
const status = await waitDone(p.page, 900_000);
const jobs = await p.page.evaluate(() => window.__jobs);
console.log(`${status} ${await p.page.textContent("#kernels-limit-note")}`);
console.log(`panel, ${workers} worker(s): ${((Date.now() - t0) / 1000).toFixed(1)} s wall (load ${os.loadavg()[0].toFixed(1)})`);
for (const j of jobs) console.log(`  ${j.config.kind}: ${(j.ms / 1000).toFixed(2)} s from submission (${j.blocks} sample blocks)`);
const d = jobs.find((j) => j.config.kind === "dmft");
if (d) fs.writeFileSync(out, JSON.stringify(d.config, null, 1) + "\n");
await browser.close();
server.close();
