// The setup form <-> a `train` RunConfig. The config (plus the list of widths to run)
// is the page's whole state; it travels in the link.

const $ = (id) => document.getElementById(id);

function num(id, fallback) {
  const v = Number($(id).value);
  return $(id).value === "" || !Number.isFinite(v) ? fallback : v;
}

function list(text) {
  return String(text).split(/[,\s]+/).filter((s) => s !== "").map(Number);
}

/** Widths typed in the form (invalid entries are kept, so validation names them). */
export function formWidths() {
  return list($("f-widths").value);
}

/** Build a train RunConfig from the form, starting from `base` (keeps unknown fields). */
export function formToConfig(base, csvText) {
  const cfg = structuredClone(base);
  cfg.kind = "train";
  const task = $("f-task").value;
  const train = num("f-train", 16), test = num("f-test", 64);
  const old = cfg.data || {};
  const seed = old.seed ?? 0;
  switch (task) {
    case "teacher":
      cfg.data = { task, teacher: old.teacher || "linear", dim: num("f-dim", 16), train, test, noise: old.noise ?? 0, seed };
      break;
    case "sine": case "spirals":
      cfg.data = { task, train, test, noise: old.noise ?? 0, seed };
      break;
    case "digits":
      cfg.data = { task, train, test, classes: old.classes || [], seed };
      break;
    case "csv":
      cfg.data = { task, text: csvText ?? old.text ?? "", test_fraction: old.test_fraction ?? 0.2, seed };
      if (old.target) cfg.data.target = old.target;
      break;
    default:
      cfg.data = old;
  }
  const widths = formWidths();
  cfg.model = Object.assign({}, cfg.model, {
    arch: $("f-arch").value,
    width: widths.length ? widths[widths.length - 1] : 0,
    depth: num("f-depth", 1),
    activation: $("f-activation").value,
    centered: $("f-centered").checked,
  });
  const p = $("f-param").value;
  const gamma0 = num("f-gamma0", 1);
  if (p === "sp") cfg.param = { kind: "sp" };
  else if (p === "abc") {
    cfg.param = { kind: "abc", a: list($("f-a").value), b: list($("f-b").value), c: num("f-c", 0), gamma0, depth_alpha: (base.param && base.param.depth_alpha) || 0 };
  } else cfg.param = { kind: p, gamma0 };
  const o = $("f-opt").value, lr = num("f-lr", 0.5);
  if (o === "gd") cfg.optimizer = { kind: o, lr };
  else if (o === "sgd") cfg.optimizer = { kind: o, lr, batch_size: num("f-batch", 8) };
  else if (o === "adam") cfg.optimizer = { kind: o, lr };
  else cfg.optimizer = { kind: o, lr, temperature: num("f-temp", 0.01) };
  cfg.steps = num("f-steps", 100);
  cfg.seeds = num("f-seeds", 4);
  cfg.seed = num("f-seed", 0);
  return cfg;
}

/** Put a train config (and the widths) into the form. */
export function configToForm(cfg, widths) {
  const d = cfg.data || {};
  $("f-task").value = d.task || "teacher";
  $("f-train").value = d.train ?? "";
  $("f-test").value = d.test ?? "";
  $("f-dim").value = d.dim ?? 16;
  const m = cfg.model || {};
  $("f-arch").value = m.arch || "mlp";
  $("f-widths").value = (widths && widths.length ? widths : [m.width]).join(", ");
  $("f-depth").value = m.depth ?? 1;
  $("f-activation").value = m.activation || "relu";
  $("f-centered").checked = !!m.centered;
  const p = cfg.param || { kind: "mup" };
  $("f-param").value = p.kind;
  $("f-gamma0").value = p.gamma0 ?? 1;
  $("f-a").value = (p.a || []).join(", ");
  $("f-b").value = (p.b || []).join(", ");
  $("f-c").value = p.c ?? 0;
  const o = cfg.optimizer || { kind: "gd", lr: 0.5 };
  $("f-opt").value = o.kind;
  $("f-lr").value = o.lr;
  $("f-batch").value = o.batch_size ?? 8;
  $("f-temp").value = o.temperature ?? 0.01;
  $("f-steps").value = cfg.steps;
  $("f-seeds").value = cfg.seeds;
  $("f-seed").value = cfg.seed;
  syncVisibility();
}

/** Show only the fields that apply to the chosen task, parameterisation and optimiser. */
export function syncVisibility() {
  const show = (sel, on) => document.querySelectorAll(sel).forEach((e) => { e.hidden = !on; });
  show(".csv-only", $("f-task").value === "csv");
  show(".abc-only", $("f-param").value === "abc");
  show(".sgd-only", $("f-opt").value === "sgd");
  show(".langevin-only", $("f-opt").value === "langevin");
  $("f-dim").closest("label").hidden = $("f-task").value !== "teacher";
}

/** Mark the form control that a core error message names (`invalid config field `x``). */
export function markInvalid(message) {
  document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const m = /field `([^`]+)`/.exec(message || "");
  if (!m) return;
  const map = {
    "model.width": "f-widths", "model.depth": "f-depth", "steps": "f-steps", "seeds": "f-seeds",
    "data.train": "f-train", "data.test": "f-test", "data.dim": "f-dim", "optimizer.lr": "f-lr",
    "param.gamma0": "f-gamma0", "param.a": "f-a", "param.b": "f-b", "param.c": "f-c",
    "optimizer.batch_size": "f-batch", "optimizer.temperature": "f-temp",
  };
  const id = map[m[1]] || Object.entries(map).find(([k]) => m[1].startsWith(k))?.[1];
  if (id) $(id).setAttribute("aria-invalid", "true");
}
