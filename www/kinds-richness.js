// Figures of feature-learning strength and the statics of the talk: the (gamma0, eta)
// landscape, deep linear statics against Langevin networks, their finite-width and
// proportional-limit corrections, and Bayesian networks scored on real data. Each
// returns figure specs (see plot.js), titled with the claim and the measured number.
import { num, slope } from "./words.js";

const val = (v) => (v === null || v === undefined ? NaN : v);
const pm = (v, se) => `${slope(v)} ± ${num(se, 2)}`;

/** A power law `a x^s` drawn over the grid's points inside [lo, hi]. */
function lawLine(label, law, xs, lo, hi, extra) {
  const x = xs.filter((g) => g >= lo && g <= hi);
  return { label, x, y: x.map((g) => law.prefactor * g ** law.slope), ...extra };
}

/** The landscape: per depth, the steps to the loss threshold over the (gamma0, eta) grid
 * with the optimal rate and the fitted power laws on top; then the loss curves of a few
 * gamma0's optima. */
export function landscape(rec) {
  const r = rec.result, cfg = rec.config;
  const g = r.gamma0s;
  const heat = r.tables.map((t) => {
    const series = [{ label: "optimal rate η* (refined)", x: g, y: t.lr_star.map(val), marker: true, color: "#000" }];
    const fits = [];
    if (t.lazy) {
      series.push(lawLine(`lazy fit: η* ∝ γ0^${slope(t.lazy.slope)}`, t.lazy, g, 0, cfg.lazy_max, { color: "#e377c2" }));
      fits.push(`lazy ${pm(t.lazy.slope, t.lazy.slope_se)} (predicted ${slope(t.predicted_lazy)})`);
    }
    if (t.rich) {
      series.push(lawLine(`rich fit: η* ∝ γ0^${slope(t.rich.slope)}`, t.rich, g, cfg.rich_min, Infinity, { color: "#d62728" }));
      // the predicted exponent through the fit's middle point
      const xs = g.filter((x) => x >= cfg.rich_min);
      const mid = Math.sqrt(xs[0] * xs.at(-1));
      const at = t.rich.prefactor * mid ** t.rich.slope;
      series.push({ label: `predicted: γ0^${slope(t.predicted_rich)}`, x: xs, y: xs.map((x) => at * (x / mid) ** t.predicted_rich), dash: true, color: "#777" });
      fits.push(`rich ${pm(t.rich.slope, t.rich.slope_se)} (predicted ${slope(t.predicted_rich)})`);
    }
    return {
      title: `L = ${t.depth} hidden layer${t.depth > 1 ? "s" : ""}: η* is flat in γ0 when lazy and falls as γ0^${slope(t.predicted_rich)} when rich`,
      measured: `fitted slopes of log η* against log γ0: ${fits.join("; ") || "no fit"}`,
      xlabel: "richness γ0", ylabel: "learning rate η (raw rate η γ0² N)", xlog: true, ylog: true, series,
      grid: {
        x: g, y: r.lrs,
        values: t.steps_to_threshold.map((row) => row.map((s) => (s === null ? NaN : Math.log10(s)))),
        label: `log10 steps to ${r.threshold} L(0) (grey: never, diverged or not trained)`,
        reverse: true,
      },
    };
  });
  // loss curves of the optimum at about five gamma0 spread over the grid
  const picks = [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * (g.length - 1))))];
  const curves = r.tables.map((t) => {
    const x = r.record_steps.map((s) => Math.max(s, 0.5));
    const series = picks.map((gi, k) => ({ label: `γ0=${num(g[gi])}, η*=${num(val(t.best_lr[gi]))}`, x, y: t.curves[gi].map(val), colorIndex: k }));
    const steps = picks.map((gi) => {
      const b = t.lr_star[gi] === null ? null : r.lrs.findIndex((lr) => lr === t.best_lr[gi]);
      const s = b === null || b < 0 ? null : t.steps_to_threshold[gi][b];
      return `γ0=${num(g[gi])}: ${s === null ? "never" : Math.round(s)}`;
    });
    return {
      // the plateau-then-drop of rich networks appears from two hidden layers on
      title: t.depth >= 2
        ? `L = ${t.depth}: at the optimal rate, rich networks plateau before the loss drops`
        : `L = ${t.depth}: loss curves at the optimal rate across γ0 (a plateau appears from two hidden layers on)`,
      measured: `steps to ${r.threshold} L(0) at η*: ${steps.join(", ")}`,
      xlabel: "step (0 drawn at 0.5)", ylabel: "train loss", xlog: true, ylog: true, series,
    };
  });
  return [...heat, ...curves];
}

