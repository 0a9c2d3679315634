// Figures for the result of each run kind of the core (experiments, theory, statics),
// each titled with the claim it shows and the number that backs it.
// `figuresFor(record)` returns a list of figure specs (see plot.js); kinds without a
// dedicated view return null and the caller plots their CSV tables instead.
import { blowUps, count, floorWords, mean, num, slope, logSlope, tagName, trend } from "./words.js";
import { landscape, deepLinear, finiteWidth, bayesData } from "./kinds-richness.js";

const val = (v) => (v === null || v === undefined ? NaN : v);

function transfer(rec) {
  const r = rec.result;
  return r.tables.map((t) => {
    // the MLP's sweeps have widths or depths; the transformer's also heads or head sizes
    const [sizes, tag, axis] = [[t.widths, "N", "width"], [t.depths, "L", "depth"], [t.heads, "H", "number of heads"], [t.head_dims, "dh", "head size"]]
      .find(([v]) => v && v.length) || [[], "", "size"];
    const series = [], best = [];
    const bad = { label: "diverged", x: [], y: [], marker: true, fakeY: true, color: "#b00020" };
    const finite = t.final_loss.flat().map(val).filter(Number.isFinite);
    const top = finite.length ? Math.max(...finite) * 2 : 1;
    sizes.forEach((s, i) => {
      series.push({ label: `${tag}=${s}`, x: t.lrs, y: t.final_loss[i].map((l, j) => (t.diverged[i][j] ? NaN : val(l))), points: true, colorIndex: i });
      const bj = t.best_lr_index[i];
      if (bj !== null && bj !== undefined) best.push({ label: `best rate ${tag}=${s}`, x: [t.lrs[bj]], y: [val(t.final_loss[i][bj])], marker: true, colorIndex: i });
      t.diverged[i].forEach((d, j) => { if (d) { bad.x.push(t.lrs[j]); bad.y.push(top); } });
    });
    const shift = t.best_lr_shift ?? null;
    const rates = sizes.map((s, i) => `${tag}=${s}: ${t.best_lr_index[i] !== null && t.best_lr_index[i] !== undefined ? num(t.lrs[t.best_lr_index[i]]) : "none"}`);
    const verdict = shift === null ? "has no finite best rate at some size" : shift <= 1 ? `holds as the ${axis} grows` : `moves ${shift} grid steps as the ${axis} grows`;
    return {
      title: `${tagName(t.param)}${t.alpha !== undefined && axis === "depth" ? ` (α = ${t.alpha})` : ""}: the best learning rate ${verdict}`,
      measured: `best rate ${rates.join(", ")}; moves ${shift === null ? "n/a" : shift} grid step${shift === 1 ? "" : "s"} (holds: at most 1)${gridWords(t.lrs, t.best_lr_index)}`,
      xlabel: "learning rate η", ylabel: "final train loss", xlog: true, ylog: true, series: [...series, ...best, ...(bad.x.length ? [bad] : [])],
    };
  });
}

/** The grid's ratio, and a warning when a best rate sits on the grid's edge (the true
 * optimum may lie beyond it). */
export function gridWords(lrs, bestIndex) {
  const ratio = lrs.length > 1 ? `; grid ×${num(lrs[1] / lrs[0])} per step` : "";
  const edge = bestIndex.some((j) => j === 0 || j === lrs.length - 1);
  return `${ratio}${edge ? "; a best rate sits on the grid's edge: widen the grid" : ""}`;
}

function coordCheck(rec) {
  return rec.result.tables.map((t) => {
    const last = t.mean_abs_dh.length - 1;
    const series = t.mean_abs_dh[last].map((perWidth, l) => ({ label: `layer ${l + 1}: mean |Δh|`, x: t.widths, y: perWidth.map(val), points: true, colorIndex: l }));
    series.push({ label: "output: mean |Δf|", x: t.widths, y: t.mean_abs_df[last].map(val), points: true, dash: true, colorIndex: series.length });
    const blow = blowUps(t.widths, t.mean_abs_df[last], rec.config.base.observe?.divergence_threshold);
    const ks = series.map((s) => logSlope(blow.kept(s.x), blow.kept(s.y)));
    const slopes = series.map((s, i) => `${s.label.split(":")[0]} ${slope(ks[i])}`);
    const top = ks.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    return {
      title: `${tagName(t.param)}: updates ${trend(top)} as the width grows (step ${t.steps[last]})`,
      measured: `log-log slope of |Δ| against N: ${slopes.join(", ")} (flat: |slope| ≤ 0.25)${blow.words}`,
      xlabel: "width N", ylabel: "mean |change since init|", xlog: true, ylog: true, series,
    };
  });
}

