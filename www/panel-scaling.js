// The Scaling-laws panel: the solvable model of neural scaling laws (the core's
// `scaling_law` kind). Sliders for the exponents, the largest N and P and the training
// time redraw the theory live (a cheap job on a worker, the newest settings win); Run
// adds the finite models (seeds), split across the workers. The panel's values live in
// the state's `vars`, so a link restores them.
import { drawFigure, clearFigure } from "./ui.js";
import { runJobs, runSplit, env } from "./runner.js";
import { Cancelled } from "./pool.js";
import { el, layout, finishLayout, figureHost, varValue, numbers } from "./panel-common.js";
import { scalingFigures } from "./kinds.js";
import { num } from "./words.js";

/** The panel's figures, in the order `scalingFigures` returns them. */
const FIGURES = ["scaling", "scaling-compute", "scaling-sizes", "scaling-gap", "scaling-width"];

/** Panel values: name -> [label, default, help]. Sliders carry [min, max, step] too. */
const SLIDERS = {
  "scaling-alpha": ["Capacity α", "1.5", "Spectrum λ_k = k^−α of the features (α > 1)", [1.1, 4, 0.05]],
  "scaling-beta": ["Source β", "0.5", "Target power λ_k w*_k² = k^−(1+αβ); β < 1 is a hard task (outside the kernel's RKHS)", [0.1, 3, 0.05]],
  "scaling-tmax": ["Training time log10 t", "4", "Gradient-flow time t_max = 10^x (learning rate 1: x = log10 of the steps of small-step GD)", [1, 6, 0.25]],
  "scaling-nmax": ["Largest N: log2", "9", "Rescales the widths so that the largest is 2^x (∞ entries stay)", [4, 13, 1]],
  "scaling-pmax": ["Largest P: log2", "8", "Rescales the data sizes so that the largest finite one is 2^x (∞ entries stay)", [4, 13, 1]],
};
const INPUTS = {
  "scaling-widths": ["Widths N", "16,32,64,128,256,512", "Model sizes N, comma separated; 0 means infinite width (the kernel limit)"],
  "scaling-samples": ["Data sizes P", "0", "Training set sizes P, reused at every step; 0 means infinite data (fresh samples: gradient flow on the population loss)"],
  "scaling-gamma0s": ["Richness γ0", "0", "0: random features (lazy); > 0: the features learn (the mean-field two-layer extension); comma separated to compare"],
  "scaling-modes": ["Feature modes M", "8192", "Truncation of the spectrum, the same in theory and finite models"],
  "scaling-seeds": ["Seeds", "4", "Finite models per (N, P, γ0): draws of the projection and the data; 0 draws only the theory"],
  "scaling-records": ["Time points", "41", "Log-spaced times from 0.1 to t_max"],
  "scaling-seed": ["Master seed", "0", "Seed of the finite models' random streams"],
};

/** Figure presets of the papers: the panel values each sets (the rest keep theirs). */
const FIGURE_PRESETS = {
  "compute-optimal": { "scaling-alpha": "1.5", "scaling-beta": "0.5", "scaling-widths": "16,32,64,128,256,512", "scaling-samples": "0", "scaling-gamma0s": "0", "scaling-modes": "8192", "scaling-seeds": "4", "scaling-tmax": "4", "scaling-nmax": "9" },
  "data-reuse": { "scaling-alpha": "1.5", "scaling-beta": "0.5", "scaling-widths": "0", "scaling-samples": "32,64,128,256", "scaling-gamma0s": "0", "scaling-modes": "8192", "scaling-seeds": "2", "scaling-tmax": "4", "scaling-pmax": "8" },
  "feature-learning": { "scaling-alpha": "1.5", "scaling-beta": "0.5", "scaling-widths": "0,128", "scaling-samples": "0", "scaling-gamma0s": "0,1", "scaling-modes": "4096", "scaling-seeds": "2", "scaling-tmax": "3", "scaling-nmax": "7" },
  "feature-learning-easy": { "scaling-alpha": "1.5", "scaling-beta": "1.5", "scaling-widths": "0,128", "scaling-samples": "0", "scaling-gamma0s": "0,1", "scaling-modes": "4096", "scaling-seeds": "2", "scaling-tmax": "3", "scaling-nmax": "7" },
};

/** The panel values of a `scaling_law` config (a core preset's, or a link's). */
export function varsFromConfig(c) {
  const finite = (xs) => xs.filter((v) => v > 0);
  const log2max = (xs) => (finite(xs).length ? String(Math.round(Math.log2(Math.max(...finite(xs))))) : undefined);
  const v = {
    "scaling-alpha": String(c.alpha), "scaling-beta": String(c.beta),
    "scaling-widths": c.widths.join(","), "scaling-samples": c.samples.join(","),
    "scaling-gamma0s": c.gamma0s.join(","), "scaling-modes": String(c.modes),
    "scaling-seeds": String(c.seeds), "scaling-records": String(c.records), "scaling-seed": String(c.seed),
    "scaling-tmax": String(Math.log10(c.t_max)),
  };
  const n = log2max(c.widths), p = log2max(c.samples);
  if (n) v["scaling-nmax"] = n;
  if (p) v["scaling-pmax"] = p;
  return v;
}

