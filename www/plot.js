// Figures: uPlot line charts (log axes, legend, hover values, error bars) and canvas
// heatmaps, plus a small SVG writer so every figure exports as SVG/PNG and its data as
// CSV/JSON.
//
// A figure is described by a plain spec, which is also what gets exported:
//   {name, title, measured?, xlabel, ylabel, xlog, ylog,
//    series: [{label, x: [..], y: [..], err?: [..], dash?, points?, marker?, band?,
//              fakeY?, color?, colorIndex?}]}
// `title` states the figure's claim and `measured` the number that backs it
// ("slope −0.98 (theory −1)"). `err` draws ± error bars; `marker` draws big filled
// points without a line; `fakeY` marks y values that only place a marker (CSV leaves
// them empty); `band: [lo, hi]` draws a shaded horizontal band (e.g. a Monte Carlo floor).
// Heatmaps: {name, title, measured?, heatmaps: [{label, n, values: [n*n], group?, scale?,
// note?, ticks?}]}: entries with the same `group` share a row, entries with the same
// `scale` share one colour scale (drawn as a colour bar); `ticks` labels rows and columns.
// uPlot: the global its minified build defines (index.html loads it before the modules)
const uPlot = globalThis.uPlot;

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

export function color(i) { return PALETTE[i % PALETTE.length]; }

const seriesColor = (s, i) => s.color || color(s.colorIndex ?? i);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text; // always text, never HTML
  return e;
}

/** Align series with different x onto one sorted x column (uPlot's data layout). */
function align(spec) {
  const xs = new Set();
  const okx = (v) => Number.isFinite(v) && (!spec.xlog || v > 0);
  for (const s of spec.series) for (const x of s.x) if (okx(x)) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ok = (v) => Number.isFinite(v) && (!spec.ylog || v > 0);
  const cols = spec.series.map((s) => {
    const col = new Array(x.length).fill(null);
    s.x.forEach((xv, i) => { if (index.has(xv) && ok(s.y[i])) col[index.get(xv)] = s.y[i]; });
    return col;
  });
  return [x, ...cols];
}

// ---------------------------------------------------------------- ticks

const MANTISSAS = { all: [1, 2, 3, 4, 5, 6, 7, 8, 9], some: [1, 2, 5], few: [1, 3], one: [1] };

/** Tick values on a log axis over [lo, hi], at most about `max` of them: powers of ten
 * for wide ranges, 1-2-5 or every mantissa for narrow ones, linear steps inside a
 * single stretch without a round mantissa. */
export function logTickValues(lo, hi, max = 8) {
  if (!(lo > 0 && hi > lo)) return [lo, hi].filter((v) => v > 0);
  const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
  for (const set of [MANTISSAS.all, MANTISSAS.some, MANTISSAS.few, MANTISSAS.one]) {
    const out = [];
    for (let e = e0; e <= e1; e++) for (const m of set) {
      const v = +(m * 10 ** e).toPrecision(6);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
    // a narrow stretch with fewer than three round mantissas: linear steps read better
    if (set === MANTISSAS.all && out.length < 3) return linearTickValues(lo, hi, Math.max(2, Math.min(max, 5)));
    if (out.length <= max && out.length >= 2) return out;
  }
  // very wide: every k-th power of ten inside the range
  const out = [];
  const a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9);
  const step = Math.max(1, Math.ceil((b - a + 1) / max));
  for (let e = a; e <= b; e += step) out.push(+(10 ** e).toPrecision(6));
  return out;
}

/** Round tick values on a linear axis over [lo, hi]. */
export function linearTickValues(lo, hi, max = 6) {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / max));
  const mult = [1, 2, 2.5, 5, 10].find((m) => span / (m * step0) <= max) || 10;
  const s = mult * step0;
  const out = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-9 * span; v += s) out.push(+v.toPrecision(12));
  return out;
}

