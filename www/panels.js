// The panels. Each is {title, figure, build(section, app), run(app), ...}; `run` splits
// its work into independent RunConfigs for the worker pool and redraws as results land.
// Panels built on `train` work in every build; the engine panel runs whatever other
// kinds this build's core has (theory, experiments, statics) and plots their CSV tables.
import { runJobs, runSplit, drawFigure, showError } from "./app.js";
import { figuresFor } from "./kinds.js";
import { analyse, presetExponents } from "./abc.js";

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text; // text only, never HTML
  return e;
}

function mean(v) {
  const f = v.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

function numbers(text) {
  return String(text).split(/[,\s]+/).filter((s) => s !== "").map(Number);
}

/** A train config at a given width (and other overrides). */
export function atWidth(base, width, patch = {}) {
  const c = structuredClone(base);
  c.model = Object.assign({}, c.model, { width });
  return Object.assign(c, patch);
}

function withObserve(c, obs) {
  c.observe = Object.assign({}, c.observe, obs);
  return c;
}

function setLr(c, lr) {
  c.optimizer = Object.assign({}, c.optimizer, { lr });
  return c;
}

/** A labelled text input for a panel's list of values, kept in app.vars[panel]. */
function varsInput(sec, app, id, label, fallback) {
  const lab = el("label", {}, label + " ");
  const inp = el("input", { id: `v-${id}`, type: "text", inputmode: "decimal" });
  inp.value = app.vars[id] ?? fallback;
  lab.append(inp);
  sec.append(lab);
  return inp;
}

function readList(app, id, fallback, { min = 0, max = Infinity, count = 16, integer = false, name = "values" } = {}) {
  const inp = document.getElementById(`v-${id}`);
  const vals = numbers(inp ? inp.value : fallback);
  if (!vals.length || vals.length > count || vals.some((v) => !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))) {
    throw new Error(`invalid field \`${name}\`: expected 1 to ${count} numbers in ${min}..${max}${integer ? " (whole numbers)" : ""}`);
  }
  return vals;
}

function figureHost(sec, name) {
  const d = el("div", { class: "figure", "data-figure": name });
  sec.append(d);
  return d;
}

function intro(sec, title, text, withSetup = true) {
  sec.append(el("h2", {}, title), el("p", { class: "note" }, text));
  if (withSetup) {
    const d = el("details", { class: "setup-details" });
    d.append(el("summary", {}, "Setup (data, network, parameterisation, optimiser)"), el("div", { class: "setup-slot" }));
    sec.append(d);
  }
}

// ------------------------------------------------------------------ training

const train = {
  title: "Training",
  figure: "loss",
  build(sec) {
    if (!sec.querySelector(".setup-slot")) sec.querySelector("h2").after(el("div", { class: "setup-slot" }));
    sec.append(el("p", { class: "note" },
      "Mean training loss over seeds (solid) and test loss (dashed) at each width; each width runs in its own worker. Under µP the curves agree across widths; under SP they drift. With a centred output under GD, the DMFT (infinite width, rich) and lazy (kernel) predictions are drawn too."));
  },
  async run(app) {
    const widths = app.widths;
    const recs = new Array(widths.length);
    const configs = widths.map((w) => atWidth(app.base, w));
    const theory = {}; // kind -> {x, y} of the infinite-width predictions, when the core has them
    const redraw = () => {
      const series = [];
      widths.forEach((w, i) => {
        const r = recs[i];
        if (!r) return;
        const res = r.result;
        series.push({ label: `N=${w} train`, x: res.steps, y: res.train_loss.map(mean), colorIndex: i });
        if (res.test_loss.length) series.push({ label: `N=${w} test`, x: res.steps, y: res.test_loss.map(mean), dash: true, colorIndex: i });
      });
      if (theory.dmft) series.push({ label: "DMFT (N → ∞, rich)", x: theory.dmft.x, y: theory.dmft.y, dash: true, color: "#000" });
      if (theory.lazy) series.push({ label: "lazy limit (NTK regression)", x: theory.lazy.x, y: theory.lazy.y, dash: true, color: "#888" });
      drawFigure("loss", { title: "Loss during training", xlabel: "step", ylabel: "loss", ylog: true, series },
        { config: app.base, records: recs.filter(Boolean) });
    };
    const finite = runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); }); // queued first
    const side = overlays(app, theory, redraw);
    await finite;
    await side;
  },
};

/** DMFT and lazy (kernel) predictions beside the finite networks, when the core has
 * them and they apply (full-batch GD under µP/NTK). Run beside the finite networks;
 * a theory run that fails leaves the finite curves alone. */