/** A list of whole numbers from a panel value, each 0 (infinite) or 1..65536. */
function sizes(ctx, name, field) {
  const v = numbers(varValue(ctx, name));
  if (!v.length || v.length > 16 || v.some((x) => !Number.isInteger(x) || x < 0 || x > 65536)) {
    throw new Error(`invalid field \`${field}\`: expected 1 to 16 whole numbers in 0..65536 (0: infinite)`);
  }
  return v;
}

function scalar(ctx, name, field, lo, hi, integer = false) {
  const x = Number(varValue(ctx, name));
  if (!Number.isFinite(x) || x < lo || x > hi || (integer && !Number.isInteger(x))) {
    throw new Error(`invalid field \`${field}\`: expected ${integer ? "a whole number" : "a number"} in ${lo}..${hi}`);
  }
  return x;
}

/** The `scaling_law` config of the panel values (throws naming the field). */
export function scalingConfig(ctx) {
  const g = numbers(varValue(ctx, "scaling-gamma0s"));
  if (!g.length || g.length > 8 || g.some((x) => !Number.isFinite(x) || x < 0 || x > 10)) {
    throw new Error("invalid field `gamma0s`: expected 1 to 8 numbers in 0..10");
  }
  return {
    kind: "scaling_law",
    alpha: scalar(ctx, "scaling-alpha", "alpha", 1.05, 8),
    beta: scalar(ctx, "scaling-beta", "beta", 0.05, 8),
    modes: scalar(ctx, "scaling-modes", "modes", 16, 1 << 20, true),
    widths: sizes(ctx, "scaling-widths", "widths"),
    samples: sizes(ctx, "scaling-samples", "samples"),
    gamma0s: g,
    t_max: 10 ** scalar(ctx, "scaling-tmax", "t_max (log10)", 0, 8),
    records: scalar(ctx, "scaling-records", "records", 2, 400, true),
    seeds: scalar(ctx, "scaling-seeds", "seeds", 0, 64, true),
    seed: scalar(ctx, "scaling-seed", "seed", 0, Number.MAX_SAFE_INTEGER, true),
  };
}

/** Multiply the finite entries of a size list so that the largest becomes `top`. */
function rescale(text, top) {
  const v = numbers(text);
  const max = Math.max(0, ...v.filter((x) => x > 0));
  if (!(max > 0)) return text;
  return v.map((x) => (x > 0 ? Math.max(1, Math.round((x * top) / max)) : 0)).join(",");
}

