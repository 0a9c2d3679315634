//! Finite-width corrections to the statics of deep linear networks at fixed output
//! scale gamma (the NTK parameterisation, `f = w . h^L / (gamma sqrt N)`), in closed
//! form (docs/theory.md section 5.5).
//!
//! Whitened inputs (`X X^T / D = I` over the `P` training points), inverse temperature
//! `beta`, `r = 1 / beta`. Integrating out the readout leaves the weight of the layer
//! kernels `H^l = h^l . h^l / N`
//!
//! ```text
//! exp( -(gamma^2 / 2) y^T (H^L + r)^{-1} y  -  (C / 2) log det(H^L + r) )
//! ```
//!
//! against their prior (a chain of Wisharts, `H^l | H^{l-1}` with mean `H^{l-1}` and
//! fluctuations of order `1/sqrt(N)`).
//!
//! - **Width N, P fixed** ([`width_shift`]): to first order in the fluctuations
//!   (`Cov(H^l_ab, H^L_cd) = l (d_ac d_bd + d_ad d_bc) / N`), for a unit target `|y| = 1`,
//!
//!   ```text
//!   <u^T H^l u> - 1 = (l / N) [ gamma^2 / (1 + r)^2 - 1 / (1 + r) ]       (u = y / |y|)
//!   <v^T H^l v> - 1 = -(l / N) / (1 + r)                                (v orthogonal to y)
//!   ```
//!
//!   up to `O(1/N^2)`. The first term is the weak-feature-learning correction of order
//!   `gamma^2 / N` (the muP saddle point's `c_l - 1 = l gamma0^2 / (1 + r)^2 + O(gamma0^4)`
//!   at `gamma0^2 = gamma^2 / N`); the second, the same for every direction, comes from
//!   the determinant (the readout's Occam factor) and shrinks the kernel.
//! - **Proportional limit** `P = alpha N` ([`proportional`]): the determinant is now of
//!   the same order as the prior, and the posterior predictor is GP regression with the
//!   renormalised kernel `c(alpha) K0`, `c = u^L`, where (writing `H^L`'s Gaussian
//!   representation in an auxiliary field `z`, whose order parameter `|z|^2 / N` is
//!   self-averaging)
//!
//!   ```text
//!   u = 1 - u^L g,      g = alpha / (r + u^L) - alpha gamma^2 kappa / (r + u^L)^2,
//!   kappa = |y|^2 / P   (the mean squared target, one output)
//!   ```
//!
//!   and the posterior mean on the training points is `c / (c + r) y`. At `alpha -> 0`,
//!   `c = 1`: the NNGP. (Li & Sompolinsky 2021's kernel renormalisation, derived here in
//!   our conventions.)

use crate::data::Dataset;
use crate::error::{Error, Result, check_range};
use serde::{Deserialize, Serialize};

/// The leading `1/N` coefficients of the layer-`l` kernel at fixed gamma (unit target):
/// `(target, orthogonal)` with `<u^T H^l u> - 1 = target / N` and `<v^T H^l v> - 1 =
/// orthogonal / N`.
pub fn width_shift(layer: usize, gamma: f64, beta: f64) -> (f64, f64) {
    let r = 1.0 / beta;
    let l = layer as f64;
    let occam = -l / (1.0 + r);
    (l * gamma * gamma / ((1.0 + r) * (1.0 + r)) + occam, occam)
}

/// The proportional limit's kernel renormalisation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Renormalisation {
    /// `P / N`.
    pub alpha: f64,
    /// Per-layer factor `u`.
    pub u: f64,
    /// `c = u^L`: the predictor is GP regression with `c K0`.
    pub c: f64,
    /// `c / (c + r)`: the posterior mean on the (whitened) training points is this
    /// times `y`.
    pub shrink: f64,
}

/// Solve `u = 1 - u^L g(u)` for `alpha = P / N`, `depth = L` hidden layers, output
/// scale `gamma`, inverse temperature `beta` (finite) and mean squared target `kappa`.
/// The smallest positive root (the branch through `u = 1` at `alpha = 0`), by a scan and
/// bisection.
pub fn proportional(
    alpha: f64,
    depth: usize,
    gamma: f64,
    beta: f64,
    kappa: f64,
) -> Result<Renormalisation> {
    check_range("alpha", alpha, 0.0, 1e3)?;
    check_range("depth", depth, 1, 100)?;
    check_range("beta", beta, 1e-6, 1e6)?;
    let r = 1.0 / beta;
    let lf = depth as i32;
    let f = |u: f64| {
        let c = u.powi(lf);
        let g = alpha / (r + c) - alpha * gamma * gamma * kappa / ((r + c) * (r + c));
        u - 1.0 + c * g
    };
    // f(0) = -1 < 0 and f grows like u for large u: scan for the first sign change.
    let (mut a, mut b) = (0.0, f64::NAN);
    let hi = 1.0 + alpha + gamma * gamma * kappa * alpha / r + 1.0;
    let steps = 20_000;
    for k in 1..=steps {
        let u = hi * k as f64 / steps as f64;
        if f(u) >= 0.0 {
            b = u;
            break;
        }
        a = u;
    }
    if b.is_nan() {
        return Err(Error::Numerical(
            "no kernel renormalisation root found".into(),
        ));
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if f(m) < 0.0 {
            a = m;
        } else {
            b = m;
        }
    }
    let u = 0.5 * (a + b);
    let c = u.powi(lf);
    Ok(Renormalisation {
        alpha,
        u,
        c,
        shrink: c / (c + r),
    })
}

