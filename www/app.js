// The page: boots the wasm core and the worker pool, holds the one state (state.js),
// wires the controls that patch it, makes the URL from it, and runs the open panel.
// Imports run one way: app -> panels -> (runner, ui, setup, state, plot, words).
import { ready, modulePromise, BUILD } from "./core.js";
import { Pool, Cancelled, defaultPoolSize } from "./pool.js";
import { initialState, toFragment, fromFragment, PANEL_IDS } from "./state.js";
import * as ui from "./ui.js";
import { env } from "./runner.js";
import * as setup from "./setup.js";
import { PANELS } from "./panels.js";
import { backendWords, duration } from "./words.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const EMBED = params.get("embed");

/** The page's state and services; `window.__app` for the browser tests. */
const app = {
  state: null,
  core: null,
  pool: null,
  figures: ui.figures,
  get running() { return ui.busy() ? 1 : 0; },
  get firstCurveMs() { return ui.view.firstCurveMs; },
  get base() { return app.state.train; },
};
window.__app = app;

let booted = false;

/** Panels get this: the state, the core, and how to report a change or run a preset. */
const ctx = {
  get state() { return app.state; },
  get core() { return app.core; },
  changed: () => changed(),
  runPreset: (p) => runPreset(p),
};

// ---------------------------------------------------------------- the backend note

function noteBackend(ran) {
  if (!performance.getEntriesByName("worker-ready").length) performance.mark("worker-ready");
  const w = backendWords(ran || null, app.pool.gpu, app.pool.size, app.pool.build);
  $("backend").textContent = w.text;
  $("backend").title = w.detail;
  $("backend").dataset.ran = ran ? ran.device : "";
}

// ---------------------------------------------------------------- state -> URL, controls

/** The page's URL for the state (`extraQuery`: e.g. `?embed=loss`); throws the core's
 * message when the state's config is invalid. */
function pageURL(extraQuery = location.search) {
  const u = new URL(location.href);
  u.search = extraQuery || "";
  u.hash = toFragment(app.state, app.core);
  return u.toString();
}

/** Write the state into the URL (kept as it was while the config is invalid). */
function updateURL() {
  if (EMBED) return;
  try { history.replaceState(null, "", pageURL()); } catch { /* shown when the user runs */ }
}

/** A control patched the state: new URL, caption; the drawn figures are now stale. */
function changed(message) {
  if (!booted) return;
  if (message) ui.showError(message);
  updateURL();
  PANELS.train.caption(ctx);
  if (!ui.busy()) ui.markStale($(`panel-${app.state.panel}`), "The settings changed since this was drawn: press Run to update it.");
}

/** Panel values (inputs `v-<name>` with a default) <- state.vars. */
function writeVars() {
  for (const e of document.querySelectorAll("[id^='v-']")) {
    if (e.dataset.fallback === undefined) continue;
    const v = app.state.vars[e.id.slice(2)] ?? e.dataset.fallback;
    if (e.tagName === "SELECT" && ![...e.options].some((o) => o.value === v)) continue;
    e.value = v;
  }
  for (const p of Object.values(PANELS)) p.sync?.(ctx); // panels that show or hide values by them
}

/** Replace the state's contents (the object stays: the form and panels hold it). */
function setState(next) {
  if (next !== app.state) {
    for (const k of Object.keys(app.state)) delete app.state[k];
    Object.assign(app.state, next);
  }
  setup.configToForm();
  writeVars();
  PANELS.engines.show(ctx);
  PANELS.train.caption(ctx);
}

/** Open a fragment: its valid parts patch the state; its problems go in the banner and
 * stay through the run it starts. Returns true if it carried an experiment. */
function openFragment(hash) {
  const r = fromFragment(hash, app.state, app.core);
  setState(r.state);
  if (r.problems.length) {
    const rest = r.hasConfig ? "Its valid parts were kept; the rest keeps its previous value."
      : r.kept.length ? `Its experiment could not be read: the experiment's settings are unchanged (the defaults on a fresh page); the link's other parts were applied (${r.kept.join(", ")}).`
        : "Showing the default experiment instead.";
    ui.showError(`This link could not be opened as it is: ${r.problems.join("; ")}. ${rest}`, { keepThroughRun: true });
  }
  return r.hasConfig || r.problems.length > 0;
}

// ---------------------------------------------------------------- running

let lastSession = null;

