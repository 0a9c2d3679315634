// The Transformer panel: a small decoder-only transformer (the core's `transformer*`
// kinds). One run streams its loss and ends with every head's attention map; the sweeps
// show learning-rate transfer across width, depth, heads or head size, the spread
// between heads against head size, and the coordinate check. The panel's values live in
// the state's `vars` (a link restores them); the core presets open here as values.
import { drawFigure, clearFigure, drawSoon, session } from "./ui.js";
import { runJobs, runSplit } from "./runner.js";
import { el, layout, finishLayout, figureHost, varValue, numbers, divergedWords } from "./panel-common.js";
import { figuresFor, gridWords } from "./kinds.js";
import { mean, num, tagName } from "./words.js";
import { Cancelled } from "./pool.js";

/** Figures: the claim (loss or best rate), the attention maps, then per-table curves. */
const FIGS = ["transformer", "transformer-attention", "transformer-2", "transformer-3", "transformer-4"];
const P = "transformer-";

/** Panel values: [name, label, default, help, options?, only?, hidden?]: `only` lists
 * the experiments, tasks or parameterisations a value applies to, `hidden` those it
 * does not (a sweep's own list replaces it). */
const FIELDS = [
  ["experiment", "Experiment", "run", "What Run computes: one run (loss as it trains, then every head's attention map), learning-rate transfer across a size, the spread between heads against head size, or the coordinate check", [["run", "one run"], ["transfer", "rate transfer"], ["heads", "head spread"], ["coords", "coordinate check"]]],
  ["task", "Task", "corpus", "Next-character prediction on Shakespeare's Coriolanus (shipped), copying T/2 symbols, or in-context linear regression", [["corpus", "characters (Coriolanus)"], ["copy", "copy"], ["regression", "in-context regression"]]],
  ["context", "Context T", "16", "Sequence length (positions)"],
  ["vocab", "Symbols (copy)", "16", "Alphabet of the copy task", null, ["copy"]],
  ["dim", "Input dim d (regression)", "4", "Dimension of x in y = w.x / sqrt(d)", null, ["regression"]],
  ["width", "Width N (d_model)", "64", "Residual stream width"],
  ["heads", "Heads H", "4", "Attention heads per block"],
  ["head-dim", "Head size dh", "", "Blank: N / H"],
  ["depth", "Blocks L", "2", "Transformer blocks (attention + MLP each)"],
  ["alpha", "Residual exponent α", "0", "Branches scaled (L0/L)^α; with µP: α = 1/2 is depth-µP, α = 1 CompleteP", [["0", "0"], ["0.5", "1/2 (depth-µP)"], ["1", "1 (CompleteP)"]], null, ["transfer"]],
  ["norm", "Norm", "layer", "Normalisation before every branch and the readout", [["layer", "layer norm"], ["rms", "RMS norm"], ["none", "none"]]],
  ["param", "Parameterisation", "mup", "SP: logits / sqrt(dh), one Adam rate; µP: logits / dh, readout 1/N, rates by fan-in", [["mup", "µP"], ["sp", "SP"]], null, ["transfer", "heads", "coords"]],
  ["zero", "µP zero init", "both", "Which µP matrices start at zero", [["both", "query and readout"], ["readout", "readout only"], ["none", "none"]], null, ["run-sp"]],
  ["base", "Base N0, L0, dh0", "32,2,8", "The proxy model the µP and depth factors are relative to"],
  ["lr", "Adam rate η", "0.01", "Base learning rate (one run, heads, coordinate check)", null, null, ["transfer"]],
  ["decay", "Schedule", "linear", "5% warmup, then", [["linear", "linear decay to 0"], ["constant", "constant"]]],
  ["batch", "Batch", "16", "Sequences per step (fresh every step)"],
  ["steps", "Steps", "200", "Adam steps"],
  ["seeds", "Seeds", "2", "Independent initialisations trained together"],
  ["seed", "Base seed", "0", "Master seed"],
  ["axis", "Sweep over", "width", "The size the transfer sweep varies", [["width", "width N"], ["depth", "depth L"], ["heads", "heads H (fixed dh)"], ["head_dim", "head size dh (fixed H)"]], ["transfer"]],
  ["sizes", "Sizes", "16,32,64,128", "Values of the swept size (transfer), head sizes (heads) or widths (coordinate check)", null, ["transfer", "heads", "coords"]],
  ["rates", "Rates: from, to, count", "0.0009765625,0.125,8", "Log-spaced grid of Adam rates", null, ["transfer"]],
  ["params", "Parameterisations", "sp,mup", "Width parameterisations to compare (sp, mup)", null, ["transfer", "heads", "coords"]],
  ["alphas", "Residual exponents", "0", "α values to compare (transfer)", null, ["transfer"]],
];
const DEFAULTS = Object.fromEntries(FIELDS.map((f) => [f[0], f[2]]));