function overlays(app, theory, redraw) {
  const b = app.base;
  // the theory describes centred outputs f - f0 under full-batch GD
  if (!b.model.centered || b.optimizer.kind !== "gd" || !["mup", "ntk"].includes(b.param.kind) || b.model.arch !== "mlp") return Promise.resolve();
  const jobs = ["dmft", "lazy"].filter((k) => hasKind(app, k)).map((kind) => {
    const def = JSON.parse(app.core.default_config(kind));
    const cfg = Object.assign(def, pickTrainFields(def, b));
    try { app.core.check_budget(JSON.stringify(cfg)); } catch { return Promise.resolve(); }
    return app.pool.run(cfg, null).then((rec) => {
      const loss = rec.result.loss || [];
      theory[kind] = { x: loss.map((_, t) => t), y: loss };
      redraw();
    }).catch(() => {});
  });
  if (!jobs.length) return Promise.resolve();
  app.running++; // the page counts as busy until the theory curves are in
  return Promise.all(jobs).finally(() => { app.running--; });
}

/** Copy the fields a theory config shares with the train config (same names). */
function pickTrainFields(def, base) {
  const out = {};
  for (const k of Object.keys(def)) if (k !== "kind" && k in base) out[k] = structuredClone(base[k]);
  const { kind, ...plain } = structuredClone(base); // nested train configs carry no tag
  if ("train" in def && typeof def.train === "object") out.train = plain;
  if ("base" in def && typeof def.base === "object") out.base = plain;
  return out;
}

export function hasKind(app, kind) {
  app.kinds = app.kinds || {};
  if (!(kind in app.kinds)) {
    try { app.core.default_config(kind); app.kinds[kind] = true; } catch { app.kinds[kind] = false; }
  }
  return app.kinds[kind];
}

// ------------------------------------------------------------------ transfer

const transfer = {
  title: "Transfer",
  figure: "transfer",
  build(sec, app) {
    intro(sec, "Hyperparameter transfer", "Final training loss against learning rate, one curve per width (or depth). Black markers: the best rate of each curve; red markers along the top: diverged cells (NaN, Inf or exploding loss), also marked in the table. Under µP the best rate stays put as the width grows; under SP it drifts.");
    const row = el("div", { class: "kv" });
    sec.append(row);
    varsInput(row, app, "transfer", "Learning rates", "0.03125,0.0625,0.125,0.25,0.5,1,2,4,8");
    const lab = el("label", {}, "Sweep over ");
    const sel = el("select", { id: "v-transfer-axis" });
    sel.append(el("option", { value: "width" }, "width (setup widths)"), el("option", { value: "depth" }, "depth (setup width)"));
    lab.append(sel);
    row.append(lab);
    varsInput(row, app, "transfer-depths", "Depths", "1,2,4,8");
    figureHost(sec, "transfer");
    sec.append(el("div", { id: "transfer-table" }));
  },
  async run(app) {
    const lrs = readList(app, "transfer", "", { min: 1e-6, max: 1e4, count: 16, name: "learning rates" });
    const axis = document.getElementById("v-transfer-axis").value;
    const depths = readList(app, "transfer-depths", "", { min: 1, max: 64, integer: true, count: 8, name: "depths" });
    const lines = axis === "depth" ? depths : app.widths;
    const configs = [], cells = [];
    lines.forEach((v, i) => lrs.forEach((lr, j) => {
      // depth sweeps run at a modest width so that deep residual nets stay quick
      let c = axis === "depth" ? atWidth(app.base, Math.min(app.base.model.width, 128)) : atWidth(app.base, v);
      if (axis === "depth") c.model = Object.assign({}, c.model, { depth: v });
      c = withObserve(setLr(c, lr), { every: Math.max(1, c.steps), test_loss: false });
      configs.push(c); cells.push([i, j]);
    }));
    const loss = lines.map(() => lrs.map(() => NaN));
    const div = lines.map(() => lrs.map(() => false));
    const redraw = () => {
      const series = [], best = { label: "best rate", x: [], y: [], marker: true, color: "#000" };
      const bad = { label: "diverged", x: [], y: [], marker: true, color: "#b00020" };
      const finite = loss.flat().filter(Number.isFinite);
      const top = finite.length ? Math.max(...finite) * 2 : 1;
      lines.forEach((v, i) => {
        series.push({ label: `${axis === "depth" ? "L" : "N"}=${v}`, x: lrs, y: loss[i].map((l, j) => div[i][j] ? NaN : l), points: true, colorIndex: i });
        let bj = -1;
        loss[i].forEach((l, j) => { if (!div[i][j] && Number.isFinite(l) && (bj < 0 || l < loss[i][bj])) bj = j; });
        if (bj >= 0) { best.x.push(lrs[bj]); best.y.push(loss[i][bj]); }
        div[i].forEach((d, j) => { if (d) { bad.x.push(lrs[j]); bad.y.push(top); } });
      });
      drawFigure("transfer", { title: `Final loss against learning rate, per ${axis}`, xlabel: "learning rate", ylabel: "final train loss", xlog: true, ylog: true, series: [...series, best, bad] },
        { config: app.base, grid: { axis, lines, lrs, loss, diverged: div } });
      table(lines, lrs, loss, div, axis);
    };
    await runJobs(configs, (k, rec) => {
      const [i, j] = cells[k];
      const r = rec.result;
      div[i][j] = r.diverged_at.some((d) => d !== null);
      loss[i][j] = mean(r.train_loss[r.train_loss.length - 1]);
      redraw();
    });
  },
};