/** Run the open panel with the current state. */
async function runCurrent() {
  if (ui.busy()) { // a new run replaces the one in progress
    app.pool.cancel();
    await lastSession;
  }
  ui.clearErrorForRun();
  setup.markInvalid("");
  const panel = PANELS[app.state.panel];
  const fail = (msg) => {
    ui.showError(msg);
    setup.markInvalid(msg);
    ui.setStatus("Failed: see the message above.");
  };
  const bad = setup.firstInvalid();
  if (bad && panel.id !== "engines") return fail(bad);
  if (panel.id !== "engines" && panel.id !== "presets") {
    try { app.core.validate(JSON.stringify(app.state.train)); } catch (e) { return fail(String(e.message || e)); }
  }
  updateURL();
  const s = ui.beginSession(`Running ${panel.title}`, app.pool.size);
  ui.markStale($(`panel-${panel.id}`), "Drawn for the previous settings; the new results replace it as they arrive.");
  const run = (async () => {
    try {
      await panel.run(ctx);
      ui.endSession(s, `Done in ${duration((performance.now() - s.t0) / 1000)}.${s.notes.length ? " " + s.notes.join(". ") + "." : ""}`);
    } catch (e) {
      if (e instanceof Cancelled) { ui.endSession(s, "Cancelled."); return; }
      const msg = String((e && e.message) || e);
      ui.showError(msg);
      setup.markInvalid(msg);
      ui.endSession(s, `Failed: see the message above.${s.notes.length ? " " + s.notes.join(". ") + "." : ""}`);
    }
  })();
  lastSession = run;
  await run;
}

/** Run a preset: the core's config on the Engines panel, or the page's live version
 * (a patch of the setup, or `patch.load`: a config the panel opens) on its own panel. */
async function runPreset({ name, panel, config, patch }) {
  if (config) {
    app.state.engine = structuredClone(config);
    PANELS.engines.show(ctx);
  } else if (patch.load) { // a panel that opens a core config as its own values
    PANELS[panel].load(ctx, patch.load);
  } else {
    const t = app.state.train;
    if (patch.param) t.param = structuredClone(patch.param);
    t.model.arch = patch.arch || "mlp";
    if (patch.centered) t.model.centered = true;
    if (panel === "transfer") app.state.vars["transfer-axis"] = patch.axis || "width";
    setup.configToForm();
    writeVars();
  }
  selectPanel(panel);
  scrollTo(0, 0); // the status, progress and figure of the run, not the card's place
  ui.setStatus(`Preset ${name}…`);
  await runCurrent();
}

// ---------------------------------------------------------------- panels and tabs

function selectPanel(id, focus) {
  app.state.panel = id;
  for (const pid of Object.keys(PANELS)) {
    const tab = $(`tab-${pid}`), sec = $(`panel-${pid}`);
    const on = pid === id;
    if (tab) { tab.setAttribute("aria-selected", String(on)); tab.tabIndex = on ? 0 : -1; }
    if (sec) sec.hidden = !on;
  }
  // the setup form belongs to every panel that trains networks
  const host = $(`panel-${id}`).querySelector(".setup-slot");
  if (host && $("setup").parentElement !== host) host.append($("setup"));
  const run = $("run");
  run.disabled = id === "presets";
  run.title = id === "presets" ? "Each preset has its own Run button below" : "Run the open panel with the current settings";
  if (focus) $(`tab-${id}`).focus();
  if (booted) updateURL();
}