/** A plain decimal number ("0.01", "1e-3"; not "0x10" or "1_0"). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The value of field `k` as text. */
const text = (ctx, k) => String(varValue(ctx, P + k)).trim();

/** A whole number or number field; throws naming the config field. */
function scalar(ctx, k, field, lo, hi, integer = true) {
  const x = Number(text(ctx, k));
  if (!DECIMAL.test(text(ctx, k)) || !Number.isFinite(x) || x < lo || x > hi || (integer && !Number.isInteger(x))) {
    throw new Error(`invalid field \`${field}\`: expected ${integer ? "a whole number" : "a number"} in ${lo}..${hi}`);
  }
  return x;
}

function list(ctx, k, field, lo, hi, integer = true, count = 12) {
  const v = numbers(text(ctx, k));
  if (!v.length || text(ctx, k).split(/[,\s]+/).some((t) => t !== "" && !DECIMAL.test(t)) || v.length > count || v.some((x) => !Number.isFinite(x) || x < lo || x > hi || (integer && !Number.isInteger(x)))) {
    throw new Error(`invalid field \`${field}\`: expected 1 to ${count} ${integer ? "whole numbers" : "numbers"} in ${lo}..${hi}, comma separated`);
  }
  return v;
}

/** A width parameterisation by name, with the panel's µP zero initialisations. */
function paramOf(ctx, name) {
  if (name === "sp") return { kind: "sp" };
  if (name !== "mup") throw new Error(`invalid field \`params\`: expected sp or mup, found \`${String(name).slice(0, 20)}\``);
  const z = text(ctx, "zero");
  return { kind: "mup", zero_query: z === "both", zero_readout: z !== "none" };
}

/** `lo, hi, n`: n rates log-spaced from lo to hi (exact powers of two on a binary grid). */
export function rateGrid(lo, hi, n) {
  if (n === 1) return [lo];
  const l2 = Math.log2(hi / lo);
  return Array.from({ length: n }, (_, k) => lo * 2 ** ((k * l2) / (n - 1)));
}

/** The `transformer` config of the panel's setup (throws naming the field). */
export function baseConfig(ctx) {
  const task = text(ctx, "task");
  const context = scalar(ctx, "context", "model.context", 2, 256);
  const t = task === "copy" ? { task: "copy", vocab: scalar(ctx, "vocab", "task.vocab", 2, 256) }
    : task === "regression" ? { task: "in_context_regression", dim: scalar(ctx, "dim", "task.dim", 1, 64), noise: 0 }
      : { task: "corpus" };
  const hd = text(ctx, "head-dim");
  const [bw, bd, bh] = list(ctx, "base", "model.base_width, base_depth, base_head_dim", 1, 8192, true, 3);
  if (bd === undefined || bh === undefined) throw new Error("invalid field `model.base_width, base_depth, base_head_dim`: expected three whole numbers");
  const cfg = {
    kind: "transformer",
    task: t,
    model: {
      arch: "transformer", width: scalar(ctx, "width", "model.width", 1, 8192), heads: scalar(ctx, "heads", "model.heads", 1, 256),
      head_dim: hd === "" ? null : scalar(ctx, "head-dim", "model.head_dim", 1, 8192), depth: scalar(ctx, "depth", "model.depth", 1, 256),
      alpha: Number(text(ctx, "alpha")), beta: 1, norm: text(ctx, "norm"), context, mlp_ratio: 4, activation: "gelu", embed_std: 1,
      base_width: bw, base_depth: bd, base_head_dim: bh,
    },
    param: paramOf(ctx, text(ctx, "param")),
    optimizer: { kind: "adam", lr: scalar(ctx, "lr", "optimizer.lr", 1e-8, 100, false), beta1: 0.9, beta2: 0.999, eps: 1e-8, warmup: 0.05, decay: text(ctx, "decay") },
    batch: scalar(ctx, "batch", "batch", 1, 4096),
    steps: scalar(ctx, "steps", "steps", 1, 100000),
    seeds: scalar(ctx, "seeds", "seeds", 1, 64),
    seed: scalar(ctx, "seed", "seed", 0, Number.MAX_SAFE_INTEGER),
    observe: { every: 1, test_sequences: 16, attention: true, score_window: 20, divergence_threshold: 1000 },
  };
  cfg.observe.score_window = Math.min(20, cfg.steps);
  return cfg;
}