/** Deep linear statics: the closed form's c against gamma0 per depth and beta, and the
 * per-layer overlaps of the deepest net beside Langevin-sampled networks. */
export function deepLinear(rec) {
  const r = rec.result;
  const g = r.gamma0s;
  const series = r.curves.map((c, i) => ({ label: `c, L=${c.depth} β=${c.beta}`, x: g, y: c.c, colorIndex: i }));
  const gaps = [];
  r.samples.forEach((s) => {
    const k = s.overlap.length - 1;
    gaps.push(Math.abs(s.overlap[k] - s.theory[k]) / Math.max(s.overlap_se[k], 1e-12));
  });
  r.curves.forEach((c, i) => {
    const mine = r.samples.filter((s) => s.depth === c.depth && s.beta === c.beta);
    if (mine.length) series.push({ label: `Langevin N=${mine[0].width}, L=${c.depth} β=${c.beta} (± s.e.)`, x: mine.map((s) => s.gamma0), y: mine.map((s) => s.overlap.at(-1)), err: mine.map((s) => s.overlap_se.at(-1)), points: true, colorIndex: i });
  });
  const worst = gaps.length ? Math.max(...gaps) : NaN;
  const figs = [{
    title: "Bayesian deep linear µP networks amplify the target direction more with γ0 and depth: c = (1 − χ)^L",
    measured: gaps.length ? `Langevin networks off the closed form by at most ${num(worst, 2)} standard errors (last layer, ${gaps.length} samples)` : "closed form only",
    xlabel: "richness γ0", ylabel: "c = yᵀ H^L y (last hidden layer)", series,
  }];
  const deepest = r.curves.reduce((a, c) => (c.depth > a.depth ? c : a), r.curves[0]);
  if (deepest) {
    const layers = deepest.c_layers.map((cl, l) => ({ label: `layer ${l + 1}: (1 − χ)^${l + 1}`, x: g, y: cl, colorIndex: l }));
    const mine = r.samples.filter((s) => s.depth === deepest.depth && s.beta === deepest.beta);
    const lg = [];
    deepest.c_layers.forEach((_, l) => {
      if (!mine.length) return;
      layers.push({ label: `layer ${l + 1}, Langevin (± s.e.)`, x: mine.map((s) => s.gamma0), y: mine.map((s) => s.overlap[l]), err: mine.map((s) => s.overlap_se[l]), points: true, colorIndex: l });
      for (const s of mine) lg.push(Math.abs(s.overlap[l] - s.theory[l]) / Math.max(s.overlap_se[l], 1e-12));
    });
    const orth = mine.flatMap((s) => s.orthogonal.map((o) => Math.abs(o - 1)));
    figs.push({
      title: `L = ${deepest.depth}, β = ${deepest.beta}: each layer's overlap grows geometrically, c_l = (1 − χ)^l; orthogonal directions stay at 1`,
      measured: lg.length ? `per-layer overlaps within ${num(Math.max(...lg), 2)} s.e. of the closed form; orthogonal eigenvalues off 1 by at most ${num(Math.max(...orth), 2)}` : "closed form only",
      xlabel: "richness γ0", ylabel: "uᵀ H^l u", series: layers,
    });
  }
  return figs;
}

/** Finite-width corrections: Phi_N - Phi_inf along the target against 1/N with the
 * predicted a/N per layer; and the proportional limit's c(alpha). */
