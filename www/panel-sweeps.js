// Panels that sweep the setup's network over a grid the page builds: learning-rate
// transfer, the coordinate check and the abc explorer (whose verdicts come from the core).
import { drawFigure, session } from "./ui.js";
import { runJobs } from "./runner.js";
import { el, numbers, layout, finishLayout, figureHost, varsInput, varsSelect, varValue, readList, atWidth, withObserve, setLr } from "./panel-common.js";
import { blowUps, mean, num, slope, logSlope, paramName, cellsWhere } from "./words.js";

// ------------------------------------------------------------------ transfer

/** Index of the lowest finite, non-diverged loss of a row (-1 if none). */
function bestIndex(row, div) {
  let bj = -1;
  row.forEach((l, j) => { if (!div[j] && Number.isFinite(l) && (bj < 0 || l < row[bj])) bj = j; });
  return bj;
}

export const transfer = {
  id: "transfer",
  title: "Transfer",
  figure: "transfer",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Hyperparameter transfer",
      caption: "Final training loss against learning rate, one curve per width (or depth); a filled dot marks each curve's best rate, a red dot along the top each diverged cell.",
      note: "Under µP the best rate stays put as the width grows, so a rate tuned on a small network transfers to a large one; under SP it drifts. The table lists every cell (green: best rate; red: diverged).",
    });
    const row = el("div", { class: "kv" });
    side.prepend(row);
    varsInput(row, ctx, "transfer", "Learning rates", "0.03125,0.0625,0.125,0.25,0.5,1,2,4,8", "The grid of base learning rates η (comma separated)");
    varsSelect(row, ctx, "transfer-axis", "Sweep over", [["width", "width (setup widths)"], ["depth", "depth (setup width)"]], "One curve per setup width, or per depth at the setup's width");
    varsInput(row, ctx, "transfer-depths", "Depths", "1,2,4,8", "Depths for a depth sweep (residual networks transfer under depth-µP)");
    figureHost(main, "transfer");
    main.append(el("div", { id: "transfer-table", class: "table-box" }));
    finishLayout(main);
  },
  async run(ctx) {
    const base = ctx.state.train;
    const lrs = readList(ctx, "transfer", { min: 1e-6, max: 1e4, count: 16, field: "learning rates" });
    const axis = varValue(ctx, "transfer-axis") === "depth" ? "depth" : "width";
    const depths = readList(ctx, "transfer-depths", { min: 1, max: 64, integer: true, count: 8, field: "depths" });
    const lines = axis === "depth" ? depths : ctx.state.widths;
    const configs = [], cells = [];
    lines.forEach((v, i) => lrs.forEach((lr, j) => {
      // depth sweeps run at a modest width so that deep residual nets stay quick
      let c = axis === "depth" ? atWidth(base, Math.min(base.model.width, 128)) : atWidth(base, v);
      if (axis === "depth") c.model = Object.assign({}, c.model, { depth: v });
      c = withObserve(setLr(c, lr), { every: Math.max(1, c.steps), test_loss: false });
      configs.push(c); cells.push([i, j]);
    }));
    const loss = lines.map(() => lrs.map(() => NaN));
    const div = lines.map(() => lrs.map(() => false));
    const recs = new Array(configs.length);
    const tag = axis === "depth" ? "L" : "N";
    const redraw = () => {
      const series = [], best = [];
      const bad = { label: "diverged", x: [], y: [], marker: true, fakeY: true, color: "#b00020" };
      const finite = loss.flat().filter(Number.isFinite);
      const top = finite.length ? Math.max(...finite) * 2 : 1;
      const bests = [];
      lines.forEach((v, i) => {
        series.push({ label: `${tag}=${v}`, x: lrs, y: loss[i].map((l, j) => (div[i][j] ? NaN : l)), points: true, colorIndex: i });
        const bj = bestIndex(loss[i], div[i]);
        // one marker series per curve, so that curves sharing a best rate all show theirs
        if (bj >= 0) { best.push({ label: `best rate ${tag}=${v}`, x: [lrs[bj]], y: [loss[i][bj]], marker: true, colorIndex: i }); bests.push(bj); }
        div[i].forEach((d, j) => { if (d) { bad.x.push(lrs[j]); bad.y.push(top); } });
      });
      const moved = bests.length > 1 ? Math.max(...bests) - Math.min(...bests) : null;
      const p = paramName(base.param);
      const title = base.param.kind === "sp" ? `Under SP the best learning rate drifts with ${axis}` : `Under ${p} the best learning rate stays put as the ${axis} grows`;
      const measured = bests.length
        ? `best rate ${lines.map((v, i) => { const bj = bestIndex(loss[i], div[i]); return `${tag}=${v}: ${bj >= 0 ? lrs[bj] : "none"}`; }).join(", ")}${moved !== null ? ` (moves ${moved} grid step${moved === 1 ? "" : "s"})` : ""}; ${cellsWhere(recs.map((r) => r && r.result.backend))}`
        : "running…";
      drawFigure("transfer", { title, measured, xlabel: "learning rate η", ylabel: "final train loss", xlog: true, ylog: true, series: [...series, ...best, ...(bad.x.length ? [bad] : [])] },
        { config: base, grid: { axis, lines, lrs, loss, diverged: div }, records: recs });
      table(lines, lrs, loss, div, tag);
    };
    await runJobs(configs, (k, rec) => {
      const [i, j] = cells[k];
      const r = rec.result;
      recs[k] = rec;
      div[i][j] = r.diverged_at.some((d) => d !== null);
      loss[i][j] = mean(r.train_loss[r.train_loss.length - 1]);
      redraw();
    });
    const nd = div.flat().filter(Boolean).length;
    if (nd) {
      const where = lines.map((v, i) => {
        const js = div[i].map((d, j) => (d ? lrs[j] : null)).filter((x) => x !== null);
        return js.length ? `${tag}=${v} at η ≥ ${Math.min(...js)}` : null;
      }).filter(Boolean);
      session()?.note(`${nd} of ${configs.length} cells diverged (${where.join("; ")})`);
    }
  },
};