/** The config Run computes: the setup alone, or a sweep over it. */
export function panelConfig(ctx) {
  const base = baseConfig(ctx);
  const exp = text(ctx, "experiment");
  if (exp === "run") {
    base.observe.every = Math.max(1, Math.floor(base.steps / 200));
    return base;
  }
  const { kind: _k, ...b } = base;
  const params = text(ctx, "params").split(/[,\s]+/).filter(Boolean).map((n) => paramOf(ctx, n));
  if (!params.length) throw new Error("invalid field `params`: expected sp, mup or both");
  if (exp === "transfer") {
    const axis = text(ctx, "axis");
    const sizes = list(ctx, "sizes", axis === "head_dim" ? "head_dims" : `${axis}s`, 1, 8192);
    const r = numbers(text(ctx, "rates"));
    if (r.length !== 3 || !(r[0] > 0 && r[1] >= r[0] && Number.isInteger(r[2]) && r[2] >= 1 && r[2] <= 16)) {
      throw new Error("invalid field `lrs`: expected `from, to, count` with 0 < from <= to and 1..16 rates");
    }
    b.observe = { every: 10, test_sequences: 0, attention: false, score_window: Math.min(20, b.steps), divergence_threshold: 1000 };
    const cfg = { kind: "transformer_transfer", base: b, axis, widths: [16, 32, 64], depths: [2, 4, 8], heads: [1, 2, 4, 8], head_dims: [4, 8, 16, 32], lrs: rateGrid(r[0], r[1], r[2]), params, alphas: list(ctx, "alphas", "alphas", 0, 1, false, 4) };
    cfg[axis === "head_dim" ? "head_dims" : `${axis}s`] = sizes;
    return cfg;
  }
  if (exp === "heads") {
    b.observe = { every: 50, test_sequences: 8, attention: false, score_window: Math.min(20, b.steps), divergence_threshold: 1000 };
    return { kind: "transformer_heads", base: b, head_dims: list(ctx, "sizes", "head_dims", 1, 8192), params };
  }
  b.observe = { every: 1, test_sequences: 0, attention: false, score_window: 1, divergence_threshold: 1000 };
  return { kind: "transformer_coord_check", base: b, widths: list(ctx, "sizes", "widths", 1, 8192), params };
}

/** The panel values of a core config of any transformer kind (a preset, say). */
export function varsFromConfig(c) {
  const b = c.base || c, m = b.model, p = c.params?.find((x) => x.kind === "mup") || b.param;
  const zero = p.kind !== "mup" ? "both" : p.zero_query ? "both" : p.zero_readout ? "readout" : "none";
  const v = {
    experiment: { transformer: "run", transformer_transfer: "transfer", transformer_heads: "heads", transformer_coord_check: "coords" }[c.kind],
    task: { corpus: "corpus", copy: "copy", in_context_regression: "regression" }[b.task.task],
    context: m.context, width: m.width, heads: m.heads, "head-dim": m.head_dim ?? "", depth: m.depth, alpha: m.alpha, norm: m.norm,
    param: b.param.kind, zero, base: [m.base_width, m.base_depth, m.base_head_dim].join(","), lr: b.optimizer.lr, decay: b.optimizer.decay,
    batch: b.batch, steps: b.steps, seeds: b.seeds, seed: b.seed,
  };
  if (b.task.vocab) v.vocab = b.task.vocab;
  if (b.task.dim) v.dim = b.task.dim;
  if (c.params) v.params = c.params.map((x) => x.kind).join(",");
  if (c.kind === "transformer_transfer") {
    v.axis = c.axis;
    v.sizes = c[c.axis === "head_dim" ? "head_dims" : `${c.axis}s`].join(",");
    v.rates = [c.lrs[0], c.lrs.at(-1), c.lrs.length].join(",");
    v.alphas = c.alphas.join(",");
  } else if (c.kind === "transformer_heads") v.sizes = c.head_dims.join(",");
  else if (c.kind === "transformer_coord_check") v.sizes = c.widths.join(",");
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [P + k, String(x)]));
}

// ------------------------------------------------------------------ figures