function widthConvergence(rec) {
  const r = rec.result;
  const curves = r.widths.map((w, i) => ({ label: `N=${w}`, x: r.steps, y: r.mean_loss[i].map(val), colorIndex: i }));
  if (r.dmft_loss && r.dmft_loss.some((v) => v !== null)) curves.push({ label: "DMFT (N → ∞)", x: r.steps, y: r.dmft_loss.map(val), dash: true, color: "#000" });
  const samples = rec.config.dmft?.samples;
  const dev = [
    { label: "loss deviation from the DMFT", x: r.widths, y: r.deviation.map(val), points: true },
    { label: "last-layer kernel deviation", x: r.widths, y: (r.kernel_deviation || []).map(val), points: true, dash: true, colorIndex: 2 },
  ];
  if (Number.isFinite(r.dmft_floor)) dev.push({ label: `DMFT Monte Carlo floor (S = ${samples})`, x: [], y: [], band: [null, r.dmft_floor], color: "#999" });
  const figs = [
    { title: "µP networks approach the DMFT: squared deviation ∝ 1/N", measured: `slope ${slope(val(r.slope))} (theory −1); kernel slope ${slope(val(r.kernel_slope))}; reference: the DMFT (${samples} samples)`,
      xlabel: "width N", ylabel: "mean squared deviation", xlog: true, ylog: true, series: dev },
    { title: "Loss curves at growing width close in on the DMFT limit", measured: `seed-mean loss curve off the DMFT (relative L2): ${r.widths.map((w, i) => `N=${w} ${num(100 * val(r.loss_rel_error[i]), 2)}%`).join(", ")}${floorWords(r, samples)}`,
      xlabel: "step", ylabel: "train loss (seed mean)", ylog: true, series: curves },
  ];
  for (const c of r.contrast || []) {
    const finals = c.mean_loss.map((m) => val(m.at(-1)));
    // the widest two within 5% of each other: the slowing has reached the lazy limit
    const settles = finals.length > 2 && Math.abs(finals.at(-1) - finals.at(-2)) < 0.05 * finals.at(-2);
    figs.push({ title: `Contrast, ${c.param} at the same widths: training slows as N grows${settles ? ", then settles at the lazy (kernel) limit" : ""}`, measured: `final loss ${r.widths.map((w, i) => `N=${w}: ${num(finals[i])}`).join(", ")}`,
      xlabel: "step", ylabel: "train loss (seed mean)", ylog: true,
      series: r.widths.map((w, i) => ({ label: `N=${w}`, x: r.steps, y: (c.mean_loss[i] || []).map(val), colorIndex: i })) });
  }
  return figs;
}

function depthLimit(rec) {
  const r = rec.result;
  const series = [{ label: "depth limit H(τ) (ODE)", x: r.tau, y: r.h_ode, color: "#000" }];
  const gaps = [];
  (r.finite || []).forEach((p, i) => {
    const L = p.h.length - 1;
    const tau = p.h.map((_, l) => (L > 0 ? l / L : 0));
    series.push({ label: `L=${p.depth}`, x: tau, y: p.h, points: true, dash: true, colorIndex: i });
    // the ODE at the finite net's last layer (tau = 1 is the ODE's last point)
    const ode = r.h_ode.at(-1);
    if (Number.isFinite(ode) && Number.isFinite(p.h.at(-1))) gaps.push(`L=${p.depth} ${num(100 * Math.abs(p.h.at(-1) - ode) / ode, 2)}%`);
  });
  return [{ title: "With 1/√L branches, finite depths follow the depth-limit ODE in layer time", measured: gaps.length ? `H(τ = 1) off the ODE: ${gaps.join(", ")}` : "", xlabel: "layer time τ = l/L", ylabel: "H(τ)", series }];
}

