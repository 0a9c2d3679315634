// What the page shows about itself: the status line, the progress bar with its ETA, the
// error banner, and the figures (drawn, exported, marked stale). Panels and the app
// draw through here; this module imports only the plotting code and the words.
import { linePlot, heatmapPlot, toSVG, toCSV, toPNG } from "./plot.js";
import { duration } from "./words.js";

const $ = (id) => document.getElementById(id);

/** Figures drawn so far: name -> {spec, config, records, ...}. */
export const figures = {};

/** Page-wide view settings: `embed` is the figure shown alone (?embed=), or null. */
export const view = { embed: null, firstCurveMs: undefined };

export function setStatus(text) { $("status").textContent = text; }

// ---------------------------------------------------------------- the banner

let sticky = false;

/** Show `text` in the error banner (as text: messages may quote a hostile link). With
 * `keepThroughRun`, the message survives the run that starts next (a link's problems
 * stay visible while the link's experiment runs), and goes at the one after. */
export function showError(text, { keepThroughRun = false } = {}) {
  const e = $("errors");
  const old = e.hidden ? "" : e.textContent;
  const msg = old && sticky && text ? `${old}\n${text}` : text;
  e.hidden = !msg;
  e.textContent = msg || "";
  if (keepThroughRun) sticky = true;
}

/** At the start of a run: clear the banner, unless it holds a link's problems that
 * the run about to start should still show. */
export function clearErrorForRun() {
  if (sticky) { sticky = false; return; }
  showError("");
}

export function errorText() { return $("errors").hidden ? "" : $("errors").textContent; }

// ---------------------------------------------------------------- busy, progress and ETA

/** One run of the page (a click on Run, a preset, an opened link): its jobs' progress
 * fractions, its start, notes for the final status (e.g. what diverged). */
export class Session {
  constructor(label) {
    this.label = label;
    this.t0 = performance.now();
    this.fracs = [];
    this.weights = [];
    this.notes = [];
    this.workers = 1;
    this.lastPaint = 0;
    this.active = true;
  }

  /** A new job of estimated `work` (the core's flops; any positive scale): returns a
   * function taking its fraction done (0..1). The session's fraction is the jobs'
   * fractions weighted by their work. */
  job(work = 1) {
    const i = this.fracs.push(0) - 1;
    this.weights.push(work > 0 && Number.isFinite(work) ? work : 1);
    // never backwards: a solver's estimate of its remaining work may grow a little
    return (f) => { this.fracs[i] = Math.max(this.fracs[i], Math.min(1, f)); this.paint(); };
  }

  /** A sentence for the final status ("diverged: ..."); duplicates are dropped. */
  note(text) { if (!this.notes.includes(text)) this.notes.push(text); }

  fraction() {
    const total = this.weights.reduce((a, b) => a + b, 0);
    return total ? this.fracs.reduce((a, f, i) => a + f * this.weights[i], 0) / total : 0;
  }

  /** Progress bar and status ("Running 3 jobs on 2 workers… 40%, about 12 s left"). */
  paint(force = false) {
    if (!this.active) return;
    const now = performance.now();
    if (!force && now - this.lastPaint < 200) return;
    this.lastPaint = now;
    const f = this.fraction();
    $("progress").value = f;
    const n = this.fracs.length;
    const elapsed = (now - this.t0) / 1000;
    let text = `${this.label}: ${n} job${n === 1 ? "" : "s"} on ${this.workers} worker${this.workers > 1 ? "s" : ""}… ${Math.floor(100 * f)}%`;
    if (elapsed > 2 && f > 0.01 && f < 1) text += `, about ${duration(elapsed * (1 - f) / f)} left`;
    setStatus(text);
  }
}

let current = null;

/** Start a session: the page is busy (Run busy, Cancel enabled) until `endSession`. */
export function beginSession(label, workers) {
  current = new Session(label);
  current.workers = workers;
  $("cancel").disabled = false;
  $("run").setAttribute("aria-busy", "true");
  $("progress").value = 0;
  current.paint(true);
  return current;
}

/** The session in progress (or null). */
export function session() { return current && current.active ? current : null; }

