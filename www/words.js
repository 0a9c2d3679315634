// Words for people: how the page says what ran where, durations and numbers. Pure
// functions (no DOM), so the wording lives in one place and is easy to change.

/** The wasm build in words: "wasm relaxed-SIMD" or "wasm SIMD128" ("" before a worker said). */
export function buildWords(build) {
  return { "relaxed-simd": "wasm relaxed-SIMD", simd128: "wasm SIMD128" }[build] || "";
}

/**
 * The backend note. `ran`: the core's typed report of where the last train record ran
 * (`{device: "cpu" | "gpu", adapter?, api?, software?, fallback?, split?}`; split: the
 * workers one run was split over), or null before any
 * run; `gpu`: the WebGPU adapter the workers see ("" if none); `workers`: the pool size;
 * `build`: the wasm build the workers run ("relaxed-simd" | "simd128", the core's
 * `cpu_build()`). Returns `{text, detail}`: a sentence for everyone and the technical
 * detail (tooltip).
 */
export function backendWords(ran, gpu, workers, build = "") {
  const wasm = buildWords(build);
  const across = ran && ran.split ? `this run split over ${ran.split} workers` : `${workers} worker${workers > 1 ? "s" : ""}`;
  const cpu = `the CPU (${across}${wasm ? `, ${wasm}` : ""})`;
  if (ran && ran.device === "gpu") {
    const name = ran.adapter || "unnamed adapter";
    return { text: `GPU: this run trained on the GPU (WebGPU, ${name})`, detail: `adapter: ${name}; API: ${ran.api || "?"}${ran.software ? " (a software adapter)" : ""}` };
  }
  const why = ran && ran.fallback;
  if (why && !gpu) return { text: `GPU: not available in this browser, running on ${cpu}`, detail: why };
  if (why) return { text: `GPU: could not be used, running on ${cpu}`, detail: why };
  if (gpu) {
    return {
      text: `GPU: available (WebGPU, ${gpu}); training uses it when Device is GPU, or Auto for large problems; running on ${cpu}`,
      detail: `WebGPU adapter: ${gpu}. One worker owns the device: training runs and sweep cells train there on the GPU when Device is GPU, or Auto for large problems on a hardware adapter; the other workers and the theory run on the CPU (${wasm || "wasm SIMD"}).`,
    };
  }
  return {
    text: `GPU: not available in this browser, running on ${cpu}`,
    detail: `navigator.gpu gave no WebGPU adapter; everything runs in WebAssembly on the CPU (${wasm || "wasm SIMD"}${build === "relaxed-simd" ? ": products with fused multiply-adds" : ""}).`,
  };
}

/**
 * Where a sweep's cells ran, from each cell's backend report (null: not yet run):
 * "12 cells on the CPU", or "5 of 12 cells on the GPU (WebGPU, <adapter>), 7 on the CPU".
 */
export function cellsWhere(reports) {
  const done = reports.filter(Boolean);
  const gpu = done.filter((r) => r.device === "gpu");
  if (!gpu.length) return `${done.length} cell${done.length === 1 ? "" : "s"} on the CPU`;
  const names = [...new Set(gpu.map((r) => r.adapter || "unnamed adapter"))].join(", ");
  return `${gpu.length} of ${done.length} cells on the GPU (WebGPU, ${names}), ${done.length - gpu.length} on the CPU`;
}

/** The widths of a width-convergence result whose squared deviation from the DMFT is
 * within twice its Monte Carlo floor (`dmft_floor`, the fitted law at N = S): there the
 * DMFT's own sampling error (~1/S) is as large as the width's (~1/N), so the gap stops
 * shrinking. Words to append to a claim, or "" when no width is there. */
export function floorWords(r, samples) {
  const floor = r.dmft_floor;
  if (!Number.isFinite(floor)) return "";
  const at = r.widths.filter((_, i) => Number.isFinite(r.deviation[i]) && r.deviation[i] <= 2 * floor);
  return at.length
    ? `; ${at.map((w) => `N=${w}`).join(", ")} within 2× the DMFT's Monte Carlo floor (S = ${samples}): there the DMFT's own sampling error is as large as the width's, and the gap stops shrinking`
    : "";
}

/** A coordinate check's widths split by whether the run blew up there: its mean output
 * change |Δf| past the scale of the loss's divergence threshold (|Δf|² > threshold, or
 * not finite). A slope fitted through a blow-up is not a width exponent, so the claim
 * fits the others and names these. `df[i]` belongs to `widths[i]`. */
export function blowUps(widths, df, threshold = 1e6) {
  const blown = widths.map((_, i) => !(Number.isFinite(df[i]) && df[i] * df[i] <= threshold));
  const at = widths.map((w, i) => `N=${w} (|Δf| ${num(df[i])})`).filter((_, i) => blown[i]);
  const words = at.length ? `; blew up at ${at.join(", ")}, past √threshold = ${num(Math.sqrt(threshold))}: left out of the slopes` : "";
  return { kept: (xs) => xs.filter((_, i) => !blown[i]), words };
}

/** `n` and the noun, plural unless n is 1 ("1 seed", "4 seeds"). */
export function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** "1 min 05 s", "12 s", "0.4 s". */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${String(s).padStart(2, "0")} s`;
}

/** A number in a sentence: 3 significant digits, exponent form when tiny or huge. */
export function num(v, digits = 3) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1).replace("e+", "e");
  return String(+v.toPrecision(digits));
}

/** A slope with its sign as a minus sign: "−0.98". */
export function slope(v) {
  return Number.isFinite(v) ? v.toFixed(2).replace("-", "−") : "n/a";
}

/** Least-squares slope of log y against log x over the finite positive pairs. */
export function logSlope(xs, ys) {
  const pts = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const lx = pts.map(([x]) => Math.log(x)), ly = pts.map(([, y]) => Math.log(y));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length, my = ly.reduce((a, b) => a + b, 0) / ly.length;
  const sxx = lx.reduce((s, x) => s + (x - mx) ** 2, 0);
  return sxx > 0 ? lx.reduce((s, x, i) => s + (x - mx) * (ly[i] - my), 0) / sxx : NaN;
}

/** Mean of the finite entries (NaN if none). */
export function mean(v) {
  let s = 0, n = 0;
  for (const x of v) if (Number.isFinite(x)) { s += x; n++; }
  return n ? s / n : NaN;
}

/** A table's parameterisation tag (`sp`, `mup`, `depth_mup`, `complete_p`,
 * `mup_alpha0.25`) for people. */
export function tagName(tag) {
  const t = String(tag);
  return { sp: "SP", ntk: "NTK", mup: "µP", depth_mup: "depth-µP", complete_p: "CompleteP", abc: "abc" }[t]
    || t.replace(/^mup_alpha/, "µP α=").replace(/^sp_alpha/, "SP α=");
}

/** How a size scales, from a log-log slope: "grow", "shrink" or "keep their size"
 * (|slope| <= 0.25 counts as flat). */
export function trend(s) {
  return !Number.isFinite(s) ? "n/a" : s > 0.25 ? "grow" : s < -0.25 ? "shrink" : "keep their size";
}

/** The parameterisation's name for people. */
export function paramName(p) {
  return { sp: "SP", ntk: "NTK", mup: "µP", depth_mup: "depth-µP", abc: "abc" }[p?.kind] || String(p?.kind);
}
