// The browser tests proper. Each takes ctx = {base, origin, open(), skip(), metrics}.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { assert, waitDone, shot, serve, DIST, ROOT, launch, openPage } from "./harness.mjs";

const figureSpec = (page, name) => page.evaluate((n) => {
  const f = window.__app.figures[n];
  return f ? JSON.parse(JSON.stringify(f.spec)) : null;
}, name);

async function setField(page, id, value) {
  await page.fill(`#${id}`, String(value));
  await page.dispatchEvent(`#${id}`, "change");
}

async function captureDownload(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
}

/** Make a link from a train config via the page's own core. */
const linkFor = (page, cfg) => page.evaluate((c) => window.__app.core.encode_link(JSON.stringify(c)), cfg);

export const TESTS = {
  async first_page_trains_and_the_loss_decreases(ctx) {
    const { page, log } = await ctx.open();
    const t0 = Date.now();
    await page.goto(ctx.base);
    await page.waitForFunction(() => Number(document.querySelector('[data-figure="loss"]')?.dataset.points) > 0, null, { timeout: 60_000 });
    ctx.metrics.first_curve_ms_wall = Date.now() - t0;
    await waitDone(page);
    ctx.metrics.first_curve_ms_since_navigation = await page.evaluate(() => Math.round(window.__app.firstCurveMs));
    ctx.metrics.first_page_marks_ms = await page.evaluate(() => Object.fromEntries([
      ...performance.getEntriesByType("mark").map((m) => [m.name, Math.round(m.startTime)]),
      ["dom-content-loaded", Math.round(performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd)],
      ["wasm-fetched", Math.round(performance.getEntriesByType("resource").find((r) => r.name.endsWith(".wasm"))?.responseEnd ?? -1)],
    ]));
    const spec = await figureSpec(page, "loss");
    const trains = spec.series.filter((s) => s.label.endsWith("train"));
    assert(trains.length === 3, `three widths plotted, got ${trains.length}`);
    for (const s of trains) {
      const y = s.y.filter(Number.isFinite);
      assert(y.length > 10, `${s.label} has points`);
      assert(y[y.length - 1] < 0.5 * y[0], `${s.label} decreases: ${y[0]} -> ${y[y.length - 1]}`);
    }
    const backend = await page.textContent("#backend");
    assert(/Backend: CPU/.test(backend), `backend note shown: ${backend}`);
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
    await shot(page, "panel-train");
  },

  async page_weight(ctx) {
    // wasm + JS + CSS of dist/, gzip-compressed
    let total = 0;
    const parts = {};
    const walk = (dir) => {
      for (const f of fs.readdirSync(dir)) {
        const p = path.join(dir, f);
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (/\.(wasm|js|css)$/.test(f)) {
          const gz = zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
          parts[path.relative(DIST, p)] = gz;
          total += gz;
        }
      }
    };
    walk(DIST);
    ctx.metrics.page_weight_gzip_bytes = total;
    ctx.metrics.page_weight_parts = parts;
    assert(total < 1_048_576, `page weight ${total} B gzip <= 1 MiB`);
  },

  async copied_link_restores_controls_and_curves(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await setField(page, "f-widths", "32, 128");
    await setField(page, "f-steps", "40");
    await setField(page, "f-lr", "0.3");
    await page.selectOption("#f-activation", "tanh");
    await setField(page, "f-seeds", "3");
    await page.click("#run");
    await waitDone(page);
    const before = await figureSpec(page, "loss");
    await page.click("#copy-link");
    const url = await page.inputValue("#share-text");
    assert(url.includes("#c=1."), `link has the config: ${url}`);
    const controls = async (p) => p.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll("#setup input, #setup select")].map((e) => [e.id, e.type === "checkbox" ? e.checked : e.value])));
    const want = await controls(page);
    const { page: p2, log } = await ctx.open();
    await p2.goto(url);
    await waitDone(p2);
    const got = await controls(p2);
    for (const k of Object.keys(want)) if (k !== "f-csv") assert(want[k] === got[k], `control ${k}: ${want[k]} vs ${got[k]}`);
    const after = await figureSpec(p2, "loss");
    assert(JSON.stringify(after.series) === JSON.stringify(before.series), "same curves after restoring the link");
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
  },

  async embed_shows_only_the_figure(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await page.click("#embed");
    const snippet = await page.inputValue("#share-text");
    const m = /src="([^"]+)"/.exec(snippet);
    assert(m && snippet.startsWith("<iframe"), `iframe snippet: ${snippet}`);
    const url = m[1].replace(/&amp;/g, "&");
    const { page: p2, log } = await ctx.open({ viewport: { width: 720, height: 460 } });
    await p2.goto(url);
    await waitDone(p2);
    assert(await p2.isVisible('[data-figure="loss"] canvas'), "figure visible");
    for (const sel of ["h1", "#setup", "#tabs", "#run", "footer"]) assert(!(await p2.isVisible(sel)), `${sel} hidden in embed mode`);
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
    await shot(p2, "embed-loss");
  },

  async exports_are_valid_svg_png_csv_json(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    const fig = '[data-figure="loss"]';
    const svg = await captureDownload(page, `${fig} [data-export=svg]`);
    const parsed = await page.evaluate((t) => {
      const d = new DOMParser().parseFromString(t, "image/svg+xml");
      return { err: !!d.querySelector("parsererror"), root: d.documentElement.nodeName, lines: d.querySelectorAll("polyline").length };
    }, svg.bytes.toString("utf8"));
    assert(!parsed.err && parsed.root === "svg" && parsed.lines >= 3, `SVG parses with curves: ${JSON.stringify(parsed)}`);
    const png = await captureDownload(page, `${fig} [data-export=png]`);
    assert(png.bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), "PNG signature");
    const csv = await captureDownload(page, `${fig} [data-export=csv]`);
    assert(csv.bytes.toString("utf8").startsWith("series,step,loss\n"), "CSV header");
    const json = await captureDownload(page, `${fig} [data-export=json]`);
    const doc = JSON.parse(json.bytes.toString("utf8"));
    assert(doc.config.kind === "train" && doc.records.length === 3 && doc.figure.series.length >= 3, "JSON has config, records and figure");
  },

  async page_numbers_equal_cli_numbers(ctx) {
    const bin = [process.env.CARGO_TARGET_DIR, path.join(ROOT, "target")].filter(Boolean)
      .flatMap((d) => ["release", "debug"].map((p) => path.join(d, p, "scaling-playground"))).find((f) => fs.existsSync(f));
    let help = "";
    try { help = bin ? execFileSync(bin, ["run", "--help"], { encoding: "utf8" }) : ""; } catch { help = ""; }
    if (!bin || !help.includes("--link")) ctx.skip("the CLI has no `run --link` yet");
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await setField(page, "f-widths", "48");
    await setField(page, "f-steps", "30");
    await page.click("#run");
    await waitDone(page);
    await page.click("#copy-link");
    const url = await page.inputValue("#share-text");
    const dl = await captureDownload(page, '[data-figure="loss"] [data-export=json]');
    const pageRec = JSON.parse(dl.bytes.toString("utf8")).records[0];
    const out = path.join(ROOT, "test-artifacts", "cli-run.json");
    execFileSync(bin, ["run", "--link", url, "--out", out], { stdio: "inherit" });
    const cliRec = JSON.parse(fs.readFileSync(out, "utf8"));
    let maxDiff = 0, count = 0;
    const cmp = (a, b, where) => {
      if (typeof a === "number" && typeof b === "number") { maxDiff = Math.max(maxDiff, Math.abs(a - b)); count++; return; }
      if (Array.isArray(a)) { assert(Array.isArray(b) && a.length === b.length, `${where} length`); a.forEach((x, i) => cmp(x, b[i], `${where}[${i}]`)); return; }
      if (a && typeof a === "object") { for (const k of Object.keys(a)) if (k !== "backend") cmp(a[k], b?.[k], `${where}.${k}`); }
    };
    cmp(pageRec.result, cliRec.result ?? cliRec, "result");
    ctx.metrics.page_vs_cli_max_abs_diff = maxDiff;
    assert(count > 10 && maxDiff <= 1e-6, `page == CLI within 1e-6 over ${count} numbers (max diff ${maxDiff})`);
  },

  async same_numbers_with_one_and_two_workers(ctx) {
    const a = await ctx.open();
    await a.page.goto(ctx.base + "?workers=1");
    await waitDone(a.page);
    const link = await a.page.evaluate(() => location.hash);
    const s1 = await figureSpec(a.page, "loss");
    const b = await ctx.open();
    await b.page.goto(ctx.base + "?workers=2" + link);
    await waitDone(b.page);
    const s2 = await figureSpec(b.page, "loss");
    assert(JSON.stringify(s1.series) === JSON.stringify(s2.series), "identical curves with 1 and 2 workers");
  },

  async answers_clicks_during_a_long_run_and_cancel_stops_workers(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await setField(page, "f-widths", "512, 1024");
    await setField(page, "f-steps", "200000");
    await page.click("#run");
    await page.waitForFunction(() => window.__app.pool.busyCount() > 0);
    await page.waitForTimeout(500);
    const latency = await page.evaluate(() => new Promise((resolve) => {
      const b = document.getElementById("copy-link");
      const t = performance.now();
      b.addEventListener("pointerdown", () => resolve(performance.now() - t), { once: true });
      setTimeout(() => b.dispatchEvent(new PointerEvent("pointerdown")), 0);
    }));
    const t0 = Date.now();
    await page.click("#tabs [role=tab]"); // a real click through the input pipeline
    const clickMs = Date.now() - t0;
    ctx.metrics.click_latency_ms_during_run = Math.round(Math.max(latency, 0));
    ctx.metrics.click_roundtrip_ms_during_run = clickMs;
    assert(latency < 200, `handler ran within 200 ms (${latency.toFixed(1)} ms)`);
    await page.click("#cancel");
    const status = await waitDone(page, 10_000);
    assert(status.startsWith("Cancelled"), `status ${status}`);
    const busy = await page.evaluate(() => window.__app.pool.busyCount());
    assert(busy === 0, "no worker busy after cancel");
    // the pool still works after cancelling
    await setField(page, "f-steps", "20");
    await page.click("#run");
    assert((await waitDone(page)).startsWith("Done"), "runs again after cancel");
  },

  async hostile_link_strings_render_inert(ctx) {
    const { page, log } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const cfg = await page.evaluate(() => structuredClone(window.__app.base));
    cfg.data = { task: "csv", text: `${payload},javascript:alert(1)\n1,2\n3,4\n5,6\n7,8\n`, target: "javascript:alert(document.domain)", test_fraction: 0.25, seed: 0 };
    let link;
    try { link = await linkFor(page, cfg); } catch {
      // the core may refuse to encode an invalid config: build the link by hand then
      link = null;
    }
    const urls = [];
    if (link) urls.push(ctx.base + "#" + link + "&v=" + encodeURIComponent(payload));
    urls.push(ctx.base + "#c=1.<script>window.__pwned=3</script>&p=<img src=x onerror=alert(1)>&w=javascript:alert(1)");
    urls.push(ctx.base + "#c=" + encodeURIComponent('1.' + payload));
    for (const u of urls) {
      const { page: p, log: l } = await ctx.open();
      await p.goto(u);
      await p.waitForFunction(() => /^(Ready|Done|Failed|Cancelled)/.test(document.getElementById("status").textContent), null, { timeout: 60_000 });
      await p.waitForTimeout(300);
      const pwned = await p.evaluate(() => window.__pwned);
      assert(pwned === undefined, `no script ran (${pwned}) for ${u}`);
      assert(l.dialogs.length === 0, "no dialog opened");
      const injected = await p.evaluate(() => document.querySelectorAll("main img, header img, #errors *").length);
      assert(injected === 0, "no element injected");
      await shot(p, "hostile-link-" + urls.indexOf(u));
    }
    assert(log.dialogs.length === 0, "no dialog");
  },

  async readable_at_375px(ctx) {
    const { page } = await ctx.open({ viewport: { width: 375, height: 800 } });
    await page.goto(ctx.base);
    await waitDone(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow <= 380, `no horizontal scrolling at 375 px (scrollWidth ${overflow})`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
      .filter((e) => !e.labels?.length && !e.getAttribute("aria-label") && !e.closest("[hidden]")).map((e) => e.id || e.name));
    assert(unlabelled.length === 0, "every control labelled: " + unlabelled.join(","));
    await shot(page, "narrow-375");
  },

  async each_preset_runs_and_its_plot_holds_data(ctx) {
    const { page, log } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await page.click("#tab-presets");
    await shot(page, "panel-presets");
    const names = await page.$$eval("[data-preset]", (bs) => bs.map((b) => b.dataset.preset));
    assert(names.length >= 6, `six presets, got ${names.length}`);
    const seconds = {};
    for (const name of names) {
      await page.click("#tab-presets");
      const t0 = Date.now();
      await page.click(`[data-preset="${name}"]`);
      // the core's sweeps (e.g. lr-transfer-depth, 96 cells) take minutes on 2 loaded cores
      const status = await waitDone(page, 600_000);
      seconds[name] = (Date.now() - t0) / 1000;
      console.log(`      preset ${name}: ${seconds[name].toFixed(1)} s`);
      assert(status.startsWith("Done"), `${name}: ${status} ${await page.textContent("#errors")}`);
      const points = await page.evaluate(() => {
        const sec = document.querySelector(".panel:not([hidden])");
        return [...sec.querySelectorAll("[data-figure]")].map((f) => Number(f.dataset.points || 0));
      });
      assert(points.length && points[0] > 0, `${name}: its figure holds data (${points})`);
      await shot(page, `preset-${name}`);
    }
    ctx.metrics.preset_seconds = seconds;
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
  },

  async abc_explorer_names_and_checks_parameterisations(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    await page.click("#tab-abc");
    const verdict = async (btn) => {
      await page.click(`text=Load ${btn}`);
      return page.evaluate(() => ({
        ok: [...document.querySelectorAll("#abc-verdict li")].map((li) => li.className === "ok"),
        text: document.getElementById("abc-verdict").textContent,
      }));
    };
    const sp = await verdict("SP"), ntk = await verdict("NTK"), mup = await verdict("µP");
    assert(JSON.stringify(sp.ok) === "[true,false,false]", `SP satisfies (1) only: ${sp.ok}`);
    assert(JSON.stringify(ntk.ok) === "[true,true,false]", `NTK satisfies (1), (2): ${ntk.ok}`);
    assert(JSON.stringify(mup.ok) === "[true,true,true]", `muP satisfies all: ${mup.ok}`);
    assert(/NTK/.test(ntk.text) && /mean field/.test(mup.text), "names the parameterisation");
    await page.click("#run");
    assert((await waitDone(page)).startsWith("Done"), "coord check ran");
    const spec = await figureSpec(page, "abc");
    const hidden = spec.series.filter((s) => s.label.startsWith("layer"));
    // muP: per-layer update size flat in width (max/min < 2 over 64..1024)
    for (const s of hidden) {
      const y = s.y.filter(Number.isFinite);
      assert(Math.max(...y) / Math.min(...y) < 2, `${s.label} flat in width under muP: ${y}`);
    }
    await shot(page, "panel-abc");
  },

  async oversized_config_is_refused_up_front(ctx) {
    const { page } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    const cfg = await page.evaluate(() => structuredClone(window.__app.base));
    cfg.model.width = 65536; cfg.model.depth = 256; cfg.seeds = 4096;
    const link = await linkFor(page, cfg);
    const { page: p2, log } = await ctx.open();
    await p2.goto(ctx.base + "#" + link);
    await p2.waitForFunction(() => /^(Failed|Done)/.test(document.getElementById("status").textContent));
    const err = await p2.textContent("#errors");
    assert(/budget|memory/i.test(err), `refused with the limit named: ${err}`);
    const busy = await p2.evaluate(() => window.__app.pool.busyCount());
    assert(busy === 0, "nothing started");
    assert(await p2.evaluate(() => document.getElementById("status").textContent.startsWith("Failed")), "status says it failed");
    await shot(p2, "oversized-refused");
    assert(!log.errors.some((e) => /out of memory|RangeError/i.test(e)), "no allocation failure");
  },

  async every_panel_runs_and_draws(ctx) {
    const { page, log } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    const seconds = {};
    for (const id of ["transfer", "coords", "kernels", "richness", "convergence", "depth"]) {
      await page.click(`#tab-${id}`);
      const t0 = Date.now();
      await page.click("#run");
      const status = await waitDone(page, 180_000);
      seconds[id] = (Date.now() - t0) / 1000;
      console.log(`      panel ${id}: ${seconds[id].toFixed(1)} s`);
      assert(status.startsWith("Done"), `${id}: ${status} ${await page.textContent("#errors")}`);
      const points = await page.evaluate((pid) => [...document.querySelectorAll(`#panel-${pid} [data-figure]`)]
        .map((f) => Number(f.dataset.points || 0)), id);
      assert(points.length && points.every((n) => n > 0), `${id}: every figure holds data (${points})`);
      await shot(page, `panel-${id}`);
    }
    ctx.metrics.panel_seconds = seconds;
    // a link copied from a non-default panel restores its panel values
    await page.click("#tab-transfer");
    await page.fill("#v-transfer", "0.25,0.5,1");
    await page.click("#copy-link");
    const url = await page.inputValue("#share-text");
    const { page: p2 } = await ctx.open();
    await p2.goto(url);
    await waitDone(p2, 120_000);
    assert(await p2.inputValue("#v-transfer") === "0.25,0.5,1", "panel values restored");
    assert(await p2.isVisible("#panel-transfer"), "the panel is restored");
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
  },

  async dmft_and_lazy_curves_overlay_the_finite_networks(ctx) {
    const { page, log } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    const kinds = await page.evaluate(() => ["dmft", "lazy"].filter((k) => { try { window.__app.core.default_config(k); return true; } catch { return false; } }));
    if (kinds.length < 2) ctx.skip(`this build lacks ${["dmft", "lazy"].filter((k) => !kinds.includes(k))}`);
    await page.check("#f-centered");
    await setField(page, "f-widths", "64, 512");
    await setField(page, "f-steps", "40");
    await page.click("#run");
    await waitDone(page, 180_000);
    const spec = await figureSpec(page, "loss");
    const dmft = spec.series.find((s) => s.label.startsWith("DMFT"));
    const lazy = spec.series.find((s) => s.label.startsWith("lazy"));
    const wide = spec.series.find((s) => s.label === "N=512 train");
    assert(dmft && lazy && wide, `overlays drawn: ${spec.series.map((s) => s.label)}`);
    // centred outputs start at f = 0, so every curve starts at the same loss |y|^2 / 2P
    for (const s of [dmft, lazy]) {
      assert(Math.abs(s.y[0] - wide.y[0]) <= 1e-4 * wide.y[0], `${s.label} starts at the finite loss: ${s.y[0]} vs ${wide.y[0]}`);
      assert(s.y.filter(Number.isFinite).length >= 40, `${s.label} holds the whole curve`);
    }
    await shot(page, "panel-train-theory-overlay");
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
  },

  async kernels_panel_puts_finite_beside_dmft(ctx) {
    const { page, log } = await ctx.open();
    await page.goto(ctx.base);
    await waitDone(page);
    if (!(await page.evaluate(() => { try { window.__app.core.default_config("dmft"); return true; } catch { return false; } }))) ctx.skip("this build lacks dmft");
    await setField(page, "f-widths", "1024");
    await setField(page, "f-steps", "40");
    await page.click("#tab-kernels");
    await page.click("#run");
    const status = await waitDone(page, 180_000);
    assert(status.startsWith("Done"), `${status} ${await page.textContent("#errors")}`);
    const groups = await page.$$eval("#panel-kernels .heat-group", (hs) => hs.map((h) => h.textContent));
    assert(groups.length === 2 && /^finite, N = 1024/.test(groups[0]) && /^DMFT/.test(groups[1]), `two rows: ${groups}`);
    const rel = (a, b) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / b.reduce((s, v) => s + v * v, 0));
    const check = async (when) => {
      const spec = await figureSpec(page, "kernels");
      const fin = spec.heatmaps.filter((h) => h.group.startsWith("finite"));
      const inf = spec.heatmaps.filter((h) => h.group.startsWith("DMFT"));
      assert(fin.length === 3 && inf.length === 3, `Φ, G, NTK on both sides at ${when}: ${spec.heatmaps.map((h) => h.group + " " + h.label)}`);
      for (const h of inf) {
        const f = fin.find((x) => x.label === h.label);
        const d = rel(f.values, h.values);
        console.log(`      ${when} ${h.label}: |K_N - K_inf| / |K_inf| = ${d.toFixed(4)}`);
        // N = 1024 with a few seeds against S = 2000 Monte Carlo samples: a few percent
        assert(d < 0.1, `${h.label} at ${when}: finite within 10% of the DMFT, got ${d}`);
        assert(h.note && h.note.includes("%"), "the distance is printed under the map");
      }
    };
    await check("the end");
    await page.fill("#v-kernels-t", "0");
    await page.dispatchEvent("#v-kernels-t", "input");
    assert(await page.textContent("#kernels-step") === "step 0", "the slider moves to step 0");
    await check("step 0");
    await shot(page, "panel-kernels-finite-vs-dmft");
    assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
  },

  async works_offline_once_loaded(ctx) {
    // a server of its own, shut down after the first load: the network is really gone
    const srv = await serve();
    const { context, page, log } = await ctx.open();
    try {
      await page.goto(srv.base);
      await waitDone(page);
      const cached = await page.evaluate(() => window.__app.offlineReady);
      assert(cached === true, "the service worker cached the page shell");
      srv.server.closeAllConnections();
      await new Promise((r) => srv.server.close(r));
      await page.reload();
      await page.waitForFunction(() => Number(document.querySelector('[data-figure="loss"]')?.dataset.points) > 0, null, { timeout: 60_000 });
      const status = await waitDone(page);
      assert(status.startsWith("Done"), `offline run: ${status} ${await page.textContent("#errors")}`);
      // a sweep offline: fresh workers load from the cache too
      await page.click("#tab-coords");
      await page.click("#run");
      const s2 = await waitDone(page);
      assert(s2.startsWith("Done"), `offline sweep: ${s2} ${await page.textContent("#errors")}`);
      await shot(page, "offline-reload");
      const errs = log.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
      assert(errs.length === 0, "no console errors offline: " + errs.join(" | "));
      log.requests.length = 0; // this test's own server is another origin on purpose
    } finally {
      await context.close().catch(() => {});
      srv.server.close();
    }
  },

  async trains_on_webgpu_with_the_cpu_loss_curve(ctx) {
    // its own browser: --enable-unsafe-webgpu gives headless Chromium a SwiftShader adapter
    const { browser } = await launch(["--enable-unsafe-webgpu"]);
    try {
      const { page, log, context } = await openPage(browser);
      await page.goto(ctx.base + "?device=cpu&workers=1");
      await waitDone(page);
      const avail = await page.textContent("#backend");
      assert(/WebGPU available \(.*swiftshader/i.test(avail), `the page sees the adapter: ${avail}`);
      await setField(page, "f-widths", "48");
      await setField(page, "f-steps", "30");
      const runOn = async (device) => {
        await page.selectOption("#device", device);
        await page.click("#run");
        const status = await waitDone(page);
        assert(/^Done/.test(status), `${device} run finished: ${status}`);
        const dl = await captureDownload(page, '[data-figure="loss"] [data-export=json]');
        return JSON.parse(dl.bytes.toString("utf8")).records[0].result;
      };
      const cpu = await runOn("cpu");
      assert(cpu.backend === "cpu", `cpu run on the cpu: ${cpu.backend}`);
      const gpu = await runOn("gpu");
      const note = await page.textContent("#backend");
      assert(/^gpu/.test(gpu.backend) && /swiftshader/i.test(gpu.backend), `the gpu run ran on WebGPU: ${gpu.backend}`);
      assert(/Backend: GPU \(WebGPU: .*swiftshader/i.test(note), `the page says so: ${note}`);
      await shot(page, "webgpu-run");
      assert(gpu.train_loss.length === cpu.train_loss.length && cpu.train_loss.length > 5, "same records");
      let maxRel = 0;
      cpu.train_loss.forEach((row, i) => row.forEach((l, s) => {
        maxRel = Math.max(maxRel, Math.abs(gpu.train_loss[i][s] - l) / Math.max(Math.abs(l), 1e-12));
      }));
      ctx.metrics.webgpu_vs_cpu_max_rel_loss_diff = maxRel;
      assert(maxRel <= 1e-4, `WebGPU loss curve == CPU within 1e-4 relative (max ${maxRel})`);
      assert(log.errors.length === 0, "no console errors: " + log.errors.join(" | "));
      await context.close();
    } finally {
      await browser.close();
    }
  },
};