function table(lines, lrs, loss, div, axis) {
  const host = document.getElementById("transfer-table");
  const t = el("table", { class: "cells" });
  t.append(el("caption", {}, "Final loss per cell (green: best rate; red: diverged)"));
  const head = el("tr");
  head.append(el("th", {}, axis === "depth" ? "L \\ lr" : "N \\ lr"), ...lrs.map((lr) => el("th", {}, String(lr))));
  t.append(head);
  lines.forEach((v, i) => {
    const tr = el("tr");
    tr.append(el("th", {}, String(v)));
    let bj = -1;
    loss[i].forEach((l, j) => { if (!div[i][j] && Number.isFinite(l) && (bj < 0 || l < loss[i][bj])) bj = j; });
    loss[i].forEach((l, j) => {
      const td = el("td", {}, div[i][j] ? "diverged" : Number.isFinite(l) ? l.toPrecision(3) : "…");
      if (div[i][j]) td.className = "diverged"; else if (j === bj) td.className = "best";
      tr.append(td);
    });
    t.append(tr);
  });
  host.replaceChildren(t);
}

// ------------------------------------------------------------------ coordinate check

async function coordCheck(app, param, widths, figure, steps = 4) {
  const configs = widths.map((w) => {
    const c = atWidth(app.base, w, { steps });
    if (param) c.param = param;
    return withObserve(c, { coords: true, every: steps, test_loss: false });
  });
  const recs = new Array(widths.length);
  const redraw = () => {
    const done = recs.map((r, i) => [r, widths[i]]).filter(([r]) => r);
    if (!done.length) return;
    const layers = done[0][0].result.coords.at(-1).mean_abs_dh.length;
    const series = [];
    for (let l = 0; l < layers; l++) {
      series.push({ label: `layer ${l + 1}: mean |Δh|`, x: done.map(([, w]) => w), y: done.map(([r]) => mean(r.result.coords.at(-1).mean_abs_dh[l])), points: true, colorIndex: l });
    }
    series.push({ label: "output: mean |Δf|", x: done.map(([, w]) => w), y: done.map(([r]) => mean(r.result.coords.at(-1).mean_abs_df)), points: true, dash: true, colorIndex: layers });
    drawFigure(figure, { title: `Coordinate check after ${steps} steps`, xlabel: "width N", ylabel: "mean |change since init|", xlog: true, ylog: true, series },
      { config: configs[0], records: recs.filter(Boolean) });
  };
  await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
}

const coords = {
  title: "Coord check",
  figure: "coords",
  build(sec, app) {
    intro(sec, "Coordinate check", "Per-layer mean |h(t) − h(0)| after a few steps, against width, under the setup's parameterisation (after microsoft/mup's coord_check). Flat lines: the update size does not depend on width (µP). Rising lines: updates blow up with width (SP).");
    varsInput(sec, app, "coords", "Widths", "64,128,256,512,1024");
    figureHost(sec, "coords");
  },
  async run(app) {
    const widths = readList(app, "coords", "", { min: 1, max: 8192, integer: true, count: 10, name: "widths" });
    await coordCheck(app, null, widths, "coords");
  },
};

// ------------------------------------------------------------------ abc explorer

