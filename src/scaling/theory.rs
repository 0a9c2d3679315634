//! The DMFT of the random-feature model in the Laplace domain (docs/theory.md section
//! 7.2): the loss curves `L(t, N, P)` of gradient flow, train and test, and their
//! limits as `t -> infinity`.
//!
//! At a frequency `s` every mode `k` is learned through the transfer function
//! `H_k(s) = 1 / (s + lambda_k R(s))`, with `R = R_1 R_2` the product of the data (`P`)
//! and model (`N`) response functions:
//!
//! ```text
//! x(s) = sum_k lambda_k R / (s + lambda_k R),    R_1 = 1 - x / P,   R_2 = 1 - x / N,   R = R_1 R_2
//! ```
//!
//! (one complex equation in `R`, solved by Newton). The losses need two frequencies:
//! with `rho_i = R_i(s) R_i(s')` and the mode sums `a_m = sum lambda^m H H'`,
//! `b_m = sum lambda^m w*^2 H H'`, `e = s s' a_1`, the test loss `L(s, s')` and a
//! gradient correlation `G(s, s')` solve the 2x2 system
//!
//! ```text
//! L = b_1 + (rho_1 rho_2 a_2 / P) L + (rho_2 a_1 / N) G
//! G = rho_1 b_2 + (rho_1 e / P) L + (rho_1 rho_2 a_2 / N) G,          train loss = rho_1 L
//! ```
//!
//! and `L(t) = L(t, t)` by the two-variable Talbot rule. Every two-frequency sum is a
//! difference of one-frequency sums (partial fractions in `lambda_k`),
//! `H_k(s) H_k(s') = [R H_k(s) - R' H_k(s')] / (R s' - R' s)`, so a time point costs
//! `O(n modes)` and not `O(n^2 modes)`.

use super::complex::C64;
use super::spectrum::Node;
use super::talbot;
use crate::error::{Error, Result};

/// `1 / N` and `1 / P` of a model (0 for an infinite width or infinite data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizes {
    pub inv_n: f64,
    pub inv_p: f64,
}

impl Sizes {
    /// From `N` and `P`, `None` meaning infinite.
    pub fn new(width: Option<usize>, samples: Option<usize>) -> Self {
        let inv = |x: Option<usize>| x.map_or(0.0, |v| 1.0 / v as f64);
        Sizes {
            inv_n: inv(width),
            inv_p: inv(samples),
        }
    }
}

/// The one-frequency quantities at `s`.
#[derive(Clone, Debug, Default)]
struct Point {
    s: C64,
    r1: C64,
    r2: C64,
    r: C64,
    /// `sum lambda H`, `sum lambda^2 H`, `sum p H`, `sum lambda p H`.
    single: [C64; 4],
    /// The same sums with `H^2` (for pairs of equal frequencies).
    squared: [C64; 4],
    /// `H_k(s)` of every node (for pairs whose partial fractions would cancel).
    h: Vec<C64>,
}

impl Point {
    fn conj(&self) -> Point {
        let c = |a: [C64; 4]| a.map(C64::conj);
        Point {
            s: self.s.conj(),
            r1: self.r1.conj(),
            r2: self.r2.conj(),
            r: self.r.conj(),
            single: c(self.single),
            squared: c(self.squared),
            h: self.h.iter().map(|x| x.conj()).collect(),
        }
    }
}

/// `x(R) = sum w lambda R / (s + lambda R)` and `dx/dR = s sum w lambda / (s + lambda R)^2`.
fn dof(nodes: &[Node], s: C64, r: C64) -> (C64, C64) {
    let (mut x, mut dx) = (C64::ZERO, C64::ZERO);
    for n in nodes {
        let h = (s + r * n.lambda).recip();
        let lw = n.lambda * n.weight;
        x += h * r * lw;
        dx += h * h * lw;
    }
    (x, dx * s)
}

