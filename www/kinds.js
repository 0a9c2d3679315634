// Figures for the result of each run kind of the core (experiments, theory, statics),
// each titled with the claim it shows and the number that backs it.
// `figuresFor(record)` returns a list of figure specs (see plot.js); kinds without a
// dedicated view return null and the caller plots their CSV tables instead.
import { mean, num, slope, logSlope } from "./words.js";

const val = (v) => (v === null || v === undefined ? NaN : v);

function transfer(rec) {
  const r = rec.result;
  return r.tables.map((t) => {
    const sizes = t.widths && t.widths.length ? t.widths : t.depths;
    const tag = t.widths && t.widths.length ? "N" : "L";
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
    const axis = tag === "N" ? "width" : "depth";
    const stays = ["mup", "depth_mup"].includes(t.param);
    const rates = sizes.map((s, i) => `${tag}=${s}: ${t.best_lr_index[i] !== null && t.best_lr_index[i] !== undefined ? t.lrs[t.best_lr_index[i]] : "none"}`);
    return {
      title: `${t.param}: the best learning rate ${stays ? "stays put" : "drifts"} as the ${axis} grows`,
      measured: `best rate ${rates.join(", ")}; moves ${shift === null ? "n/a" : shift} grid step${shift === 1 ? "" : "s"}`,
      xlabel: "learning rate η", ylabel: "final train loss", xlog: true, ylog: true, series: [...series, ...best, ...(bad.x.length ? [bad] : [])],
    };
  });
}

function coordCheck(rec) {
  return rec.result.tables.map((t) => {
    const last = t.mean_abs_dh.length - 1;
    const series = t.mean_abs_dh[last].map((perWidth, l) => ({ label: `layer ${l + 1}: mean |Δh|`, x: t.widths, y: perWidth.map(val), points: true, colorIndex: l }));
    series.push({ label: "output: mean |Δf|", x: t.widths, y: t.mean_abs_df[last].map(val), points: true, dash: true, colorIndex: series.length });
    const slopes = series.map((s) => `${s.label.split(":")[0]} ${slope(logSlope(s.x, s.y))}`);
    const flat = t.param !== "sp";
    return {
      title: `${t.param}: updates ${flat ? "keep their size" : "grow"} as the width grows (step ${t.steps[last]})`,
      measured: `slope of log |Δ| against log N: ${slopes.join(", ")} (flat: 0)`,
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
    { title: "Loss curves at growing width close in on the DMFT limit", measured: `seed-mean loss curve off the DMFT (relative L2): ${r.widths.map((w, i) => `N=${w} ${num(100 * val(r.loss_rel_error[i]), 2)}%`).join(", ")}`,
      xlabel: "step", ylabel: "train loss (seed mean)", ylog: true, series: curves },
  ];
  for (const c of r.contrast || []) {
    const finals = c.mean_loss.map((m) => val(m.at(-1)));
    figs.push({ title: `Contrast, ${c.param} at the same widths: training slows as N grows`, measured: `final loss ${r.widths.map((w, i) => `N=${w}: ${num(finals[i])}`).join(", ")}`,
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

const VIEWS = {
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
