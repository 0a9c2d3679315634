// Panels that put the setup's network beside its limits: kernels against the DMFT,
// lazy-to-rich, convergence to the DMFT as the width grows (the core's
// `width_convergence` sweep), and the depth limit in layer time.
import { drawFigure, session } from "./ui.js";
import { runJobs, runSplit, hasKind } from "./runner.js";
import { el, layout, finishLayout, figureHost, varsInput, varsSelect, varValue, readList, atWidth, withObserve, limitsOf, theoryConfig, divergedWords } from "./panel-common.js";
import { count, floorWords, mean, num, slope, logSlope, paramName } from "./words.js";

/** Relative Frobenius distance |a − b| / |b|. */
function relDiff(a, b) {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) { n += (a[i] - b[i]) ** 2; d += b[i] ** 2; }
  return Math.sqrt(n / (d || 1));
}

// ------------------------------------------------------------------ kernels

export const kernels = {
  id: "kernels",
  title: "Kernels",
  figure: "kernels",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Kernels",
      caption: "Feature kernels Φ^l, gradient kernels G^l and the NTK on the training set: the finite network (largest setup width, seed mean, top row) against the DMFT's (bottom row), each pair on one colour scale.",
      note: "Compare time 0 with the end: the kernels move in the rich regime and stay put in the lazy one; the finite kernels approach the DMFT's as N grows (distance ~ 1/√N).",
    });
    const lab = el("label", {}, "Time (recorded step) ");
    const r = el("input", { id: "v-kernels-t", type: "range", min: "0", max: "0", value: "0", title: "Which recorded step the heatmaps show" });
    lab.append(r, el("output", { id: "kernels-step", for: "v-kernels-t" }, ""));
    side.prepend(lab);
    varsSelect(side, ctx, "kernels-limit", "Infinite-width side", [["dmft", "DMFT (centred output f − f0)"], ["none", "none (finite only)"]], "Draw the DMFT's kernels under the finite network's");
    side.insertBefore(side.lastChild, side.querySelector(".setup-details"));
    main.append(el("p", { class: "note", id: "kernels-limit-note" }, ""));
    r.addEventListener("input", () => this.draw());
    figureHost(main, "kernels");
    finishLayout(main);
  },
  draw() {
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
    const dist = [];
    if (at < 0) {
      heat.push(...finite);
    } else {
      const limit = [];
      d.phi[at].forEach((m, l) => limit.push({ label: `Φ^${l + 1}`, values: m }));
      d.g[at].forEach((m, l) => limit.push({ label: `G^${l + 1}`, values: m }));
      limit.push({ label: "NTK", values: d.ntk[at] });
      const group = `finite, N = ${this.cfg.model.width} (${count(this.cfg.seeds, "seed")})`;
      for (const h of finite) heat.push(Object.assign(h, { group, scale: h.label }));
      for (const h of limit) {
        const f = finite.find((x) => x.label === h.label);
        const dd = f ? relDiff(f.values, h.values) : NaN;
        if (f) dist.push(`${h.label} ${num(100 * dd, 2)}%`);
        const note = f ? `‖K_N − K_∞‖/‖K_∞‖ = ${(100 * dd).toFixed(1)}%` : undefined;
        heat.push(Object.assign(h, { group: "DMFT, N → ∞", scale: h.label, note }));
      }
    }
    for (const h of heat) h.n = Math.round(Math.sqrt(h.values.length));
    const title = dist.length ? `At N = ${this.cfg.model.width} the kernels sit close to their infinite-width limit` : `Kernels of the finite network at step ${k.step}`;
    const measured = dist.length ? `distance to the DMFT at step ${k.step}: ${dist.join(", ")}` : "no DMFT side (see the note)";
    drawFigure("kernels", { title, measured, heatmaps: heat }, { config: this.cfg, records: this.dmft ? [rec, this.dmft] : [rec] });
  },
  async run(ctx) {
    const base = ctx.state.train;
    const w = ctx.state.widths[ctx.state.widths.length - 1];
    const wantLimit = varValue(ctx, "kernels-limit") !== "none";
    const c = withObserve(atWidth(base, w), { kernels: true, ntk: true, every: Math.max(1, Math.floor(base.steps / 10)) });
    if (wantLimit) c.model = Object.assign({}, c.model, { centered: true }); // the DMFT describes f − f0
    if (c.data.train > 64) throw new Error("invalid config field `data.train`: expected at most 64 points for the kernel heatmaps");
    this.cfg = c;
    this.rec = null;
    this.dmft = null;
    const note = document.getElementById("kernels-limit-note");
    const why = wantLimit ? limitsOf(ctx.core, c).dmft : "Infinite-width side off.";
    note.textContent = why ? (wantLimit ? `No DMFT side: ${why} (set it in Setup).` : why) : "";
    const jobs = [c];
    if (!why) {
      const dc = theoryConfig(ctx.core, "dmft", c);
      try {
        ctx.core.check_budget(JSON.stringify(dc));
        jobs.push(dc);
      } catch (e) {
        note.textContent = `No DMFT side: ${String(e.message || e)}`;
      }
    }
    await runJobs(jobs, (i, rec) => {
      if (i === 1) {
        this.dmft = rec;
        const warn = rec.result.warnings || [];
        note.textContent = `DMFT: ${c.model.depth > 1 ? "deep Monte Carlo solver" : "two-layer solver"}, ${rec.config.samples ?? "?"} samples${warn.length ? ". Warning: " + warn.join("; ") : ""}.`;
      } else {
        this.rec = rec;
        const r = document.getElementById("v-kernels-t");
        r.max = String(rec.result.kernels.length - 1);
        r.value = r.max;
      }
      this.draw();
    });
  },
};