/// Solve `R = (1 - x/P)(1 - x/N)` at `s` by Newton from `guess` (with step halving).
fn solve_r(nodes: &[Node], sz: Sizes, s: C64, guess: C64) -> Result<C64> {
    let resid = |r: C64| -> (C64, C64) {
        let (x, dx) = dof(nodes, s, r);
        let a = C64::ONE - x * sz.inv_p;
        let b = C64::ONE - x * sz.inv_n;
        let f = r - a * b;
        let df = C64::ONE + dx * (b * sz.inv_p + a * sz.inv_n);
        (f, df)
    };
    if sz.inv_n == 0.0 && sz.inv_p == 0.0 {
        return Ok(C64::ONE);
    }
    let mut r = guess;
    let (mut f, mut df) = resid(r);
    for _ in 0..200 {
        let scale = r.abs().max(1e-300);
        if f.abs() <= 1e-14 * scale.max(1e-12) {
            return Ok(r);
        }
        let step = f / df;
        let mut lam = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let cand = r - step * lam;
            let (f2, df2) = resid(cand);
            if f2.is_finite() && f2.abs() < f.abs() {
                r = cand;
                f = f2;
                df = df2;
                accepted = true;
                break;
            }
            lam *= 0.5;
        }
        if !accepted {
            // no descent: converged as far as rounding allows
            if f.abs() <= 1e-9 * scale {
                return Ok(r);
            }
            break;
        }
    }
    if f.abs() <= 1e-9 * r.abs() {
        return Ok(r);
    }
    Err(Error::Numerical(format!(
        "the response function R did not converge at s = {:.3e}{:+.3e}i",
        s.re, s.im
    )))
}

/// `R` at a real `s > 0`, where it is real in `(0, 1]` with `R_1, R_2 > 0`: the root of
/// `R - (1 - x/P)(1 - x/N)`, which rises from -1 at `R = 0`, by bisection.
fn solve_r_real(nodes: &[Node], sz: Sizes, s: f64) -> C64 {
    let x = |r: f64| {
        nodes
            .iter()
            .map(|n| n.weight * n.lambda * r / (s + n.lambda * r))
            .sum::<f64>()
    };
    let g = |r: f64| {
        let xv = x(r);
        let (a, b) = (
            (1.0 - xv * sz.inv_p).max(0.0),
            (1.0 - xv * sz.inv_n).max(0.0),
        );
        r - a * b
    };
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-16 * hi {
            break;
        }
    }
    C64::real(0.5 * (lo + hi))
}

/// `R` at `s`, by Newton from `from` (the solution at `s_from`), continuing along the
/// segment in smaller steps when a direct step fails.
fn solve_r_from(nodes: &[Node], sz: Sizes, s_from: C64, from: C64, s: C64) -> Result<C64> {
    if let Ok(r) = solve_r(nodes, sz, s, from) {
        return Ok(r);
    }
    let steps = 16;
    let mut r = from;
    for i in 1..=steps {
        let si = s_from + (s - s_from) * (i as f64 / steps as f64);
        r = solve_r(nodes, sz, si, r)?;
    }
    Ok(r)
}

fn point(nodes: &[Node], sz: Sizes, s: C64, r: C64) -> Point {
    let (x, _) = dof(nodes, s, r);
    let mut single = [C64::ZERO; 4];
    let mut squared = [C64::ZERO; 4];
    let mut hs = Vec::with_capacity(nodes.len());
    for n in nodes {
        let h = (s + r * n.lambda).recip();
        let h2 = h * h;
        for (i, c) in weights(n).into_iter().enumerate() {
            single[i] += h * c;
            squared[i] += h2 * c;
        }
        hs.push(h);
    }
    Point {
        s,
        r1: C64::ONE - x * sz.inv_p,
        r2: C64::ONE - x * sz.inv_n,
        r,
        single,
        squared,
        h: hs,
    }
}

/// The weights of the four mode sums: `lambda`, `lambda^2`, `p`, `lambda p` (times the
/// node's mode count).
fn weights(n: &Node) -> [f64; 4] {
    [
        n.lambda * n.weight,
        n.lambda * n.lambda * n.weight,
        n.power * n.weight,
        n.lambda * n.power * n.weight,
    ]
}

/// `(test, train)` of the two-frequency system at points `p` (left) and `q` (right).
fn pair(nodes: &[Node], p: &Point, q: &Point, same: bool, sz: Sizes) -> (C64, C64) {
    // sum c H(s) H(s') for each weight c: by partial fractions, unless they cancel (late
    // times, where R(s) / s hardly changes along the contour), then node by node
    let den = p.r * q.s - q.r * p.s;
    let sums: [C64; 4] = if same {
        p.squared
    } else if den.abs() > 1e-3 * (p.r * q.s).abs() {
        let inv = den.recip();
        std::array::from_fn(|i| (p.r * p.single[i] - q.r * q.single[i]) * inv)
    } else {
        let mut acc = [C64::ZERO; 4];
        for ((n, hp), hq) in nodes.iter().zip(&p.h).zip(&q.h) {
            let hh = *hp * *hq;
            for (a, c) in acc.iter_mut().zip(weights(n)) {
                *a += hh * c;
            }
        }
        acc
    };
    let [a1, a2, b1, b2] = sums;
    let e = p.s * q.s * a1;
    let rho1 = p.r1 * q.r1;
    let rho2 = p.r2 * q.r2;
    let m11 = C64::ONE - a2 * rho1 * rho2 * sz.inv_p;
    let m12 = -(a1 * rho2 * sz.inv_n);
    let m21 = -(e * rho1 * sz.inv_p);
    let m22 = C64::ONE - a2 * rho1 * rho2 * sz.inv_n;
    let (y1, y2) = (b1, rho1 * b2);
    let det = m11 * m22 - m12 * m21;
    let test = (y1 * m22 - m12 * y2) / det;
    (test, rho1 * test)
}