const abc = {
  title: "abc explorer",
  figure: "abc",
  build(sec, app) {
    intro(sec, "abc-parameterisation explorer", "Layer l is N^(−a_l) W with W ~ N(0, N^(−2 b_l)) and learning rate η N^(−c) (input first, readout last). The page checks the talk's three constraints, names the parameterisation, and runs a coordinate check to show it.");
    const row = el("div", { class: "kv" });
    const mk = (id, label) => { const l = el("label", {}, label + " "); const i = el("input", { id, type: "text" }); l.append(i); row.append(l); return i; };
    const a = mk("v-abc-a", "a (per matrix)"), b = mk("v-abc-b", "b (per matrix)"), c = mk("v-abc-c", "c");
    sec.append(row);
    const presets = el("div", { class: "toolbar", role: "group", "aria-label": "abc presets" });
    const out = el("div", { id: "abc-verdict", "aria-live": "polite" });
    const set = (name) => {
      const e = presetExponents(name, app.base.model.depth + (app.base.model.arch === "resnet" ? 2 : 1));
      a.value = e.a.join(", "); b.value = e.b.join(", "); c.value = String(e.c);
      verdict();
    };
    for (const [n, t] of [["sp", "SP"], ["ntk", "NTK"], ["mup", "µP"]]) {
      const btn = el("button", { type: "button" }, `Load ${t}`);
      btn.addEventListener("click", () => set(n));
      presets.append(btn);
    }
    const verdict = () => {
      const r = analyse(numbers(a.value), numbers(b.value), Number(c.value));
      out.replaceChildren();
      if (r.error) { out.append(el("p", { class: "errors" }, r.error)); return null; }
      const ul = el("ul", { class: "checks" });
      for (const k of r.constraints) ul.append(el("li", { class: k.ok ? "ok" : "no" }, `${k.name}: ${k.detail}`));
      out.append(ul, el("p", {}, `This is: ${r.known}.`));
      return r;
    };
    [a, b, c].forEach((i) => i.addEventListener("input", verdict));
    sec.append(presets, out);
    varsInput(sec, app, "abc", "Coordinate-check widths", "64,256,1024");
    figureHost(sec, "abc");
    set("mup");
    this.verdict = verdict;
  },
  async run(app) {
    const widths = readList(app, "abc", "", { min: 1, max: 8192, integer: true, count: 8, name: "widths" });
    const r = this.verdict();
    if (!r) throw new Error("invalid field `param.a`: expected as many a and b exponents as weight matrices");
    const a = numbers(document.getElementById("v-abc-a").value), b = numbers(document.getElementById("v-abc-b").value);
    const param = { kind: "abc", a, b, c: Number(document.getElementById("v-abc-c").value), gamma0: 1, depth_alpha: 0 };
    await coordCheck(app, param, widths, "abc");
  },
};

// ------------------------------------------------------------------ kernels

const kernels = {
  title: "Kernels",
  figure: "kernels",
  build(sec, app) {
    intro(sec, "Kernels", "Feature kernels Φ^l = φ(h^l)·φ(h^l)/N, gradient kernels G^l and the NTK on the training set at a chosen time: the finite networks (largest setup width, averaged over seeds) in the top row, their infinite-width limit from the DMFT below, each pair on one colour scale. Compare time 0 with the end: the kernels move in the rich regime and stay put in the lazy one; the finite kernels approach the DMFT's as N grows.");
    const lab = el("label", {}, "Time (recorded step) ");
    const r = el("input", { id: "v-kernels-t", type: "range", min: "0", max: "0", value: "0" });
    lab.append(r, el("output", { id: "kernels-step", for: "v-kernels-t" }, ""));
    const lim = el("label", {}, "Infinite-width side ");
    const sel = el("select", { id: "v-kernels-limit" });
    sel.append(el("option", { value: "dmft" }, "DMFT (centred output f − f0)"), el("option", { value: "none" }, "none (finite only)"));
    lim.append(sel);
    sec.append(lab, lim, el("p", { class: "note", id: "kernels-limit-note" }, ""));
    r.addEventListener("input", () => this.draw(app));
    figureHost(sec, "kernels");
  },
  draw(app) {
    const rec = this.rec;
    if (!rec) return;
    const ks = rec.result.kernels;
    const t = Math.min(ks.length - 1, Number(document.getElementById("v-kernels-t").value));
    const k = ks[t];
    document.getElementById("kernels-step").textContent = `step ${k.step}`;
    const avg = (mats) => mats[0].map((_, i) => mean(mats.map((m) => m[i])));
    const finite = [];
    k.phi.forEach((m, l) => finite.push({ label: `Φ^${l + 1}`, values: avg(m) }));
    k.g.forEach((m, l) => finite.push({ label: `G^${l + 1}`, values: avg(m) }));
    if (k.ntk.length) finite.push({ label: "NTK", values: avg(k.ntk) });
    const d = this.dmft && this.dmft.result;
    const at = d ? d.record_steps.indexOf(k.step) : -1;
    const heat = [];
    if (at < 0) {
      heat.push(...finite);
    } else {
      const limit = [];
      d.phi[at].forEach((m, l) => limit.push({ label: `Φ^${l + 1}`, values: m }));
      d.g[at].forEach((m, l) => limit.push({ label: `G^${l + 1}`, values: m }));
      limit.push({ label: "NTK", values: d.ntk[at] });
      const group = `finite, N = ${this.cfg.model.width} (${this.cfg.seeds} seeds)`;
      for (const h of finite) heat.push(Object.assign(h, { group, scale: h.label }));
      for (const h of limit) {
        const f = finite.find((x) => x.label === h.label);
        const note = f ? `‖K_N − K_∞‖/‖K_∞‖ = ${(100 * relDiff(f.values, h.values)).toFixed(1)}%` : undefined;
        heat.push(Object.assign(h, { group: "DMFT, N → ∞", scale: h.label, note }));
      }
    }
    for (const h of heat) h.n = Math.round(Math.sqrt(h.values.length));
    const records = this.dmft ? [rec, this.dmft] : [rec];
    drawFigure("kernels", { title: `Kernels at step ${k.step}`, heatmaps: heat }, { config: this.cfg, records });
  },
  async run(app) {
    const w = app.widths[app.widths.length - 1];
    const wantLimit = document.getElementById("v-kernels-limit").value === "dmft";
    let c = withObserve(atWidth(app.base, w), { kernels: true, ntk: true, every: Math.max(1, Math.floor(app.base.steps / 10)) });
    if (wantLimit) c.model = Object.assign({}, c.model, { centered: true }); // the DMFT describes f − f0
    if (c.data.train > 64) throw new Error("invalid config field `data.train`: expected at most 64 points for the kernel heatmaps");
    this.cfg = c;
    this.rec = null;
    this.dmft = null;
    const note = document.getElementById("kernels-limit-note");
    const why = wantLimit ? dmftUnavailable(app, c) : "Infinite-width side off.";
    note.textContent = why || "";
    const jobs = [c];
    if (!why) {
      const def = JSON.parse(app.core.default_config("dmft"));
      const dc = Object.assign(def, pickTrainFields(def, c));
      try {
        app.core.check_budget(JSON.stringify(dc));
        jobs.push(dc);
      } catch (e) {
        note.textContent = `No DMFT side: ${String(e.message || e)}`;
      }
    }
    await runJobs(jobs, (i, rec) => {
      if (i === 1) {
        this.dmft = rec;
        const warn = rec.result.warnings || [];
        note.textContent = `DMFT: ${c.model.depth > 1 ? "deep Monte Carlo solver" : "two-layer solver"}, ${dcSamples(rec)} samples${warn.length ? ". Warning: " + warn.join("; ") : ""}.`;
      } else {
        this.rec = rec;
        const r = document.getElementById("v-kernels-t");
        r.max = String(rec.result.kernels.length - 1);
        r.value = r.max;
      }
      this.draw(app);
    });
  },
};