function buildTabs() {
  const nav = $("tabs");
  const ids = Object.keys(PANELS);
  const wide = innerWidth >= 1000;
  for (const id of ids) {
    const p = PANELS[id];
    let sec = $(`panel-${id}`);
    if (!sec) {
      sec = document.createElement("section");
      sec.id = `panel-${id}`; sec.className = "panel"; sec.setAttribute("role", "tabpanel");
      sec.setAttribute("aria-labelledby", `tab-${id}`); sec.hidden = true;
      $("panels").append(sec);
    }
    p.build(sec, ctx);
    // controls open beside the figure on wide screens, folded under it on narrow ones
    sec.querySelectorAll(".setup-details").forEach((d) => { d.open = wide; });
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

// ---------------------------------------------------------------- sharing and embedding

function showShare(label, text) {
  $("share").hidden = false;
  $("share-label").textContent = label;
  $("share-text").value = text;
  $("share-text").select();
}

async function copyLink() {
  let url;
  try { url = pageURL(""); } catch (e) { ui.showError(String(e.message || e)); return; }
  history.replaceState(null, "", url);
  showShare("Link to this experiment", url);
  try { await navigator.clipboard.writeText(url); ui.setStatus("Link copied."); } catch { ui.setStatus("Link ready to copy (selected below)."); }
}

function embedSnippet() {
  const fig = PANELS[app.state.panel].figure;
  if (!fig) { ui.showError("The Presets panel has no figure of its own: run a preset, then embed its panel."); return; }
  let url;
  try { url = pageURL(`?embed=${fig}`); } catch (e) { ui.showError(String(e.message || e)); return; }
  const safe = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  showShare("Embed snippet (iframe, 700 × 450)", `<iframe src="${safe}" width="700" height="450" title="Scaling playground figure" loading="lazy" style="border:0"></iframe>`);
}

/** Embed mode: only figure `name`, sized to the frame, with a link back. An unknown
 * name says so (and which names exist) instead of showing the whole page. */
function embedMode(name) {
  document.body.classList.add("embed");
  const host = document.querySelector(`[data-figure="${CSS.escape(name)}"]`);
  if (!host) {
    const names = [...document.querySelectorAll("[data-figure]")].map((f) => f.dataset.figure);
    ui.showError(`No figure named “${name.slice(0, 60)}” to embed. Figures: ${names.join(", ")}.`);
    const a = document.createElement("a");
    const u = new URL(location.href); u.searchParams.delete("embed");
    a.href = u.toString(); a.target = "_blank"; a.rel = "noopener"; a.className = "open-playground";
    a.textContent = "Open in the playground ↗";
    $("errors").after(a);
    return false;
  }
  ui.view.embed = name;
  host.classList.add("embed-target");
  selectPanel(host.closest(".panel").id.replace(/^panel-/, ""));
  return true;
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
  env.core = app.core;
  env.pool = app.pool;
  env.onBackend = noteBackend;
  $("version").textContent = app.core.version();
  app.state = initialState(app.core);
  PANEL_IDS.push(...Object.keys(PANELS));
  // panel values: inputs `v-<name>` with a default patch state.vars
  const onVar = (ev) => {
    const e = ev.target;
    if (!e.id || !e.id.startsWith("v-") || e.dataset.fallback === undefined) return;
    app.state.vars[e.id.slice(2)] = e.value;
    changed();
  };
  $("panels").addEventListener("input", onVar);
  $("panels").addEventListener("change", onVar);
  setup.bind(app.state, app.core, JSON.parse(app.core.limits()), changed);
  buildTabs();
  const fromLink = location.hash.length > 1 && openFragment(location.hash);
  setState(app.state);
  selectPanel(app.state.panel);
  const embedOk = EMBED === null || embedMode(EMBED);

  $("run").addEventListener("click", runCurrent);
  $("cancel").addEventListener("click", () => app.pool.cancel());
  $("copy-link").addEventListener("click", copyLink);
  $("embed").addEventListener("click", embedSnippet);
  $("go-presets").addEventListener("click", () => selectPanel("presets", true));
  addEventListener("hashchange", () => {
    if (location.hash.length > 1 && openFragment(location.hash)) { selectPanel(app.state.panel); runCurrent(); }
  });
  booted = true;
  ui.setStatus("Ready.");
  // the first page (or an opened link) runs at once
  if (embedOk && app.state.panel !== "presets" && (fromLink || app.state.panel === "train")) {
    await runCurrent();
    app.firstRunMs = performance.now() - t0;
  }
}

/** Register the service worker that keeps the page working offline once loaded;
 * `app.offlineReady` resolves true once the page shell is cached. Registered after the
 * first run so it never delays the first curve. */
function registerOffline() {
  if (!("serviceWorker" in navigator)) { app.offlineReady = Promise.resolve(false); return; }
  // the script's URL names the wasm build this page runs, the one it caches
  const wasm = new URL(BUILD.url).pathname.slice(new URL("./", location.href).pathname.length);
  app.offlineReady = navigator.serviceWorker.register(`./sw.js?wasm=${encodeURIComponent(wasm)}`, { scope: "./" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => true)
    .catch(() => false); // e.g. a host without HTTPS: the page still works online
}

boot().then(registerOffline, (e) => { ui.showError("The page failed to start: " + ((e && e.message) || e)); ui.setStatus("Failed: the page could not start."); });