/// Test and train loss at the times `t` (each > 0) of gradient flow with `1/N`, `1/P`
/// as in `sz`: the double Talbot inversion of the 2x2 system.
pub fn losses(nodes: &[Node], sz: Sizes, times: &[f64]) -> Result<Vec<(f64, f64)>> {
    let n = talbot::NODES;
    let mut out = Vec::with_capacity(times.len());
    for &t in times {
        if t <= 0.0 {
            let l0: f64 = nodes.iter().map(|n| n.weight * n.power).sum();
            out.push((l0, l0));
            continue;
        }
        let contour = talbot::contour(t, n);
        let w0 = contour[0].1.abs();
        let mut pts: Vec<Option<Point>> = Vec::with_capacity(n);
        let (mut prev_s, mut prev_r) = (contour[0].0, C64::ONE);
        for (k, (s, w)) in contour.iter().enumerate() {
            // nodes whose weight is below 1e-30 of the first carry nothing
            if w.abs() < 1e-30 * w0 {
                pts.push(None);
                continue;
            }
            // the real node by bisection, the others continued along the contour
            let r = if k == 0 {
                solve_r_real(nodes, sz, s.re)
            } else {
                solve_r_from(nodes, sz, prev_s, prev_r, *s)?
            };
            (prev_s, prev_r) = (*s, r);
            pts.push(Some(point(nodes, sz, *s, r)));
        }
        let weights: Vec<C64> = contour
            .iter()
            .zip(&pts)
            .map(|((_, w), p)| if p.is_some() { *w } else { C64::ZERO })
            .collect();
        // every node and its conjugate, indexed k + n - 1 for k in -(n-1)..n
        let full: Vec<Option<Point>> = (-(n as isize - 1)..n as isize)
            .map(|k| {
                let p = pts[k.unsigned_abs()].as_ref()?;
                Some(if k >= 0 { p.clone() } else { p.conj() })
            })
            .collect();
        let at = |k: isize| full[(k + n as isize - 1) as usize].as_ref();
        let cols = 2 * n - 1;
        let mut table = vec![(C64::ZERO, C64::ZERO); n * cols];
        for k in 0..n as isize {
            for k2 in -(n as isize - 1)..n as isize {
                if let (Some(p), Some(q)) = (at(k), at(k2)) {
                    table[k as usize * cols + (k2 + n as isize - 1) as usize] =
                        pair(nodes, p, q, k == k2, sz);
                }
            }
        }
        let value = |k: isize, k2: isize, train: bool| -> C64 {
            let (te, tr) = table[k as usize * cols + (k2 + n as isize - 1) as usize];
            if train { tr } else { te }
        };
        let test = talbot::invert_diagonal(&weights, |k, k2| value(k, k2, false));
        let train = talbot::invert_diagonal(&weights, |k, k2| value(k, k2, true));
        if !(test.is_finite() && train.is_finite()) {
            return Err(Error::Numerical(format!(
                "the loss is not finite at t = {t}"
            )));
        }
        out.push((test, train));
    }
    Ok(out)
}

/// The loss of `N = P = infinity`: every mode decays at its own rate,
/// `L(t) = sum_k p_k e^{-2 lambda_k t}`.
pub fn infinite_loss(nodes: &[Node], t: f64) -> f64 {
    nodes
        .iter()
        .map(|n| n.weight * n.power * (-2.0 * n.lambda * t).exp())
        .sum()
}