/** Per seed, the step at which it diverged (the core records the record index). */
const atSteps = (r) => r.diverged_at.map((i) => (i === null || i === undefined ? null : r.steps[i]));

/** The loss of always guessing: uniform over the symbols, or predicting y = 0. */
function baseline(task) {
  if (task.task === "corpus") return { value: Math.log(61), words: "uniform guess" };
  if (task.task === "copy") return { value: Math.log(task.vocab + 1), words: "uniform guess" };
  return { value: 0.5 * (1 + (task.noise || 0) ** 2), words: "predicting y = 0" };
}

/** Seed-mean loss curves of streamed (or final) records, train solid, test dashed; the
 * claim says whether the score (`score`: the seed-mean loss of the last steps) fell 5 %
 * below both the first loss and the baseline. `state`: "training", "done", "cancelled"
 * or a divergence sentence. */
function lossSpec(cfg, src, state, score) {
  const one = cfg.seeds === 1 ? "" : " (seed mean)";
  const series = [{ label: `train${one}`, x: src.steps, y: src.train.map(mean), colorIndex: 0 }];
  if (src.test.length && src.test[0].length) series.push({ label: `test${one}`, x: src.steps, y: src.test.map(mean), dash: true, colorIndex: 0 });
  const m = cfg.model;
  const y = series[0].y.filter(Number.isFinite);
  const [first, last] = [y[0], y.at(-1)];
  const base = baseline(cfg.task);
  const what = `${cfg.param.kind === "mup" ? "µP" : "SP"}, N = ${m.width}, ${m.heads} heads, L = ${m.depth}, α = ${m.alpha}, Adam η ${cfg.optimizer.lr}`;
  const ref = `${base.words}: ${num(base.value)}`;
  const step = src.steps.at(-1) ?? 0;
  if (state === "training") return { title: `A ${m.depth}-block transformer trains (${what})`, measured: `training… step ${step} of ${cfg.steps}, loss ${num(last)} (${ref})`, xlabel: "step", ylabel: "loss", ylog: true, series };
  if (state === "cancelled") return { title: `Cancelled at step ${step} (${what})`, measured: `loss ${num(first)} → ${num(last)} when cancelled (${ref})`, xlabel: "step", ylabel: "loss", ylog: true, series };
  if (state !== "done") return { title: `The transformer diverged (${state}): lower the rate`, measured: `no final loss: the diverged seeds' curves stop where they blew up (${ref})`, xlabel: "step", ylabel: "loss", ylog: true, series };
  const learned = score < 0.95 * Math.min(first, base.value);
  const window = Math.min(cfg.steps, cfg.observe.score_window);
  return {
    title: learned ? `A ${m.depth}-block transformer learns its task (${what})` : `At these settings the transformer does not learn its task (${what})`,
    measured: `train loss ${num(first)} → ${num(score)} (mean of the last ${window} steps; ${ref}); ${cfg.seeds} seed${cfg.seeds > 1 ? "s" : ""}`,
    xlabel: "step", ylabel: "loss", ylog: true, series,
  };
}

/** Every layer's and head's attention map as heatmaps (rows: layers). */
function attentionSpec(r) {
  const heat = [];
  const far = [];
  let uniform = 0;
  for (const lm of r.attention) {
    lm.maps.forEach((m, h) => {
      const t = m.length;
      heat.push({ label: `head ${h + 1}`, group: `block ${lm.layer + 1}`, n: t, values: m.flat(), scale: "p", ticks: r.labels.length === t ? r.labels : undefined });
      // mean distance back that the head attends to
      let d = 0;
      m.forEach((row, i) => row.forEach((p, j) => { if (j <= i) d += p * (i - j); }));
      far.push(`${lm.layer + 1}.${h + 1}: ${num(d / t, 2)}`);
      uniform = (t - 1) / 4; // a head spreading evenly over the keys it sees
    });
  }
  const text = r.labels.join(r.labels.every((l) => l.length === 1) ? "" : " ");
  const seq = text ? ` on “${text.slice(0, 48)}${text.length > 48 ? "…" : ""}”` : "";
  return {
    title: `Each head's attention map at the end (query rows, key columns; causal; seed 0)${seq}`,
    measured: `mean distance attended back, block.head: ${far.join(", ")} (uniform over the keys: ${num(uniform, 3)})`,
    heatmaps: heat,
  };
}

/** The best rate against the swept size, one line per table: the transfer claim (at
 * most one grid step: it holds; two or more: it moves). */