export const scaling = {
  id: "scaling",
  title: "Scaling laws",
  figure: "scaling",
  live: 0,
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Scaling laws: the solvable model, theory and finite models",
      caption: "Random features of a power-law spectrum trained by gradient flow (Bordelon, Atanasov & Pehlevan 2024, 2025): the DMFT's loss curves L(t, N, P) (dashed, redrawn live as the sliders move) under finite models with seeds (solid, ± one standard deviation; Run).",
      note: "Each curve falls as t^−β until the model bottleneck N^−α·min(β,1) or the data bottleneck P^−α·min(β,2) stops it. At fixed compute C = N t the envelope over widths gives the compute-optimal frontier. With γ0 > 0 the features learn, which speeds up hard tasks (β < 1) only. The laws are fitted on the theory of the untruncated spectrum and on the finite models' mean curves; docs/theory.md section 7 has the equations. Its finite models run on the CPU.",
      setup: false,
    });
    const box = el("div", { class: "kv" });
    for (const [name, [label, def, help, [lo, hi, step]]] of Object.entries(SLIDERS)) {
      const lab = el("label", {}, label + " ");
      const inp = el("input", { id: `v-${name}`, type: "range", min: String(lo), max: String(hi), step: String(step), title: help });
      inp.value = ctx.state.vars[name] ?? def;
      inp.dataset.fallback = def;
      const out = el("output", { for: `v-${name}`, id: `o-${name}` }, inp.value);
      lab.append(inp, out);
      box.append(lab);
    }
    for (const [name, [label, def, help]] of Object.entries(INPUTS)) {
      const lab = el("label", {}, label + " ");
      const inp = el("input", { id: `v-${name}`, type: "text", inputmode: "decimal", title: help });
      inp.value = ctx.state.vars[name] ?? def;
      inp.dataset.fallback = def;
      lab.append(inp);
      box.append(lab);
    }
    const pl = el("label", {}, "Figure of the papers ");
    const ps = el("select", { id: "scaling-preset", title: "Load the panel values of one of the papers' main figures, then run it" });
    ps.append(el("option", { value: "" }, "choose…"));
    for (const k of Object.keys(FIGURE_PRESETS)) ps.append(el("option", { value: k }, k));
    pl.append(ps);
    side.append(pl, box, el("div", { id: "scaling-laws", class: "table-box" }), el("p", { class: "note", id: "scaling-live" }, ""));
    for (const f of FIGURES) figureHost(main, f);
    finishLayout(main);
    // sliders: show the value, keep the size lists in step, redraw the theory
    sec.addEventListener("input", (ev) => {
      const id = ev.target.id || "";
      if (!id.startsWith("v-scaling")) return;
      const name = id.slice(2);
      const out = document.getElementById(`o-${name}`);
      if (out) out.textContent = ev.target.value;
      if (name === "scaling-nmax" || name === "scaling-pmax") {
        const list = name === "scaling-nmax" ? "scaling-widths" : "scaling-samples";
        const e = document.getElementById(`v-${list}`);
        e.value = rescale(e.value, 2 ** Number(ev.target.value));
        ctx.state.vars[list] = e.value;
      }
      this.scheduleLive(ctx);
    });
    ps.addEventListener("change", () => {
      const v = FIGURE_PRESETS[ps.value];
      if (!v) return;
      this.setVars(ctx, v);
      ps.value = "";
      ctx.changed();
      this.scheduleLive(ctx);
    });
  },
  /** Set panel values (state and controls). */
  setVars(ctx, vars) {
    Object.assign(ctx.state.vars, vars);
    for (const [k, val] of Object.entries(vars)) {
      const e = document.getElementById(`v-${k}`);
      if (e) e.value = val;
      const o = document.getElementById(`o-${k}`);
      if (o) o.textContent = val;
    }
  },
  /** Open a `scaling_law` config (a core preset's live version) in the panel. */
  load(ctx, config) {
    this.setVars(ctx, varsFromConfig(config));
  },
  scheduleLive(ctx) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runLive(ctx), 200);
  },
  /** The theory alone for the current values, on a worker; the newest settings win. */
  async runLive(ctx) {
    const note = document.getElementById("scaling-live");
    let cfg;
    try {
      cfg = Object.assign(scalingConfig(ctx), { seeds: 0 });
      ctx.core.check_budget(JSON.stringify(cfg));
    } catch (e) {
      note.textContent = `Theory not redrawn: ${e.message || e}`;
      return;
    }
    const me = ++this.live;
    note.textContent = "Redrawing the theory…";
    const t0 = performance.now();
    try {
      const rec = await env.pool.run(cfg);
      if (me !== this.live) return;
      this.draw(rec, true);
      note.textContent = `Theory redrawn in ${((performance.now() - t0) / 1000).toFixed(1)} s; press Run for the finite models.`;
    } catch (e) {
      if (me === this.live && !(e instanceof Cancelled)) note.textContent = `Theory not redrawn: ${e.message || e}`;
    }
  },
  /** Draw a record's figures (theory only when `theoryOnly`) and the laws table. */
  draw(rec, theoryOnly) {
    this.rec = rec;
    const specs = scalingFigures(rec);
    const extra = { config: rec.config, records: [rec] };
    FIGURES.forEach((name, i) => {
      const s = specs[i];
      if (!s || !s.series.some((x) => x.y.some(Number.isFinite))) { clearFigure(name); return; }
      if (theoryOnly) s.measured = `${s.measured} · theory only (Run adds the finite models)`;
      drawFigure(name, s, extra);
    });
    this.table(rec);
  },
  table(rec) {
    const host = document.getElementById("scaling-laws");
    const t = el("table", { class: "cells" });
    t.append(el("caption", {}, "Exponents: predicted, fitted to the theory (untruncated spectrum), fitted to the finite models"));
    const head = el("tr");
    head.append(...["law", "γ0", "predicted", "theory", "finite"].map((h) => el("th", {}, h)));
    t.append(head);
    const f = (x) => (x ? num(x.exponent) : "–");
    for (const l of rec.result.laws) {
      for (const [name, law] of [["L ∝ t^−x", l.time], ["L ∝ N^−x", l.width], ["L ∝ P^−x", l.data], ["L* ∝ C^−x", l.compute_loss], ["N* ∝ C^x", l.compute_width]]) {
        const tr = el("tr");
        tr.append(el("th", {}, name), el("td", {}, String(l.gamma0)), el("td", {}, num(law.predicted)), el("td", {}, f(law.theory)), el("td", { title: law.finite_from }, f(law.finite)));
        t.append(tr);
      }
    }
    host.replaceChildren(t);
  },
  async run(ctx) {
    const cfg = JSON.parse(ctx.core.validate(JSON.stringify(scalingConfig(ctx))));
    this.live++; // a live redraw in flight is superseded
    document.getElementById("scaling-live").textContent = cfg.seeds > 0 ? `Run: the theory, then ${cfg.seeds} finite model${cfg.seeds > 1 ? "s" : ""} per grid point.` : "Run: the theory alone (seeds 0).";
    const theory = Object.assign({}, cfg, { seeds: 0 });
    let full = null;
    const jobs = [runJobs([theory], (_, rec) => { if (!full) this.draw(rec, true); })];
    if (cfg.seeds > 0) jobs.push(runSplit(cfg).then((rec) => { full = rec; this.draw(rec, false); }));
    await Promise.all(jobs);
  },
};