function table(lines, lrs, loss, div, tag) {
  const host = document.getElementById("transfer-table");
  const t = el("table", { class: "cells" });
  t.append(el("caption", {}, "Final loss per cell (green: best rate; red: diverged)"));
  const head = el("tr");
  head.append(el("th", {}, `${tag} \\ η`), ...lrs.map((lr) => el("th", {}, String(lr))));
  t.append(head);
  lines.forEach((v, i) => {
    const tr = el("tr");
    tr.append(el("th", {}, String(v)));
    const bj = bestIndex(loss[i], div[i]);
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

/** Train at each width for a few steps and draw per-layer mean |Δh| against width. */
async function coordCheck(ctx, param, widths, figure, steps = 4, verdict = null) {
  const configs = widths.map((w) => {
    const c = atWidth(ctx.state.train, w, { steps });
    if (param) c.param = param;
    return withObserve(c, { coords: true, every: steps, test_loss: false });
  });
  const recs = new Array(widths.length);
  const pname = paramName(configs[0].param);
  const redraw = () => {
    const done = recs.map((r, i) => [r, widths[i]]).filter(([r]) => r);
    if (!done.length) return;
    const layers = done[0][0].result.coords.at(-1).mean_abs_dh.length;
    const series = [];
    for (let l = 0; l < layers; l++) {
      series.push({ label: `layer ${l + 1}: mean |Δh|`, x: done.map(([, w]) => w), y: done.map(([r]) => mean(r.result.coords.at(-1).mean_abs_dh[l])), points: true, colorIndex: l });
    }
    series.push({ label: "output: mean |Δf|", x: done.map(([, w]) => w), y: done.map(([r]) => mean(r.result.coords.at(-1).mean_abs_df)), points: true, dash: true, colorIndex: layers });
    const blow = blowUps(series[0].x, series.at(-1).y, configs[0].observe.divergence_threshold);
    const slopes = series.map((s) => slope(logSlope(blow.kept(s.x), blow.kept(s.y))));
    // the claim: SP's updates grow; µP's (and any feature-learning abc's) keep their size
    const grows = verdict ? !verdict.conditions[2].ok : configs[0].param.kind === "sp";
    const who = verdict ? verdict.known.replace(/ \(.*\)$/, "") : pname;
    const title = grows
      ? `Under ${who} the updates change with width (coordinate check after ${steps} steps)`
      : `Under ${who} every layer's update keeps its size at every width (after ${steps} steps)`;
    const measured = done.length > 1
      ? `slope of log |Δ| against log N: ${series.map((s, i) => `${s.label.split(":")[0]} ${slopes[i]}`).join(", ")} (flat: 0)${blow.words}`
      : "running…";
    drawFigure(figure, { title, measured, xlabel: "width N", ylabel: "mean |change since init|", xlog: true, ylog: true, series },
      { config: configs[0], records: recs.filter(Boolean) });
  };
  await runJobs(configs, (i, rec) => { recs[i] = rec; redraw(); });
}

export const coords = {
  id: "coords",
  title: "Coord check",
  figure: "coords",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "Coordinate check",
      caption: "Per-layer mean |h(t) − h(0)| after a few steps against width, under the setup's parameterisation (after microsoft/mup's coord_check).",
      note: "Flat lines: the update size does not depend on width (µP). Rising lines: updates blow up with width (SP).",
    });
    varsInput(side, ctx, "coords", "Widths", "64,128,256,512,1024", "Widths to train for the check (comma separated)");
    side.prepend(side.lastChild);
    figureHost(main, "coords");
    finishLayout(main);
  },
  async run(ctx) {
    const widths = readList(ctx, "coords", { min: 1, max: 8192, integer: true, count: 10, field: "widths" });
    await coordCheck(ctx, null, widths, "coords");
  },
};