/// Whitened inputs and a `±sqrt(kappa)` target: `D = P`, `x_mu = sqrt(P) e_mu` (so
/// `X X^T / D = I`), `y_mu = sqrt(kappa)` for even `mu` and `-sqrt(kappa)` for odd.
/// The statics of whitened data do not depend on the target's direction, only on its
/// norm `|y|^2 = P kappa`.
pub fn isotropic_dataset(p: usize, kappa: f64) -> Result<Dataset> {
    if p == 0 || !(kappa > 0.0 && kappa.is_finite()) {
        return Err(Error::Data(
            "need at least one point and a positive finite kappa".into(),
        ));
    }
    let s = (p as f64).sqrt();
    let mut x = vec![0.0; p * p];
    for mu in 0..p {
        x[mu * p + mu] = s;
    }
    let a = kappa.sqrt();
    Ok(Dataset {
        dim: p,
        outputs: 1,
        x_train: x,
        y_train: (0..p).map(|mu| if mu % 2 == 0 { a } else { -a }).collect(),
        x_test: vec![],
        y_test: vec![],
        feature_names: vec![],
    })
}

/// `(u^T K u, mean_v v^T K v)` of a `[P x P]` kernel for the unit vector `u`: the overlap
/// along `u` and the mean eigenvalue of `K` orthogonal to it, `(Tr K - u^T K u) / (P - 1)`
/// (0 for `P = 1`).
pub fn overlaps(k: &[f64], u: &[f64]) -> (f64, f64) {
    let p = u.len();
    let along: f64 = (0..p)
        .map(|i| u[i] * (0..p).map(|j| k[i * p + j] * u[j]).sum::<f64>())
        .sum();
    let tr: f64 = (0..p).map(|i| k[i * p + i]).sum();
    let perp = if p > 1 {
        (tr - along) / (p - 1) as f64
    } else {
        0.0
    };
    (along, perp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_limit_reduces_to_the_nngp_and_to_the_width_expansion() {
        // alpha -> 0: no renormalisation
        let r = proportional(0.0, 2, 1.0, 2.0, 1.0).unwrap();
        assert!((r.c - 1.0).abs() < 1e-12);
        // small alpha, L = 1: 1/u - 1 = g, so u = 1 - alpha (1/(1+r) - gamma^2 kappa/(1+r)^2)
        let (alpha, gamma, beta, kappa) = (1e-4, 1.5, 2.0, 0.7);
        let r = proportional(alpha, 1, gamma, beta, kappa).unwrap();
        let rr = 1.0 / beta;
        let want = 1.0 - alpha * (1.0 / (1.0 + rr) - gamma * gamma * kappa / (1.0 + rr).powi(2));
        assert!((r.u - want).abs() < 1e-7, "{} vs {want}", r.u);
        // the root satisfies its equation
        for depth in [1, 2, 3] {
            let r = proportional(0.8, depth, 0.5, 1.0, 1.0).unwrap();
            let c = r.u.powi(depth as i32);
            let g = 0.8 / (1.0 + c) - 0.8 * 0.25 / (1.0 + c).powi(2);
            assert!((r.u - 1.0 + c * g).abs() < 1e-12);
            assert!(r.c < 1.0, "a weak target shrinks the kernel: {}", r.c);
        }
    }

    #[test]
    fn overlaps_of_a_rank_one_update() {
        let u = [0.6, 0.8, 0.0];
        let k: Vec<f64> = (0..9)
            .map(|i| {
                let (a, b) = (i / 3, i % 3);
                2.0 * u[a] * u[b] + if a == b { 1.0 } else { 0.0 }
            })
            .collect();
        let (along, perp) = overlaps(&k, &u);
        assert!((along - 3.0).abs() < 1e-12 && (perp - 1.0).abs() < 1e-12);
    }
}