/// `(test, train)` as `t -> infinity` (docs/theory.md section 7.3): with
/// `m = min(N, P) < M`, `kappa` solves `sum_k lambda_k / (kappa + lambda_k) = m` and
///
/// ```text
/// [1 - A_2/P        -A_1/N ] [L]   [B_1]     A_1 = sum lambda/(kappa+lambda)^2,  A_2 = sum lambda^2/(kappa+lambda)^2
/// [-kappa^2 A_1/P   1 - A_2/N] [g] = [B_2]     B_1 = sum p kappa^2/(kappa+lambda)^2, B_2 = sum lambda p kappa^2/(kappa+lambda)^2
/// ```
///
/// The train loss is `(1 - N/P)^2 L` when `N < P`, else 0 (the data are interpolated).
/// With `m >= M` both are 0; with `N = P < M` the test loss diverges (infinity).
pub fn final_losses(nodes: &[Node], sz: Sizes) -> (f64, f64) {
    let total: f64 = nodes.iter().map(|n| n.weight).sum();
    let inv_min = sz.inv_n.max(sz.inv_p);
    if inv_min == 0.0 || 1.0 / inv_min >= total * (1.0 - 1e-12) {
        return (0.0, 0.0);
    }
    let m = 1.0 / inv_min;
    // sum lambda / (kappa + lambda) falls from M to 0 as kappa grows: bisect in ln kappa
    let count = |k: f64| {
        nodes
            .iter()
            .map(|n| n.weight * n.lambda / (k + n.lambda))
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (-300.0_f64, 50.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if count(mid.exp()) > m {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let kappa = (0.5 * (lo + hi)).exp();
    let (mut a1, mut a2, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0);
    for n in nodes {
        let d = 1.0 / (kappa + n.lambda);
        let d2 = d * d * n.weight;
        a1 += n.lambda * d2;
        a2 += n.lambda * n.lambda * d2;
        b1 += n.power * kappa * kappa * d2;
        b2 += n.lambda * n.power * kappa * kappa * d2;
    }
    let m11 = 1.0 - a2 * sz.inv_p;
    let m12 = -a1 * sz.inv_n;
    let m21 = -kappa * kappa * a1 * sz.inv_p;
    let m22 = 1.0 - a2 * sz.inv_n;
    let det = m11 * m22 - m12 * m21;
    if det <= 1e-14 {
        return (f64::INFINITY, 0.0);
    }
    let test = (b1 * m22 - m12 * b2) / det;
    let train = if sz.inv_n > sz.inv_p {
        let q = 1.0 - sz.inv_p / sz.inv_n;
        q * q * test
    } else {
        0.0
    };
    (test, train)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::spectrum::Spectrum;

    fn spec() -> Spectrum {
        Spectrum {
            alpha: 1.5,
            beta: 0.6,
            modes: 2000,
        }
    }

    /// With `N = P = infinity` the Talbot solution equals `sum p e^{-2 lambda t}` to
    /// 1e-8 relative (the rule's accuracy).
    #[test]
    fn infinite_model_matches_the_closed_form() {
        let nodes = spec().nodes();
        let times = [0.1, 1.0, 10.0, 100.0, 1e4];
        let got = losses(&nodes, Sizes::new(None, None), &times).unwrap();
        for (t, (te, tr)) in times.iter().zip(got) {
            let want = infinite_loss(&nodes, *t);
            assert!(((te - want) / want).abs() < 1e-8, "t={t}: {te} vs {want}");
            assert!(((tr - want) / want).abs() < 1e-8);
        }
    }

    /// Long after every nonzero rate has acted, the curves reach the static limit:
    /// `L(t = 1e9)` equals [`final_losses`] to 1e-6 relative, for a model bottleneck
    /// (`N < P`), a data bottleneck (`P < N`) and kernel regression (`N = infinity`,
    /// the classic `E_g = B_1 / (1 - gamma)` of ridgeless regression).
    #[test]
    fn late_time_reaches_the_static_limit() {
        let s = Spectrum {
            modes: 300,
            ..spec()
        };
        let nodes = s.exact_nodes();
        for (n, p) in [
            (Some(40), Some(120)),
            (Some(150), Some(50)),
            (None, Some(60)),
            (Some(60), None),
        ] {
            let sz = Sizes::new(n, p);
            let (te, tr) = losses(&nodes, sz, &[1e9]).unwrap()[0];
            let (fe, fr) = final_losses(&nodes, sz);
            assert!(
                ((te - fe) / fe).abs() < 1e-6,
                "{n:?},{p:?}: test {te} vs {fe}"
            );
            assert!(
                (tr - fr).abs() < 1e-6 * fe,
                "{n:?},{p:?}: train {tr} vs {fr}"
            );
        }
    }
}