function bestRateSpec(rec) {
  const r = rec.result;
  const key = { width: "widths", depth: "depths", heads: "heads", head_dim: "head_dims" }[r.axis];
  const axis = { width: "width", depth: "depth", heads: "number of heads", head_dim: "head size" }[r.axis];
  const series = r.tables.map((t, i) => ({ label: tagName(t.param) + (r.axis === "depth" ? ` α=${t.alpha}` : ""), x: t[key], y: t.best_lr.map((v) => (v === null ? NaN : v)), points: true, colorIndex: i }));
  const shifts = r.tables.filter((t) => t.best_lr_shift !== null);
  const holds = shifts.filter((t) => t.best_lr_shift <= 1).map((t) => tagName(t.param));
  const moves = shifts.filter((t) => t.best_lr_shift >= 2).map((t) => tagName(t.param));
  const title = holds.length && moves.length ? `Across ${axis} the best learning rate holds under ${holds.join(", ")} and moves under ${moves.join(", ")}`
    : holds.length ? `Across ${axis} the best learning rate holds (within one grid step) under ${holds.join(", ")}`
      : moves.length ? `Across ${axis} the best learning rate moves two or more grid steps under ${moves.join(", ")}` : "The best learning rate: no table has a finite best rate";
  return {
    title,
    measured: `grid steps the best rate moves: ${r.tables.map((t) => `${tagName(t.param)} ${t.best_lr_shift ?? "n/a"}`).join(", ")} (holds: at most 1)${gridWords(r.tables[0].lrs, r.tables.flatMap((t) => t.best_lr_index))}`,
    xlabel: axis, ylabel: "best Adam rate η*", xlog: true, ylog: true, series,
  };
}