// ------------------------------------------------------------------ abc explorer

export const abc = {
  id: "abc",
  title: "abc explorer",
  figure: "abc",
  build(sec, ctx) {
    const { main, side } = layout(sec, {
      title: "abc-parameterisation explorer",
      caption: "Layer l is N^(−a_l) W with W ~ N(0, N^(−2 b_l)) and learning rate η N^(−c) (input first, readout last): the core checks the three conditions and names the parameterisation; Run shows it in a coordinate check.",
    });
    const box = el("div", { class: "kv" });
    const mk = (name, label, help) => varsInput(box, ctx, name, label, "", help);
    const a = mk("abc-a", "a (per matrix)", "Multiplier exponents a_l, one per weight matrix, input first");
    const b = mk("abc-b", "b (per matrix)", "Init exponents b_l: W ~ N(0, N^(−2 b_l))");
    const c = mk("abc-c", "c", "Learning-rate exponent: the rate is η N^(−c)");
    side.prepend(box);
    const presets = el("div", { class: "toolbar", role: "group", "aria-label": "abc presets" });
    const out = el("div", { id: "abc-verdict", "aria-live": "polite" });
    const set = (kind) => {
      const m = ctx.state.train.model;
      const e = JSON.parse(ctx.core.abc_exponents(JSON.stringify(kind === "sp" ? { kind } : { kind, gamma0: 1 }), m.arch, m.depth));
      for (const [inp, v] of [[a, e.a.join(", ")], [b, e.b.join(", ")], [c, String(e.c)]]) {
        inp.value = v;
        inp.dispatchEvent(new Event("input", { bubbles: true }));
      }
    };
    for (const [n, t] of [["sp", "SP"], ["ntk", "NTK"], ["mup", "µP"]]) {
      const btn = el("button", { type: "button", title: `Load the exponents of ${t} for the setup's network (from the core's table)` }, `Load ${t}`);
      btn.addEventListener("click", () => set(n));
      presets.append(btn);
    }
    this.verdict = () => {
      out.replaceChildren();
      let r;
      try {
        r = JSON.parse(ctx.core.abc_verdict(JSON.stringify(numbers(a.value)), JSON.stringify(numbers(b.value)), Number(c.value)));
      } catch (e) {
        out.append(el("p", { class: "errors" }, String(e.message || e)));
        return null;
      }
      const ul = el("ul", { class: "checks" });
      for (const k of r.conditions) ul.append(el("li", { class: k.ok ? "ok" : "no" }, `${k.name}: ${k.detail}`));
      out.append(ul, el("p", {}, `This is: ${r.known}.`));
      return r;
    };
    [a, b, c].forEach((i) => i.addEventListener("input", () => this.verdict()));
    main.append(presets, out);
    figureHost(main, "abc");
    varsInput(side, ctx, "abc", "Coordinate-check widths", "64,256,1024", "Widths for the coordinate check of these exponents");
    side.insertBefore(side.lastChild, side.querySelector(".setup-details"));
    if (!a.value) set("mup"); else this.verdict();
    finishLayout(main);
  },
  async run(ctx) {
    const widths = readList(ctx, "abc", { min: 1, max: 8192, integer: true, count: 8, field: "widths" });
    const r = this.verdict();
    if (!r) throw new Error(document.querySelector("#abc-verdict .errors")?.textContent || "invalid field `param.a`");
    const param = { kind: "abc", a: numbers(varValue(ctx, "abc-a")), b: numbers(varValue(ctx, "abc-b")), c: Number(varValue(ctx, "abc-c")), gamma0: 1, depth_alpha: 0 };
    await coordCheck(ctx, param, widths, "abc", 4, r);
  },
};