function lossOnly(title) {
  return (rec) => {
    const r = rec.result;
    const series = [{ label: "train", x: r.loss.map((_, t) => t), y: r.loss }];
    if (r.test_loss && r.test_loss.length) series.push({ label: "test", x: r.test_loss.map((_, t) => t), y: r.test_loss, dash: true });
    return [{ title, measured: `loss ${num(r.loss[0])} → ${num(r.loss.at(-1))} over ${r.loss.length - 1} steps`, xlabel: "step", ylabel: "loss", ylog: true, series }];
  };
}

function richness(rec) {
  const r = rec.result;
  const curves = r.gamma0s.map((g, i) => ({ label: `γ0=${g}`, x: r.steps, y: r.train_loss[i].map(val), colorIndex: i }));
  const change = r.kernel_change.map(val);
  return [
    { title: `${r.param}: from lazy (small γ0) to rich (large γ0), training speeds up`, measured: `final loss ${r.gamma0s.map((g, i) => `γ0=${g}: ${num(val(r.train_loss[i].at(-1)))}`).join(", ")}`,
      xlabel: "step", ylabel: "train loss", ylog: true, series: curves },
    { title: "Rich networks move their kernel and align it with the target", measured: `kernel movement |K(T) − K(0)|/|K(0)| from ${num(change[0])} (γ0=${r.gamma0s[0]}) to ${num(change.at(-1))} (γ0=${r.gamma0s.at(-1)})`,
      xlabel: "γ0", ylabel: "value", xlog: true,
      series: [
        { label: "alignment at init", x: r.gamma0s, y: r.alignment_init.map(val), points: true, dash: true },
        { label: "alignment at the end", x: r.gamma0s, y: r.alignment_final.map(val), points: true },
        { label: "|K(T) − K(0)| / |K(0)|", x: r.gamma0s, y: change, points: true },
      ] },
  ];
}

function train(rec) {
  const r = rec.result;
  const series = [{ label: "train", x: r.steps, y: r.train_loss.map(mean) }];
  if (r.test_loss.length) series.push({ label: "test", x: r.steps, y: r.test_loss.map(mean), dash: true });
  const l = series[0].y;
  return [{ title: "Loss during training (seed mean)", measured: `train loss ${num(l[0])} → ${num(l.at(-1))}`, xlabel: "step", ylabel: "loss", ylog: true, series }];
}

/** Bayesian networks: predictions of the two limits and of Langevin-sampled nets per
 * test point, and each net's kernel distance to each limit against width. */