/** A tick label: short, exponent form only when needed. */
export function tickLabel(v) {
  if (v == null || !Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e5) return String(v); // widths, steps: exact
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) {
    const [m, e] = v.toExponential().split("e");
    const mm = +(+m).toPrecision(2);
    return `${mm === 1 ? "" : mm + "·"}1e${+e}`.replace("·1e", "e");
  }
  return String(+v.toPrecision(3));
}

/** Padded range of positive data on a log axis, or the data's range on a linear one. */
function fitRange(min, max, log) {
  if (min == null || max == null) return [log ? 0.1 : 0, 1];
  if (log) {
    if (!(min > 0)) min = max > 0 ? max / 10 : 0.1;
    if (max <= min) { min /= 1.5; max *= 1.5; }
    const pad = Math.max(1.04, (max / min) ** 0.04);
    return [min / pad, max * pad];
  }
  if (max === min) return [min - 1, max + 1];
  return [min, max];
}

// ---------------------------------------------------------------- line plots

/** Cell edges of a grid axis: midpoints between the values (geometric on a log axis),
 * the ends half a step beyond the first and last value. */
function gridEdges(v, log) {
  const t = (x) => (log ? Math.log(x) : x), inv = (x) => (log ? Math.exp(x) : x);
  const w = v.map(t);
  if (w.length === 1) return [inv(w[0] - 0.5), inv(w[0] + 0.5)];
  const e = [w[0] - (w[1] - w[0]) / 2];
  for (let i = 1; i < w.length; i++) e.push((w[i - 1] + w[i]) / 2);
  e.push(w.at(-1) + (w.at(-1) - w.at(-2)) / 2);
  return e.map(inv);
}

/** The colour of a grid cell: missing values grey. */
function gridColor(g, v, lo, hi) {
  if (!Number.isFinite(v)) return "#d9d9d9";
  const t = (v - lo) / (hi - lo);
  return cmap(g.reverse ? 1 - t : t);
}

function gridRange(g) {
  return range(g.values.flat().map((v) => (v === null ? NaN : v)));
}

/** The grid's cells, drawn on uPlot's canvas before the axes and series. */
function gridHook(spec) {
  return (u) => {
    const g = spec.grid, ctx = u.ctx;
    const ex = gridEdges(g.x, spec.xlog), ey = gridEdges(g.y, spec.ylog);
    const [lo, hi] = gridRange(g);
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    g.x.forEach((_, i) => g.y.forEach((_, j) => {
      const x0 = u.valToPos(ex[i], "x", true), x1 = u.valToPos(ex[i + 1], "x", true);
      const y0 = u.valToPos(ey[j], "y", true), y1 = u.valToPos(ey[j + 1], "y", true);
      ctx.fillStyle = gridColor(g, g.values[i][j], lo, hi);
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 1, Math.abs(y1 - y0) + 1);
    }));
    ctx.restore();
  };
}

/** Error bars and bands, drawn on uPlot's canvas after the series. */
function overlaysHook(spec) {
  return (u) => {
    const ctx = u.ctx;
    ctx.save();
    spec.series.forEach((s, i) => {
      if (s.band && u.series[i + 1].show !== false) {
        const [lo, hi] = s.band; // lo null: from the bottom of the plot
        const y0 = u.valToPos(hi, "y", true), y1 = lo === null ? u.bbox.top + u.bbox.height : u.valToPos(lo, "y", true);
        ctx.fillStyle = "rgba(120,120,120,0.15)";
        ctx.fillRect(u.bbox.left, Math.min(y0, y1), u.bbox.width, Math.abs(y1 - y0));
      }
      if (!s.err || u.series[i + 1].show === false) return;
      ctx.strokeStyle = seriesColor(s, i);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      s.x.forEach((x, k) => {
        const y = s.y[k], e = s.err[k];
        if (!Number.isFinite(y) || !Number.isFinite(e)) return;
        const px = u.valToPos(x, "x", true);
        const lo = spec.ylog ? Math.max(y - e, y / 100) : y - e;
        const a = u.valToPos(y + e, "y", true), b = u.valToPos(lo, "y", true);
        ctx.beginPath();
        ctx.moveTo(px, a); ctx.lineTo(px, b);
        ctx.moveTo(px - 3 * devicePixelRatio, a); ctx.lineTo(px + 3 * devicePixelRatio, a);
        ctx.moveTo(px - 3 * devicePixelRatio, b); ctx.lineTo(px + 3 * devicePixelRatio, b);
        ctx.stroke();
      });
    });
    ctx.restore();
  };
}

