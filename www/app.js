// The page: boots the wasm core and the worker pool, wires the setup form, the panels,
// sharing (link in the URL fragment), embedding and exports. The main thread only
// draws; every computation runs in the pool.
import { ready, modulePromise } from "./core.js";
import { Pool, Cancelled, defaultPoolSize } from "./pool.js";
import { linePlot, heatmapPlot, toSVG, toCSV, toPNG } from "./plot.js";
import * as setup from "./setup.js";
import { PANELS } from "./panels.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const EMBED = params.get("embed");

export const app = {
  core: null,
  pool: null,
  base: null,          // the train config the setup form edits
  widths: [64, 256, 1024],
  panel: "train",
  vars: {},            // per-panel extra parameters (learning rates, gamma0s, ...)
  figures: {},         // name -> {host, spec, data}
  running: 0,
  runToken: 0,
};
window.__app = app; // for the browser tests

function setStatus(text) { $("status").textContent = text; }

/** The backend note: what the last run computed on (`ran`, a record's `backend`:
 * "cpu", "gpu: google swiftshader (BrowserWebGpu)", "cpu (WebGPU unavailable: ...)"),
 * or after start-up what is available. Training runs go to WebGPU when the device
 * choice allows; sweeps and the other experiments always run on the CPU (wasm). */
function noteBackend(ran) {
  if (!performance.getEntriesByName("worker-ready").length) performance.mark("worker-ready");
  const workers = `${app.pool.size} worker${app.pool.size > 1 ? "s" : ""}`;
  const gpu = app.pool.gpu;
  let text;
  if (ran && /^gpu/.test(ran)) {
    const name = ran.replace(/^gpu:?\s*/, "").replace(/\s*\(BrowserWebGpu\)/, "");
    text = `Backend: GPU (WebGPU: ${name})`;
  } else {
    const why = ran && ran.match(/^cpu\s*\((.*)\)$/);
    text = `Backend: CPU (wasm, ${workers})` + (why ? ` (${why[1]})` : "");
    if (!why && gpu) text += ` · WebGPU available (${gpu}): training uses it with device GPU, or Auto for large problems; sweeps stay on the CPU`;
  }
  $("backend").textContent = text;
  $("backend").dataset.ran = ran || "";
}

export function showError(text) {
  const e = $("errors");
  e.hidden = !text;
  e.textContent = text || ""; // as text: messages may quote a hostile link
}

// ---------------------------------------------------------------- figures and export

function download(name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function exportBar(name) {
  const bar = document.createElement("div");
  bar.className = "exports";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", `Export ${name}`);
  const mk = (label, fn) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.export = label.toLowerCase();
    b.setAttribute("aria-label", `Export ${name} as ${label}`);
    b.addEventListener("click", fn);
    bar.append(b);
  };
  const fig = () => app.figures[name];
  mk("SVG", () => download(`${name}.svg`, new Blob([toSVG(fig().spec)], { type: "image/svg+xml" })));
  mk("PNG", async () => download(`${name}.png`, await toPNG(fig().spec)));
  mk("CSV", () => download(`${name}.csv`, new Blob([toCSV(fig().spec)], { type: "text/csv" })));
  mk("JSON", () => {
    const f = fig();
    const records = (f.records ?? []).map(({ __json, ...r }) => r);
    const doc = { figure: f.spec, config: f.config ?? null, records };
    download(`${name}.json`, new Blob([JSON.stringify(doc, null, 1)], { type: "application/json" }));
  });
  return bar;
}

/** Draw (or redraw) figure `name` in its host element; `extra` is exported with it. */
export function drawFigure(name, spec, extra = {}) {
  const host = document.querySelector(`[data-figure="${name}"]`);
  if (!host) return;
  spec.name = name;
  app.figures[name] = Object.assign({ spec }, extra);
  if (spec.heatmaps) heatmapPlot(host, spec); else linePlot(host, spec);
  if (!EMBED) host.querySelector(".fig-head, h3")?.after(exportBar(name));
  const points = spec.heatmaps
    ? spec.heatmaps.reduce((n, h) => n + h.values.length, 0)
    : spec.series.reduce((n, s) => n + s.y.filter(Number.isFinite).length, 0);
  // time from navigation to the first plotted curve (performance.now() counts from it)
  if (points > 0 && app.firstCurveMs === undefined) app.firstCurveMs = performance.now();
  host.dataset.points = String(spec.heatmaps
    ? spec.heatmaps.reduce((n, h) => n + h.values.length, 0)
    : spec.series.reduce((n, s) => n + s.y.filter(Number.isFinite).length, 0));
}

// ---------------------------------------------------------------- running

