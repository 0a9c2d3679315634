// What the panels share: DOM helpers, the panel layout (figures on the left, the
// panel's own values and the setup on the right), panel values kept in the state's
// `vars`, and small config builders.

export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text; // text only, never HTML
  return e;
}

export function numbers(text) {
  return String(text).split(/[,\s]+/).filter((s) => s !== "").map(Number);
}

/** The layout of a panel: `{main, side}`. `caption` is the one line under the title
 * that says what the figure shows; `note` the longer explanation under the figures. */
export function layout(sec, { title, caption, note, setup = true }) {
  const grid = el("div", { class: "panel-grid" });
  const main = el("div", { class: "panel-main" });
  const side = el("aside", { class: "panel-side" });
  main.append(el("h2", {}, title));
  if (caption) main.append(el("p", { class: "caption" }, caption));
  grid.append(main, side);
  sec.append(grid);
  if (setup) {
    const d = el("details", { class: "setup-details" });
    d.append(el("summary", {}, "Setup: data, network, parameterisation, optimiser"), el("div", { class: "setup-slot" }));
    side.append(d);
  }
  if (note) main.dataset.note = note;
  return { main, side };
}

/** Append the panel's explanation (kept for after its figures). */
export function finishLayout(main) {
  if (main.dataset.note) main.append(el("p", { class: "note" }, main.dataset.note));
}

export function figureHost(parent, name) {
  const d = el("div", { class: "figure", "data-figure": name });
  parent.append(d);
  return d;
}

/** A labelled text input for a panel value, kept in `state.vars[name]` (the link keeps
 * it); `help` is its tooltip. */
export function varsInput(parent, ctx, name, label, fallback, help) {
  const lab = el("label", {}, label + " ");
  const inp = el("input", { id: `v-${name}`, type: "text", inputmode: "decimal", title: help });
  inp.value = ctx.state.vars[name] ?? fallback;
  inp.dataset.fallback = fallback;
  lab.append(inp);
  parent.append(lab);
  return inp;
}

/** A labelled select for a panel value. */
export function varsSelect(parent, ctx, name, label, options, help) {
  const lab = el("label", {}, label + " ");
  const sel = el("select", { id: `v-${name}`, title: help });
  for (const [v, t] of options) sel.append(el("option", { value: v }, t));
  sel.dataset.fallback = options[0][0];
  if (ctx.state.vars[name] !== undefined) sel.value = ctx.state.vars[name];
  lab.append(sel);
  parent.append(lab);
  return sel;
}

/** A panel value: the state's, else the input's default. */
export function varValue(ctx, name) {
  const e = document.getElementById(`v-${name}`);
  return ctx.state.vars[name] ?? e?.dataset.fallback ?? "";
}

/** A list of numbers from a panel value; throws naming the field when invalid. */
export function readList(ctx, name, { min = 0, max = Infinity, count = 16, integer = false, field = "values" } = {}) {
  const vals = numbers(varValue(ctx, name));
  if (!vals.length || vals.length > count || vals.some((v) => !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))) {
    throw new Error(`invalid field \`${field}\`: expected 1 to ${count} numbers in ${min}..${max}${integer ? " (whole numbers)" : ""}`);
  }
  return vals;
}

/** A train config at a given width (and other overrides). */
export function atWidth(base, width, patch = {}) {
  const c = structuredClone(base);
  c.model = Object.assign({}, c.model, { width });
  return Object.assign(c, patch);
}

export function withObserve(c, obs) {
  c.observe = Object.assign({}, c.observe, obs);
  return c;
}

export function setLr(c, lr) {
  c.optimizer = Object.assign({}, c.optimizer, { lr });
  return c;
}

/** Which infinite-width limits describe this training config, as the core says
 * (`limits_of`): `{dmft, lazy}`, each null when it applies, else why not in words
 * ("set model.centered to true: ..."). */
export function limitsOf(core, c) {
  const r = JSON.parse(core.limits_of(JSON.stringify(c)));
  const why = (e) => (!e ? null : e.field ? `set ${e.field} to ${e.expected}` : e.message);
  return { dmft: why(r.dmft), lazy: why(r.lazy) };
}

/** A theory config (dmft, lazy) of kind `kind` for a train config: the fields they
 * share keep their names, nested train configs carry no tag. */
export function theoryConfig(core, kind, train) {
  const def = JSON.parse(core.default_config(kind));
  const { kind: _k, ...plain } = structuredClone(train);
  for (const k of Object.keys(def)) if (k !== "kind" && k in train) def[k] = structuredClone(train[k]);
  if ("train" in def && typeof def.train === "object") def.train = plain;
  if ("base" in def && typeof def.base === "object") def.base = plain;
  return def;
}

/** Diverged seeds of a train record, as a sentence part ("N=64: 4 of 4 seeds at step 3"). */
export function divergedWords(tag, diverged) {
  const at = diverged.filter((d) => d !== null && d !== undefined);
  if (!at.length) return null;
  const first = Math.min(...at);
  return `${tag}: ${at.length} of ${diverged.length} seed${diverged.length > 1 ? "s" : ""} diverged at step ${first}${at.some((d) => d !== first) ? "+" : ""}`;
}