function dcSamples(rec) {
  return rec.config && rec.config.samples !== undefined ? rec.config.samples : "?";
}

/** Why the DMFT cannot be put beside this training config (null when it can). */
function dmftUnavailable(app, c) {
  if (!hasKind(app, "dmft")) return "This build has no DMFT solver: finite kernels only.";
  const need = [];
  if (c.optimizer.kind !== "gd") need.push("full-batch GD");
  if (!["mup", "ntk"].includes(c.param.kind)) need.push("µP or NTK parameterisation");
  if (c.model.arch !== "mlp") need.push("an MLP");
  return need.length ? `No DMFT side: the DMFT here needs ${need.join(", ")} (set them in Setup).` : null;
}

/** Relative Frobenius distance |a − b| / |b|. */
function relDiff(a, b) {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / (den || 1));
}

// ------------------------------------------------------------------ richness

const richness = {
  title: "Richness",
  figure: "richness",
  build(sec, app) {
    intro(sec, "Lazy vs rich", "The same network at several richness values γ0 (centred output, learning rate η γ0² N under µP). Small γ0: lazy, the kernels barely move (kernel regression). Large γ0: rich, the features move and learn the task.");
    varsInput(sec, app, "richness", "γ0 values", "0.05,0.25,1,4");
    figureHost(sec, "richness");
    figureHost(sec, "richness-movement");
  },
  async run(app) {
    const gs = readList(app, "richness", "", { min: 1e-4, max: 100, count: 8, name: "gamma0" });
    const w = app.widths[app.widths.length - 1];
    const configs = gs.map((g) => {
      const c = atWidth(app.base, w);
      c.param = app.base.param.kind === "sp" ? { kind: "mup", gamma0: g } : Object.assign({}, app.base.param, { gamma0: g });
      c.model = Object.assign({}, c.model, { centered: true });
      return withObserve(c, { kernels: true, every: Math.max(1, Math.floor(c.steps / 20)) });
    });
    const recs = new Array(gs.length);
    const redraw = () => {
      const series = [], move = [];
      gs.forEach((g, i) => {
        const r = recs[i];
        if (!r) return;
        series.push({ label: `γ0=${g}`, x: r.result.steps, y: r.result.train_loss.map(mean), colorIndex: i });
        const ks = r.result.kernels;
        if (ks.length) {
          const L = ks[0].phi.length - 1;
          const k0 = ks[0].phi[L];
          const rel = ks.map((k) => mean(k.phi[L].map((m, s) => {
            let num = 0, den = 0;
            m.forEach((v, j) => { num += (v - k0[s][j]) ** 2; den += k0[s][j] ** 2; });
            return Math.sqrt(num / den);
          })));
          move.push({ label: `γ0=${g}`, x: ks.map((k) => k.step), y: rel, colorIndex: i });
        }
      });
      drawFigure("richness", { title: `Loss at width ${w} for several γ0`, xlabel: "step", ylabel: "train loss", ylog: true, series }, { config: configs[0], records: recs.filter(Boolean) });
      drawFigure("richness-movement", { title: "Feature-kernel movement |Φ(t) − Φ(0)| / |Φ(0)| (last layer)", xlabel: "step", ylabel: "relative change", ylog: true, series: move });
    };
    await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
  },
};

