// Browser tests of the page (make test-browser). Each test gets a fresh context; every
// request of every page is logged and must stay on the page's origin, and any console
// error, page error or uncaught rejection on any page fails the test.
//   node tests/browser/run.mjs [name-filter]
import fs from "node:fs";
import path from "node:path";
import { serve, launch, openPage, ARTIFACTS } from "./harness.mjs";
import { TESTS } from "./tests.mjs";

const filter = process.argv[2] || "";
const t00 = Date.now();
const { server, origin, base } = await serve();
const { browser } = await launch();
const all = { failures: 0, passed: 0, skipped: 0, metrics: {} };
const offOrigin = [];
fs.mkdirSync(ARTIFACTS, { recursive: true });

for (const [name, fn] of Object.entries(TESTS)) {
  if (filter && !name.includes(filter)) continue;
  const t0 = Date.now();
  const pages = [];
  const ctx = {
    origin, base, metrics: all.metrics,
    open: async (opts) => { const p = await openPage(browser, opts); pages.push(p); return p; },
    skip: (why) => { const e = new Error(why); e.skip = true; throw e; },
  };
  try {
    await fn(ctx);
    // zero console errors, page errors and uncaught rejections in every test: a page may
    // list the errors it expects (`log.allow`, e.g. a server shut down on purpose)
    for (const p of pages) {
      const errs = p.log.errors.filter((e) => !(p.log.allow || []).some((re) => re.test(e)));
      if (errs.length) throw new Error(`console errors: ${errs.join(" | ")}`);
    }
    for (const p of pages) {
      for (const u of p.log.requests) {
        if (!(u.startsWith(origin + "/") || u.startsWith("blob:") || u.startsWith("data:"))) offOrigin.push(`${name}: ${u}`);
      }
    }
    all.passed++;
    console.log(`ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    if (e.skip) { all.skipped++; console.log(`SKIP  ${name}: ${e.message}`); }
    else {
      all.failures++;
      console.log(`FAIL  ${name}: ${e.stack || e}`);
      for (const p of pages) if (p.log.errors.length) console.log("      console errors:", p.log.errors.join(" | "));
    }
  } finally {
    for (const p of pages) await p.context.close().catch(() => {});
  }
}

if (offOrigin.length) {
  all.failures++;
  console.log("FAIL  no-third-party-requests:\n  " + offOrigin.join("\n  "));
} else console.log("ok    no request left the page's origin");

all.metrics.suite_seconds = Math.round((Date.now() - t00) / 1000);
fs.writeFileSync(path.join(ARTIFACTS, "metrics.json"), JSON.stringify(all.metrics, null, 1));
console.log("metrics:", JSON.stringify(all.metrics));
console.log(`${all.passed} passed, ${all.failures} failed, ${all.skipped} skipped in ${all.metrics.suite_seconds} s`);
await browser.close();
server.close();
process.exit(all.failures ? 1 : 0);