// ------------------------------------------------------------------ richness

export const richness = {
  id: "richness",
  title: "Richness",
  figure: "richness",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Lazy vs rich",
      caption: "The same network (largest setup width, centred output) at several richness values γ0, learning rate η γ0² N under µP: loss, and how far the last feature kernel moves.",
      note: "Small γ0: lazy, the kernels barely move (kernel regression). Large γ0: rich, the features move and learn the task.",
    });
    varsInput(side, ctx, "richness", "γ0 values", "0.05,0.25,1,4", "Richness values γ0 to compare (comma separated)");
    side.prepend(side.lastChild);
    figureHost(main, "richness");
    figureHost(main, "richness-movement");
    finishLayout(main);
  },
  async run(ctx) {
    const base = ctx.state.train;
    const gs = readList(ctx, "richness", { min: 1e-4, max: 100, count: 8, field: "gamma0" });
    const w = ctx.state.widths[ctx.state.widths.length - 1];
    const configs = gs.map((g) => {
      const c = atWidth(base, w);
      c.param = base.param.kind === "sp" ? { kind: "mup", gamma0: g } : Object.assign({}, base.param, { gamma0: g });
      c.model = Object.assign({}, c.model, { centered: true });
      return withObserve(c, { kernels: true, every: Math.max(1, Math.floor(c.steps / 20)) });
    });
    const recs = new Array(gs.length);
    const redraw = () => {
      const series = [], move = [], finalMove = [];
      gs.forEach((g, i) => {
        const r = recs[i];
        if (!r) return;
        series.push({ label: `γ0=${g}`, x: r.result.steps, y: r.result.train_loss.map(mean), colorIndex: i });
        const ks = r.result.kernels;
        if (ks.length) {
          const L = ks[0].phi.length - 1;
          const k0 = ks[0].phi[L];
          const rel = ks.map((k) => mean(k.phi[L].map((m, s) => relDiff(m, k0[s]))));
          move.push({ label: `γ0=${g}`, x: ks.map((k) => k.step), y: rel, colorIndex: i });
          finalMove.push(`γ0=${g}: ${num(100 * rel.at(-1), 2)}%`);
        }
      });
      const extra = { config: configs[0], records: recs.filter(Boolean) };
      const losses = series.map((s) => s.y.at(-1));
      drawFigure("richness", { title: `Rich networks (large γ0) learn faster than lazy ones (width ${w})`, measured: `final train loss ${series.map((s, i) => `${s.label}: ${num(losses[i])}`).join(", ")}`, xlabel: "step", ylabel: "train loss", ylog: true, series }, extra);
      drawFigure("richness-movement", { title: "Features move in the rich regime and stay put in the lazy one", measured: `last-layer kernel movement |Φ(T) − Φ(0)|/|Φ(0)|: ${finalMove.join(", ")}`, xlabel: "step", ylabel: "relative change of Φ", ylog: true, series: move }, extra);
    };
    await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
  },
};

// ------------------------------------------------------------------ width convergence

/** Least-squares line through (log x, log y): {slope, at(x)}. */
function powerFit(xs, ys) {
  const pts = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => x > 0 && y > 0);
  const s = logSlope(pts.map((p) => p[0]), pts.map((p) => p[1]));
  const mx = mean(pts.map((p) => Math.log(p[0]))), my = mean(pts.map((p) => Math.log(p[1])));
  return { slope: s, at: (x) => Math.exp(my + s * (Math.log(x) - mx)) };
}