/** End a session with its final status; the page is idle again. */
export function endSession(s, status) {
  s.active = false;
  if (current === s) {
    current = null;
    $("cancel").disabled = true;
    $("run").removeAttribute("aria-busy");
    // full when done, empty when cancelled (no bar left standing part way)
    $("progress").value = status.startsWith("Done") ? 1 : status.startsWith("Cancelled") ? 0 : $("progress").value;
  }
  setStatus(status);
}

export function busy() { return !!session(); }

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

/** Records as plain objects (without the JSON text the pool keeps beside them). */
function plain(records) {
  return (records ?? []).filter(Boolean).map(({ __json, ...r }) => r);
}

function exportBar(name) {
  const bar = document.createElement("div");
  bar.className = "exports";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", `Export ${name}`);
  const mk = (label, title, fn) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.dataset.export = label.toLowerCase();
    b.setAttribute("aria-label", `Export ${name} as ${label}`);
    b.addEventListener("click", () => Promise.resolve().then(fn).catch((e) => showError(`Export failed: ${e.message || e}`)));
    bar.append(b);
  };
  const fig = () => figures[name];
  mk("SVG", "The figure as a vector image", () => download(`${name}.svg`, new Blob([toSVG(fig().spec)], { type: "image/svg+xml" })));
  mk("PNG", "The figure as a picture (2x)", async () => download(`${name}.png`, await toPNG(fig().spec)));
  mk("CSV", "The plotted numbers, one row per point (diverged: empty)", () => download(`${name}.csv`, new Blob([toCSV(fig().spec)], { type: "text/csv" })));
  mk("JSON", "The figure, its config and every run record behind it", () => {
    const f = fig();
    const doc = { figure: f.spec, config: f.config ?? null, records: plain(f.records) };
    download(`${name}.json`, new Blob([JSON.stringify(doc, null, 1)], { type: "application/json" }));
  });
  return bar;
}

function countPoints(spec) {
  return spec.heatmaps
    ? spec.heatmaps.reduce((n, h) => n + h.values.length, 0)
    : spec.series.reduce((n, s) => n + (s.marker || s.band ? 0 : s.y.filter(Number.isFinite).length), 0);
}

/** Link back from an embedded figure to the whole playground at the same state. */
function embedLink(host) {
  const u = new URL(location.href);
  u.searchParams.delete("embed");
  const a = document.createElement("a");
  a.className = "open-playground";
  a.href = u.toString();
  a.target = "_blank";
  a.rel = "noopener";
  a.textContent = "Open in the playground ↗";
  host.append(a);
}

/** Draw (or redraw) figure `name` in its host element. `extra` ({config, records, ...})
 * is exported with it; every figure should pass the config and records behind it. */
export function drawFigure(name, spec, extra = {}) {
  const host = document.querySelector(`[data-figure="${name}"]`);
  if (!host) return;
  spec.name = name;
  figures[name] = Object.assign({ spec }, extra);
  host.classList.remove("stale");
  host.hidden = false;
  // an embed fills the frame, less any message above it and the link back below it
  const banner = $("errors").hidden ? 0 : $("errors").getBoundingClientRect().height + 8;
  const fit = view.embed === name ? { width: innerWidth - 12, height: innerHeight - 26 - banner } : null;
  if (spec.heatmaps) heatmapPlot(host, spec, fit); else linePlot(host, spec, fit);
  if (view.embed) embedLink(host);
  else host.querySelector(".fig-head")?.append(exportBar(name));
  const points = countPoints(spec);
  // time from navigation to the first plotted curve (performance.now() counts from it)
  if (points > 0 && view.firstCurveMs === undefined) view.firstCurveMs = performance.now();
  host.dataset.points = String(points);
}

/** Redraw at most once per animation frame: `draw` runs in the next frame. */
const pending = new Map();
export function drawSoon(name, draw) {
  if (!pending.has(name)) requestAnimationFrame(() => { const f = pending.get(name); pending.delete(name); f(); });
  pending.set(name, draw);
}

/** Mark the figures of a panel as no longer showing the current settings. */
export function markStale(section, why) {
  for (const host of section.querySelectorAll("[data-figure].has-plot")) {
    host.classList.add("stale");
    host.dataset.staleWhy = why;
  }
}

/** Empty a figure (no data yet). */
export function clearFigure(name) {
  const host = document.querySelector(`[data-figure="${name}"]`);
  if (!host) return;
  host.replaceChildren();
  host.classList.remove("has-plot", "stale");
  delete host.dataset.points;
  delete figures[name];
}