/** Run many configs on the pool; `onEach(i, record)` as each finishes. A job is a
 * RunConfig, or `{config, shard: [i, n]}` for a slice of a sweep. Every config is
 * checked against the page's memory budget before anything starts. */
export async function runJobs(jobs, onEach) {
  const configs = jobs.map((j) => (j.shard ? j.config : j));
  for (const c of configs) app.core.check_budget(JSON.stringify(c)); // throws, naming the limit
  const token = ++app.runToken;
  const n = configs.length;
  const frac = new Array(n).fill(0);
  const tick = () => {
    const done = frac.reduce((a, b) => a + b, 0);
    $("progress").value = done / n;
  };
  app.running++;
  $("cancel").disabled = false;
  $("run").setAttribute("aria-busy", "true");
  setStatus(`Running ${n} job${n > 1 ? "s" : ""} on ${app.pool.size} worker${app.pool.size > 1 ? "s" : ""}…`);
  $("progress").value = 0;
  const t0 = performance.now();
  let failed = null;
  try {
    await Promise.all(configs.map((c, i) => app.pool.run(c, (stage, done, total) => {
      frac[i] = total ? done / total : 0;
      tick();
    }, jobs[i].shard).then((rec) => {
      frac[i] = 1; tick();
      if (rec.result && typeof rec.result.backend === "string") noteBackend(rec.result.backend);
      if (token === app.runToken) onEach(i, rec);
    }).catch((e) => { failed = failed || e; })));
    if (failed) throw failed;
    setStatus(`Done in ${((performance.now() - t0) / 1000).toFixed(2)} s.`);
  } catch (e) {
    if (e instanceof Cancelled) setStatus("Cancelled.");
    else { setStatus("Failed."); showError(String(e.message || e)); setup.markInvalid(String(e.message)); }
    throw e;
  } finally {
    app.running--;
    if (!app.running) { $("cancel").disabled = true; $("run").removeAttribute("aria-busy"); }
  }
}

/** Run one config; a sweep is split into shards across the workers and merged. */
export async function runSplit(cfg) {
  const text = JSON.stringify(cfg);
  const cells = app.core.cells(text);
  const n = Math.min(app.pool.size, cells);
  if (n < 2) {
    let out;
    await runJobs([cfg], (_, rec) => { out = rec; });
    return out;
  }
  const parts = new Array(n);
  await runJobs([...Array(n).keys()].map((i) => ({ config: cfg, shard: [i, n] })), (i, rec) => { parts[i] = rec; });
  const json = app.core.merge(JSON.stringify(parts.map(({ __json, ...r }) => r)));
  const rec = JSON.parse(json);
  rec.__json = json;
  return rec;
}

// ---------------------------------------------------------------- sharing

/** The current state as a fragment `c=1.<payload>&p=<panel>&w=..&v=..`. */
export function fragment() {
  const panel = PANELS[app.panel];
  const cfg = panel.linkConfig ? panel.linkConfig(app) : app.base;
  const parts = [app.core.encode_link(JSON.stringify(cfg))];
  if (app.panel !== "train") parts.push(`p=${app.panel}`);
  parts.push(`w=${app.widths.join(",")}`);
  readVars();
  const v = Object.fromEntries(Object.entries(app.vars).filter(([k]) => k.startsWith(app.panel)));
  if (Object.keys(v).length) parts.push(`v=${encodeURIComponent(JSON.stringify(v))}`);
  return parts.join("&");
}

function pageURL(extraQuery) {
  const u = new URL(location.href);
  u.search = extraQuery || "";
  u.hash = fragment();
  return u.toString();
}

function showShare(label, text) {
  $("share").hidden = false;
  $("share-label").textContent = label;
  $("share-text").value = text;
  $("share-text").select();
}

async function copyLink() {
  let url;
  try { readForm(); url = pageURL(""); } catch (e) { showError(String(e.message || e)); return; }
  history.replaceState(null, "", url);
  showShare("Link to this experiment", url);
  try { await navigator.clipboard.writeText(url); setStatus("Link copied."); } catch { setStatus("Link ready to copy (selected below)."); }
}

function embedSnippet() {
  let url;
  try { readForm(); url = pageURL(`?embed=${PANELS[app.panel].figure}`); } catch (e) { showError(String(e.message || e)); return; }
  const safe = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  showShare("Embed snippet (iframe)", `<iframe src="${safe}" width="720" height="460" title="Scaling playground figure" loading="lazy" style="border:0"></iframe>`);
}