export const convergence = {
  id: "convergence",
  title: "Width convergence",
  figure: "convergence",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Width convergence",
      caption: "How far finite networks are from the infinite-width limit (the DMFT of the same config) as the width N grows: the mean squared deviation of the loss curves, on log–log axes.",
      note: "Fluctuations of a width-N network are O(1/√N), so the squared deviation falls like 1/N: slope −1. The DMFT is itself a Monte Carlo estimate with S samples, which fluctuates like a width-S network; the grey band marks that floor. When the DMFT does not apply (SP, Adam/SGD, ResNets, no centred output) the reference is the widest network instead, and the panel says so.",
    });
    const box = el("div", { class: "kv" });
    side.prepend(box);
    varsInput(box, ctx, "convergence", "Widths to compare", "32,64,128,256,512,1024", "Widths N to compare with the limit (comma separated)");
    varsInput(box, ctx, "convergence-seeds", "Seeds per width", "32", "Networks per width; the deviation averages over them (more seeds: a cleaner slope)");
    varsInput(box, ctx, "convergence-samples", "DMFT samples", "8000", "Monte Carlo samples S of the DMFT: its own error is like a width-S network's, so keep S well above the widths");
    figureHost(main, "convergence");
    figureHost(main, "convergence-curves");
    finishLayout(main);
  },
  async run(ctx) {
    const widths = readList(ctx, "convergence", { min: 1, max: 8192, integer: true, count: 10, field: "widths" }).sort((a, b) => a - b);
    const [seeds] = readList(ctx, "convergence-seeds", { min: 1, max: 4096, integer: true, count: 1, field: "seeds per width" });
    const [samples] = readList(ctx, "convergence-samples", { min: 1, max: 1e7, integer: true, count: 1, field: "DMFT samples" });
    const base = Object.assign(structuredClone(ctx.state.train), { seeds });
    const why = limitsOf(ctx.core, base).dmft || (hasKind("width_convergence") ? null : "this build has no width_convergence experiment");
    if (!why) return this.againstDmft(ctx, base, widths, samples);
    return this.againstWidest(ctx, base, widths, why);
  },

  /** The core's `width_convergence` sweep: networks at each width against the DMFT. */
  async againstDmft(ctx, base, widths, samples) {
    const cfg = JSON.parse(ctx.core.default_config("width_convergence"));
    const { kind: _k, ...plain } = base;
    cfg.base = plain;
    cfg.widths = widths;
    cfg.dmft.samples = samples;
    const rec = await runSplit(cfg);
    const r = rec.result;
    const dev = r.deviation.map((v) => v ?? NaN);
    const fit = powerFit(r.widths, dev);
    const series = [
      { label: "loss deviation from the DMFT", x: r.widths, y: dev, points: true },
      { label: `fit ∝ N^${slope(r.slope)}`, x: r.widths, y: r.widths.map(fit.at), dash: true, color: "#555" },
      { label: "last-layer kernel deviation", x: r.widths, y: (r.kernel_deviation || []).map((v) => v ?? NaN), points: true, dash: true, colorIndex: 2 },
    ];
    if (Number.isFinite(r.dmft_floor)) series.push({ label: `DMFT Monte Carlo floor (S = ${samples})`, x: [], y: [], band: [null, r.dmft_floor], color: "#999" });
    const diverged = r.widths.filter((_, i) => r.diverged[i]);
    if (diverged.length) session()?.note(`diverged: N=${diverged.join(", ")} (left out of the fit)`);
    const extra = { config: cfg, records: [rec] };
    drawFigure("convergence", {
      title: "Finite networks converge to the DMFT: squared deviation ∝ 1/N",
      measured: `slope ${slope(r.slope)} (theory −1); reference: the DMFT (${samples} samples)`,
      xlabel: "width N", ylabel: "mean squared deviation", xlog: true, ylog: true, series,
    }, Object.assign({ slope: r.slope, reference: "dmft" }, extra));
    const curves = r.widths.map((w, i) => ({ label: `N=${w}`, x: r.steps, y: r.mean_loss[i].map((v) => v ?? NaN), colorIndex: i }));
    curves.push({ label: "DMFT (N → ∞)", x: r.steps, y: r.dmft_loss.map((v) => v ?? NaN), dash: true, color: "#000" });
    drawFigure("convergence-curves", {
      title: "Loss curves close in on the DMFT as the width grows",
      measured: `seed-mean loss curve off the DMFT (relative L2): ${r.widths.map((w, i) => `N=${w} ${num(100 * (r.loss_rel_error[i] ?? NaN), 2)}%`).join(", ")}${floorWords(r, samples)}`,
      xlabel: "step", ylabel: `train loss (mean of ${count(base.seeds, "seed")})`, ylog: true, series: curves,
    }, extra);
  },

  /** Without the DMFT: each width against the widest network's seed mean. */
  async againstWidest(ctx, base, widths, why) {
    if (widths.length < 3) throw new Error("invalid field `widths`: expected at least 3 widths (the widest is the reference)");
    const configs = widths.map((w) => atWidth(base, w));
    const recs = new Array(widths.length);
    await runJobs(configs, (i, rec) => { recs[i] = rec; });
    // each seed's losses up to its divergence (diverged runs are named, not compared)
    const kept = recs.map((r) => r.result.train_loss.map((row, t) => row.map((v, s) => {
      const d = r.result.diverged_at[s];
      return d !== null && r.result.steps[t] >= d ? NaN : v;
    })));
    const diverged = recs.map((r, i) => divergedWords(`N=${widths[i]}`, r.result.diverged_at)).filter(Boolean);
    diverged.forEach((w) => session()?.note(w));
    const ref = kept.at(-1).map(mean);
    const xs = widths.slice(0, -1);
    const dev = kept.slice(0, -1).map((rows) => mean(rows.flatMap((row, t) => row.map((v) => (v - ref[t]) ** 2))));
    const fit = powerFit(xs, dev);
    drawFigure("convergence", {
      title: diverged.length
        ? `Some networks diverged (${paramName(base.param)}, η = ${base.optimizer.lr}): lower the learning rate`
        : `Finite networks converge as N grows (${paramName(base.param)}; reference: the widest network)`,
      measured: `slope ${slope(fit.slope)} (theory −1 for µP/NTK); reference: the widest network (N=${widths.at(-1)}), because ${why}`,
      xlabel: "width N", ylabel: "mean squared deviation", xlog: true, ylog: true,
      series: [
        { label: `loss deviation from N=${widths.at(-1)}`, x: xs, y: dev, points: true },
        { label: `fit ∝ N^${slope(fit.slope)}`, x: xs, y: xs.map(fit.at), dash: true, color: "#555" },
      ],
    }, { config: base, records: recs, slope: fit.slope, reference: "widest" });
    const curves = widths.map((w, i) => ({ label: `N=${w}`, x: recs[i].result.steps, y: kept[i].map(mean), colorIndex: i }));
    drawFigure("convergence-curves", { title: "Loss curves at growing width", measured: `reference: the widest network (${why})`, xlabel: "step", ylabel: "train loss (seed mean)", ylog: true, series: curves }, { config: base, records: recs });
  },
};