// ------------------------------------------------------------------ width convergence

const convergence = {
  title: "Width convergence",
  figure: "convergence",
  build(sec, app) {
    intro(sec, "Width convergence", "Finite networks approach their infinite-width limit as N grows. Here the reference is the widest network's ensemble mean (the DMFT when the core has it); the mean squared deviation of the loss curve falls like 1/N (slope −1 on log–log axes).");
    varsInput(sec, app, "convergence", "Widths", "32,64,128,256,512,2048");
    figureHost(sec, "convergence");
  },
  async run(app) {
    const widths = readList(app, "convergence", "", { min: 1, max: 8192, integer: true, count: 10, name: "widths" }).sort((a, b) => a - b);
    const configs = widths.map((w) => atWidth(app.base, w));
    const recs = new Array(widths.length);
    await runJobs(configs, (i, rec) => { recs[i] = rec; });
    const ref = recs[recs.length - 1].result.train_loss.map(mean);
    const xs = [], dev = [], spread = [];
    recs.slice(0, -1).forEach((r, i) => {
      const m = r.result.train_loss.map(mean);
      xs.push(widths[i]);
      dev.push(mean(m.map((v, t) => (v - ref[t]) ** 2)));
      spread.push(mean(r.result.train_loss.map((row) => { const mu = mean(row); return mean(row.map((v) => (v - mu) ** 2)); })));
    });
    const lx = xs.map(Math.log), ly = dev.map(Math.log);
    const mx = mean(lx), my = mean(ly);
    const slope = lx.reduce((s, x, i) => s + (x - mx) * (ly[i] - my), 0) / lx.reduce((s, x) => s + (x - mx) ** 2, 0);
    const fit = xs.map((x) => Math.exp(my + slope * (Math.log(x) - mx)));
    drawFigure("convergence", {
      title: `Deviation from the widest network (fitted slope ${slope.toFixed(2)})`, xlabel: "width N", ylabel: "mean squared deviation", xlog: true, ylog: true,
      series: [
        { label: "loss-curve deviation", x: xs, y: dev, points: true },
        { label: `fit N^${slope.toFixed(2)}`, x: xs, y: fit, dash: true },
        { label: "seed variance", x: xs, y: spread, points: true },
      ],
    }, { config: app.base, records: recs, slope });
  },
};

// ------------------------------------------------------------------ depth limit

const depth = {
  title: "Depth limit",
  figure: "depth",
  build(sec, app) {
    intro(sec, "Large depth: layer time", "Residual networks under depth-µP (branches β/√(N L)) at several depths. Plotted against layer time τ = l/L, the per-layer feature size H(τ) (mean |h^l|) and its change collapse onto one curve: the depth limit.");
    varsInput(sec, app, "depth", "Depths", "2,4,8,16");
    figureHost(sec, "depth");
  },
  async run(app) {
    const depths = readList(app, "depth", "", { min: 1, max: 64, integer: true, count: 8, name: "depths" });
    const w = app.widths[app.widths.length - 1];
    const configs = depths.map((L) => {
      const c = atWidth(app.base, Math.min(w, 128));
      c.model = Object.assign({}, c.model, { arch: "resnet", depth: L });
      c.param = { kind: "depth_mup", gamma0: app.base.param.gamma0 ?? 1 };
      return withObserve(c, { coords: true, every: c.steps });
    });
    const recs = new Array(depths.length);
    const redraw = () => {
      const series = [];
      depths.forEach((L, i) => {
        const r = recs[i];
        if (!r) return;
        const last = r.result.coords.at(-1);
        const n = last.mean_abs_h.length;
        const tau = last.mean_abs_h.map((_, l) => n > 1 ? l / (n - 1) : 0);
        series.push({ label: `L=${L}: mean |h|`, x: tau, y: last.mean_abs_h.map(mean), points: true, colorIndex: i });
        series.push({ label: `L=${L}: mean |Δh|`, x: tau, y: last.mean_abs_dh.map(mean), dash: true, colorIndex: i });
      });
      drawFigure("depth", { title: "Feature size against layer time τ = l/L (end of training)", xlabel: "layer time τ", ylabel: "mean |h|, mean |Δh|", ylog: true, series }, { config: configs[0], records: recs.filter(Boolean) });
    };
    await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
  },
};

