// Figures: uPlot line charts (log axes, legend, hover values) and canvas heatmaps, plus
// a small SVG writer so every figure exports as SVG/PNG and its data as CSV/JSON.
//
// A figure is described by a plain spec, which is also what gets exported:
//   {name, title, xlabel, ylabel, xlog, ylog,
//    series: [{label, x: [..], y: [..], dash?: bool, points?: bool, marker?: bool}]}
// or, for heatmaps, {name, title, heatmaps: [{label, n, values: [n*n], group?, scale?, note?}]}:
// entries with the same `group` share a row (a row title above it); entries with the same
// `scale` key share one colour scale (so a finite kernel and its limit compare by colour).
import uPlot from "../vendor/uPlot.esm.js";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

export function color(i) { return PALETTE[i % PALETTE.length]; }

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text; // always text, never HTML
  return e;
}

/** Align series with different x onto one sorted x column (uPlot's data layout). */
function align(spec) {
  const xs = new Set();
  for (const s of spec.series) for (const x of s.x) if (Number.isFinite(x)) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ok = (v, log) => Number.isFinite(v) && (!log || v > 0);
  const cols = spec.series.map((s) => {
    const col = new Array(x.length).fill(null);
    s.x.forEach((xv, i) => {
      const v = s.y[i];
      if (index.has(xv) && ok(v, spec.ylog)) col[index.get(xv)] = v;
    });
    return col;
  });
  const xcol = spec.xlog ? x.filter((v) => v > 0) : x;
  if (spec.xlog && xcol.length !== x.length) {
    const drop = x.length - xcol.length;
    return [xcol, ...cols.map((c) => c.slice(drop))];
  }
  return [x, ...cols];
}

/** Tick labels on log axes: powers of ten in short exponent form. */
function logTicks(_u, splits) {
  return splits.map((v) => {
    if (v == null) return "";
    const e = Math.log10(v);
    if (Math.abs(e - Math.round(e)) > 1e-6) return "";
    return v >= 0.01 && v <= 1000 ? String(+v.toPrecision(3)) : `1e${Math.round(e)}`;
  });
}

/** Draw a line figure into `host` (replacing what was there); returns the uPlot. */
export function linePlot(host, spec) {
  host.replaceChildren();
  host.classList.add("has-plot");
  const head = el("div", { class: "fig-head" });
  head.append(el("h3", {}, spec.title || spec.name));
  host.append(head);
  const holder = el("div", { class: "fig-body" });
  host.append(holder);
  const width = Math.max(280, Math.min(host.clientWidth || 640, 900) - 8);
  const opts = {
    width,
    height: Math.round(Math.min(360, Math.max(220, width * 0.55))),
    scales: {
      x: { time: false, distr: spec.xlog ? 3 : 1 },
      y: { distr: spec.ylog ? 3 : 1 },
    },
    axes: [
      { label: spec.xlabel || "", stroke: "#333", values: spec.xlog ? logTicks : undefined },
      { label: spec.ylabel || "", stroke: "#333", size: 60, values: spec.ylog ? logTicks : undefined },
    ],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [{ label: spec.xlabel || "x" }].concat(spec.series.map((s, i) => {
      const c = s.color || color(s.colorIndex ?? i);
      const out = { label: String(s.label), stroke: c, width: s.marker ? 0 : 1.5, spanGaps: true };
      if (s.dash) out.dash = [6, 4];
      if (s.marker || s.points) {
        out.points = { show: true, size: s.marker ? 10 : 5, stroke: c, fill: s.marker ? c : "#fff" };
        if (s.marker) out.paths = () => null;
      }
      return out;
    })),
  };
  const u = new uPlot(opts, align(spec), holder);
  host._uplot = u;
  host._spec = spec;
  return u;
}

/** Viridis-like colour map on [0, 1]. */
function cmap(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  t = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const f = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const u = f - i;
  const c = stops[i].map((v, k) => Math.round(v + u * (stops[i + 1][k] - v)));
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

/** Draw heatmaps (square matrices) on canvases, in rows by `group`, coloured on the
 * range of their `scale` key. */
export function heatmapPlot(host, spec) {
  host.replaceChildren();
  host.classList.add("has-plot");
  host.append(el("h3", {}, spec.title || spec.name));
  const ranges = heatRanges(spec.heatmaps);
  for (const r of heatRows(spec.heatmaps)) {
    if (r.group !== undefined) host.append(el("h4", { class: "heat-group" }, r.group));
    const row = el("div", { class: "heatmaps" });
    host.append(row);
    for (const k of r.items) {
      const h = spec.heatmaps[k];
      const [lo, hi] = ranges[k];
      const box = el("figure", { class: "heatmap" });
      const name = r.group !== undefined ? `${r.group} ${h.label}` : h.label;
      const cv = el("canvas", { width: 180, height: 180, role: "img", "aria-label": `${name} heatmap` });
      const ctx = cv.getContext("2d");
      const cell = 180 / h.n;
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) {
        ctx.fillStyle = cmap((h.values[i * h.n + j] - lo) / (hi - lo));
        ctx.fillRect(j * cell, i * cell, Math.ceil(cell), Math.ceil(cell));
      }
      const cap = `${h.label}: ${lo.toPrecision(3)} (dark) to ${hi.toPrecision(3)} (bright)${h.note ? "; " + h.note : ""}`;
      box.append(cv, el("figcaption", {}, cap));
      row.append(box);
    }
  }
  host._spec = spec;
}