/** The figure's head: its claim and, below it, the measured number. */
function head(host, spec) {
  const h = el("div", { class: "fig-head" });
  const t = el("div", { class: "fig-title" });
  t.append(el("h3", {}, spec.title || spec.name));
  if (spec.measured) t.append(el("p", { class: "measured" }, spec.measured));
  h.append(t);
  host.append(h);
}

/** Draw a line figure into `host` (replacing what was there); returns the uPlot.
 * `fit` = {width, height} sizes the whole figure (embeds); otherwise the host's width. */
export function linePlot(host, spec, fit) {
  host.replaceChildren();
  host.classList.add("has-plot");
  head(host, spec);
  const holder = el("div", { class: "fig-body" });
  host.append(holder);
  const width = fit ? fit.width : Math.max(260, Math.min(host.clientWidth || 640, 1000) - 14);
  const height = fit ? 200 : Math.round(Math.min(340, Math.max(240, width * (width < 500 ? 0.8 : 0.5))));
  const data = align(spec);
  // extend the y range over error bars and bands
  const yExtra = [];
  spec.series.forEach((s) => {
    if (s.err) s.y.forEach((y, k) => { if (Number.isFinite(y) && Number.isFinite(s.err[k])) yExtra.push(y + s.err[k], spec.ylog ? y : y - s.err[k]); });
    if (s.band) yExtra.push(...s.band.filter((v) => v !== null));
  });
  const xExtra = spec.grid ? gridEdges(spec.grid.x, spec.xlog) : [];
  if (spec.grid) yExtra.push(...gridEdges(spec.grid.y, spec.ylog));
  // a log x axis over a few distinct values (widths, rates) gets a tick at each of them
  const xs = [...new Set(spec.series.flatMap((s) => (s.band ? [] : s.x)).filter((v) => Number.isFinite(v) && v > 0))].sort((a, b) => a - b);
  const dataTicks = spec.xlog && xs.length >= 2 && xs.length <= 12 ? xs : null;
  const axisSplits = (log, horizontal) => (u, _i, min, max) => {
    const px = horizontal ? u.bbox.width / devicePixelRatio : u.bbox.height / devicePixelRatio;
    const n = Math.max(2, Math.floor(px / (horizontal ? 60 : 30)));
    if (horizontal && dataTicks && dataTicks.length <= n) return dataTicks.filter((v) => v >= min && v <= max);
    return log ? logTickValues(min, max, n) : linearTickValues(min, max, Math.min(n, 8));
  };
  const all = (_u, splits) => splits;
  const opts = {
    width,
    height,
    scales: {
      x: {
        time: false,
        distr: spec.xlog ? 3 : 1,
        range: (_u, min, max) => (xExtra.length ? [Math.min(min ?? Infinity, xExtra[0]), Math.max(max ?? -Infinity, xExtra.at(-1))] : fitRange(min, max, spec.xlog)),
      },
      y: {
        distr: spec.ylog ? 3 : 1,
        range: (_u, min, max) => {
          const ok = yExtra.filter((v) => Number.isFinite(v) && (!spec.ylog || v > 0));
          if (ok.length) { min = Math.min(min ?? Infinity, ...ok); max = Math.max(max ?? -Infinity, ...ok); }
          if (spec.ylog) return fitRange(min, max, true);
          const pad = (max - min) * 0.05 || 1;
          return [min - pad, max + pad];
        },
      },
    },
    axes: [
      { label: spec.xlabel || "", stroke: "#333", splits: axisSplits(spec.xlog, true), filter: all, values: (_u, v) => v.map(tickLabel) },
      { label: spec.ylabel || "", stroke: "#333", size: 64, splits: axisSplits(spec.ylog, false), filter: all, values: (_u, v) => v.map(tickLabel) },
    ],
    legend: { live: !fit },
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [overlaysHook(spec)], ...(spec.grid ? { drawClear: [gridHook(spec)] } : {}) },
    series: [{ label: spec.xlabel || "x" }].concat(spec.series.map((s, i) => {
      const c = seriesColor(s, i);
      const out = { label: String(s.label), stroke: c, width: s.marker ? 0 : 1.5, spanGaps: true };
      if (s.dash) out.dash = [6, 4];
      if (s.marker || s.points || s.err) {
        out.points = { show: true, size: s.marker ? 11 : 6, stroke: c, fill: s.marker ? c : "#fff", width: s.marker ? 2 : 1.5 };
        if (s.marker) out.paths = () => null;
      }
      if (s.err && !s.points) out.paths = () => null;
      return out;
    })),
  };
  const u = new uPlot(opts, data, holder);
  if (spec.grid) {
    const [lo, hi] = gridRange(spec.grid);
    const bar = el("div", { class: "colorbar", "aria-hidden": "true" });
    bar.style.background = spec.grid.reverse ? GRADIENT.replace("to right", "to left") : GRADIENT;
    const scale = el("div", { class: "colorbar-labels" });
    scale.append(el("span", {}, tickLabel(lo)), el("span", {}, spec.grid.label), el("span", {}, tickLabel(hi)));
    holder.append(bar, scale);
  }
  if (fit) {
    // the plot takes what the head and the legend leave of the box (measured once the
    // browser has laid out the new legend)
    requestAnimationFrame(() => {
      if (host._uplot !== u) return;
      const used = host.getBoundingClientRect().height - u.height;
      u.setSize({ width, height: Math.max(120, fit.height - used) });
    });
  }
  host._uplot = u;
  host._spec = spec;
  return u;
}

