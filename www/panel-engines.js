// The Engines panel (any run kind of the core, from its JSON config, which the state
// keeps and the link carries) and the Presets panel (the talk's claims in one click).
import { drawFigure, clearFigure, showError } from "./ui.js";
import { runSplit, hasKind } from "./runner.js";
import { el, layout, finishLayout, figureHost } from "./panel-common.js";
import { figuresFor } from "./kinds.js";
import { mean } from "./words.js";

const ENGINE_FIGURES = ["engine", "engine-2", "engine-3", "engine-4", "engine-5", "engine-6"];
const ENGINE_KINDS = ["train", "kernel", "lazy", "dmft", "depth_limit", "width_convergence", "transfer", "coord_check", "richness", "bayes", "scaling_law", "landscape", "deep_linear", "finite_width", "bayes_data", "transformer", "transformer_transfer", "transformer_coord_check", "transformer_heads"];
/** Kinds a panel of their own opens as its values (the core preset's live version). */
const LIVE_KINDS = { scaling_law: "scaling", transformer: "transformer", transformer_transfer: "transformer", transformer_heads: "transformer", transformer_coord_check: "transformer" };

/** Plot the CSV tables of a record: x = first column, one series per (group, column). */
function csvFigure(core, rec, title) {
  const series = [];
  let xlabel = "x";
  const ID = new Set(["seed", "width", "depth", "layer", "gamma0", "lr", "param", "parameterization", "series", "kind", "method", "n", "record", "which", "source", "temperature"]);
  let tables;
  try { tables = JSON.parse(core.csv(rec.__json)); } catch { return null; }
  for (const [stem, text] of tables) {
    const rows = text.trim().split("\n").map((l) => l.split(","));
    if (rows.length < 2) continue;
    const head = rows[0];
    xlabel = head[0];
    const groups = head.map((h, i) => (i > 0 && ID.has(h) && h !== "seed" ? i : -1)).filter((i) => i >= 0);
    const ys = head.map((h, i) => (i > 0 && !ID.has(h) && rows.slice(1).some((r) => Number.isFinite(Number(r[i]))) ? i : -1)).filter((i) => i >= 0);
    const acc = new Map();
    for (const r of rows.slice(1)) {
      const x = Number(r[0]);
      if (!Number.isFinite(x)) continue;
      const g = groups.map((i) => `${head[i]}=${r[i]}`).join(" ");
      for (const yi of ys) {
        const key = `${stem} ${head[yi]}${g ? " " + g : ""}`;
        if (!acc.has(key)) acc.set(key, new Map());
        const m = acc.get(key);
        if (!m.has(x)) m.set(x, []);
        m.get(x).push(Number(r[yi]));
      }
    }
    for (const [label, m] of acc) {
      if (series.length >= 12) break;
      const xs = [...m.keys()].sort((a, b) => a - b);
      series.push({ label, x: xs, y: xs.map((x) => mean(m.get(x))) });
    }
  }
  if (!series.length) return null;
  const ally = series.flatMap((s) => s.y).filter(Number.isFinite);
  const allx = series.flatMap((s) => s.x);
  const ylog = ally.length > 0 && ally.every((v) => v > 0) && Math.max(...ally) / Math.min(...ally) > 20;
  const xlog = allx.every((v) => v > 0) && Math.max(...allx) / Math.min(...allx) > 50;
  return { title, measured: `${series.length} columns of the core's CSV tables`, xlabel, ylabel: "value", xlog, ylog, series };
}

export const engines = {
  id: "engines",
  title: "Engines",
  figure: "engine",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Theory and experiment engines",
      caption: "Any computation of this build's core (kernels, lazy, DMFT, depth limit, width convergence, transfer, coordinate check, richness, the (γ0, η) landscape, Bayesian statics: two-layer, deep linear, finite width, scored on data; scaling laws), from its whole JSON config.",
      setup: false,
    });
    const lab = el("label", {}, "Kind ");
    const sel = el("select", { id: "engine-kind", title: "The run kind; choosing one loads its default config" });
    lab.append(sel);
    for (const k of ENGINE_KINDS.filter(hasKind)) sel.append(el("option", { value: k }, k));
    const tl = el("label", {}, "Config (JSON) ");
    const ta = el("textarea", { id: "engine-config", class: "config", spellcheck: "false", title: "The whole config: every field is kept and travels in the link; the core checks it when you run" });
    tl.append(ta);
    side.append(lab, tl);
    for (const name of ENGINE_FIGURES) figureHost(main, name).hidden = name !== "engine";
    finishLayout(main);
    sel.addEventListener("change", () => {
      ctx.state.engine = JSON.parse(ctx.core.default_config(sel.value));
      this.show(ctx);
      ctx.changed();
    });
    ta.addEventListener("input", () => {
      try {
        const c = JSON.parse(ta.value);
        if (!c || typeof c !== "object" || Array.isArray(c)) throw new Error("not an object");
        ctx.state.engine = c;
        const kind = String(c.kind ?? "train");
        if (![...sel.options].some((o) => o.value === kind)) sel.append(el("option", { value: kind }, kind));
        sel.value = kind;
        ta.removeAttribute("aria-invalid");
        this.textError = null;
      } catch (e) {
        ta.setAttribute("aria-invalid", "true");
        this.textError = `invalid config field \`config\`: expected a JSON object (${e.message})`;
      }
      ctx.changed();
    });
    if (!ctx.state.engine) ctx.state.engine = JSON.parse(ctx.core.default_config(sel.value || "train"));
    this.show(ctx);
  },
  /** Show the state's engine config in the controls. */
  show(ctx) {
    const sel = document.getElementById("engine-kind"), ta = document.getElementById("engine-config");
    const cfg = ctx.state.engine;
    if (!cfg) return;
    const kind = String(cfg.kind ?? "train");
    if (![...sel.options].some((o) => o.value === kind)) sel.append(el("option", { value: kind }, kind));
    sel.value = kind;
    if (document.activeElement !== ta) ta.value = JSON.stringify(cfg, null, 1);
    ta.removeAttribute("aria-invalid");
    this.textError = null;
  },
  async run(ctx) {
    if (this.textError) throw new Error(this.textError);
    const cfg = JSON.parse(ctx.core.validate(JSON.stringify(ctx.state.engine)));
    for (const name of ENGINE_FIGURES) clearFigure(name);
    const rec = await runSplit(cfg);
    const specs = figuresFor(rec) || [csvFigure(ctx.core, rec, `${cfg.kind}: the core's tables`)].filter(Boolean);
    if (!specs.length) { showError("This result has no table to plot; export its JSON instead."); return; }
    ENGINE_FIGURES.forEach((name, i) => {
      const host = document.querySelector(`[data-figure="${name}"]`);
      if (i < specs.length) drawFigure(name, specs[i], { config: cfg, records: [rec] });
      else host.hidden = true;
    });
  },
};