export function finiteWidth(rec) {
  const r = rec.result;
  const figs = r.width.map((w) => {
    const inv = w.widths.map((n) => 1 / n);
    const series = [];
    const words = [];
    w.target_dev.forEach((dev, l) => {
      series.push({ label: `layer ${l + 1}, Langevin (± s.e.)`, x: inv, y: dev, err: w.target_se[l], points: true, colorIndex: l });
      const c = w.coefficients.find((k) => k.layer === l + 1 && k.direction === "target");
      if (c && c.predicted !== null && c.predicted !== undefined) {
        series.push({ label: `layer ${l + 1}: predicted ${num(c.predicted)}/N`, x: [0, ...inv], y: [0, ...inv.map((v) => c.predicted * v)], dash: true, colorIndex: l });
      }
      if (c) words.push(`layer ${l + 1}: fitted ${c.fitted === null ? "n/a" : `${num(c.fitted)} ± ${num(c.fitted_se, 2)}`}${c.predicted === null || c.predicted === undefined ? "" : ` (predicted ${num(c.predicted)})`}`);
    });
    const name = w.param === "ntk" ? `fixed γ = ${w.gamma}` : `µP γ0 = ${w.gamma}`;
    return {
      title: `${name}: the kernel along the target deviates from its N → ∞ limit by a/N`,
      measured: `1/N coefficient a: ${words.join("; ")}`,
      xlabel: "1 / N", ylabel: "uᵀ H^l u − limit", series,
    };
  });
  const p = r.proportional;
  if (p) {
    const ok = p.alphas.map((a, i) => [a, val(p.c[i]), p.c_theory[i]]).filter(([, c]) => Number.isFinite(c));
    const rel = ok.map(([, c, t]) => Math.abs(c / t - 1));
    figs.push({
      title: `Proportional limit P = αN (N = ${p.width}): the kernel renormalises by c(α)`,
      measured: rel.length ? `measured c off c(α) by at most ${num(100 * Math.max(...rel), 2)}%` : "no measured c",
      xlabel: "α = P / N", ylabel: "renormalisation c",
      series: [
        { label: "c(α), theory", x: p.alphas, y: p.c_theory, color: "#000" },
        { label: "Langevin networks (± s.e.)", x: p.alphas, y: p.c.map(val), err: p.c_se.map(val), points: true, colorIndex: 0 },
        { label: "NNGP (c = 1)", x: p.alphas, y: p.alphas.map(() => 1), dash: true, color: "#777" },
      ],
    });
  }
  return figs;
}

/** Bayesian networks on data: test loss and test error of the NNGP, the saddle points
 * and Langevin networks against gamma0, with the verdict on the talk's claim. */
export function bayesData(rec) {
  const r = rec.result;
  const nngp = r.scores.find((s) => s.method === "nngp");
  const saddle = r.scores.filter((s) => s.method === "saddle");
  const nets = r.scores.filter((s) => s.method === "langevin");
  const gs = [...new Set([...saddle, ...nets].map((s) => s.gamma0))].sort((a, b) => a - b);
  const fig = (key, what) => {
    const series = [];
    if (nngp && Number.isFinite(val(nngp[key]))) series.push({ label: "NNGP posterior (fixed γ)", x: gs, y: gs.map(() => nngp[key]), dash: true, color: "#000" });
    if (saddle.length) series.push({ label: "µP saddle point (N → ∞)", x: saddle.map((s) => s.gamma0), y: saddle.map((s) => val(s[key])), points: true, colorIndex: 1 });
    if (nets.length) series.push({ label: `Langevin µP networks, N=${nets[0].width}`, x: nets.map((s) => s.gamma0), y: nets.map((s) => val(s[key])), points: true, colorIndex: 0 });
    const best = nets.filter((s) => Number.isFinite(val(s[key]))).reduce((a, s) => (!a || s[key] < a[key] ? s : a), null);
    const base = nngp ? val(nngp[key]) : NaN;
    // a verdict only beyond the noise: 5% of the loss (chains, seeds), one binomial
    // standard deviation of the error rate (and one test point)
    const margin = key === "test_error" ? Math.max(Math.sqrt(base * (1 - base) / Math.max(1, r.test_points)), 1 / Math.max(1, r.test_points)) : 0.05 * base;
    const verdict = !best ? null : best[key] < base - margin ? "beat" : best[key] > base + margin ? "do worse than" : "match";
    const title = verdict && Number.isFinite(base)
      ? `${what}: µP networks ${verdict} the NNGP on these data (${r.points} training points)`
      : `${what} of each posterior`;
    const sad = saddle.map((s) => `γ0=${s.gamma0}: ${num(val(s[key]))}${s.ess_fraction !== null && s.ess_fraction < 0.01 ? ` (ESS ${num(100 * s.ess_fraction, 2)}%: unreliable)` : ""}`);
    const measured = [
      `NNGP ${num(base)}`,
      best ? `best network γ0=${best.gamma0}: ${num(best[key])} (${num(100 * (best[key] / base - 1), 2)}%; verdict margin ±${num(margin, 2)})` : null,
      nets.length ? `networks ${nets.map((s) => `γ0=${s.gamma0}: ${num(val(s[key]))}`).join(", ")}` : null,
      sad.length ? `saddle ${sad.join(", ")}` : null,
    ].filter(Boolean).join("; ");
    return { title, measured, xlabel: "richness γ0", ylabel: what, xlog: true, series };
  };
  const figs = [fig("test_loss", "test loss")];
  if (r.outputs >= 2) figs.push(fig("test_error", "test error"));
  return figs;
}