function bayes(rec) {
  const r = rec.result;
  const c = Math.max(1, r.nngp.outputs);
  const pts = r.nngp.var_test.length;
  // output 0 of each test point, sorted by the NNGP mean so that the curves read easily
  const order = [...Array(pts).keys()].sort((i, j) => r.nngp.mean_test[i * c] - r.nngp.mean_test[j * c]);
  const x = order.map((_, k) => k + 1);
  const pick = (v) => order.map((i) => val(v[i * c]));
  const widest = Math.max(...r.runs.map((q) => q.width));
  const run = (p) => r.runs.find((q) => q.param === p && q.width === widest);
  const series = [
    { label: "NNGP posterior mean (NTK limit)", x, y: pick(r.nngp.mean_test), color: "#000" },
    { label: "µP saddle point (mean-field limit)", x, y: pick(r.saddle.posterior.mean_test), dash: true, color: "#555" },
  ];
  const mup = run("mup"), ntk = run("ntk");
  if (mup) series.push({ label: `Langevin µP net, N=${widest} (± s.e.)`, x: x.map((v) => v - 0.12), y: pick(mup.langevin.mean_test), err: pick(mup.langevin.se_test), colorIndex: 0 });
  if (ntk) series.push({ label: `Langevin NTK net, N=${widest} (± s.e.)`, x: x.map((v) => v + 0.12), y: pick(ntk.langevin.mean_test), err: pick(ntk.langevin.se_test), colorIndex: 1 });
  const pred = {
    title: "Posterior means per test point: µP nets follow the saddle point, NTK nets the NNGP",
    measured: [mup && `µP N=${widest}: RMS ${num(mup.test_dist_saddle)} to the saddle, ${num(mup.test_dist_nngp)} to the NNGP`, ntk && `NTK: ${num(ntk.test_dist_nngp)} to the NNGP, ${num(ntk.test_dist_saddle)} to the saddle`].filter(Boolean).join("; "),
    xlabel: "test point (sorted by NNGP mean)", ylabel: "posterior mean f(x)", series,
  };
  const widths = [...new Set(r.runs.map((q) => q.width))].sort((a, b) => a - b);
  const line = (p, key) => widths.map((w) => val(r.runs.find((q) => q.param === p && q.width === w)?.[key]));
  const dist = [
    { label: "µP net → saddle point", x: widths, y: line("mup", "kernel_dist_saddle"), points: true, colorIndex: 0 },
    { label: "µP net → NNGP", x: widths, y: line("mup", "kernel_dist_nngp"), points: true, dash: true, colorIndex: 0 },
    { label: "NTK net → NNGP", x: widths, y: line("ntk", "kernel_dist_nngp"), points: true, colorIndex: 1 },
    { label: "NTK net → saddle point", x: widths, y: line("ntk", "kernel_dist_saddle"), points: true, dash: true, colorIndex: 1 },
  ];
  const kern = {
    title: "As N grows, µP kernels approach the saddle point and NTK kernels the NNGP",
    measured: widths.length > 1
      ? `slope against log N: µP→saddle ${slope(logSlope(widths, dist[0].y))}, NTK→NNGP ${slope(logSlope(widths, dist[2].y))} (fluctuations: −0.5); at N=${widest}: µP ${num(dist[0].y.at(-1))} vs ${num(dist[1].y.at(-1))}, NTK ${num(dist[2].y.at(-1))} vs ${num(dist[3].y.at(-1))}`
      : `at N=${widest}: µP→saddle ${num(dist[0].y[0])}, NTK→NNGP ${num(dist[2].y[0])}`,
    xlabel: "width N", ylabel: "‖Φ_N − Φ_limit‖ / ‖Φ_limit‖", xlog: true, ylog: true, series: dist,
  };
  return [pred, kern];
}

// ------------------------------------------------------------------ scaling laws

const sizeWord = (v) => (v === null || v === undefined ? "∞" : String(v));
const fitNum = (f) => (f ? num(f.exponent) : "n/a");
/** "theory 0.29, finite 0.31 (predicted 0.30)" for one law. */
function lawWords(law, sign = "") {
  const parts = [`theory ${sign}${fitNum(law.theory)}`];
  if (law.finite) parts.push(`finite ${sign}${fitNum(law.finite)}`);
  return `${parts.join(", ")} (predicted ${sign}${num(law.predicted)})`;
}

/** Figures of a `scaling_law` record: loss against time (theory dashed, finite models
 * solid with ± one standard deviation over seeds), the compute-optimal frontier, the
 * compute-optimal width, the bottlenecks in N and P, and the train-test gap of reused
 * data. Specs without data are dropped by the caller. */
