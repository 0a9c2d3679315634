//! Deep linear muP networks at equilibrium, in closed form (docs/theory.md section 5.4).
//!
//! Network: `phi = identity`, `L` hidden layers, the mean-field readout
//! `f = w . h^L / (gamma0 N)`, whitened inputs (`X X^T / D = I` over the `P` training
//! points) and a unit-norm target `|y| = 1`. The Gibbs measure
//!
//! ```text
//! p(W) ∝ exp( -beta gamma^2 (1/2) sum_mu (f_mu - y_mu)^2  -  |W|^2 / 2 ),   gamma^2 = N gamma0^2
//! ```
//!
//! concentrates as `N -> infinity` on layer kernels `H^l = h^l . h^l / N` of the form
//!
//! ```text
//! H^l = I + (c_l - 1) y y^T,     c_l = (1 - chi)^l,     chi = -gamma0^2 c / (1/beta + c)^2,
//! ```
//!
//! with `c = c_L = y^T H^L y` the solution of `c = (1 - chi(c))^L`. At `beta = infinity`,
//! `L = 1` this is `c^2 - c - gamma0^2 = 0`, `c = (1 + sqrt(1 + 4 gamma0^2)) / 2`.
//! Only the target direction is amplified; every direction orthogonal to `y` keeps its
//! prior value 1.

pub mod corrections;
pub mod kind;
pub mod width;

pub use kind::{DeepLinearConfig, DeepLinearResult};
pub use width::{FiniteWidthConfig, FiniteWidthResult};

use crate::data::Dataset;
use crate::error::{Error, Result, check_positive, check_range};
use serde::{Deserialize, Serialize};

/// The equilibrium overlaps of a deep linear muP network.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DeepLinearSolution {
    /// Richness gamma0.
    pub gamma0: f64,
    /// Inverse temperature beta of the summed loss (`f64::INFINITY` allowed).
    pub beta: f64,
    /// Hidden layers L.
    pub depth: usize,
    /// `c = y^T H^L y`, the overlap of the last hidden layer.
    pub c: f64,
    /// `chi = -gamma0^2 c / (1/beta + c)^2 <= 0`.
    pub chi: f64,
    /// `c_l = (1 - chi)^l` for `l = 1..=L`.
    pub c_layers: Vec<f64>,
}

/// `c - (1 - chi(c))^L` for the root search.
fn residual(c: f64, g2: f64, r: f64, depth: usize) -> f64 {
    c - (1.0 + g2 * c / ((r + c) * (r + c))).powi(depth as i32)
}

/// Solve `c = (1 - chi)^L` with `chi = -gamma0^2 c / (1/beta + c)^2`.
///
/// Every root lies in `[1, (1 + gamma0^2 m)^L]` with `m = max_{c >= 1} c / (1/beta + c)^2`.
/// For `1/beta <= 1` the right-hand side decreases in `c` and the root is unique; at
/// higher temperatures there may be several and the smallest one (the branch connected
/// to `c = 1` at `gamma0 = 0`) is returned. Bisection to machine precision.
pub fn solve(gamma0: f64, beta: f64, depth: usize) -> Result<DeepLinearSolution> {
    check_range("gamma0", gamma0, 0.0, 1e6)?;
    if beta.is_nan() || beta <= 0.0 {
        return Err(Error::config("beta", "a positive number or infinity"));
    }
    check_range("depth", depth, 1, 1000)?;
    let g2 = gamma0 * gamma0;
    let r = 1.0 / beta;
    let m = if r <= 1.0 {
        1.0 / ((1.0 + r) * (1.0 + r))
    } else {
        1.0 / (4.0 * r)
    };
    let hi = (1.0 + g2 * m).powi(depth as i32);
    if !hi.is_finite() {
        return Err(Error::Numerical("deep linear overlap overflows".into()));
    }
    // The first sign change of the residual on a grid, then bisection.
    let grid = 2000;
    let mut a = 1.0;
    let mut fa = residual(a, g2, r, depth);
    let mut b = hi;
    if fa < 0.0 {
        for k in 1..=grid {
            let c = 1.0 + (hi - 1.0) * k as f64 / grid as f64;
            let fc = residual(c, g2, r, depth);
            if fc >= 0.0 {
                b = c;
                break;
            }
            a = c;
            fa = fc;
        }
        for _ in 0..200 {
            let mid = 0.5 * (a + b);
            if mid <= a || mid >= b {
                break;
            }
            if residual(mid, g2, r, depth) < 0.0 {
                a = mid;
            } else {
                b = mid;
            }
        }
    } else {
        b = a; // gamma0 = 0: c = 1
    }
    let _ = fa;
    let c = 0.5 * (a + b);
    let chi = -g2 * c / ((r + c) * (r + c));
    let c_layers = (1..=depth).map(|l| (1.0 - chi).powi(l as i32)).collect();
    check_positive("c", c)?;
    Ok(DeepLinearSolution {
        gamma0,
        beta,
        depth,
        c,
        chi,
        c_layers,
    })
}

impl DeepLinearSolution {
    /// The layer kernels `H^l = I + (c_l - 1) y y^T` (`[P x P]` each, `l = 1..=L`) for
    /// a target `y`, normalised to unit norm first.
    pub fn layer_kernels(&self, y: &[f64]) -> Vec<Vec<f64>> {
        let p = y.len();
        let norm = y.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        let u: Vec<f64> = y.iter().map(|v| v / norm).collect();
        self.c_layers
            .iter()
            .map(|&cl| {
                let mut h = vec![0.0; p * p];
                for i in 0..p {
                    for j in 0..p {
                        h[i * p + j] = (cl - 1.0) * u[i] * u[j] + if i == j { 1.0 } else { 0.0 };
                    }
                }
                h
            })
            .collect()
    }
}

/// The closed form at `beta = infinity`, one hidden layer: `(1 + sqrt(1 + 4 gamma0^2)) / 2`.
pub fn c_one_layer_zero_temperature(gamma0: f64) -> f64 {
    0.5 * (1.0 + (1.0 + 4.0 * gamma0 * gamma0).sqrt())
}

/// A whitened data set for the deep linear theory: `D = P`, `x_mu = sqrt(D) e_mu` (so
/// `X X^T / D = I`) and the target `y / |y|`. No test points.
pub fn whitened_dataset(y: &[f64]) -> Result<Dataset> {
    let p = y.len();
    let norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
    if p == 0 || !(norm > 0.0 && norm.is_finite()) {
        return Err(Error::Data(
            "target must be non-empty with a finite non-zero norm".into(),
        ));
    }
    let s = (p as f64).sqrt();
    let mut x = vec![0.0; p * p];
    for mu in 0..p {
        x[mu * p + mu] = s;
    }
    Ok(Dataset {
        dim: p,
        outputs: 1,
        x_train: x,
        y_train: y.iter().map(|v| v / norm).collect(),
        x_test: vec![],
        y_test: vec![],
        feature_names: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_one_layer() {
        for g in [0.0, 0.3, 1.0, 2.5] {
            let s = solve(g, f64::INFINITY, 1).unwrap();
            assert!((s.c - c_one_layer_zero_temperature(g)).abs() < 1e-12, "{g}");
        }
    }
}
