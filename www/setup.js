// The setup form: each control patches one field of the state's `train` config (its
// `data-path`), never rebuilding the config, so fields without a control are kept.
// Controls that change a config's shape (task, parameterisation, optimiser) build the
// new part from the old one and let the core fill in its defaults. The advanced view
// shows (and edits) the whole config as JSON.
import { setPath, getPath, parseWidths } from "./state.js";

const $ = (id) => document.getElementById(id);

/** Controls whose text is not a valid value: id -> message (the state keeps the last
 * valid value; Run refuses with the message). */
export const invalid = new Map();

let ctx = null; // {state, core, limits, onChange}

const controls = () => [...document.querySelectorAll("#setup [data-path]")];

/** Parse a control's value by its `data-type`; `{value}` or `{error}`. */
function read(e) {
  const path = e.dataset.path;
  const bad = (what) => ({ error: `invalid config field \`${path}\`: expected ${what}` });
  // the control's own range (min, max), which the browser marks but does not enforce
  const [lo, hi] = [e.min === "" ? -Infinity : Number(e.min), e.max === "" ? Infinity : Number(e.max)];
  const inRange = (v) => (v >= lo && v <= hi ? { value: v } : bad(`a value in [${e.min || "-inf"}, ${e.max || "inf"}], got ${v}`));
  switch (e.dataset.type) {
    case "bool": return { value: e.checked };
    case "int": {
      const v = Number(e.value);
      return e.value.trim() !== "" && Number.isInteger(v) && v >= 0 ? inRange(v) : bad("a whole number");
    }
    case "num": {
      const v = Number(e.value);
      return e.value.trim() !== "" && Number.isFinite(v) ? inRange(v) : bad("a number");
    }
    case "list": {
      const v = e.value.split(/[,\s]+/).filter((s) => s !== "").map(Number);
      return v.every(Number.isFinite) ? { value: v } : bad("numbers separated by commas");
    }
    default: return { value: e.value };
  }
}

/** Parse a whole config's JSON with its defaults filled in (no range checks). */
function normalise(cfg) {
  return JSON.parse(ctx.core.normalise(JSON.stringify(cfg)));
}

/** The new `data` of a task, keeping what the old one shares with it. */
function dataFor(task, old) {
  const keep = (...keys) => Object.fromEntries(keys.filter((k) => old[k] !== undefined).map((k) => [k, old[k]]));
  switch (task) {
    case "teacher": return { task, dim: old.dim ?? 16, train: old.train ?? 16, ...keep("test", "seed") };
    case "sine": case "spirals": return { task, train: old.train ?? 16, ...keep("test", "seed") };
    case "digits": return { task, train: old.train ?? 64, ...keep("test", "seed") };
    case "csv": return { task, text: ctx.csvText ?? "", ...keep("seed") };
    default: return old;
  }
}

/** The new `param` of a kind: raw abc starts from the current exponents (the core's
 * table), the named ones keep gamma0. */
function paramFor(kind, old, model) {
  const gamma0 = old.gamma0 ?? 1;
  if (kind === "sp") return { kind };
  if (kind === "abc") {
    const e = JSON.parse(ctx.core.abc_exponents(JSON.stringify(old), model.arch, model.depth));
    return { kind, a: e.a, b: e.b, c: e.c, gamma0, depth_alpha: e.depth_alpha };
  }
  return { kind, gamma0 };
}

/** The new `optimizer` of a kind, keeping the learning rate. */
function optimizerFor(kind, old, data) {
  const o = { kind, lr: old.lr ?? 0.5 };
  if (kind === "sgd") o.batch_size = old.batch_size ?? Math.max(1, Math.min(8, data.train ?? 8));
  if (kind === "langevin") o.temperature = old.temperature ?? 0.01;
  return o;
}

/** Apply one control's value to the state. */
function patch(e) {
  const st = ctx.state, cfg = st.train;
  if (e.id === "f-widths") {
    const r = parseWidths(e.value, ctx.limits.max_width);
    if (r.error) return mark(e, r.error);
    st.widths = r.widths;
    cfg.model.width = Math.max(...r.widths);
    return mark(e, null);
  }
  const r = read(e);
  if (r.error) return mark(e, r.error);
  mark(e, null);
  const path = e.dataset.path;
  try {
    if (path === "data.task") st.train = normalise({ ...cfg, data: dataFor(r.value, cfg.data) });
    else if (path === "param.kind") st.train = normalise({ ...cfg, param: paramFor(r.value, cfg.param, cfg.model) });
    else if (path === "optimizer.kind") st.train = normalise({ ...cfg, optimizer: optimizerFor(r.value, cfg.optimizer, cfg.data) });
    else setPath(cfg, path, r.value);
  } catch (err) {
    return mark(e, String(err.message || err));
  }
  if (/\.kind$|\.task$/.test(path)) configToForm();
}