// ------------------------------------------------------------------ presets

/** The page's live take on a claim: [name, panel, sentence, setup patch]. */
const LIVE = [
  ["width-convergence", "convergence", "Finite networks converge to the DMFT limit: the squared deviation falls like 1/N.", { param: { kind: "mup", gamma0: 1 }, centered: true }],
  ["lr-transfer-width", "transfer", "Under µP the best learning rate stays put as the width grows (SP: it drifts).", { param: { kind: "mup", gamma0: 1 } }],
  ["lr-transfer-depth", "transfer", "Under depth-µP the best learning rate transfers across depth.", { param: { kind: "depth_mup", gamma0: 1 }, arch: "resnet", axis: "depth" }],
  ["coord-check", "coords", "Under µP every layer's update is the same size at every width; under SP it grows.", { param: { kind: "mup", gamma0: 1 } }],
  ["lazy-vs-rich", "richness", "Small γ0: lazy (kernel) learning; large γ0: rich feature learning.", { param: { kind: "mup", gamma0: 1 } }],
  ["depth-limit", "depth", "Depth-µP residual networks collapse onto one curve in layer time τ = l/L.", {}],
];

export const presets = {
  id: "presets",
  title: "Presets",
  figure: null,
  build(sec, ctx) {
    sec.append(el("h2", {}, "Presets: reproduce the talk's figures"),
      el("p", { class: "caption" }, "Each card reproduces one claim of the talk in one click. \"Run\" runs the core's preset (the CLI's `run --preset NAME`, split across the workers) and shows it on the Engines panel; \"Live version\" runs the page's own, lighter take on the same claim in its panel."));
    const grid = el("div", { class: "presets" });
    sec.append(grid);
    let core = [];
    try { core = JSON.parse(ctx.core.presets()); } catch { core = []; }
    const live = new Map(LIVE.map((p) => [p[0], p]));
    const card = (name, description) => {
      const c = el("div", { class: "preset" });
      c.append(el("h3", {}, name), el("p", {}, description));
      grid.append(c);
      return c;
    };
    for (const p of core) {
      try { ctx.core.validate(JSON.stringify(p.config)); } catch { continue; } // needs an engine this build lacks
      const c = card(p.name, p.description || "");
      const b = el("button", { type: "button", "data-preset": p.name, class: "primary", title: `Run the core's ${p.name} preset` }, "Run");
      b.setAttribute("aria-label", `Run preset ${p.name}`);
      b.addEventListener("click", () => ctx.runPreset({ name: p.name, panel: "engines", config: p.config }));
      c.append(b);
      const l = live.get(p.name);
      const own = LIVE_KINDS[p.config?.kind];
      if (own) {
        const b2 = el("button", { type: "button", "data-live-preset": p.name, title: `Open ${p.name} in the ${own} panel as its values, and run it there` }, "Live version");
        b2.setAttribute("aria-label", `Run the page's live version of ${p.name}`);
        b2.addEventListener("click", () => ctx.runPreset({ name: p.name, panel: own, patch: { load: p.config } }));
        c.append(" ", b2);
      } else if (l) {
        const b2 = el("button", { type: "button", "data-live-preset": p.name, title: `The page's lighter version of ${p.name}, in the ${l[1]} panel` }, "Live version");
        b2.setAttribute("aria-label", `Run the page's live version of ${p.name}`);
        b2.addEventListener("click", () => ctx.runPreset({ name: p.name, panel: l[1], patch: l[3] }));
        c.append(" ", b2);
        live.delete(p.name);
      }
    }
    for (const [name, panel, sentence, patch] of live.values()) { // without a core preset
      const c = card(name, sentence);
      const b = el("button", { type: "button", "data-preset": name, class: "primary", title: `Run ${name} in the ${panel} panel` }, "Run");
      b.setAttribute("aria-label", `Run preset ${name}`);
      b.addEventListener("click", () => ctx.runPreset({ name, panel, patch }));
      c.append(b);
    }
  },
  run() { throw new Error("Pick a preset below: each card has its own Run button."); },
};