// ---------- SVG export (our own writer: the figure's data drawn as vector paths) ----------

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function ticks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  const span = hi - lo;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const mult = [1, 2, 5, 10].find((m) => span / (m * step) <= 6) || 10;
  const s = mult * step;
  const out = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12 * span; v += s) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(0) : String(+v.toPrecision(4));
}

/** The figure as a standalone SVG document (text). */
export function toSVG(spec) {
  if (spec.heatmaps) return heatmapSVG(spec);
  const W = 720, H = 420, L = 70, R = 170, T = 40, B = 50;
  const ok = (v, log) => Number.isFinite(v) && (!log || v > 0);
  const xs = [], ys = [];
  for (const s of spec.series) s.x.forEach((x, i) => {
    if (ok(x, spec.xlog) && ok(s.y[i], spec.ylog)) { xs.push(x); ys.push(s.y[i]); }
  });
  let [x0, x1] = range(xs), [y0, y1] = range(ys);
  const tx = (v) => spec.xlog ? Math.log10(v) : v, ty = (v) => spec.ylog ? Math.log10(v) : v;
  const sx = (v) => L + (tx(v) - tx(x0)) / ((tx(x1) - tx(x0)) || 1) * (W - L - R);
  const sy = (v) => H - B - (ty(v) - ty(y0)) / ((ty(y1) - ty(y0)) || 1) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title || spec.name)}</text>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`];
  for (const v of ticks(x0, x1, spec.xlog)) parts.push(`<text x="${sx(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${fmt(v)}</text>`);
  for (const v of ticks(y0, y1, spec.ylog)) parts.push(`<text x="${L - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(spec.xlabel || "")}</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.ylabel || "")}</text>`);
  spec.series.forEach((s, i) => {
    const c = s.color || color(s.colorIndex ?? i);
    const pts = [];
    s.x.forEach((x, k) => { if (ok(x, spec.xlog) && ok(s.y[k], spec.ylog)) pts.push([sx(x), sy(s.y[k])]); });
    if (s.marker || s.points) {
      for (const [px, py] of pts) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="${s.marker ? 5 : 3}" fill="${s.marker ? c : "#fff"}" stroke="${c}"/>`);
    }
    if (!s.marker && pts.length) {
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5"${s.dash ? ' stroke-dasharray="6 4"' : ""} points="${pts.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" ")}"/>`);
    }
    const ly = T + 14 + i * 16;
    parts.push(`<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${W - R + 35}" y="${ly}">${esc(s.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function heatmapSVG(spec) {
  const size = 200, gap = 20, rowH = size + 60;
  const rows = heatRows(spec.heatmaps), ranges = heatRanges(spec.heatmaps);
  const cols = Math.max(...rows.map((r) => r.items.length));
  const W = cols * (size + gap) + gap, H = 35 + rows.length * rowH;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${esc(spec.title || spec.name)}</text>`];
  rows.forEach((r, ri) => {
    const top = 35 + ri * rowH;
    if (r.group !== undefined) parts.push(`<text x="${gap}" y="${top + 12}" font-size="13">${esc(r.group)}</text>`);
    r.items.forEach((k, col) => {
      const h = spec.heatmaps[k];
      const [lo, hi] = ranges[k];
      const ox = gap + col * (size + gap), oy = top + 20, c = size / h.n;
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) {
        parts.push(`<rect x="${(ox + j * c).toFixed(2)}" y="${(oy + i * c).toFixed(2)}" width="${c.toFixed(2)}" height="${c.toFixed(2)}" fill="${cmap((h.values[i * h.n + j] - lo) / (hi - lo))}"/>`);
      }
      parts.push(`<text x="${ox + size / 2}" y="${oy + size + 16}" text-anchor="middle">${esc(h.note ? `${h.label} (${h.note})` : h.label)}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** The figure's data as CSV (long format: series,x,y or heatmap,i,j,value). */
export function toCSV(spec) {
  const q = (s) => {
    s = String(s);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  if (spec.heatmaps) {
    const rows = ["heatmap,i,j,value"];
    for (const h of spec.heatmaps) {
      const name = q(h.group !== undefined ? `${h.group} ${h.label}` : h.label);
      for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) rows.push(`${name},${i},${j},${h.values[i * h.n + j]}`);
    }
    return rows.join("\n") + "\n";
  }
  const rows = [`series,${q(spec.xlabel || "x")},${q(spec.ylabel || "y")}`];
  for (const s of spec.series) s.x.forEach((x, i) => rows.push(`${q(s.label)},${x},${s.y[i] ?? ""}`));
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