function mark(e, error) {
  if (error) { invalid.set(e.id, error); e.setAttribute("aria-invalid", "true"); }
  else { invalid.delete(e.id); e.removeAttribute("aria-invalid"); }
}

/** Wire the form to the state. `onChange()` runs after every patch. */
export function bind(state, core, limits, onChange) {
  ctx = { state: null, core, limits, onChange, csvText: undefined };
  setState(state);
  $("f-seeds").max = String(limits.max_seeds);
  $("f-steps").max = String(limits.max_steps);
  $("f-depth").max = String(limits.max_depth);
  const form = $("setup");
  const on = (ev) => {
    const e = ev.target;
    if (!(e.dataset.path || e.id === "f-widths")) return;
    patch(e);
    syncVisibility();
    showJSON();
    onChange();
  };
  form.addEventListener("input", on);
  form.addEventListener("change", on);
  $("f-csv").addEventListener("change", async () => {
    const f = $("f-csv").files[0];
    if (!f) return;
    ctx.csvText = (await f.text()).slice(0, 1 << 20);
    if (ctx.state.train.data.task === "csv") ctx.state.train.data.text = ctx.csvText;
    showJSON();
    onChange();
  });
  $("f-json-apply").addEventListener("click", () => {
    let cfg;
    try {
      cfg = normalise(JSON.parse($("f-json").value));
      if (cfg.kind !== "train") throw new Error("invalid config field `kind`: expected \"train\" (other kinds run on the Engines panel)");
    } catch (err) {
      $("f-json").setAttribute("aria-invalid", "true");
      onChange(String(err.message || err));
      return;
    }
    $("f-json").removeAttribute("aria-invalid");
    ctx.state.train = cfg;
    if (!ctx.state.widths.includes(cfg.model.width)) ctx.state.widths = [cfg.model.width];
    configToForm();
    onChange();
  });
}

/** Point the form at a (new) state object. */
export function setState(state) { ctx.state = state; }

function setControl(e, v) {
  if (e.type === "checkbox") { e.checked = !!v; return; }
  if (e.tagName === "SELECT" && v !== undefined && ![...e.options].some((o) => o.value === String(v))) {
    const o = document.createElement("option"); // a value from a link with no option (e.g. inline data)
    o.value = String(v); o.textContent = `${v} (from the link)`;
    e.append(o);
  }
  e.value = v === undefined || v === null ? "" : Array.isArray(v) ? v.join(", ") : String(v);
}

/** Show the state in the form: every control, the widths, the advanced JSON. */
export function configToForm() {
  const st = ctx.state;
  for (const e of controls()) {
    const v = getPath(st.train, e.dataset.path);
    if (v !== undefined || e.tagName !== "SELECT") setControl(e, v);
    mark(e, null);
  }
  $("f-widths").value = st.widths.join(", ");
  mark($("f-widths"), null);
  syncVisibility();
  showJSON();
}

function showJSON() {
  const ta = $("f-json");
  if (document.activeElement !== ta) ta.value = JSON.stringify(ctx.state.train, null, 1);
}

/** Show only the fields that apply to the chosen task, parameterisation and optimiser. */
export function syncVisibility() {
  const cfg = ctx.state.train;
  const show = (sel, on) => document.querySelectorAll(sel).forEach((e) => { e.hidden = !on; });
  const task = cfg.data.task;
  show(".csv-only", task === "csv");
  show(".teacher-only", task === "teacher");
  show(".has-train", ["teacher", "sine", "spirals", "digits"].includes(task));
  show(".abc-only", cfg.param.kind === "abc");
  show(".gamma-only", cfg.param.kind !== "sp");
  show(".sgd-only", cfg.optimizer.kind === "sgd");
  show(".langevin-only", cfg.optimizer.kind === "langevin");
}

/** Mark the control a core error message names (`invalid config field `x``). */
export function markInvalid(message) {
  document.querySelectorAll("#setup [aria-invalid]").forEach((e) => { if (!invalid.has(e.id)) e.removeAttribute("aria-invalid"); });
  const m = /field `([^`]+)`/.exec(message || "");
  if (!m) return;
  const field = m[1].replace(/^(train|base)\./, "");
  const all = controls();
  const hit = all.find((e) => e.dataset.path === field)
    || all.find((e) => field.startsWith(e.dataset.path + ".") || field.startsWith(e.dataset.path + "["))
    || (field === "model.width" ? $("f-widths") : null);
  if (hit) hit.setAttribute("aria-invalid", "true");
}

/** The first invalid control's message, or "". */
export function firstInvalid() {
  return invalid.size ? [...invalid.values()][0] : "";
}
