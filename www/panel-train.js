// The training panel (the landing view): the setup's network at each width, its loss
// curves streaming in as it trains, and beside them the infinite-width limits of the
// same config (DMFT: rich; lazy: NTK regression) when the theory applies.
import { drawFigure, drawSoon, session } from "./ui.js";
import { runJobs, hasKind, checkBudget } from "./runner.js";
import { atWidth, limitsOf, theoryConfig, divergedWords } from "./panel-common.js";
import { count, mean, num, paramName } from "./words.js";

const MAX_POINTS = 3000; // per curve on screen; exports keep every record

/** Indices of at most MAX_POINTS records, always with the first and the last. */
function thin(n) {
  if (n <= MAX_POINTS) return [...Array(n).keys()];
  const k = Math.ceil(n / MAX_POINTS), out = [];
  for (let i = 0; i < n; i += k) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/** Per-seed divergence steps of loss records: the core's rule (NaN, Inf or above the
 * threshold) applied to streamed records, or the record's own `diverged_at`. */
function divergence(steps, rows, threshold) {
  const seeds = rows.length ? rows[0].length : 0;
  const at = new Array(seeds).fill(null);
  rows.forEach((row, t) => row.forEach((l, s) => {
    if (at[s] === null && !(Number.isFinite(l) && l <= threshold)) at[s] = steps[t];
  }));
  return at;
}

/** Seed-mean curve, leaving out each seed from its divergence on. */
function meanCurve(steps, rows, divergedAt) {
  return rows.map((row, t) => mean(row.filter((_, s) => divergedAt[s] === null || steps[t] < divergedAt[s])));
}

/** One line of text saying what the figure shows, from the state and which limits
 * apply (`limitsOf`). */
export function trainCaption(state, limits) {
  const c = state.train;
  const o = c.optimizer;
  const task = c.data.task === "teacher" ? `${(c.data.teacher || "linear").replace("_", "-")} teacher` : `${c.data.task} data`;
  const what = `${paramName(c.param)} ${c.model.arch === "resnet" ? "ResNet" : "MLP"}, N = ${state.widths.join("/")}, ${count(c.seeds, "seed")}, ${o.kind.toUpperCase()} η ${o.lr}, ${task} · solid: train, dashed: test`;
  if (!limits.dmft && !limits.lazy) return `${what} · black: DMFT limit, grey: lazy limit`;
  if (!limits.lazy) return `${what} · grey: lazy limit (no DMFT curve: ${limits.dmft})`;
  if (!limits.dmft) return `${what} · black: DMFT limit (no lazy curve: ${limits.lazy})`;
  return `${what} · no infinite-width curve: ${limits.dmft}`;
}

export const train = {
  id: "train",
  title: "Training",
  figure: "loss",
  runId: 0,
  build() { /* the section and its setup form are in index.html */ },
  caption(ctx) {
    document.getElementById("caption-train").textContent = trainCaption(ctx.state, limitsOf(ctx.core, ctx.state.train));
  },
  async run(ctx) {
    const me = ++this.runId;
    const st = ctx.state;
    const base = structuredClone(st.train);
    const widths = st.widths.slice();
    const threshold = base.observe?.divergence_threshold ?? 1e6;
    const configs = widths.map((w) => atWidth(base, w));
    // refuse oversized runs (alone or together in the workers) before anything, the
    // limit curves included, starts
    checkBudget(configs);
    const live = widths.map(() => ({ steps: [], train: [], test: [] }));
    const recs = new Array(widths.length);
    const theory = {};
    const limits = limitsOf(ctx.core, base);
    this.caption(ctx);

    const curves = (i) => {
      const r = recs[i]?.result;
      const src = r ? { steps: r.steps, train: r.train_loss, test: r.test_loss } : live[i];
      const at = r ? r.diverged_at : divergence(src.steps, src.train, threshold);
      const idx = thin(src.steps.length);
      const pick = (v) => idx.map((k) => v[k]);
      const train = meanCurve(src.steps, src.train, at);
      const test = src.test.length ? meanCurve(src.steps, src.test, at) : [];
      return { steps: pick(src.steps), train: pick(train), test: test.length ? pick(test) : [], at, done: !!r };
    };

    const spec = () => {
      const series = [], marks = [];
      const finals = [];
      widths.forEach((w, i) => {
        const c = curves(i);
        if (!c.steps.length) return;
        series.push({ label: `N=${w} train`, x: c.steps, y: c.train, colorIndex: i });
        if (c.test.length) series.push({ label: `N=${w} test`, x: c.steps, y: c.test, dash: true, colorIndex: i });
        const first = Math.min(...c.at.filter((d) => d !== null));
        if (Number.isFinite(first)) {
          const lastY = [...c.train].reverse().find(Number.isFinite) ?? threshold;
          marks.push({ label: `diverged: N=${w} at step ${first}`, x: [first], y: [Math.min(lastY, threshold)], marker: true, fakeY: true, colorIndex: i });
        }
        const f = [...c.train].reverse().find(Number.isFinite);
        if (c.done && Number.isFinite(f)) finals.push([w, f, c]);
      });
      if (theory.dmft) series.push({ label: "DMFT (N → ∞, rich)", x: theory.dmft.x, y: theory.dmft.y, dash: true, color: "#000" });
      if (theory.lazy) series.push({ label: "lazy limit (NTK regression)", x: theory.lazy.x, y: theory.lazy.y, dash: true, color: "#888" });
      const said = marks.length
        ? { title: `Training diverged at ${marks.length === widths.length ? "every width" : "some widths"}: the learning rate is too large`, measured: marks.map((m) => m.label.replace(/^diverged: /, "")).join("; ").replace(/(N=\d+) at/g, "$1 diverged at") }
        : claim(finals, theory, base);
      return Object.assign(said, { xlabel: "step", ylabel: "loss", ylog: true, series: [...series, ...marks] });
    };
    const draw = () => drawSoon("loss", () => {
      if (me !== this.runId) return;
      drawFigure("loss", spec(), { config: base, widths, records: [...recs.filter(Boolean), theory.dmftRec, theory.lazyRec].filter(Boolean) });
    });

    const finite = runJobs(configs, (i, rec) => {
      recs[i] = rec;
      const words = divergedWords(`N=${widths[i]}`, rec.result.diverged_at);
      if (words) session()?.note(words);
      draw();
    }, { onLosses: (i, b) => {
      const l = live[i];
      l.steps.push(...b.steps); l.train.push(...b.train); l.test.push(...b.test.filter((r) => r.length));
      draw();
    } });
    const side = overlays(ctx, base, theory, draw, limits);
    await Promise.all([finite, side]); // (one rejection handles the other's)
    draw();
  },
};

/** The figure's claim and measured number: how far each width's seed-mean loss curve
 * is from the DMFT's (relative L2 over the records), or how much the widths differ. */
function claim(finals, theory, base) {
  const d = theory.dmft?.y;
  if (finals.length && d) {
    const gaps = finals.map(([w, , c]) => {
      let num2 = 0, den = 0;
      c.steps.forEach((t, k) => { const ref = d[t]; if (Number.isFinite(ref) && Number.isFinite(c.train[k])) { num2 += (c.train[k] - ref) ** 2; den += ref * ref; } });
      return `N=${w}: ${num(100 * Math.sqrt(num2 / (den || 1)), 2)}%`;
    });
    return { title: "Finite networks approach the infinite-width limit (DMFT) as N grows", measured: `loss curve off the DMFT (relative L2): ${gaps.join(", ")}` };
  }
  if (finals.length > 1) {
    const ys = finals.map(([, f]) => f);
    const spread = 100 * (Math.max(...ys) / Math.min(...ys) - 1);
    const title = base.param.kind === "sp" ? "Under SP the training dynamics change with width" : `Under ${paramName(base.param)} the loss curves agree across widths`;
    return { title, measured: `final train loss from ${num(Math.min(...ys))} to ${num(Math.max(...ys))} across widths (spread ${num(spread, 2)}%)` };
  }
  return { title: "Loss during training", measured: finals.length ? `final train loss ${num(finals[0][1])}` : "training…" };
}

/** DMFT and lazy (kernel) predictions beside the finite networks. Run beside them and
 * counted in the session; a theory run that fails leaves the finite curves alone and
 * says why in the final status. */
function overlays(ctx, base, theory, draw, limits) {
  const jobs = ["dmft", "lazy"].filter((k) => hasKind(k) && !limits[k]).map((kind) => {
    const cfg = theoryConfig(ctx.core, kind, base);
    return runJobs([cfg], (_, rec) => {
      const loss = rec.result.loss || [];
      theory[kind] = { x: loss.map((_, t) => t), y: loss };
      theory[`${kind}Rec`] = rec;
      draw();
    }).catch((e) => {
      if (e && e.name === "Cancelled") throw e;
      session()?.note(`${kind === "dmft" ? "DMFT" : "lazy limit"} not drawn: ${e.message || e}`);
    });
  });
  return Promise.all(jobs);
}