/** Apply a fragment: decode its config (keeping valid parts of a broken link). */
function applyFragment(hash) {
  const kv = new Map(hash.replace(/^#/, "").split("&").map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)];
  }));
  if (kv.has("w")) {
    const w = kv.get("w").split(",").map(Number).filter((x) => Number.isInteger(x) && x > 0 && x <= 65536);
    if (w.length) app.widths = w.slice(0, 12);
  }
  const p = kv.get("p");
  if (p && Object.hasOwn(PANELS, p)) app.panel = p;
  if (kv.has("v")) {
    try {
      const v = JSON.parse(decodeURIComponent(kv.get("v")));
      for (const [k, val] of Object.entries(v)) {
        if (typeof val === "string" && val.length < 500 && /^[a-z-]+$/.test(k)) app.vars[k] = val;
      }
    } catch { /* a malformed v= keeps the panel defaults */ }
    writeVars();
  }
  if (!kv.has("c")) return false;
  const link = "c=" + kv.get("c");
  let cfg;
  try {
    cfg = JSON.parse(app.core.decode_link(link));
  } catch (e) {
    // keep every valid field of the link on top of the current state, name the rest
    let opened;
    try { opened = JSON.parse(app.core.open_link(link, JSON.stringify(app.base))); } catch { opened = null; }
    const problems = opened && opened.problems.length ? opened.problems.join("; ") : e.message;
    showError(`This link could not be used as is: ${problems}. Its valid parts were kept; the rest keeps the defaults.`);
    if (!opened) return false;
    cfg = opened.config;
  }
  if (cfg.kind !== "train") app.panel = "engines";
  else if (!kv.has("w") && cfg.model) app.widths = [cfg.model.width];
  const panel = PANELS[app.panel];
  if (cfg.kind === "train") app.base = cfg;
  if (panel.fromLink) panel.fromLink(app, cfg);
  return true;
}

// ---------------------------------------------------------------- panels and tabs

/** Panel inputs (ids `v-<name>`) <-> app.vars, which the link carries. */
function readVars() {
  for (const e of document.querySelectorAll("[id^='v-']")) {
    if (e.tagName === "TEXTAREA") continue;
    app.vars[e.id.slice(2)] = String(e.value);
  }
}

function writeVars() {
  for (const [k, v] of Object.entries(app.vars)) {
    const e = document.getElementById(`v-${k}`);
    if (!e || e.tagName === "TEXTAREA") continue;
    if (e.tagName === "SELECT" && ![...e.options].some((o) => o.value === v)) continue;
    e.value = v;
    e.dispatchEvent(new Event("input"));
  }
}

/** Run a preset: adjust the setup for it, open its panel and run. */
app.runPreset = async (name, panel, patch = {}) => {
  if (patch.config) {
    selectPanel(panel);
    PANELS[panel].fromLink?.(app, patch.config);
  } else {
    const cfg = structuredClone(app.base);
    if (patch.param) cfg.param = patch.param;
    cfg.model = Object.assign({}, cfg.model, { arch: patch.arch || "mlp" });
    app.base = cfg;
    setup.configToForm(app.base, app.widths);
    if (patch.axis) app.vars["transfer-axis"] = patch.axis; else if (panel === "transfer") app.vars["transfer-axis"] = "width";
    writeVars();
    selectPanel(panel);
  }
  setStatus(`Preset ${name}…`);
  await runCurrent();
};

function readForm() {
  const widths = setup.formWidths();
  const cfg = setup.formToConfig(app.base, app.csvText);
  if (!widths.length || widths.some((w) => !Number.isInteger(w) || w < 1 || w > 65536)) {
    throw new Error("invalid config field `model.width`: expected widths as whole numbers in 1..=65536, separated by commas");
  }
  if (widths.length > 12) throw new Error("invalid config field `model.width`: expected at most 12 widths");
  app.core.validate(JSON.stringify(cfg)); // throws with the field named
  app.base = cfg;
  app.widths = widths;
}

export async function runCurrent() {
  showError("");
  setup.markInvalid("");
  try { readForm(); readVars(); } catch (e) {
    const msg = String(e.message || e);
    showError(msg); setup.markInvalid(msg); return;
  }
  if (!EMBED) history.replaceState(null, "", pageURL(location.search));
  try { await PANELS[app.panel].run(app); } catch (e) {
    if (!(e instanceof Cancelled)) {
      const msg = String(e.message || e);
      showError(msg); setup.markInvalid(msg); setStatus("Failed.");
    }
  }
}

function selectPanel(id, focus) {
  app.panel = id;
  for (const [pid] of Object.entries(PANELS)) {
    const tab = $(`tab-${pid}`), sec = $(`panel-${pid}`);
    const on = pid === id;
    if (tab) { tab.setAttribute("aria-selected", String(on)); tab.tabIndex = on ? 0 : -1; }
    if (sec) sec.hidden = !on;
  }
  // the setup form belongs to every panel that trains networks
  const form = $("setup");
  const host = $(`panel-${id}`).querySelector(".setup-slot");
  if (host && form.parentElement !== host) host.append(form);
  if (focus) $(`tab-${id}`).focus();
}