export function scalingFigures(rec) {
  const r = rec.result, cfg = rec.config;
  const t = r.times;
  const gammas = cfg.gamma0s || [0];
  const manyG = gammas.length > 1;
  const tag = (c) => `N=${sizeWord(c.width)} P=${sizeWord(c.samples)}${manyG || c.gamma0 > 0 ? ` γ0=${c.gamma0}` : ""}`;
  const beta = cfg.beta, alpha = cfg.alpha;
  const figs = [];
  // 1. loss against time
  const series = [];
  r.curves.forEach((c, i) => {
    if (c.theory) series.push({ label: `${tag(c)} theory`, x: t, y: c.theory.test.map(val), dash: true, colorIndex: i });
    if (c.finite) series.push({ label: `${tag(c)} finite (${count(c.finite.seeds, "seed")}, ± sd)`, x: t, y: c.finite.test.map(val), err: c.finite.test_std.map(val), colorIndex: i });
  });
  r.laws.forEach((l, j) => series.push({ label: `time law: N = P = ∞, untruncated${manyG ? `, γ0=${l.gamma0}` : ""}`, x: t, y: l.reference.map(val), color: j ? "#777" : "#000" }));
  const rich = r.laws.find((l) => l.gamma0 > 0), lazy = r.laws.find((l) => l.gamma0 === 0);
  let title = `The test loss falls as t^−β (β = ${beta}) until the model (N) or data (P) bottleneck`;
  if (rich && lazy) {
    title = beta < 1
      ? `Feature learning (γ0 = ${rich.gamma0}) speeds up a hard task (β = ${beta} < 1): t^−2β/(1+β) instead of t^−β`
      : `Feature learning (γ0 = ${rich.gamma0}) leaves an easy task (β = ${beta} ≥ 1) at t^−β`;
  } else if (rich) {
    title = `With feature learning (γ0 = ${rich.gamma0}) the loss falls as t^−${beta < 1 ? "2β/(1+β)" : "β"} until the bottlenecks`;
  }
  const timeWords = r.laws.map((l) => `${manyG ? `γ0=${l.gamma0}: ` : ""}L ∝ t^−x, x: ${lawWords(l.time)}${l.time.finite ? ` [finite: ${l.time.finite_from}, t ≤ ${num(l.time.finite.range[1])}]` : ""}`);
  figs.push({ title, measured: timeWords.join("; "), xlabel: "time t (gradient flow)", ylabel: "test loss", xlog: true, ylog: true, series });
  // 2. the compute-optimal frontier (first gamma0)
  const l0 = r.laws[0];
  const pMax = (cs) => cs.reduce((m, c) => (c.samples === null ? Infinity : Math.max(m, c.samples)), -1);
  const mine = r.curves.filter((c) => c.gamma0 === l0.gamma0 && c.width !== null);
  const top = pMax(mine);
  const atTop = mine.filter((c) => (c.samples === null ? Infinity : c.samples) === top);
  const comp = [];
  atTop.forEach((c) => {
    const i = r.curves.indexOf(c);
    const x = t.map((v) => v * c.width);
    if (c.theory) comp.push({ label: `N=${c.width} theory`, x, y: c.theory.test.map(val), dash: true, colorIndex: i });
    if (c.finite) comp.push({ label: `N=${c.width} finite`, x, y: c.finite.test.map(val), colorIndex: i });
  });
  if (l0.envelope_theory) comp.push({ label: "frontier, theory (4 widths per octave)", x: l0.envelope_theory.compute, y: l0.envelope_theory.loss.map(val), color: "#000" });
  if (l0.envelope_finite) comp.push({ label: "frontier of the finite models", x: l0.envelope_finite.compute, y: l0.envelope_finite.loss.map(val), color: "#555", points: true });
  figs.push({
    title: `At fixed compute C = N t the loss-optimal width grows: L* ∝ C^−${num(l0.predicted.compute_loss)}`,
    measured: `L* ∝ C^−x, x: ${lawWords(l0.compute_loss)}; N* ∝ C^y, y: ${lawWords(l0.compute_width)}`,
    xlabel: "compute C = N t", ylabel: "test loss", xlog: true, ylog: true, series: comp,
  });
  // 3. the bottlenecks in N and P at t = infinity
  const sizes = [];
  if (l0.width_sweep) sizes.push({ label: "model bottleneck L(N), theory (P = ∞)", x: l0.width_sweep.size, y: l0.width_sweep.loss.map(val), color: "#1f77b4" });
  if (l0.data_sweep) sizes.push({ label: "data bottleneck L(P), theory (N = ∞)", x: l0.data_sweep.size, y: l0.data_sweep.loss.map(val), dash: true, color: "#d62728" });
  const fin = (c) => val(c.finite ? (c.finite.test_final ?? c.finite.test.at(-1)) : NaN);
  const byN = atTop.filter((c) => c.finite);
  if (byN.length) sizes.push({ label: `finite models against N (P=${sizeWord(byN[0].samples)})`, x: byN.map((c) => c.width), y: byN.map(fin), points: true, color: "#1f77b4" });
  const nTop = r.curves.filter((c) => c.gamma0 === l0.gamma0).reduce((m, c) => (c.width === null ? Infinity : Math.max(m, c.width)), -1);
  const byP = r.curves.filter((c) => c.gamma0 === l0.gamma0 && c.finite && c.samples !== null && (c.width === null ? Infinity : c.width) === nTop);
  if (byP.length) sizes.push({ label: `finite models against P (N=${sizeWord(byP[0].width)})`, x: byP.map((c) => c.samples), y: byP.map(fin), points: true, dash: true, color: "#d62728" });
  figs.push({
    title: `Bottlenecks at t = ∞: L ∝ N^−α·min(β,1) (model), L ∝ P^−α·min(β,2) (data); α = ${alpha}, β = ${beta}`,
    measured: `model: ${lawWords(l0.width)}; data: ${lawWords(l0.data)}`,
    xlabel: "model size N or data size P", ylabel: "test loss at t = ∞", xlog: true, ylog: true, series: sizes,
  });
  // 4. the train-test gap of reused data
  const reuse = r.curves.filter((c) => c.samples !== null);
  const gap = [], words = [];
  reuse.forEach((c) => {
    const i = r.curves.indexOf(c);
    const g = (x) => x.test.map((v, k) => val(v) - val(x.train[k]));
    if (c.theory) gap.push({ label: `${tag(c)} theory`, x: t, y: g(c.theory), dash: true, colorIndex: i });
    if (c.finite) gap.push({ label: `${tag(c)} finite`, x: t, y: g(c.finite), colorIndex: i });
    const end = (x) => (x ? num(val(x.test.at(-1)) - val(x.train.at(-1))) : "n/a");
    words.push(`P=${c.samples}: theory ${end(c.theory)}, finite ${end(c.finite)}`);
  });
  // (always a spec, empty without reused data, so the figures keep their places)
  figs.push({
    title: "Reusing P samples opens a train-test gap that builds up over training",
    measured: `test − train at t = ${num(t.at(-1))}: ${words.join("; ")}`,
    xlabel: "time t", ylabel: "test loss − train loss", xlog: true, ylog: true, series: gap,
  });
  // 5. the compute-optimal width
  const wser = [];
  if (l0.envelope_theory) wser.push({ label: "N*(C), theory", x: l0.envelope_theory.compute, y: l0.envelope_theory.width, color: "#000" });
  if (l0.envelope_finite) wser.push({ label: "N*(C), finite models", x: l0.envelope_finite.compute, y: l0.envelope_finite.width, points: true, color: "#555" });
  figs.push({
    title: `The compute-optimal width grows as N* ∝ C^${num(l0.predicted.compute_width)}`,
    measured: `N* ∝ C^y, y: ${lawWords(l0.compute_width)}`,
    xlabel: "compute C = N t", ylabel: "optimal width N*", xlog: true, ylog: true, series: wser,
  });
  return figs;
}