// ------------------------------------------------------------------ engines (other kinds)

const ENGINE_FIGURES = ["engine", "engine-2", "engine-3", "engine-4"];
const ENGINE_KINDS = ["train", "kernel", "lazy", "dmft", "depth_limit", "width_convergence", "transfer", "coord_check", "richness", "bayes"];

/** Plot the CSV tables of a record: x = first column, one series per (group, column). */
export function csvFigure(app, recs, title) {
  const series = [];
  let xlabel = "x";
  const ID = new Set(["seed", "width", "depth", "layer", "gamma0", "lr", "param", "parameterization", "series", "kind", "method", "n", "record", "which", "source", "temperature"]);
  for (const rec of recs) {
    let tables;
    try { tables = JSON.parse(app.core.csv(rec.__json)); } catch { continue; }
    for (const [stem, text] of tables) {
      const rows = text.trim().split("\n").map((l) => l.split(","));
      if (rows.length < 2) continue;
      const head = rows[0];
      xlabel = head[0];
      const groups = head.map((h, i) => i > 0 && ID.has(h) && h !== "seed" ? i : -1).filter((i) => i >= 0);
      const ys = head.map((h, i) => i > 0 && !ID.has(h) && rows.slice(1).some((r) => Number.isFinite(Number(r[i]))) ? i : -1).filter((i) => i >= 0);
      const acc = new Map();
      for (const r of rows.slice(1)) {
        const x = Number(r[0]);
        if (!Number.isFinite(x)) continue;
        const g = groups.map((i) => `${head[i]}=${r[i]}`).join(" ");
        for (const yi of ys) {
          const key = `${recs.length > 1 ? rec.config.kind + " " : ""}${stem} ${head[yi]}${g ? " " + g : ""}`;
          if (!acc.has(key)) acc.set(key, new Map());
          const m = acc.get(key);
          if (!m.has(x)) m.set(x, []);
          m.get(x).push(Number(r[yi]));
        }
      }
      for (const [label, m] of acc) {
        if (series.length >= 24) break;
        const xs = [...m.keys()].sort((a, b) => a - b);
        series.push({ label, x: xs, y: xs.map((x) => mean(m.get(x))) });
      }
    }
  }
  if (!series.length) return null;
  const ally = series.flatMap((s) => s.y).filter(Number.isFinite);
  const allx = series.flatMap((s) => s.x);
  const ylog = ally.length > 0 && ally.every((v) => v > 0) && Math.max(...ally) / Math.min(...ally) > 20;
  const xlog = allx.every((v) => v > 0) && Math.max(...allx) / Math.min(...allx) > 50;
  return { title, xlabel, ylabel: "value", xlog, ylog, series };
}

const engines = {
  title: "Engines",
  figure: "engine",
  build(sec, app) {
    intro(sec, "Theory and experiment engines", "Run any computation this build's core offers (kernels, lazy, DMFT, depth limit, width convergence, transfer, coordinate check, richness, Bayesian statics) from its JSON config; the plot shows its CSV tables.", false);
    const lab = el("label", {}, "Kind ");
    const sel = el("select", { id: "v-engine-kind" });
    lab.append(sel);
    const avail = ENGINE_KINDS.filter((k) => hasKind(app, k));
    for (const k of avail) sel.append(el("option", { value: k }, k));
    if (!avail.length) sel.append(el("option", { value: "" }, "(none in this build yet)"));
    const tl = el("label", {}, "Config (JSON) ");
    const ta = el("textarea", { id: "v-engine-config", class: "config", spellcheck: "false" });
    tl.append(ta);
    sec.append(lab, tl);
    const load = () => { if (sel.value) ta.value = JSON.stringify(JSON.parse(app.core.default_config(sel.value)), null, 1); };
    sel.addEventListener("change", load);
    load();
    for (const name of ENGINE_FIGURES) figureHost(sec, name);
  },
  linkConfig(app) {
    const ta = document.getElementById("v-engine-config");
    try { const c = JSON.parse(ta.value); if (c && c.kind) return c; } catch { /* fall back */ }
    return app.base;
  },
  fromLink(app, cfg) {
    const sel = document.getElementById("v-engine-kind");
    if (![...sel.options].some((o) => o.value === cfg.kind)) sel.append(el("option", { value: cfg.kind }, cfg.kind));
    sel.value = cfg.kind;
    document.getElementById("v-engine-config").value = JSON.stringify(cfg, null, 1);
  },
  async run(app) {
    const text = document.getElementById("v-engine-config").value;
    let cfg;
    try { cfg = JSON.parse(text); } catch (e) { throw new Error(`invalid config field \`config\`: expected JSON (${e.message})`); }
    cfg = JSON.parse(app.core.validate(JSON.stringify(cfg)));
    for (const name of ENGINE_FIGURES) {
      const h = document.querySelector(`[data-figure="${name}"]`);
      h.replaceChildren(); h.hidden = name !== "engine"; delete h.dataset.points;
    }
    const rec = await runSplit(cfg);
    const specs = figuresFor(rec) || [csvFigure(app, [rec], `${cfg.kind}`)].filter(Boolean);
    if (!specs.length) { showError("This result has no table to plot; export its JSON instead."); return; }
    specs.slice(0, ENGINE_FIGURES.length).forEach((spec, i) => {
      const name = ENGINE_FIGURES[i];
      document.querySelector(`[data-figure="${name}"]`).hidden = false;
      drawFigure(name, spec, { config: cfg, records: [rec] });
    });
  },
};