// ------------------------------------------------------------------ depth limit

export const depth = {
  id: "depth",
  title: "Depth limit",
  figure: "depth",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Large depth: layer time",
      caption: "Residual networks under depth-µP (branches β/√(N L)) at several depths, plotted against layer time τ = l/L: the per-layer feature size H(τ) (mean |h^l|) and its change.",
      note: "If the curves of different depths collapse onto one, the network has a depth limit: a deeper net is the same function of τ, only finer.",
    });
    varsInput(side, ctx, "depth", "Depths", "2,4,8,16", "Depths L of the residual networks (comma separated)");
    side.prepend(side.lastChild);
    figureHost(main, "depth");
    finishLayout(main);
  },
  async run(ctx) {
    const base = ctx.state.train;
    const depths = readList(ctx, "depth", { min: 1, max: 64, integer: true, count: 8, field: "depths" });
    const w = ctx.state.widths[ctx.state.widths.length - 1];
    const configs = depths.map((L) => {
      const c = atWidth(base, Math.min(w, 128));
      c.model = Object.assign({}, c.model, { arch: "resnet", depth: L });
      c.param = { kind: "depth_mup", gamma0: base.param.gamma0 ?? 1 };
      return withObserve(c, { coords: true, every: c.steps });
    });
    const recs = new Array(depths.length);
    const redraw = () => {
      const series = [], ends = [];
      depths.forEach((L, i) => {
        const r = recs[i];
        if (!r) return;
        const last = r.result.coords.at(-1);
        const n = last.mean_abs_h.length;
        const tau = last.mean_abs_h.map((_, l) => (n > 1 ? l / (n - 1) : 0));
        const h = last.mean_abs_h.map(mean);
        series.push({ label: `L=${L}: mean |h|`, x: tau, y: h, points: true, colorIndex: i });
        series.push({ label: `L=${L}: mean |Δh|`, x: tau, y: last.mean_abs_dh.map(mean), dash: true, colorIndex: i });
        ends.push(h.at(-1));
      });
      const spread = ends.length > 1 ? 100 * (Math.max(...ends) / Math.min(...ends) - 1) : NaN;
      drawFigure("depth", {
        title: "Depth-µP ResNets of every depth follow one curve in layer time τ = l/L",
        measured: ends.length > 1 ? `H(τ = 1) spread across depths ${depths.join(", ")}: ${num(spread, 2)}%` : "running…",
        xlabel: "layer time τ", ylabel: "mean |h|, mean |Δh|", ylog: true, series,
      }, { config: configs[0], records: recs.filter(Boolean) });
    };
    await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
  },
};