// ---------------------------------------------------------------- heatmaps

/** Viridis-like colour map on [0, 1]. */
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function cmap(t) {
  t = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const f = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(f));
  const u = f - i;
  const c = STOPS[i].map((v, k) => Math.round(v + u * (STOPS[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function range(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) hi = lo + 1;
  return [lo, hi];
}

/** Colour ranges of a heatmap spec: one per `scale` key (default: per entry). */
function heatRanges(heatmaps) {
  const byKey = new Map();
  heatmaps.forEach((h, k) => {
    const key = h.scale ?? `#${k}`;
    byKey.set(key, (byKey.get(key) || []).concat(h.values));
  });
  return heatmaps.map((h, k) => range(byKey.get(h.scale ?? `#${k}`)));
}

/** The entries of a heatmap spec grouped into rows by `group`, in first-seen order. */
function heatRows(heatmaps) {
  const rows = [];
  heatmaps.forEach((h, k) => {
    let row = rows.find((r) => r.group === h.group);
    if (!row) rows.push(row = { group: h.group, items: [] });
    row.items.push(k);
  });
  return rows;
}

/** A font size (px) at which the longest tick label fits in a cell of `cell` px. */
function tickFont(ticks, cell) {
  const len = Math.max(1, ...ticks.map((t) => String(t).length));
  return Math.max(5, Math.min(11, (0.8 * cell) / (0.62 * len)));
}

/** Row and column labels (`ticks[k]` for index k) in the top and left strips of size `m`. */
function ticksOn(ctx, ticks, m, cell) {
  ctx.font = `${tickFont(ticks, cell)}px sans-serif`;
  ctx.fillStyle = "#333";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ticks.forEach((t, k) => {
    const c = m + (k + 0.5) * cell;
    ctx.fillText(String(t), c, m / 2);
    ctx.fillText(String(t), m / 2, c);
  });
}

const GRADIENT = `linear-gradient(to right, ${STOPS.map((c) => `rgb(${c})`).join(", ")})`;

/** Draw heatmaps (square matrices) on canvases, in rows by `group`, coloured on the
 * range of their `scale` key, each with its colour bar. `fit` = {width, height} sizes
 * the maps so that all rows fit the box (embeds). */
export function heatmapPlot(host, spec, fit) {
  host.replaceChildren();
  host.classList.add("has-plot");
  head(host, spec);
  const ranges = heatRanges(spec.heatmaps);
  const rows = heatRows(spec.heatmaps);
  const cols = Math.max(...rows.map((r) => r.items.length));
  let size = 170;
  if (fit) {
    const headH = host.getBoundingClientRect().height;
    const perRow = (fit.height - headH) / rows.length - (rows[0].group !== undefined ? 22 : 0) - 44;
    size = Math.max(40, Math.floor(Math.min(perRow, (fit.width - 10 * cols) / cols - 4)));
  }
  host.style.setProperty("--heat", `${size}px`);
  for (const r of rows) {
    if (r.group !== undefined) host.append(el("h4", { class: "heat-group" }, r.group));
    const row = el("div", { class: "heatmaps" });
    host.append(row);
    for (const k of r.items) {
      const h = spec.heatmaps[k];
      const [lo, hi] = ranges[k];
      const box = el("figure", { class: "heatmap" });
      const name = r.group !== undefined ? `${r.group} ${h.label}` : h.label;
      const px = Math.max(h.n, Math.min(180, h.n * Math.ceil(180 / h.n)));
      const cell = px / h.n;
      const m = h.ticks ? Math.ceil(cell) : 0; // a strip of one cell for the tick labels
      const cv = el("canvas", { width: px + m, height: px + m, role: "img", "aria-label": `${name} heatmap, ${lo.toPrecision(3)} to ${hi.toPrecision(3)}` });
      const ctx = cv.getContext("2d");
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) {
        ctx.fillStyle = cmap((h.values[i * h.n + j] - lo) / (hi - lo));
        ctx.fillRect(m + j * cell, m + i * cell, Math.ceil(cell), Math.ceil(cell));
      }
      if (h.ticks) ticksOn(ctx, h.ticks, m, cell);
      const bar = el("div", { class: "colorbar", "aria-hidden": "true" });
      bar.style.background = GRADIENT;
      const scale = el("div", { class: "colorbar-labels" });
      scale.append(el("span", {}, tickLabel(lo)), el("span", {}, tickLabel(hi)));
      box.append(cv, bar, scale, el("figcaption", {}, h.note ? `${h.label}: ${h.note}` : h.label));
      row.append(box);
    }
  }
  // shrink the maps until every row fits the box (captions may wrap as they narrow)
  for (let k = 0; fit && k < 4; k++) {
    const over = host.getBoundingClientRect().height - fit.height;
    if (over <= 0) break;
    size = Math.max(32, size - Math.ceil(over / rows.length) - 2);
    host.style.setProperty("--heat", `${size}px`);
  }
  host._spec = spec;
}

// ---------- SVG export (our own writer: the figure's data drawn as vector paths) ----------

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** The figure as a standalone SVG document (text). */
export function toSVG(spec) {
  if (spec.heatmaps) return heatmapSVG(spec);
  const W = 760, R = 210, L = 74, T = spec.measured ? 56 : 40, B = 50;
  const H = Math.max(430, T + 40 + spec.series.length * 16);
  const okx = (v) => Number.isFinite(v) && (!spec.xlog || v > 0);
  const oky = (v) => Number.isFinite(v) && (!spec.ylog || v > 0);
  const xs = [], ys = [];
  for (const s of spec.series) {
    s.x.forEach((x, i) => {
      if (okx(x) && oky(s.y[i])) { xs.push(x); ys.push(s.y[i]); }
      if (s.err && okx(x) && Number.isFinite(s.err[i]) && oky(s.y[i])) ys.push(s.y[i] + s.err[i], spec.ylog ? s.y[i] : s.y[i] - s.err[i]);
    });
    if (s.band) ys.push(...s.band.filter((v) => v !== null && oky(v)));
  }
  let [x0, x1] = spec.xlog ? fitRange(Math.min(...xs), Math.max(...xs), true) : range(xs);
  let [y0, y1] = spec.ylog ? fitRange(Math.min(...ys), Math.max(...ys), true) : range(ys);
  if (!spec.ylog) { const p = (y1 - y0) * 0.05; y0 -= p; y1 += p; }
  const gx = spec.grid ? gridEdges(spec.grid.x, spec.xlog) : null, gy = spec.grid ? gridEdges(spec.grid.y, spec.ylog) : null;
  if (spec.grid) { x0 = Math.min(x0, gx[0]); x1 = Math.max(x1, gx.at(-1)); y0 = Math.min(y0, gy[0]); y1 = Math.max(y1, gy.at(-1)); }
  const tx = (v) => (spec.xlog ? Math.log10(v) : v), ty = (v) => (spec.ylog ? Math.log10(v) : v);
  const plotH = 420 - T - B;
  const sx = (v) => L + (tx(v) - tx(x0)) / ((tx(x1) - tx(x0)) || 1) * (W - L - R);
  const sy = (v) => T + plotH - (ty(v) - ty(y0)) / ((ty(y1) - ty(y0)) || 1) * plotH;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title || spec.name)}</text>`];
  if (spec.measured) parts.push(`<text x="${W / 2}" y="40" text-anchor="middle" font-size="13" fill="#333">${esc(spec.measured)}</text>`);
  if (spec.grid) {
    const g = spec.grid, [lo, hi] = gridRange(g);
    g.x.forEach((_, i) => g.y.forEach((_, j) => {
      const a = sx(gx[i]), b = sx(gx[i + 1]), c = sy(gy[j + 1]), d = sy(gy[j]);
      parts.push(`<rect x="${a.toFixed(2)}" y="${c.toFixed(2)}" width="${(b - a).toFixed(2)}" height="${(d - c).toFixed(2)}" fill="${gridColor(g, g.values[i][j], lo, hi)}"/>`);
    }));
    const by = T + 12 + spec.series.length * 16, bx = W - R + 10;
    parts.push(`<defs><linearGradient id="gridmap">${STOPS.map((c, i) => `<stop offset="${g.reverse ? 1 - i / (STOPS.length - 1) : i / (STOPS.length - 1)}" stop-color="rgb(${c})"/>`).join("")}</linearGradient></defs>`);
    parts.push(`<rect x="${bx}" y="${by}" width="150" height="8" fill="url(#gridmap)"/>`);
    parts.push(`<text x="${bx}" y="${by + 20}" font-size="11">${esc(tickLabel(lo))}</text>`, `<text x="${bx + 150}" y="${by + 20}" font-size="11" text-anchor="end">${esc(tickLabel(hi))}</text>`);
    parts.push(`<text x="${bx}" y="${by + 34}" font-size="11">${esc(g.label)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${plotH}" fill="none" stroke="#333"/>`);
  const xdata = [...new Set(spec.series.flatMap((s) => (s.band ? [] : s.x)).filter((v) => okx(v)))].sort((a, b) => a - b);
  const xt = spec.xlog && xdata.length >= 2 && xdata.length <= 10 ? xdata : spec.xlog ? logTickValues(x0, x1, 8) : linearTickValues(x0, x1, 7);
  const yt = spec.ylog ? logTickValues(y0, y1, 9) : linearTickValues(y0, y1, 7);
  for (const v of xt) parts.push(`<text x="${sx(v).toFixed(1)}" y="${T + plotH + 16}" text-anchor="middle">${esc(tickLabel(v))}</text>`);
  for (const v of yt) parts.push(`<text x="${L - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${esc(tickLabel(v))}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${T + plotH + 38}" text-anchor="middle">${esc(spec.xlabel || "")}</text>`);
  parts.push(`<text transform="translate(16 ${T + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(spec.ylabel || "")}</text>`);
  const clip = (y) => Math.min(T + plotH, Math.max(T, y));
  spec.series.forEach((s, i) => {
    const c = seriesColor(s, i);
    if (s.band) {
      const a = clip(sy(s.band[1])), b = s.band[0] === null ? T + plotH : clip(sy(s.band[0]));
      parts.push(`<rect x="${L}" y="${a.toFixed(1)}" width="${W - L - R}" height="${(b - a).toFixed(1)}" fill="#787878" fill-opacity="0.15"/>`);
    }
    const pts = [];
    s.x.forEach((x, k) => { if (okx(x) && oky(s.y[k])) pts.push([sx(x), sy(s.y[k]), k]); });
    if (s.err) {
      for (const [px, , k] of pts) {
        const e = s.err[k];
        if (!Number.isFinite(e)) continue;
        const lo = spec.ylog ? Math.max(s.y[k] - e, s.y[k] / 100) : s.y[k] - e;
        parts.push(`<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${clip(sy(s.y[k] + e)).toFixed(1)}" y2="${clip(sy(lo)).toFixed(1)}" stroke="${c}" stroke-width="1.5"/>`);
      }
    }
    if (s.marker || s.points || s.err) {
      for (const [px, py] of pts) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="${s.marker ? 5.5 : 3}" fill="${s.marker ? c : "#fff"}" stroke="${c}" stroke-width="${s.marker ? 2 : 1.5}"/>`);
    }
    if (!s.marker && !(s.err && !s.points) && pts.length) {
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5"${s.dash ? ' stroke-dasharray="6 4"' : ""} points="${pts.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(" ")}"/>`);
    }
    // legend: the line as drawn (dashed when dashed), a dot for markers and points
    const ly = T + 10 + i * 16, lx = W - R + 10;
    if (!s.marker) parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 4"' : ""}/>`);
    if (s.marker || s.points || s.err) parts.push(`<circle cx="${lx + 11}" cy="${ly - 4}" r="${s.marker ? 5 : 3}" fill="${s.marker ? c : "#fff"}" stroke="${c}"/>`);
    parts.push(`<text x="${lx + 28}" y="${ly}">${esc(s.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function heatmapSVG(spec) {
  const size = 180, gap = 24, rowH = size + 74;
  const rows = heatRows(spec.heatmaps), ranges = heatRanges(spec.heatmaps);
  const cols = Math.max(...rows.map((r) => r.items.length));
  const top0 = spec.measured ? 50 : 35;
  const W = cols * (size + gap) + gap, H = top0 + rows.length * rowH;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<defs><linearGradient id="cmap">${STOPS.map((c, i) => `<stop offset="${i / (STOPS.length - 1)}" stop-color="rgb(${c})"/>`).join("")}</linearGradient></defs>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${esc(spec.title || spec.name)}</text>`];
  if (spec.measured) parts.push(`<text x="${W / 2}" y="38" text-anchor="middle" font-size="13" fill="#333">${esc(spec.measured)}</text>`);
  rows.forEach((r, ri) => {
    const top = top0 + ri * rowH;
    if (r.group !== undefined) parts.push(`<text x="${gap}" y="${top + 12}" font-size="13">${esc(r.group)}</text>`);
    r.items.forEach((k, col) => {
      const h = spec.heatmaps[k];
      const [lo, hi] = ranges[k];
      const ox = gap + col * (size + gap), oy = top + 20;
      const m = h.ticks ? size / (h.n + 1) : 0, c = (size - m) / h.n; // the tick strip is one cell
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) {
        parts.push(`<rect x="${(ox + m + j * c).toFixed(2)}" y="${(oy + m + i * c).toFixed(2)}" width="${c.toFixed(2)}" height="${c.toFixed(2)}" fill="${cmap((h.values[i * h.n + j] - lo) / (hi - lo))}"/>`);
      }
      if (h.ticks) {
        const fs = tickFont(h.ticks, c).toFixed(1);
        h.ticks.forEach((t, k) => {
          const at = (m + (k + 0.5) * c).toFixed(2);
          parts.push(`<text x="${(ox + +at).toFixed(2)}" y="${(oy + m / 2).toFixed(2)}" font-size="${fs}" text-anchor="middle" dominant-baseline="middle">${esc(t)}</text>`);
          parts.push(`<text x="${(ox + m / 2).toFixed(2)}" y="${(oy + +at).toFixed(2)}" font-size="${fs}" text-anchor="middle" dominant-baseline="middle">${esc(t)}</text>`);
        });
      }
      // the colour scale: a bar from the low to the high end, labelled
      parts.push(`<rect x="${ox}" y="${oy + size + 4}" width="${size}" height="8" fill="url(#cmap)"/>`);
      parts.push(`<text x="${ox}" y="${oy + size + 24}" font-size="11">${esc(tickLabel(lo))}</text>`);
      parts.push(`<text x="${ox + size}" y="${oy + size + 24}" font-size="11" text-anchor="end">${esc(tickLabel(hi))}</text>`);
      parts.push(`<text x="${ox + size / 2}" y="${oy + size + 40}" text-anchor="middle">${esc(h.note ? `${h.label}: ${h.note}` : h.label)}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** The figure's data as CSV (long format: series,x,y[,err] or heatmap,i,j,value).
 * Missing and diverged values are empty cells, never numbers. */
export function toCSV(spec) {
  const q = (s) => {
    s = String(s);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const v = (x) => (x === null || x === undefined || !Number.isFinite(x) ? "" : String(x));
  if (spec.heatmaps) {
    const rows = ["heatmap,i,j,value"];
    for (const h of spec.heatmaps) {
      const name = q(h.group !== undefined ? `${h.group} ${h.label}` : h.label);
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) rows.push(`${name},${i},${j},${v(h.values[i * h.n + j])}`);
    }
    return rows.join("\n") + "\n";
  }
  const hasErr = spec.series.some((s) => s.err);
  const rows = [`series,${q(spec.xlabel || "x")},${q(spec.ylabel || "y")}${hasErr ? ",error" : ""}`];
  for (const s of spec.series) {
    if (s.band) continue;
    s.x.forEach((x, i) => rows.push(`${q(s.label)},${v(x)},${s.fakeY ? "" : v(s.y[i])}${hasErr ? "," + v(s.err?.[i]) : ""}`));
  }
  if (spec.grid) {
    // the grid as its own long table: x, y and the cell's value
    rows.push("", `${q(spec.xlabel || "x")},${q(spec.ylabel || "y")},${q(spec.grid.label)}`);
    spec.grid.x.forEach((x, i) => spec.grid.y.forEach((y, j) => rows.push(`${v(x)},${v(y)},${v(spec.grid.values[i][j])}`)));
  }
  return rows.join("\n") + "\n";
}

/** Render the SVG to a PNG blob (via an <img> of the SVG and a canvas). */
export function toPNG(spec) {
  const svg = toSVG(spec);
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const cv = document.createElement("canvas");
      cv.width = img.naturalWidth * 2; cv.height = img.naturalHeight * 2;
      const ctx = cv.getContext("2d");
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      cv.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png");
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("SVG did not render")); };
    img.src = url;
  });
}