/** A transformer run: the loss curves of its seeds, then each layer's attention maps. */
function transformer(rec) {
  const r = rec.result;
  const seeds = r.train_loss.length ? r.train_loss[0].length : 0;
  const curves = [];
  for (let s = 0; s < seeds; s++) {
    curves.push({ label: `train, seed ${s}`, x: r.steps, y: r.train_loss.map((row) => val(row[s])), colorIndex: s });
    if (r.test_loss.length && r.test_loss[0].length) curves.push({ label: `test, seed ${s}`, x: r.steps, y: r.test_loss.map((row) => val(row[s])), dash: true, colorIndex: s });
  }
  const last = r.final_loss.map(val).filter(Number.isFinite);
  const figs = [{
    title: `A ${rec.config.model?.depth ?? 2}-block transformer learns its task`,
    measured: `score (mean loss of the last steps) ${last.map((v) => num(v)).join(", ")}`,
    xlabel: "step", ylabel: "loss", ylog: true, series: curves,
  }];
  // attention maps: for each layer, every head's weight on each key, averaged over queries
  // that see it (a profile of how far back each head looks)
  for (const lm of r.attention || []) {
    const series = lm.maps.map((m, h) => {
      const t = m.length;
      const back = Array.from({ length: t }, (_, d) => {
        const v = []; for (let i = d; i < t; i++) v.push(m[i][i - d]);
        return mean(v);
      });
      return { label: `head ${h + 1}`, x: back.map((_, d) => d), y: back, points: true, colorIndex: h };
    });
    const peaks = series.map((s) => s.x[s.y.indexOf(Math.max(...s.y))]);
    figs.push({
      title: `Layer ${lm.layer + 1}: how far back each head attends`,
      measured: `most weight at distance ${peaks.join(", ")} (heads 1..${peaks.length})`,
      xlabel: "distance back (query − key)", ylabel: "mean attention weight", series,
    });
  }
  return figs;
}

