// The abc-parameterisation explorer's analysis (Yang & Hu 2021, in this crate's
// convention): weight matrix l (input l = 0, readout l = L) is N^{-a_l} W with
// W ~ N(0, N^{-2 b_l}), trained at rate eta N^{-c}. Only two combinations per layer
// matter (the rest is the symmetry a -> a + t, b -> b - t, c -> c - 2t):
//   init scale   a_l + b_l           (how big the effective weights start)
//   update scale 2 a_l + c           (how big one step moves the effective weights)
// With the input fan-in fixed, the theory's conditions read
//   stable at init:    a_0 + b_0 = 0, a_l + b_l = 1/2 (hidden), a_L + b_L >= 1/2
//   r := min(a_L + b_L, 2 a_L + c) + min_{l < L}(2 a_l + c + [l = 0]) - 1
//   stable training:   r >= 0
//   function learning: nontrivial, a_L + b_L + r = 1 or 2 a_L + c = 1
//   feature learning:  r = 0 (features move by Theta(1)); r > 0 is the kernel regime.

const EPS = 1e-9;
const eq = (x, y) => Math.abs(x - y) < EPS;

/** Analyse exponents a[], b[] (one per weight matrix) and c. */
export function analyse(a, b, c) {
  const n = a.length;
  if (n < 2 || b.length !== n || ![...a, ...b, c].every(Number.isFinite)) {
    return { error: `need the same number (at least 2) of a and b exponents, got ${a.length} and ${b.length}` };
  }
  const L = n - 1;
  const init = a.map((x, l) => x + b[l]);
  const upd = a.map((x) => 2 * x + c);
  const hiddenOk = init.slice(1, L).every((v) => eq(v, 0.5));
  const stableInit = eq(init[0], 0) && hiddenOk && init[L] >= 0.5 - EPS;
  let inner = Infinity;
  for (let l = 0; l < L; l++) inner = Math.min(inner, upd[l] + (l === 0 ? 1 : 0));
  const r = Math.min(init[L], upd[L]) + inner - 1;
  const stableTrain = stableInit && r >= -EPS;
  const nontrivial = stableTrain && (eq(init[L] + r, 1) || eq(upd[L], 1));
  const feature = nontrivial && eq(r, 0);
  return {
    r, init, upd,
    constraints: [
      { name: "Stable forward and backward passes (activations and gradients O(1) at init)", ok: stableInit,
        detail: stableInit ? (stableTrain ? `and updates stay bounded (r = ${fmt(r)} >= 0)` : `but a width-independent step blows up as N grows (r = ${fmt(r)} < 0)`) : "init scales must be a0+b0 = 0, hidden a+b = 1/2, readout a+b >= 1/2" },
      { name: "Function learning (the output moves by Theta(1): df/dt = Theta(1))", ok: nontrivial,
        detail: nontrivial ? "readout condition met" : "the output does not move at order one" },
      { name: "Feature learning (hidden features move by Theta(1): dh/dt = Theta(1))", ok: feature,
        detail: feature ? "r = 0" : (nontrivial ? `r = ${fmt(r)} > 0: kernel (lazy) regime` : "needs the two above and r = 0") },
    ],
    known: identify(init, upd, r),
  };
}

function fmt(x) { return String(+x.toFixed(4)); }

/** Which named parameterisation these invariants are (up to the abc symmetry). */
function identify(init, upd, r) {
  const L = init.length - 1;
  const same = (i0, ih, iL, u0, uh, uL) =>
    eq(init[0], i0) && init.slice(1, L).every((v) => eq(v, ih)) && eq(init[L], iL) &&
    eq(upd[0], u0) && upd.slice(1, L).every((v) => eq(v, uh)) && eq(upd[L], uL);
  if (same(0, 0.5, 1, -1, 0, 1)) return "µP / mean field (maximal feature learning)";
  if (same(0, 0.5, 0.5, 0, 1, 1)) return "NTK parameterisation (kernel regime)";
  if (same(0, 0.5, 0.5, 0, 0, 0)) return "standard parameterisation with a width-independent learning rate (unstable as N grows)";
  if (same(0, 0.5, 0.5, 1, 1, 1)) return "standard parameterisation with learning rate ~ 1/N (kernel regime)";
  if (r === 0) return "a feature-learning parameterisation (not one of the named presets)";
  return "not one of the named parameterisations";
}

/** Exponents of the named presets for `n` weight matrices (this crate's convention). */
export function presetExponents(name, n) {
  const mk = (ah, aL, bRest, c) => {
    const a = new Array(n).fill(ah); a[0] = 0; a[n - 1] = aL;
    const b = new Array(n).fill(bRest); b[0] = 0;
    return { a, b, c };
  };
  switch (name) {
    case "sp": return mk(0, 0, 0.5, 0);
    case "ntk": return mk(0.5, 0.5, 0, 0);
    case "mup": return mk(0.5, 1, 0, -1);
    default: return mk(0.5, 1, 0, -1);
  }
}
