// Figures for the result of each run kind of the core (experiments, theory, statics).
// `figuresFor(record)` returns a list of figure specs (see plot.js); kinds without a
// dedicated view return null and the caller plots their CSV tables instead.

const val = (v) => (v === null || v === undefined ? NaN : v);

function transfer(rec) {
  const r = rec.result;
  return r.tables.map((t) => {
    const sizes = t.widths && t.widths.length ? t.widths : t.depths;
    const tag = t.widths && t.widths.length ? "N" : "L";
    const series = [];
    const best = { label: "best rate", x: [], y: [], marker: true, color: "#000" };
    const bad = { label: "diverged", x: [], y: [], marker: true, color: "#b00020" };
    const finite = t.final_loss.flat().map(val).filter(Number.isFinite);
    const top = finite.length ? Math.max(...finite) * 2 : 1;
    sizes.forEach((s, i) => {
      series.push({ label: `${tag}=${s}`, x: t.lrs, y: t.final_loss[i].map((l, j) => (t.diverged[i][j] ? NaN : val(l))), points: true, colorIndex: i });
      const bj = t.best_lr_index[i];
      if (bj !== null && bj !== undefined) { best.x.push(t.lrs[bj]); best.y.push(val(t.final_loss[i][bj])); }
      t.diverged[i].forEach((d, j) => { if (d) { bad.x.push(t.lrs[j]); bad.y.push(top); } });
    });
    const shift = t.best_lr_shift === null || t.best_lr_shift === undefined ? "n/a" : t.best_lr_shift;
    return { title: `${t.param}: final loss against learning rate (best rate moves ${shift} grid steps)`, xlabel: "learning rate", ylabel: "final train loss", xlog: true, ylog: true, series: [...series, best, bad] };
  });
}

function coordCheck(rec) {
  return rec.result.tables.map((t) => {
    const last = t.mean_abs_dh.length - 1;
    const series = t.mean_abs_dh[last].map((perWidth, l) => ({ label: `layer ${l + 1}: mean |Δh|`, x: t.widths, y: perWidth, points: true, colorIndex: l }));
    series.push({ label: "output: mean |Δf|", x: t.widths, y: t.mean_abs_df[last], points: true, dash: true, colorIndex: series.length });
    return { title: `${t.param}: coordinate check at step ${t.steps[last]}`, xlabel: "width N", ylabel: "mean |change since init|", xlog: true, ylog: true, series };
  });
}

function widthConvergence(rec) {
  const r = rec.result;
  const curves = r.widths.map((w, i) => ({ label: `N=${w}`, x: r.steps, y: r.mean_loss[i].map(val), colorIndex: i }));
  if (r.dmft_loss && r.dmft_loss.some((v) => v !== null)) curves.push({ label: "DMFT (N → ∞)", x: r.steps, y: r.dmft_loss.map(val), dash: true, color: "#000" });
  const slope = r.slope === null || r.slope === undefined ? "n/a" : r.slope.toFixed(2);
  const figs = [];
  for (const c of r.contrast || []) {
    figs.push({ title: `Contrast: ${c.param} at the same widths (training slows as N grows)`, xlabel: "step", ylabel: "train loss (seed mean)", ylog: true,
      series: r.widths.map((w, i) => ({ label: `N=${w}`, x: r.steps, y: (c.mean_loss[i] || []).map(val), colorIndex: i })) });
  }
  return [
    { title: "Mean field (µP): loss curves at growing width, and the DMFT limit", xlabel: "step", ylabel: "train loss (seed mean)", ylog: true, series: curves },
    { title: `Deviation from the DMFT against width (slope ${slope}; theory −1)`, xlabel: "width N", ylabel: "mean squared deviation", xlog: true, ylog: true,
      series: [{ label: "loss deviation", x: r.widths, y: r.deviation.map(val), points: true },
        { label: "kernel deviation", x: r.widths, y: (r.kernel_deviation || []).map(val), points: true, dash: true }] },
    ...figs,
  ];
}

function depthLimit(rec) {
  const r = rec.result;
  const series = [{ label: "depth limit H(τ) (ODE)", x: r.tau, y: r.h_ode, color: "#000" }];
  (r.finite || []).forEach((p, i) => {
    const L = p.h.length - 1;
    series.push({ label: `L=${p.depth}`, x: p.h.map((_, l) => (L > 0 ? l / L : 0)), y: p.h, points: true, dash: true, colorIndex: i });
  });
  return [{ title: "Layer time: finite depths against the depth limit", xlabel: "layer time τ = l/L", ylabel: "H(τ)", series }];
}

function lossOnly(title) {
  return (rec) => {
    const r = rec.result;
    const series = [{ label: "train", x: r.loss.map((_, t) => t), y: r.loss }];
    if (r.test_loss && r.test_loss.length) series.push({ label: "test", x: r.test_loss.map((_, t) => t), y: r.test_loss, dash: true });
    return [{ title, xlabel: "step", ylabel: "loss", ylog: true, series }];
  };
}

function richness(rec) {
  const r = rec.result;
  const curves = r.gamma0s.map((g, i) => ({ label: `γ0=${g}`, x: r.steps, y: r.train_loss[i].map(val), colorIndex: i }));
  return [
    { title: `${r.param}: loss from lazy (small γ0) to rich (large γ0)`, xlabel: "step", ylabel: "train loss", ylog: true, series: curves },
    { title: "Kernel–target alignment and kernel movement against γ0", xlabel: "γ0", ylabel: "value", xlog: true,
      series: [
        { label: "alignment at init", x: r.gamma0s, y: r.alignment_init.map(val), points: true, dash: true },
        { label: "alignment at the end", x: r.gamma0s, y: r.alignment_final.map(val), points: true },
        { label: "|K(T) − K(0)| / |K(0)|", x: r.gamma0s, y: r.kernel_change.map(val), points: true },
      ] },
  ];
}

function train(rec) {
  const r = rec.result;
  const mean = (v) => { const f = v.filter(Number.isFinite); return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN; };
  const series = [{ label: "train", x: r.steps, y: r.train_loss.map(mean) }];
  if (r.test_loss.length) series.push({ label: "test", x: r.steps, y: r.test_loss.map(mean), dash: true });
  return [{ title: "Loss during training (seed mean)", xlabel: "step", ylabel: "loss", ylog: true, series }];
}

const VIEWS = {
  transfer, coord_check: coordCheck, width_convergence: widthConvergence, richness, train,
  depth_limit: depthLimit, dmft: lossOnly("DMFT (infinite width, rich) loss"), lazy: lossOnly("Lazy limit (NTK regression) loss"),
};

/** Figure specs for a record, or null when its kind has no dedicated view. */
export function figuresFor(rec) {
  const f = VIEWS[rec.config.kind];
  if (!f) return null;
  try {
    const specs = f(rec).filter((s) => s.series.some((x) => x.y.some(Number.isFinite)));
    return specs.length ? specs : null;
  } catch (e) {
    console.warn("no dedicated view:", e);
    return null;
  }
}