/** Head spread against head size: muP collapses, SP does not. */
function transformerHeads(rec) {
  const t = rec.result.tables;
  const series = t.flatMap((tb, i) => [
    { label: `${tagName(tb.param)}, trained`, x: tb.head_dims, y: tb.spread.map(val), points: true, colorIndex: i },
    { label: `${tagName(tb.param)}, at init`, x: tb.head_dims, y: tb.spread_init.map(val), dash: true, colorIndex: i },
  ]);
  const mup = t.find((tb) => tb.param === "mup");
  const alike = mup && Number.isFinite(mup.slope) && mup.slope < -0.1;
  return [{
    title: !mup ? "The spread between heads' attention maps against head size"
      : alike ? "Heads become alike as the head size grows under µP (the infinite head-size limit)"
        : "Under µP the heads do not become alike over these head sizes (the spread does not fall)",
    measured: `${t.map((tb) => `${tagName(tb.param)}: spread ∝ dh^${slope(tb.slope)}`).join("; ")} (alike: falls, slope < −0.1)`,
    xlabel: "head size dh", ylabel: "spread between heads' attention maps", xlog: true, ylog: true, series,
  }];
}

/** The transformer's coordinate check: the attention logits' size against width. */
function transformerCoords(rec) {
  return rec.result.tables.map((tb) => {
    const last = tb.logits.length - 1;
    const series = tb.logits[last].map((w, l) => ({ label: `block ${l + 1}: mean |S|`, x: tb.widths, y: w.map(val), points: true, colorIndex: l }));
    series.push({ label: "readout: mean |Δf|", x: tb.widths, y: tb.readout_change[last].map(val), points: true, dash: true, colorIndex: series.length });
    const top = [...tb.slope_logits, tb.slope_readout_change].filter(Number.isFinite).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    return {
      title: `${tagName(tb.param)}: attention logits and readout updates ${trend(top)} with width (step ${tb.steps[last]})`,
      measured: `log-log slopes against N: logits ${tb.slope_logits.map((v) => slope(v)).join(", ")}; readout change ${slope(tb.slope_readout_change)} (flat: |slope| ≤ 0.25)`,
      xlabel: "width N", ylabel: "mean |coordinate|", xlog: true, ylog: true, series,
    };
  });
}

const VIEWS = {
  transformer, transformer_transfer: transfer, transformer_heads: transformerHeads, transformer_coord_check: transformerCoords,
  scaling_law: scalingFigures,
  landscape, deep_linear: deepLinear, finite_width: finiteWidth, bayes_data: bayesData,
  transfer, coord_check: coordCheck, width_convergence: widthConvergence, richness, train, bayes,
  depth_limit: depthLimit, dmft: lossOnly("DMFT (infinite width, rich): the loss of the N → ∞ network"), lazy: lossOnly("Lazy limit (NTK regression): the loss of the kernel regime"),
};

/** Figure specs for a record, or null when its kind has no dedicated view. */
export function figuresFor(rec) {
  const f = VIEWS[rec.config.kind];
  if (!f) return null;
  const specs = f(rec).filter((s) => s.series.some((x) => x.y.some(Number.isFinite)));
  return specs.length ? specs : null;
}