export const transformer = {
  id: "transformer",
  title: "Transformer",
  figure: "transformer",
  runId: 0,
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Transformers: attention at its scaling limits",
      caption: "A decoder-only pre-norm transformer trained with Adam. One run: its loss as it trains, then every head's attention map. Sweeps: the best learning rate against width, depth, heads or head size (µP, depth-µP, CompleteP against SP), the spread between heads against head size, the coordinate check.",
      note: "Under µP the attention logits are divided by dh (not sqrt(dh)), the readout by N and hidden Adam rates by fan-in, so a rate tuned at N0 holds at every width; with residual branches scaled 1/L (CompleteP, α = 1) or 1/sqrt(L) (depth-µP) it holds across depth too. As the head size grows under µP every head learns the same map (the infinite head-size limit). docs/transformer.md has the equations and the exponent table.",
      setup: false,
    });
    const pick = el("label", {}, "Preset ");
    const ps = el("select", { id: "transformer-preset", title: "Open a core preset's settings in this panel, then press Run" });
    ps.append(el("option", { value: "" }, "choose…"));
    let presets = [];
    try { presets = JSON.parse(ctx.core.presets()).filter((p) => String(p.config?.kind).startsWith("transformer")); } catch { presets = []; }
    for (const p of presets) ps.append(el("option", { value: p.name, title: p.description || "" }, p.name));
    pick.append(ps);
    const box = el("div", { class: "kv", id: "transformer-values" });
    for (const [k, label, def, help, options, only, hidden] of FIELDS) {
      const lab = el("label", {}, label + " ");
      if (only) lab.dataset.only = only.join(" ");
      if (hidden) lab.dataset.hidden = hidden.join(" ");
      const inp = options ? el("select", { id: `v-${P}${k}`, title: help }) : el("input", { id: `v-${P}${k}`, type: "text", inputmode: "decimal", title: help });
      if (options) for (const [v, t] of options) inp.append(el("option", { value: v }, t));
      inp.dataset.fallback = def;
      inp.value = ctx.state.vars[P + k] ?? def;
      lab.append(inp);
      box.append(lab);
    }
    side.append(pick, box, el("p", { class: "note", id: "transformer-where" }, ""));
    for (const f of FIGS) figureHost(main, f).hidden = f !== "transformer";
    finishLayout(main);
    this.presets = new Map(presets.map((p) => [p.name, p.config]));
    ps.addEventListener("change", () => {
      const c = this.presets.get(ps.value);
      ps.value = "";
      if (c) { this.load(ctx, c); ctx.changed(); }
    });
    sec.addEventListener("change", () => this.sync(ctx));
    this.sync(ctx);
  },
  /** Show only the values the chosen experiment and task use. */
  sync(ctx) {
    const exp = text(ctx, "experiment");
    const on = new Set([exp, text(ctx, "task")]);
    if (exp === "run" && text(ctx, "param") === "sp") on.add("run-sp");
    for (const lab of document.querySelectorAll("#transformer-values label")) {
      const only = lab.dataset.only?.split(" "), off = lab.dataset.hidden?.split(" ");
      lab.hidden = (only && !only.some((x) => on.has(x))) || (off && off.some((x) => on.has(x)));
    }
  },
  /** Open a transformer config (a core preset) as the panel's values. */
  load(ctx, config) {
    const v = Object.assign(Object.fromEntries(Object.entries(DEFAULTS).map(([k, x]) => [P + k, x])), varsFromConfig(config));
    Object.assign(ctx.state.vars, v);
    for (const [k, x] of Object.entries(v)) {
      const e = document.getElementById(`v-${k}`);
      if (e) e.value = x;
    }
    this.sync(ctx);
  },
  async run(ctx) {
    const me = ++this.runId;
    const cfg = JSON.parse(ctx.core.validate(JSON.stringify(panelConfig(ctx))));
    for (const f of FIGS) clearFigure(f);
    FIGS.forEach((f) => { document.querySelector(`[data-figure="${f}"]`).hidden = f !== "transformer"; });
    const where = document.getElementById("transformer-where");
    where.textContent = "";
    if (cfg.kind === "transformer") return this.runOne(ctx, cfg, me);
    const t0 = performance.now();
    const rec = await runSplit(cfg);
    if (me !== this.runId) return;
    const specs = figuresFor(rec) || [];
    const first = cfg.kind === "transformer_transfer" ? [bestRateSpec(rec), ...specs] : specs;
    const extra = { config: cfg, records: [rec] };
    first.slice(0, 4).forEach((s, i) => drawFigure(i === 0 ? "transformer" : `transformer-${i + 1}`, s, extra));
    const identical = cfg.kind === "transformer_heads" && cfg.params.some((p) => p.zero_query)
      ? " With µP's zero query every head starts with the same (uniform) map, so its spread at initialisation is 0 and off the log axis; the preset starts from a random query (µP zero init: readout only)." : "";
    where.textContent = `${rec.result.tables.length} table${rec.result.tables.length > 1 ? "s" : ""} in ${((performance.now() - t0) / 1000).toFixed(1)} s, split across the workers.${identical}`;
  },
  /** One run: the loss streams as it trains, the attention maps come at the end. */
  async runOne(ctx, cfg, me) {
    const live = { steps: [], train: [], test: [] };
    let rec = null, state = "training";
    const draw = () => drawSoon("transformer", () => {
      if (me !== this.runId) return;
      const r = rec?.result;
      const src = r ? { steps: r.steps, train: r.train_loss, test: r.test_loss } : live;
      drawFigure("transformer", lossSpec(cfg, src, state, r ? mean(r.final_loss.map((v) => v ?? NaN)) : NaN), { config: cfg, records: rec ? [rec] : [] });
    });
    try {
      await runJobs([cfg], (_, done) => {
        rec = done;
        const words = divergedWords("transformer", atSteps(done.result));
        state = divergedWords("the run", atSteps(done.result)) || "done";
        if (words) session()?.note(words);
        draw();
      }, { onLosses: (_, b) => {
        live.steps.push(...b.steps); live.train.push(...b.train); live.test.push(...b.test.filter((x) => x.length));
        draw();
      } });
    } catch (e) {
      if (e instanceof Cancelled && me === this.runId) { state = "cancelled"; draw(); }
      throw e;
    }
    if (me !== this.runId || !rec) return;
    const r = rec.result;
    const where = document.getElementById("transformer-where");
    const b = r.backend || {};
    const ran = `${r.parameters.toLocaleString("en")} parameters per seed; trained on the ${b.device === "gpu" ? `GPU (WebGPU, ${b.adapter || "adapter"})` : "CPU"}${b.fallback ? ` (GPU not used: ${b.fallback})` : ""}.`;
    if (r.diverged_at[0] !== null && r.diverged_at[0] !== undefined) {
      where.textContent = `${ran} No attention maps: seed 0, whose maps they would be, diverged.`;
      return;
    }
    if (r.attention.length) drawFigure("transformer-attention", attentionSpec(r), { config: cfg, records: [rec] });
    where.textContent = ran;
  },
};