function buildTabs() {
  const nav = $("tabs");
  const ids = Object.keys(PANELS);
  for (const id of ids) {
    const p = PANELS[id];
    if (!$(`panel-${id}`)) {
      const sec = document.createElement("section");
      sec.id = `panel-${id}`; sec.className = "panel"; sec.setAttribute("role", "tabpanel");
      sec.setAttribute("aria-labelledby", `tab-${id}`); sec.hidden = true;
      $("panels").append(sec);
      p.build(sec, app);
    } else {
      p.build?.($(`panel-${id}`), app);
    }
    const b = document.createElement("button");
    b.type = "button"; b.id = `tab-${id}`; b.setAttribute("role", "tab");
    b.setAttribute("aria-controls", `panel-${id}`); b.textContent = p.title;
    b.addEventListener("click", () => selectPanel(id));
    b.addEventListener("keydown", (ev) => {
      const i = ids.indexOf(id);
      if (ev.key === "ArrowRight") selectPanel(ids[(i + 1) % ids.length], true);
      else if (ev.key === "ArrowLeft") selectPanel(ids[(i - 1 + ids.length) % ids.length], true);
      else return;
      ev.preventDefault();
    });
    nav.append(b);
  }
}

function embedMode(figure) {
  document.body.classList.add("embed");
  const host = document.querySelector(`[data-figure="${CSS.escape(figure)}"]`);
  if (!host) { showError(`No figure named ${figure}.`); document.body.classList.remove("embed"); return; }
  host.classList.add("embed-target");
  const sec = host.closest(".panel");
  const id = sec.id.replace(/^panel-/, "");
  selectPanel(id);
  app.panel = id;
}

// ---------------------------------------------------------------- boot

async function boot() {
  const t0 = performance.now();
  const want = Number(params.get("workers"));
  app.pool = new Pool(Number.isInteger(want) && want > 0 && want <= 16 ? want : defaultPoolSize(), modulePromise);
  app.pool.onBackend = noteBackend;
  const dev = params.get("device");
  if (dev === "cpu" || dev === "gpu" || dev === "auto") $("device").value = dev;
  app.pool.device = $("device").value;
  $("device").addEventListener("change", () => { app.pool.device = $("device").value; });
  modulePromise.then(() => performance.mark("wasm-compiled"));
  app.core = await ready;
  performance.mark("core-ready");
  $("version").textContent = app.core.version();
  app.base = JSON.parse(app.core.default_config("train"));
  app.base.steps = 100;
  buildTabs();
  const fromLink = location.hash.length > 1 && applyFragment(location.hash);
  setup.configToForm(app.base, app.widths);
  selectPanel(app.panel);
  if (EMBED) embedMode(EMBED);

  $("setup").addEventListener("change", (ev) => {
    setup.syncVisibility();
    if (ev.target.id === "f-param") PANELS.train.onParamChange?.(app);
  });
  $("setup").addEventListener("submit", (ev) => { ev.preventDefault(); runCurrent(); });
  $("f-csv").addEventListener("change", async () => {
    const f = $("f-csv").files[0];
    if (f) app.csvText = (await f.text()).slice(0, 1 << 20);
  });
  $("run").addEventListener("click", runCurrent);
  $("cancel").addEventListener("click", () => { app.runToken++; app.pool.cancel(); });
  $("copy-link").addEventListener("click", copyLink);
  $("embed").addEventListener("click", embedSnippet);
  addEventListener("hashchange", () => { if (applyFragment(location.hash)) { setup.configToForm(app.base, app.widths); selectPanel(app.panel); runCurrent(); } });
  setStatus("Ready.");
  // the first page (or an opened link) runs at once
  if (fromLink || app.panel === "train") {
    await runCurrent();
    app.firstRunMs = performance.now() - t0;
  }
}

/** Register the service worker that keeps the page working offline once loaded;
 * `app.offlineReady` resolves true once the page shell is cached. Registered after the
 * first run so it never delays the first curve. */
function registerOffline() {
  if (!("serviceWorker" in navigator)) { app.offlineReady = Promise.resolve(false); return; }
  app.offlineReady = navigator.serviceWorker.register("./sw.js", { scope: "./" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => true)
    .catch(() => false); // e.g. a host without HTTPS: the page still works online
}

boot().then(registerOffline, (e) => { showError("The page failed to start: " + (e.message || e)); setStatus("Failed."); });
