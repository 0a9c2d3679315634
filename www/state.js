// The page's one state, after tensorflow/playground's `State`: every setting lives here,
// controls patch it, and the link (URL fragment) is made from it alone. Nothing here
// touches the DOM; the core (the wasm binding) is passed in where it is needed.
//
// Fragment: `c=1.<payload>&p=<panel>&w=<widths>&v=<panel values as JSON>`, where
// `c` is the core's link format (src/link.rs) of the panel's config: the setup's `train`
// config on every panel but Engines, whose config may be of any kind.

/** Panels the page has (ids). Set once by the panel registry at start-up. */
export const PANEL_IDS = [];

/** Widths: at most this many, each in 1..=max_width. */
export const MAX_WIDTHS = 12;

/**
 * @typedef {object} State
 * @property {string} panel       the open panel's id ("train", "transfer", ...)
 * @property {object} train       the setup's `train` RunConfig: every field, whether or not
 *                                it has a control (the advanced view shows them all)
 * @property {number[]} widths    the widths the training panels run (train.model.width is
 *                                the largest)
 * @property {object|null} engine the Engines panel's RunConfig (any kind), or null
 * @property {Object<string,string>} vars  panel values, by input name ("transfer",
 *                                "transfer-axis", ...): the text typed, as the link keeps it
 */

/** The landing state: the core's default `train` config with a centred output (so its
 * infinite-width limits apply and are drawn), a linear teacher in D = 4 dimensions (16
 * training points > D, so the test loss falls too: the networks generalise), 100 steps,
 * three widths. */
export function initialState(core) {
  const train = JSON.parse(core.default_config("train"));
  train.steps = 100;
  train.model.centered = true;
  if (train.data.task === "teacher") train.data.dim = 4;
  return { panel: "train", train, widths: [64, 256, 1024], engine: null, vars: {} };
}

/** The config the link carries for the open panel. */
export function linkedConfig(state) {
  return state.panel === "engines" && state.engine ? state.engine : state.train;
}

/** Panel values that belong to `panel` (their names start with the panel id). */
function panelVars(state) {
  return Object.fromEntries(Object.entries(state.vars)
    .filter(([k]) => k === state.panel || k.startsWith(state.panel + "-")));
}

/** The fragment of a state (throws the core's message if its config is invalid). */
export function toFragment(state, core) {
  const parts = [core.encode_link(JSON.stringify(linkedConfig(state)))];
  if (state.panel !== "train") parts.push(`p=${state.panel}`);
  parts.push(`w=${state.widths.join(",")}`);
  const v = panelVars(state);
  if (Object.keys(v).length) parts.push(`v=${encodeURIComponent(JSON.stringify(v))}`);
  return parts.join("&");
}

/** Split a fragment into its `key=value` parts (first occurrence wins). */
function parts(hash) {
  const kv = new Map();
  for (const p of hash.replace(/^#/, "").split("&")) {
    if (!p) continue;
    const i = p.indexOf("=");
    const [k, v] = i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)];
    if (!kv.has(k)) kv.set(k, v);
  }
  return kv;
}

/** Widths from text ("64, 256"): `{widths}` or `{error}` naming the field. */
export function parseWidths(text, maxWidth = 65536) {
  const w = String(text).split(/[,\s]+/).filter((s) => s !== "").map(Number);
  if (!w.length || w.some((x) => !Number.isInteger(x) || x < 1 || x > maxWidth)) {
    return { error: `invalid config field \`model.width\`: expected widths as whole numbers in 1..=${maxWidth}, separated by commas` };
  }
  if (w.length > MAX_WIDTHS) return { error: `invalid config field \`model.width\`: expected at most ${MAX_WIDTHS} widths` };
  return { widths: w };
}

/**
 * Apply a fragment on top of `state`: returns `{state, problems, hasConfig}`. Every
 * valid part is kept; each part that cannot be used is named in `problems` (the core's
 * message for the config) and leaves the state's value as it was.
 */
export function fromFragment(hash, state, core) {
  const next = structuredClone(state);
  const problems = [];
  const kept = []; // the parts besides the experiment that were applied
  const kv = parts(hash);
  const known = new Set(["c", "p", "w", "v"]);
  const unknown = [...kv.keys()].filter((k) => !known.has(k));
  if (!kv.has("c") && unknown.length) {
    problems.push(`link: expected \`#c=1.…\` (an experiment), found \`${hash.replace(/^#/, "").slice(0, 40)}\``);
  }
  if (kv.has("w")) {
    const r = parseWidths(kv.get("w").replace(/%2C/gi, ","));
    if (r.error) problems.push(`link part \`w\`: ${r.error}`); else { next.widths = r.widths; kept.push("widths"); }
  }
  if (kv.has("p")) {
    const p = kv.get("p");
    if (PANEL_IDS.includes(p)) { next.panel = p; kept.push("panel"); }
    else problems.push(`link part \`p\`: no panel named \`${p.slice(0, 40)}\` (expected one of ${PANEL_IDS.join(", ")})`);
  }
  if (kv.has("v")) {
    let v;
    try { v = JSON.parse(decodeURIComponent(kv.get("v"))); } catch { v = null; }
    if (!v || typeof v !== "object" || Array.isArray(v)) problems.push("link part `v`: expected panel values as a JSON object");
    else {
      for (const [k, val] of Object.entries(v)) {
        if (typeof val === "string" && val.length < 500 && /^[a-z0-9-]+$/.test(k)) { next.vars[k] = val; if (!kept.includes("panel values")) kept.push("panel values"); }
        else problems.push(`link part \`v\`: value \`${String(k).slice(0, 40)}\` is not a short text`);
      }
    }
  }
  if (!kv.has("c")) return { state: next, problems, hasConfig: false, kept };
  const link = "c=" + kv.get("c");
  let cfg = null;
  try {
    cfg = JSON.parse(core.decode_link(link));
  } catch (e) {
    let raw = null;
    try { raw = JSON.parse(core.decode_link_value(link)); } catch { raw = null; }
    if (raw) {
      // the payload is readable: keep its valid fields on top of the current config of
      // its kind, and name each field that could not be used
      const current = raw.kind === undefined || raw.kind === "train" ? next.train : (next.engine || next.train);
      try {
        const opened = JSON.parse(core.open_link(link, JSON.stringify(current)));
        cfg = opened.config;
        problems.push(...(opened.problems.length ? opened.problems : [String(e.message || e)]).map((m) => `link: ${m}`));
      } catch (e2) {
        problems.push(`link: ${String(e2.message || e2)}`);
      }
    } else {
      // truncated, wrong version, not base64: nothing in it can be trusted
      problems.push(String(e.message || e));
    }
  }
  if (cfg) {
    if (cfg.kind === "train") {
      next.train = cfg;
      if (!kv.has("w")) next.widths = [cfg.model.width]; // (the config itself is kept as it is)
      if (next.panel === "engines") next.engine = cfg;
    } else {
      next.engine = cfg;
      next.panel = "engines";
    }
  }
  return { state: next, problems, hasConfig: !!cfg, kept };
}

/** Set a dotted path of `obj` ("optimizer.lr") to `value`, creating objects on the way. */
export function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

/** Read a dotted path of `obj` (undefined where it is missing). */
export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}