// ------------------------------------------------------------------ presets

const PAGE_PRESETS = [
  ["width-convergence", "convergence", "Finite networks converge to the infinite-width limit: the deviation falls like 1/N.", { param: { kind: "mup", gamma0: 1 } }],
  ["lr-transfer-width", "transfer", "Under µP the best learning rate stays put as the width grows (SP: it drifts).", { param: { kind: "mup", gamma0: 1 } }],
  ["lr-transfer-depth", "transfer", "Under depth-µP the best learning rate transfers across depth.", { param: { kind: "depth_mup", gamma0: 1 }, arch: "resnet", axis: "depth" }],
  ["coord-check", "coords", "Under µP every layer's update is the same size at every width; under SP it grows.", { param: { kind: "mup", gamma0: 1 } }],
  ["lazy-vs-rich", "richness", "Small γ0: lazy (kernel) learning; large γ0: rich feature learning.", { param: { kind: "mup", gamma0: 1 } }],
  ["depth-limit", "depth", "Depth-µP residual networks collapse onto one curve in layer time τ = l/L.", {}],
];

const presets = {
  title: "Presets",
  figure: "engine",
  build(sec, app) {
    intro(sec, "Presets", "Each reproduces one claim of the talk, in one click. \"Run\" runs the core's preset (the CLI's `run --preset NAME`, split across the workers); \"Live version\" runs the page's own, lighter take on the same claim.", false);
    const grid = el("div", { class: "presets" });
    sec.append(grid);
    let core = [];
    try { core = JSON.parse(app.core.presets()); } catch { core = []; }
    const live = new Map(PAGE_PRESETS.map((p) => [p[0], p]));
    const card = (name, description) => {
      const c = el("div", { class: "preset" });
      c.append(el("h3", {}, name), el("p", {}, description));
      grid.append(c);
      return c;
    };
    for (const p of core) {
      try { app.core.validate(JSON.stringify(p.config)); } catch { continue; } // needs an engine this build lacks
      const c = card(p.name, p.description || "");
      const b = el("button", { type: "button", "data-preset": p.name, class: "primary" }, "Run");
      b.setAttribute("aria-label", `Run preset ${p.name}`);
      const l = live.get(p.name);
      b.addEventListener("click", async () => {
        await app.runPreset(p.name, "engines", { config: p.config });
        // a preset that needs an engine this build lacks falls back to the page's version
        const err = document.getElementById("errors");
        if (l && !err.hidden && /expected a build with/.test(err.textContent)) {
          const why = err.textContent;
          await app.runPreset(p.name, l[1], l[3]);
          if (err.hidden) { err.hidden = false; err.textContent = `Ran the page's live version instead: ${why}`; }
        }
      });
      c.append(b);
      if (l) {
        const b2 = el("button", { type: "button", "data-live-preset": p.name }, "Live version");
        b2.setAttribute("aria-label", `Run the page's live version of ${p.name}`);
        b2.addEventListener("click", () => app.runPreset(p.name, l[1], l[3]));
        c.append(" ", b2);
        live.delete(p.name);
      }
    }
    for (const [name, panel, sentence, patch] of live.values()) { // without a core preset
      const c = card(name, sentence);
      const b = el("button", { type: "button", "data-preset": name, class: "primary" }, "Run");
      b.setAttribute("aria-label", `Run preset ${name}`);
      b.addEventListener("click", () => app.runPreset(name, panel, patch));
      c.append(b);
    }
  },
  async run() { /* presets run from their buttons */ },
};

export const PANELS = { train, transfer, coords, abc, kernels, richness, convergence, depth, engines, presets };
